# R3 differential test: about 50,000 random households, built around every edge of the
# rule, computed by the extension's C aggregates (ipcal_income -> household_income ->
# im_verdict) and by an independent Perl reference (test/lib/InamiR3Reference.pm, written
# from doc/rules.md), compared household by household: totals, verdicts and
# errors (the SQLSTATE). Then the same households again in one grouped query, serial and
# under a forced parallel plan with partial aggregates (states split over workers and
# combined), and households that fail, each among ok ones under the parallel plan.
# A fixed seed: every run builds the same households.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use InamiR3Reference;

my $SEED = 20240415;
my $HOUSEHOLDS = 50_000;
srand($SEED);    # perl's own drand48 (5.20+): the same sequence on every platform

# The parameters, once for the database and once for the reference (no reading back).
my %ipcal = (
	2022 => { 1250 => '1', 1260 => '-1', 1270 => '0.1', 1280 => '0' },
	2023 => { 1250 => '1', 1251 => '1', 1260 => '-1', 1270 => '0.1', 1280 => '0', 1295 => '0.333333' },
	2024 => { 1250 => '1', 1260 => '-1', 1270 => '0.1' },    # 1251, 1280, 1295 missing for 2024
);
# 2022 ships (doc/rules.md, R2); 2023 is a test row; 2021 has none (im_verdict: 55000).
my %ceiling = (2022 => [ '23303.84', '4314.18' ], 2023 => [ '24150.00', '4471.35' ]);
my $ref = InamiR3Reference->new(ipcal => \%ipcal, ceiling => \%ceiling);

my $L = '92233720368547758.07';
my $L1 = '92233720368547758.08';
my @pool = qw(1250 1251 1260 1270 1280 1295);

sub pick { $_[ int rand @_ ] }
sub chance { rand() < $_[0] }

# weighted pick: (weight, value, weight, value, ...)
sub wpick
{
	my @wv = @_;
	my $total = 0;
	$total += $wv[ 2 * $_ ] for 0 .. $#wv / 2;
	my $r = rand($total);
	for (my $i = 0; $i < @wv; $i += 2)
	{
		return $wv[ $i + 1 ] if ($r -= $wv[$i]) < 0;
	}
	return $wv[-1];
}

sub cents_text { InamiR3Reference::cents_text($_[0]) }

sub date_text
{
	my ($y, $m, $d) = @_;
	return sprintf('%04d-%02d-%02d', $y, $m, $d);
}

sub random_date
{
	my ($from_year, $to_year) = @_;
	return date_text($from_year + int rand($to_year - $from_year + 1), 1 + int rand 12, 1 + int rand 28);
}

# Birth dates around the 18th birthday on 1 January of the tax year (income year + 1).
sub birth_date
{
	my ($y, $rc) = @_;
	my $k = wpick(8, 'born18', 8, 'minor_edge', 8, 'adult_edge', 20, 'minor', 45, 'adult',
		2, 'future', 5, 'null', 1, 'inf', 1, 'ninf');
	return date_text($y - 17, 1, 1) if $k eq 'born18';        # 18 that very day: adult
	return date_text($y - 17, 1, 2) if $k eq 'minor_edge';    # under 18
	return date_text($y - 18, 12, 31) if $k eq 'adult_edge';
	return random_date($y - 16, $y) if $k eq 'minor';
	return random_date(1930, $y - 19) if $k eq 'adult';
	return random_date($y + 1, $y + 2) if $k eq 'future';     # born after the day: under 18
	return undef if $k eq 'null';
	# infinite dates only where the age is read (another code, a year given)
	return (defined $rc && $rc eq '00') ? undef : $k eq 'inf' ? 'infinity' : '-infinity';
}

sub amount
{
	my $k = wpick(70, 'normal', 10, 'negative', 12, 'small', 3, 'zero', 3, 'trailing', 2, 'big');
	return cents_text(int(rand 6_000_000) - 500_000) if $k eq 'normal';
	return cents_text(-int(rand 5_000_000)) if $k eq 'negative';
	return cents_text(int(rand 19) - 9) if $k eq 'small';    # rounding at the cent
	return pick('0', '0.00', '-0.00') if $k eq 'zero';
	return cents_text(int(rand 1_000_000)) . '00' if $k eq 'trailing';    # 4 decimals, 2 of them 0
	return cents_text(int(rand 1e15) - 500_000_000_000_000);
}

sub bad_amount { pick('10.001', '-0.005', 'NaN', $L1, "-$L1", '1e-3') }

sub items_for
{
	my ($ty) = @_;
	my @items;
	my $n = wpick(4, 0, 20, 1, 25, 2, 20, 3, 15, 4, 10, 5, 6, 6);
	for (1 .. $n)
	{
		my $t = chance(0.01) ? $ty + pick(-1, 1) : $ty;
		my @codes = $ipcal{$t} ? sort keys %{ $ipcal{$t} } : @pool;
		my $code = wpick(970, pick(@codes), 25, pick(@pool), 3, '9999', 2, '125');
		my $amount = chance(0.003) ? bad_amount() : amount();
		if (!($amount !~ /^-?[0-9.]+$/ || $amount =~ /\.\d\d[1-9]/ || $amount eq $L1 || $amount eq "-$L1"))
		{    # NULLs only beside a valid amount (what a NULL does to the checks of the
			 # others is left open by doc/rules.md: not generated)
			$code = undef if chance(0.007);
			$amount = undef if chance(0.007);
			$t = undef if chance(0.007);
		}
		push @items, [ $code, $amount, $t ];
	}
	return \@items;
}

sub random_member
{
	my ($y) = @_;
	my $rc = wpick(55, '00', 6, '01', 6, '03', 6, '04', 6, '10', 6, '11', 6, '99', 5, undef);
	my $my = wpick(970, $y, 20, undef, 10, $y + pick(-1, 1));
	my $bd = birth_date($y, $rc);
	$bd = undef if !defined $my && defined $bd && $bd =~ /infinity/;
	my $is00 = defined $rc && $rc eq '00';
	my %m = (rc => $rc, y => $my, bd => $bd);
	if (chance($is00 ? 0.35 : 0.03))
	{
		$m{src} = 'i';
		$m{items} = items_for(($my // $y) + 1);
	}
	else
	{
		$m{src} = 'd';
		if ($is00)
		{
			$m{inc} = wpick(30, undef, 6, 'bad', 964, 'ok');
			$m{inc} = defined $m{inc} && $m{inc} eq 'bad' && defined $my ? bad_amount() : amount() if defined $m{inc};
		}
		else
		{
			$m{inc} = wpick(40, undef, 45, 'ok', 15, 'junk');
			$m{inc} = $m{inc} eq 'ok' ? amount() : bad_amount() if defined $m{inc};
		}
	}
	return \%m;
}

sub adult { date_text(1930 + int rand 60, 1 + int rand 12, 1 + int rand 28) }

# A member whose income is known whatever happens: 00 with a clean amount or clean items,
# or a minor without an answer.
sub known_member
{
	my ($y, $negative) = @_;
	if (chance(0.3))
	{
		return { rc => pick('01', '03', '04', '10', '11', '99', undef), y => $y, src => 'd',
			bd => pick(date_text($y - 17, 1, 2), random_date($y - 16, $y + 1)),
			inc => chance(0.5) ? undef : amount() };
	}
	my $bd = chance(0.2) ? pick(date_text($y - 17, 1, 1), date_text($y - 17, 1, 2), undef) : adult();
	if (chance(0.4))
	{
		my @codes = sort keys %{ $ipcal{ $y + 1 } };
		my @items = map { [ pick(@codes), $negative ? cents_text(-int rand 3_000_000) : amount(), $y + 1 ] }
		  1 .. 1 + int rand 4;
		return { rc => '00', y => $y, src => 'i', bd => $bd, items => \@items };
	}
	return { rc => '00', y => $y, src => 'd', bd => $bd,
		inc => $negative ? cents_text(-int rand 3_000_000) : amount() };
}

# Households at the int64-cents limit: members' amounts directly, or through IPCAL items.
my @limit_cases = (
	[ d => [$L] ], [ d => ["-$L"] ], [ d => [ $L, $L ] ], [ d => [ $L, '0.01' ] ],
	[ d => [ $L, '0.01', '-0.01' ] ], [ d => [ "-$L", "-$L" ] ], [ d => [$L1] ], [ d => ["-$L1"] ],
	[ d => [ $L, "-$L", '5.00' ] ], [ d => [ "-$L", '-0.01' ] ], [ d => [ $L, $L, "-$L" ] ],
	[ i => [ [ 1250, $L ] ] ], [ i => [ [ 1250, "-$L" ] ] ], [ i => [ [ 1250, "-$L" ], [ 1250, '-0.01' ] ] ],
	[ i => [ [ 1260, $L ], [ 1260, '0.01' ] ] ], [ i => [ [ 1250, $L ], [ 1250, '0.01' ] ] ],
	[ i => [ [ 1250, $L ], [ 1250, $L ], [ 1260, $L ] ] ], [ i => [ [ 1270, $L ] ] ], [ i => [ [ 1270, "-$L" ] ] ],
	[ i => [ [ 1260, "-$L" ] ] ], [ i => [ [ 1260, $L ] ] ], [ i => [ [ 1260, $L ], [ 1250, $L ] ] ],
	[ i => [ [ 1250, $L1 ] ] ], [ i => [ map { [ 1270, $L ] } 1 .. 10 ] ], [ i => [ map { [ 1270, $L ] } 1 .. 11 ] ],
	[ i => [ map { [ 1270, "-$L" ] } 1 .. 11 ] ], [ i => [ [ 1250, "-$L" ], [ 1260, '0.01' ] ] ],
	[ i => [ [ 1280, $L ], [ 1250, $L ] ] ], [ ii => [ [ [ 1250, $L ] ], [ [ 1250, '0.01' ] ] ] ],
	[ ii => [ [ [ 1250, "-$L" ] ], [ [ 1250, "-$L" ] ] ] ], [ ii => [ [ [ 1250, $L ] ], [ [ 1260, $L ] ] ] ],
	# rounding at the limit: half a cent past it rounds past it
	[ i => [ [ 1250, $L ], [ 1270, '0.05' ] ] ], [ i => [ [ 1250, $L ], [ 1270, '0.04' ] ] ],
	[ i => [ [ 1250, "-$L" ], [ 1270, '-0.05' ] ] ], [ i => [ [ 1250, "-$L" ], [ 1270, '-0.04' ] ] ],
	[ i => [ [ 1295, $L ] ] ], [ i => [ [ 1295, "-$L" ], [ 1260, '0.01' ] ] ],
	# a missing code is looked up even beside a NULL
	[ i => [ [ 9999, undef ] ] ], [ i => [ [ 1250, '1.00' ], [ undef, '1.00' ], [ 9999, '1.00' ] ] ],
);

my (@households, %profile_count);
for my $h (1 .. $HOUSEHOLDS)
{
	my $y = wpick(70, 2022, 20, 2023, 10, 2021);
	my $profile = wpick(1.5, 'empty', 12, 'ceiling', 4, 'negative', 3, 'limit', 3, 'minors', 76.5, 'random');
	$y = 2022 if $profile eq 'ceiling' && $y == 2021;
	my @m;
	if ($profile eq 'random')
	{
		my $n = wpick(20, 1, 22, 2, 18, 3, 14, 4, 8, 5, 5, 6, 3, 7, 3, 8, 2, 9, 2, 10, 1.5, 11, 1.5, 12);
		push @m, random_member($y) for 1 .. $n;
	}
	elsif ($profile eq 'ceiling' || $profile eq 'negative')
	{
		my $n = 1 + int rand 12;
		push @m, known_member($y, $profile eq 'negative') for 1 .. $n;
		if ($profile eq 'ceiling')
		{    # the first member takes what brings the total to the ceiling, one cent off or not
			$m[0] = { rc => '00', y => $y, src => 'd', bd => adult(), inc => '0' };
			my $rest = 0;    # the others' incomes, before any floor at 0.00
			for (@m[ 1 .. $#m ])
			{
				next unless ($_->{rc} // '') eq '00';
				my $a = member_args($_)->{income};
				$rest += exists $a->{raw} ? InamiR3Reference::parse_amount($a->{raw})->{val} : $a->{val};
			}
			my $target = $ref->ceiling($n, $y)->{val} + pick(-1, 0, 0, 1);
			$m[0]{inc} = cents_text($target - $rest);
		}
	}
	elsif ($profile eq 'minors')
	{
		for (1 .. 1 + int rand 5)
		{
			my $rc = pick('01', '03', '04', '10', '11', '99', undef);
			push @m, { rc => $rc, y => $y, src => 'd', inc => chance(0.5) ? amount() : undef,
				bd => pick(date_text($y - 17, 1, 1), date_text($y - 17, 1, 2), date_text($y - 18, 12, 31),
					random_date($y - 16, $y)) };
		}
	}
	elsif ($profile eq 'limit')
	{
		my ($kind, $list) = @{ pick(@limit_cases) };
		if ($kind eq 'd')
		{
			push @m, { rc => '00', y => $y, src => 'd', bd => adult(), inc => $_ } for @$list;
		}
		else
		{
			for my $items ($kind eq 'i' ? ($list) : @$list)
			{
				push @m, { rc => '00', y => $y, src => 'i', bd => adult(),
					items => [ map { [ $_->[0], $_->[1], $y + 1 ] } @$items ] };
			}
		}
		# sometimes beside a member who is unknown, or a minor counting 0.00
		push @m, { rc => '01', y => $y, src => 'd', bd => adult(), inc => undef } if chance(0.2);
		push @m, { rc => '03', y => $y, src => 'd', bd => date_text($y - 17, 1, 2), inc => $L1 } if chance(0.2);
	}
	$profile_count{$profile}++;
	$_->{m} = 0 for @m;
	my $k = 0;
	$_->{m} = ++$k for @m;
	push @households, { h => $h, y => $y, profile => $profile, members => \@m };
}

# The arguments the reference takes for a member (its income column or its items' outcome).
sub member_args
{
	my ($m) = @_;
	my $income = $m->{src} eq 'i' ? ($m->{ipcal} //= $ref->ipcal_income($m->{items})) : { raw => $m->{inc} };
	return { rc => $m->{rc}, y => $m->{y}, bd => $m->{bd}, income => $income };
}

# The reference's answers.
for my $hh (@households)
{
	delete $_->{ipcal} for @{ $hh->{members} };
	my $total = $ref->household_income([ map { member_args($_) } @{ $hh->{members} } ]);
	$hh->{total} = $total;
	$hh->{verdict} = $total->{err} ? undef : $ref->im_verdict($total->{val}, scalar @{ $hh->{members} }, $hh->{y});
}

# The rows, in random order so that a household's rows fall on different pages and so in
# different parallel workers.
my $dir = PostgreSQL::Test::Utils::tempdir();
sub shuffle { my @a = @_; for (my $i = $#a; $i > 0; $i--) { my $j = int rand($i + 1); @a[ $i, $j ] = @a[ $j, $i ] } @a }
sub tsv { join("\t", map { defined $_ ? $_ : '\N' } @_) . "\n" }
my (@hh_rows, @mem_rows, @item_rows);
for my $hh (@households)
{
	push @hh_rows, tsv($hh->{h}, $hh->{y});
	for my $m (@{ $hh->{members} })
	{
		push @mem_rows, tsv($hh->{h}, $m->{m}, $m->{rc}, $m->{src}, $m->{inc}, $m->{bd}, $m->{y});
		push @item_rows, tsv($hh->{h}, $m->{m}, @$_) for @{ $m->{items} || [] };
	}
}
for ([ hh => \@hh_rows ], [ mem => [ shuffle(@mem_rows) ] ], [ item => [ shuffle(@item_rows) ] ])
{
	open my $fh, '>', "$dir/$_->[0].tsv" or die $!;
	print $fh @{ $_->[1] };
	close $fh;
}
note(sprintf('%d households, %d members, %d IPCAL items; profiles: %s', scalar @hh_rows,
	scalar @mem_rows, scalar @item_rows, join(', ', map { "$_ $profile_count{$_}" } sort keys %profile_count)));

# The generator covers every edge it is meant to.
my %seen;
for my $hh (@households)
{
	my ($t, $v) = ($hh->{total}, $hh->{verdict});
	$seen{ 'total ' . ($t->{err} ? 'error ' . join('|', sort keys %{ $t->{err} })
		: !defined $t->{val} ? 'NULL' : $t->{val} == 0 ? 'zero' : 'positive') }++;
	$seen{ 'verdict ' . InamiR3Reference::outcome_text($v) }++ if $v;
	my $n = @{ $hh->{members} };
	$seen{ 'size ' . $n }++;
	if ($v && !$v->{err} && defined $t->{val} && $ceiling{ $hh->{y} })
	{
		my $d = $t->{val} - $ref->ceiling($n, $hh->{y})->{val};
		$seen{"ceiling $d"}++ if abs($d) <= 1;
	}
	$seen{ 'year ' . $hh->{y} }++;
	for my $m (@{ $hh->{members} })
	{
		$seen{ 'code ' . ($m->{rc} // 'NULL') }++;
		$seen{'bd 18 that day, not 00'}++ if ($m->{bd} // '') eq date_text($hh->{y} - 17, 1, 1) && ($m->{rc} // '') ne '00';
		$seen{'bd the day after, not 00'}++ if ($m->{bd} // '') eq date_text($hh->{y} - 17, 1, 2) && ($m->{rc} // '') ne '00';
		$seen{'bd 31 Dec, not 00'}++ if ($m->{bd} // '') eq date_text($hh->{y} - 18, 12, 31) && ($m->{rc} // '') ne '00';
		$seen{'member year NULL'}++ unless defined $m->{y};
		$seen{'00 income NULL'}++ if ($m->{rc} // '') eq '00' && $m->{src} eq 'd' && !defined $m->{inc};
		$seen{'birth date NULL, not 00'}++ if ($m->{rc} // '') ne '00' && !defined $m->{bd};
		if ($m->{src} eq 'i')
		{
			my $o = $m->{ipcal};
			$seen{ 'ipcal ' . ($o->{err} ? 'error ' . join('|', sort keys %{ $o->{err} }) : defined $o->{val} ? 'value' : 'NULL') }++;
			for my $it (@{ $m->{items} })
			{
				$seen{ 'factor ' . $ipcal{ $it->[2] }{ $it->[0] } }++
				  if defined $it->[0] && defined $it->[2] && defined $ipcal{ $it->[2] }{ $it->[0] };
				$seen{ 'item NULL ' . $_ }++ for map { defined $it->[$_] ? () : (qw(code amount tax_year))[$_] } 0 .. 2;
			}
		}
		my @amounts = ($m->{inc} // (), map { $_->[1] // () } @{ $m->{items} || [] });
		$seen{'amount at +limit'}++ if grep { $_ eq $L } @amounts;
		$seen{'amount at -limit'}++ if grep { $_ eq "-$L" } @amounts;
	}
}
my @want = ('total NULL', 'total zero', 'total positive', 'total error 22003', 'total error 22023',
	'total error 55000', 'total error 22P02', 'verdict OK', 'verdict NOK', 'verdict ONHOLD',
	'verdict E:55000', 'verdict E:22023', 'ceiling -1', 'ceiling 0', 'ceiling 1',
	(map { "size $_" } 0 .. 12), (map { "year $_" } 2021 .. 2023),
	(map { "code $_" } qw(00 01 03 04 10 11 99 NULL)), 'bd 18 that day, not 00', 'bd the day after, not 00',
	'bd 31 Dec, not 00', 'member year NULL', '00 income NULL', 'birth date NULL, not 00',
	'ipcal value', 'ipcal NULL', 'ipcal error 22003', 'ipcal error 55000', 'ipcal error 22P02',
	'factor 1', 'factor -1', 'factor 0.1', 'factor 0', 'factor 0.333333',
	'item NULL code', 'item NULL amount', 'item NULL tax_year', 'amount at +limit', 'amount at -limit');
my @missing = grep { !$seen{$_} || $seen{$_} < 5 } @want;
is("@missing", '', 'the random households cover every edge at least 5 times');
note(join(', ', map { "$_: " . ($seen{$_} // 0) } @want));

my $node = PostgreSQL::Test::Cluster->new('r3_differential');
$node->init;
$node->append_conf('postgresql.conf', qq{
max_worker_processes = 8
max_parallel_workers = 8
max_parallel_workers_per_gather = 2
lc_messages = 'C'
});
$node->start;

my $rules_sql = join(",\n", map {
	my $ty = $_;
	map { "($ty, '$_', $ipcal{$ty}{$_}, 'test sample', 'test: sample row, not the real annex')" } sort keys %{ $ipcal{$ty} }
} sort keys %ipcal);
$node->safe_psql('postgres', qq{
	CREATE EXTENSION inami;
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES $rules_sql;
	INSERT INTO inami.im_ceiling (income_year, base, per_member, source)
	VALUES (2023, $ceiling{2023}[0], $ceiling{2023}[1], 'test: sample row, not a real ceiling');
	CREATE TABLE hh (h int PRIMARY KEY, y int);
	CREATE TABLE mem (h int, m int, rc text, src text, inc numeric, bd date, y int);
	CREATE TABLE item (h int, m int, code text, amount numeric, tax_year int);
	COPY hh FROM '$dir/hh.tsv';
	COPY mem FROM '$dir/mem.tsv';
	COPY item FROM '$dir/item.tsv';
	CREATE INDEX ON mem (h);
	CREATE INDEX ON item (h, m);
	ANALYZE hh, mem, item;
});
is($node->safe_psql('postgres', 'SELECT inami.im_plafond(1, 2022), inami.im_plafond(3, 2022), inami.im_plafond(12, 2023)'),
	join('|', map { cents_text($ref->ceiling(@$_)->{val}) } [ 1, 2022 ], [ 3, 2022 ], [ 12, 2023 ]),
	'the ceilings (shipped 2022, test row 2023) are the reference\'s');

# 1. Household by household, serial, each in a subtransaction of its own so that an error
# is one household's answer: "E:SQLSTATE", "NULL" or the amount.
$node->safe_psql('postgres', q{
	CREATE FUNCTION one_by_one() RETURNS TABLE (o_h int, o_total text, o_size bigint, o_verdict text)
	LANGUAGE plpgsql AS $$
	DECLARE r record; t numeric; n bigint;
	BEGIN
		FOR r IN SELECT hh.h, hh.y FROM hh ORDER BY hh.h LOOP
			o_h := r.h; o_size := NULL; o_verdict := NULL;
			BEGIN
				SELECT inami.household_income(m.rc,
				           CASE WHEN m.src = 'i' THEN (SELECT inami.ipcal_income(i.code, i.amount, i.tax_year)
				                                       FROM item i WHERE i.h = m.h AND i.m = m.m)
				                ELSE m.inc END,
				           m.bd, m.y), count(*)
				INTO t, n FROM mem m WHERE m.h = r.h;
				o_total := coalesce(t::text, 'NULL'); o_size := n;
			EXCEPTION WHEN OTHERS THEN o_total := 'E:' || SQLSTATE;
			END;
			IF o_size IS NOT NULL THEN
				BEGIN
					o_verdict := coalesce(inami.im_verdict(t, n::int, r.y), 'NULL');
				EXCEPTION WHEN OTHERS THEN o_verdict := 'E:' || SQLSTATE;
				END;
			END IF;
			RETURN NEXT;
		END LOOP;
	END $$;
	CREATE TABLE serial_one AS SELECT * FROM one_by_one();
});

# Compare outcome texts: an error matches when its SQLSTATE is in the reference's set; an
# amount by its value (the extension may print trailing zeros).
sub same
{
	my ($want, $got) = @_;
	return 0 unless defined $got;
	if ($want->{err}) { return $got =~ /^E:(\w{5})$/ && $want->{err}{$1} ? 1 : 0 }
	return $got eq $want->{text} if exists $want->{text};
	return $got eq 'NULL' unless defined $want->{val};
	return 0 unless $got =~ /^-?\d+(\.\d+)?$/;
	my $p = InamiR3Reference::parse_amount($got);
	return !$p->{err} && $p->{val} == $want->{val} ? 1 : 0;
}

sub describe
{
	my ($hh) = @_;
	my @m = map {
		my $m = $_;
		sprintf('[%s %s bd=%s y=%s %s]', $m->{m}, $m->{rc} // 'NULL', $m->{bd} // 'NULL', $m->{y} // 'NULL',
			$m->{src} eq 'd' ? 'income=' . ($m->{inc} // 'NULL')
			: 'items=' . join(',', map { '(' . join(' ', map { $_ // 'NULL' } @$_) . ')' } @{ $m->{items} })
			  . ' ipcal=' . InamiR3Reference::outcome_text($m->{ipcal}))
	} @{ $hh->{members} };
	return "household $hh->{h} (income year $hh->{y}, $hh->{profile}): " . (join(' ', @m) || 'no member');
}

# rows "h|total|size|verdict" -> { h => [ total, size, verdict ] }
sub answers
{
	my ($text) = @_;
	my %a;
	for (split /\n/, $text)
	{
		my ($h, @rest) = split /\|/, $_, -1;
		$a{$h} = \@rest;
	}
	return \%a;
}

# Compare answers with the reference for the households listed; one assertion each for
# totals and verdicts, with the first differences in the diagnostics.
sub compare
{
	my ($label, $answers, $list) = @_;
	my (@bad_total, @bad_verdict);
	for my $hh (@$list)
	{
		my $a = $answers->{ $hh->{h} };
		if (!$a || !same($hh->{total}, $a->[0]))
		{
			push @bad_total, describe($hh) . ' -> reference ' . InamiR3Reference::outcome_text($hh->{total})
			  . ', extension ' . ($a ? $a->[0] : 'no row');
			next;
		}
		next unless $hh->{verdict} && defined $a->[2] && $a->[2] ne '';
		push @bad_verdict, describe($hh) . ' -> reference verdict ' . InamiR3Reference::outcome_text($hh->{verdict})
		  . ', extension ' . $a->[2] . " (size $a->[1])"
		  unless same($hh->{verdict}, $a->[2]);
	}
	is(scalar @bad_total, 0, "$label: every household's total (or error) is the reference's")
	  or diag(join("\n", scalar(@bad_total) . ' differ; the first ones:', @bad_total[ 0 .. ($#bad_total < 9 ? $#bad_total : 9) ]));
	is(scalar @bad_verdict, 0, "$label: every household's verdict is the reference's")
	  or diag(join("\n", scalar(@bad_verdict) . ' differ; the first ones:', @bad_verdict[ 0 .. ($#bad_verdict < 9 ? $#bad_verdict : 9) ]));
	return (scalar @bad_total, scalar @bad_verdict);
}

my $one = answers($node->safe_psql('postgres', 'SELECT o_h, o_total, o_size, o_verdict FROM serial_one ORDER BY o_h'));
is(scalar keys %$one, $HOUSEHOLDS, 'one answer per household');
compare('one by one, serial', $one, \@households);

# im_verdict without a size or a year: NULL for a known total, ONHOLD for an unknown one.
{
	my %got = map { my ($h, @v) = split /\|/, $_, -1; ($h => \@v) } split /\n/, $node->safe_psql('postgres', q{
		SELECT o_h, coalesce(inami.im_verdict(nullif(o_total, 'NULL')::numeric, NULL, hh.y), 'NULL'),
		       coalesce(inami.im_verdict(nullif(o_total, 'NULL')::numeric, o_size::int, NULL), 'NULL')
		FROM serial_one JOIN hh ON hh.h = o_h WHERE o_total NOT LIKE 'E:%'});
	my @bad;
	for my $hh (grep { !$_->{total}{err} && $got{ $_->{h} } } @households)
	{
		my $n = @{ $hh->{members} };
		my @want = ($ref->im_verdict($hh->{total}{val}, undef, $hh->{y}), $ref->im_verdict($hh->{total}{val}, $n, undef));
		push @bad, describe($hh) . ' -> im_verdict(total, NULL, year), im_verdict(total, size, NULL): reference '
		  . join(', ', map { InamiR3Reference::outcome_text($_) } @want) . ', extension ' . join(', ', @{ $got{ $hh->{h} } })
		  unless same($want[0], $got{ $hh->{h} }[0]) && same($want[1], $got{ $hh->{h} }[1]);
	}
	is(scalar @bad, 0, 'im_verdict with a NULL size or year, for every household: the reference\'s')
	  or diag(join("\n", scalar(@bad) . ' differ; the first ones:', @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]));
}

# Every member's income from their items, member by member (errors included).
$node->safe_psql('postgres', q{
	CREATE FUNCTION members_one_by_one() RETURNS TABLE (o_h int, o_m int, o_income text)
	LANGUAGE plpgsql AS $$
	DECLARE r record; t numeric;
	BEGIN
		FOR r IN SELECT DISTINCT i.h, i.m FROM item i ORDER BY 1, 2 LOOP
			o_h := r.h; o_m := r.m;
			BEGIN
				SELECT inami.ipcal_income(i.code, i.amount, i.tax_year) INTO t FROM item i WHERE i.h = r.h AND i.m = r.m;
				o_income := coalesce(t::text, 'NULL');
			EXCEPTION WHEN OTHERS THEN o_income := 'E:' || SQLSTATE;
			END;
			RETURN NEXT;
		END LOOP;
	END $$;
});
{
	my %got = map { my ($h, $m, $v) = split /\|/, $_, -1; ("$h.$m" => $v) }
	  split /\n/, $node->safe_psql('postgres', q{
		CREATE TABLE member_one AS SELECT * FROM members_one_by_one();
		SELECT * FROM member_one});
	my (@bad, $count);
	for my $hh (@households)
	{
		for my $m (grep { $_->{src} eq 'i' && @{ $_->{items} } } @{ $hh->{members} })
		{
			$count++;
			push @bad, describe($hh) . " -> member $m->{m}: reference " . InamiR3Reference::outcome_text($m->{ipcal})
			  . ', extension ' . ($got{"$hh->{h}.$m->{m}"} // 'no row')
			  unless same($m->{ipcal}, $got{"$hh->{h}.$m->{m}"});
		}
	}
	is(scalar @bad, 0, "ipcal_income one member at a time, serial: each of the $count members' incomes (or error) is the reference's")
	  or diag(join("\n", scalar(@bad) . ' differ; the first ones:', @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]));
}

# 2. The households without an error (by the extension's own answer), in one grouped query
# over rows in random order: serial, then under a forced parallel plan with partial
# aggregates. A member-less household keeps its group through a row of its own that the
# FILTER leaves out, so that its aggregate sees no row.
$node->safe_psql('postgres', q{
	CREATE TABLE ok_h AS SELECT o_h AS h, o_verdict NOT LIKE 'E:%' AS verdict_ok FROM serial_one WHERE o_total NOT LIKE 'E:%';
	CREATE TABLE hh_ok AS SELECT hh.*, ok_h.verdict_ok FROM hh JOIN ok_h USING (h);
	CREATE TABLE mem_ok AS SELECT * FROM mem WHERE h IN (SELECT h FROM ok_h);
	CREATE TABLE item_ok AS SELECT * FROM item WHERE h IN (SELECT h FROM ok_h);
	-- the planner is told that households are few, so that it aggregates in each worker
	-- (partial states of one household in both workers, combined at the end)
	ALTER TABLE hh_ok ALTER COLUMN h SET (n_distinct = 20);
	ALTER TABLE mem_ok ALTER COLUMN h SET (n_distinct = 20);
	ALTER TABLE item_ok ALTER COLUMN h SET (n_distinct = 20);
	ALTER TABLE item_ok ALTER COLUMN m SET (n_distinct = 3);
	ANALYZE hh_ok, mem_ok, item_ok;
});

# The grouped query. With $item, the whole pipeline (a member with no item row gets a NULL
# income from the LEFT JOIN, as ipcal_income over no row; the control run reads a 00
# without items as 0.00, a choice of its own above the aggregates): members' incomes from their items
# (ipcal_income grouped by member), then household_income grouped by household. Without,
# household_income alone over the members' incomes the extension gave one member at a time
# (member_income), so that the household level itself can be split over the workers: the
# planner will not put the workers' partial household states above a join whose inner
# side gathers workers of its own.
sub grouped_query
{
	my ($hh, $mem, $item) = @_;
	my $income = $item
	  ? "(SELECT i.h, i.m, inami.ipcal_income(i.code, i.amount, i.tax_year) AS income FROM $item i GROUP BY i.h, i.m)"
	  : 'member_income';
	return qq{
	SELECT x.h, coalesce(x.total::text, 'NULL'), x.size,
	       CASE WHEN hh.verdict_ok THEN coalesce(inami.im_verdict(x.total, x.size::int, hh.y), 'NULL') END
	FROM (SELECT u.h, inami.household_income(u.rc, u.inc, u.bd, u.y) FILTER (WHERE u.is_member) AS total,
	             count(*) FILTER (WHERE u.is_member) AS size
	      FROM (SELECT m.h, m.rc, CASE WHEN m.src = 'i' THEN mi.income ELSE m.inc END AS inc, m.bd, m.y, true AS is_member
	            FROM $mem m LEFT JOIN $income mi ON mi.h = m.h AND mi.m = m.m
	            UNION ALL
	            SELECT h, NULL, NULL, NULL, NULL, false FROM $hh) u
	      GROUP BY u.h) x
	JOIN $hh hh USING (h)};
}
$node->safe_psql('postgres', q{
	CREATE TABLE member_income AS
	SELECT o_h AS h, o_m AS m, nullif(o_income, 'NULL')::numeric AS income FROM member_one WHERE o_income NOT LIKE 'E:%';
	ALTER TABLE member_income ALTER COLUMN h SET (n_distinct = 20);
	ANALYZE member_income;
});
my $members_query = q{SELECT h, m, inami.ipcal_income(code, amount, tax_year) FROM item_ok GROUP BY h, m};

my $force = q{
	SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;
	SET min_parallel_table_scan_size = 0; SET min_parallel_index_scan_size = 0;
	SET parallel_leader_participation = off; SET max_parallel_workers_per_gather = 2;
};
my $serial = 'SET max_parallel_workers_per_gather = 0;';
my @ok_households = grep { exists $one->{ $_->{h} } && $one->{ $_->{h} }[0] !~ /^E:/ } @households;
my %grouped = (pipeline => grouped_query('hh_ok', 'mem_ok', 'item_ok'), households => grouped_query('hh_ok', 'mem_ok'));

my $serial_text = $node->safe_psql('postgres', "$serial $grouped{pipeline}");
my $serial_grouped = answers($serial_text);
is(scalar keys %$serial_grouped, scalar @ok_households, 'grouped, serial: one row per household without an error');
compare('grouped, serial', $serial_grouped, \@ok_households);

for my $case ([ 'pipeline', 'ipcal_income' ], [ 'households', 'household_income' ])
{
	my ($name, $agg) = @$case;
	my $plan = $node->safe_psql('postgres', "$force EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF) $grouped{$name}");
	# the partial aggregate node and, on its Output line, the aggregate it splits
	like($plan, qr/Partial (Hash|Group)Aggregate.*\n\s*Output:[^\n]*PARTIAL inami\.$agg/,
		"grouped $name, parallel: the workers aggregate $agg (partial states, combined)")
	  or diag($plan);
	like($plan, qr/Workers Launched: [12]/, "grouped $name, parallel: the workers did launch") or diag($plan);
	my $parallel_text = $node->safe_psql('postgres', "$force $grouped{$name}");
	compare("grouped $name, parallel", answers($parallel_text), \@ok_households);
	is(join("\n", sort split /\n/, $parallel_text), join("\n", sort split /\n/, $serial_text),
		"grouped $name: the parallel answers are the serial ones, row for row");
}

# Members' incomes from their items, grouped by member.
my $members_plan = $node->safe_psql('postgres', "$force EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) $members_query");
like($members_plan, qr/Partial (Hash|Group)Aggregate/, 'ipcal_income per member, parallel: partial aggregates')
  or diag($members_plan);
like($members_plan, qr/Workers Launched: [12]/, 'ipcal_income per member, parallel: the workers did launch');
for my $mode ([ 'serial', $serial ], [ 'parallel', $force ])
{
	my %got = map { my ($h, $m, $v) = split /\|/, $_, -1; ("$h.$m" => $v eq '' ? 'NULL' : $v) }
	  split /\n/, $node->safe_psql('postgres', "$mode->[1] $members_query");
	my (@bad, $count);
	for my $hh (@ok_households)
	{
		for my $m (grep { $_->{src} eq 'i' && @{ $_->{items} } } @{ $hh->{members} })
		{
			$count++;
			push @bad, describe($hh) . " -> member $m->{m}: reference " . InamiR3Reference::outcome_text($m->{ipcal})
			  . ', extension ' . ($got{"$hh->{h}.$m->{m}"} // 'no row')
			  unless same($m->{ipcal}, $got{"$hh->{h}.$m->{m}"});
		}
	}
	is(scalar @bad, 0, "ipcal_income per member, grouped, $mode->[0]: each of the $count members' incomes is the reference's")
	  or diag(join("\n", scalar(@bad) . ' differ; the first ones:', @bad[ 0 .. ($#bad < 9 ? $#bad : 9) ]));
}

# 3. Failing households under the parallel plan: each one among 1,500 households without an
# error, rows shuffled, must fail with the reference's SQLSTATE: in the pipeline, and in
# the query that fails first (ipcal_income grouped by member when a member's items are at
# fault, household_income over the members' incomes otherwise). Two of each kind of error.
my (%by_kind, @probes);
for my $hh (@households)
{
	next unless $hh->{total}{err};
	my $kind = InamiR3Reference::outcome_text($hh->{total});
	my @ipcal_err = grep { $_->{src} eq 'i' && $_->{ipcal}{err} } @{ $hh->{members} };
	$kind .= @ipcal_err ? ' ipcal' : '';
	push @probes, $hh if ++$by_kind{$kind} <= 2;
}
$node->safe_psql('postgres', q{
	SELECT setseed(0.25);
	CREATE TABLE base_h AS SELECT h FROM ok_h WHERE verdict_ok ORDER BY h LIMIT 1500;
});
my @probe_bad;
for my $hh (@probes)
{
	my $h = $hh->{h};
	$node->safe_psql('postgres', qq{
		DROP TABLE IF EXISTS hh_p, mem_p, item_p;
		CREATE TABLE hh_p AS SELECT *, true AS verdict_ok FROM hh WHERE h IN (SELECT h FROM base_h) OR h = $h ORDER BY random();
		CREATE TABLE mem_p AS SELECT * FROM mem WHERE h IN (SELECT h FROM base_h) OR h = $h ORDER BY random();
		CREATE TABLE item_p AS SELECT * FROM item WHERE h IN (SELECT h FROM base_h) OR h = $h ORDER BY random();
		ALTER TABLE mem_p ALTER COLUMN h SET (n_distinct = 20);
		ALTER TABLE item_p ALTER COLUMN h SET (n_distinct = 20);
		ALTER TABLE item_p ALTER COLUMN m SET (n_distinct = 3);
		ANALYZE hh_p, mem_p, item_p;
	});
	my %ipcal_want;
	for (grep { $_->{src} eq 'i' && $_->{ipcal}{err} } @{ $hh->{members} }) { $ipcal_want{$_} = 1 for keys %{ $_->{ipcal}{err} } }
	my @queries = ([ 'pipeline', grouped_query('hh_p', 'mem_p', 'item_p'), $hh->{total}{err} ]);
	push @queries, %ipcal_want
	  ? [ 'ipcal_income per member', 'SELECT h, m, inami.ipcal_income(code, amount, tax_year) FROM item_p GROUP BY h, m', \%ipcal_want ]
	  : [ 'household_income over the members\' incomes', grouped_query('hh_p', 'mem_p'), $hh->{total}{err} ];
	for my $q (@queries)
	{
		my ($name, $sql, $want) = @$q;
		# the whole answer is read: a subquery's unused aggregate would not be computed
		my ($ret, $out, $err) = $node->psql('postgres', "$force $sql",
			extra_params => [ '-v', 'VERBOSITY=verbose' ]);
		my $got = $ret == 0 ? 'no error' : $err =~ /ERROR:\s+(\w{5}):/ ? "E:$1" : "failure: $err";
		my $ok = $got =~ /^E:(\w{5})$/ && $want->{$1};
		push @probe_bad, describe($hh) . " -> $name under a parallel plan: reference "
		  . 'E:' . join('|', sort keys %$want) . ", extension $got"
		  unless $ok;
	}
}
is(scalar @probe_bad, 0, sprintf('%d failing households (%d kinds), each among 1,500 others under a parallel plan: the reference\'s SQLSTATE',
	scalar @probes, scalar keys %by_kind))
  or diag(join("\n", @probe_bad[ 0 .. ($#probe_bad < 9 ? $#probe_bad : 9) ]));

is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is still up');
$node->stop;
done_testing();
