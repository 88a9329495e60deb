# An independent reference of rule R3 (household income for the IM) in plain Perl, written
# from /work/shared/domain/rules.md (R2, R3, R9) and README.md ("R3. Household income for
# the IM": rounding, NULLs, limits, errors), not from src/. It answers what
# inami.ipcal_income, inami.household_income and inami.im_verdict must return for given
# rows, or which error (SQLSTATE) they must raise.
#
# An outcome is a hash: { val => CENTS } (an exact integer number of cents, a native
# integer or a Math::BigInt), { val => undef } (SQL NULL), { text => 'OK' } for a verdict,
# or { err => { SQLSTATE => 1, ... } }: the set of errors any of which may be raised. A set
# holds more than one SQLSTATE only when rows with different faults meet in one group:
# which fault is met first then depends on the row order, which SQL leaves open.
#
# What is read where (README "NULLs" and "Rounding"):
# - ipcal_income(code, amount, tax_year): the exact sum of amount x factor, rounded once to
#   the cent, half away from zero; factors are whole millionths, amounts whole cents within
#   +/- 92233720368547758.07 (else 22003, also NaN); the income must fit the same limit
#   (else 22003). A code and tax year given are looked up even when the amount is NULL: not
#   four digits is 22P02, missing for the tax year 55000. Any NULL argument makes the
#   income unknown (NULL); no row gives NULL.
# - household_income(return_code, income, birth_date, income_year): '00' counts the income
#   (NULL income: unknown, at any age); another code or NULL counts 0.00 when the member is
#   under 18 on 1 January of income_year + 1 (born after that day 18 years earlier), else
#   unknown; a NULL birth date with such a code is unknown; an infinite one is 22023; the
#   income column of such a member is not read. A NULL income_year makes that member
#   unknown and is not a second year; two years in one group are 22023. Unknown member ->
#   NULL total; a negative total -> 0.00; a total beyond the limit -> 22003 (below the
#   negative limit it is negative: 0.00). No row: NULL.
# - im_verdict(total, size, income_year): ceiling = base + per_member x (size - 1) from
#   inami.im_ceiling; total < ceiling OK, >= NOK; NULL total ONHOLD, though the ceiling is
#   still required (55000 when the year has no row, 22023 for a size below 1) when size
#   and year are given; a known total with a NULL size or year: NULL.
package InamiR3Reference;

use strict;
use warnings;
use Math::BigInt;

# 2^63 - 1 cents: the largest amount the aggregates keep (README: +/- 92,233,720,368,547,758.07).
our $LIMIT = Math::BigInt->new('9223372036854775807');
my $SMALL = 100_000_000_000;    # below 1e11 cents, native integer arithmetic stays exact

# new(ipcal => { TAX_YEAR => { CODE => 'FACTOR' } }, ceiling => { YEAR => [ 'BASE', 'PER_MEMBER' ] })
sub new
{
	my ($class, %p) = @_;
	my $self = bless { ipcal => {}, ceiling => {} }, $class;
	for my $ty (keys %{ $p{ipcal} })
	{
		for my $code (keys %{ $p{ipcal}{$ty} })
		{
			$self->{ipcal}{$ty}{$code} = millionths($p{ipcal}{$ty}{$code});
		}
	}
	for my $y (keys %{ $p{ceiling} })
	{
		my ($base, $per) = @{ $p{ceiling}{$y} };
		$self->{ceiling}{$y} = [ cents($base), cents($per) ];
	}
	return $self;
}

# A decimal string in whole millionths (a factor); dies on anything finer.
sub millionths
{
	my ($s) = @_;
	$s =~ /^(-?)(\d+)(?:\.(\d{0,6}))?$/ or die "factor $s is not whole millionths";
	my $v = ($2 * 1_000_000) + (defined $3 ? substr($3 . '000000', 0, 6) : 0);
	return $1 ? -$v : $v;
}

# A known-good decimal string with at most two decimals in cents (parameters).
sub cents
{
	my ($s) = @_;
	my $r = parse_amount($s);
	die "bad parameter amount $s" if $r->{err};
	return $r->{val};
}

# An amount as SQL numeric text -> { val => cents } or { err => { SQLSTATE => 1 } }: NaN
# and the infinities are no amount (22023); a non-zero third decimal and anything beyond
# the limit are 22003.
sub parse_amount
{
	my ($s) = @_;
	return { err => { '22023' => 1 } } if $s =~ /^-?(nan|inf(inity)?)$/i;
	return { err => { '22003' => 1 } } unless $s =~ /^(-?)(\d+)(?:\.(\d+))?$/;
	my ($neg, $int, $frac) = ($1, $2, $3 // '');
	return { err => { '22003' => 1 } } if length($frac) > 2 && substr($frac, 2) =~ /[1-9]/;
	$frac = substr($frac . '00', 0, 2);
	$int =~ s/^0+(?=\d)//;
	my $digits = $int . $frac;
	$digits =~ s/^0+(?=\d)//;
	my $v;
	if (length($digits) <= 11) { $v = $digits + 0 }
	else
	{
		$v = Math::BigInt->new($digits);
		return { err => { '22003' => 1 } } if $v > $LIMIT;
	}
	$v = -$v if $neg;
	return { val => $v };
}

# A number of cents as text with two decimals ("-0.05", "92233720368547758.07").
sub cents_text
{
	my ($c) = @_;
	return undef unless defined $c;
	my $s = "$c";
	my $neg = $s =~ s/^-//;
	$s = ('0' x (3 - length $s)) . $s if length $s < 3;
	return ($neg ? '-' : '') . substr($s, 0, -2) . '.' . substr($s, -2);
}

# An outcome as text, to compare and to print: "E:22003|55000", "NULL", "12.34", "OK".
sub outcome_text
{
	my ($o) = @_;
	return 'E:' . join('|', sort keys %{ $o->{err} }) if $o->{err};
	return $o->{text} if exists $o->{text};
	return defined $o->{val} ? cents_text($o->{val}) : 'NULL';
}

sub big { ref $_[0] ? $_[0] : Math::BigInt->new($_[0]) }
sub is_small { my ($v) = @_; return !ref($v) || ($v->copy->babs < $SMALL) }

# ipcal_income over one member's items: [ [ code, amount, tax_year ], ... ], undef = NULL.
sub ipcal_income
{
	my ($self, $items) = @_;
	return { val => undef } unless @$items;
	my (%err, $unknown);
	my $sum = 0;    # in 1e-8 EUR (cents x millionths); promoted to Math::BigInt when large
	for my $it (@$items)
	{
		my ($code, $amount, $ty) = @$it;
		my $factor;
		if (defined $code && defined $ty)
		{
			if ($code !~ /^[0-9]{4}$/) { $err{'22P02'} = 1 }
			elsif (!defined($factor = $self->{ipcal}{$ty}{$code})) { $err{'55000'} = 1 }
		}
		my $a;
		if (defined $amount)
		{
			my $p = parse_amount($amount);
			if ($p->{err}) { $err{$_} = 1 for keys %{ $p->{err} }; next }
			$a = $p->{val};
		}
		if (!defined $code || !defined $ty || !defined $amount) { $unknown = 1; next }
		next unless defined $factor;
		my $term = is_small($a) ? $a * $factor : big($a) * $factor;
		$sum = (ref $sum || ref $term) ? big($sum) + $term : $sum + $term;
		$sum = big($sum) if !ref $sum && abs($sum) > 4e18;
	}
	return { err => \%err } if %err;
	return { val => undef } if $unknown;
	# round half away from zero: 1e-8 EUR -> cents
	my $neg = $sum < 0;
	my $abs = ref $sum ? $sum->copy->babs : abs $sum;
	my $c;
	if (ref $abs)
	{
		my ($q, $r) = $abs->copy->bdiv(1_000_000);
		$q->binc if $r >= 500_000;
		$c = $q;
	}
	else
	{
		use integer;
		$c = $abs / 1_000_000;
		$c++ if $abs % 1_000_000 >= 500_000;
	}
	return { err => { '22003' => 1 } } if $c > $LIMIT;
	return { val => $neg ? -$c : $c };
}

# household_income over one household's members: [ { rc, income, bd, y } ], where income is
# either { raw => TEXT or undef } (the column) or an ipcal_income outcome (the member's
# income computed from items: its error, if any, is raised whatever the code, since the
# income expression is evaluated for every row).
sub household_income
{
	my ($self, $members) = @_;
	return { val => undef } unless @$members;
	my (%err, %years, $unknown);
	my $sum = 0;
	for my $m (@$members)
	{
		my $inc = $m->{income};
		if ($inc->{err}) { $err{$_} = 1 for keys %{ $inc->{err} }; next }
		$years{ $m->{y} } = 1 if defined $m->{y};
		my $is00 = defined $m->{rc} && $m->{rc} eq '00';
		my $cents;
		if ($is00)
		{
			if (exists $inc->{raw})
			{
				if (defined $inc->{raw})
				{
					my $p = parse_amount($inc->{raw});
					if ($p->{err}) { $err{$_} = 1 for keys %{ $p->{err} }; next }
					$cents = $p->{val};
				}
			}
			else { $cents = $inc->{val} }
			if (!defined $m->{y} || !defined $cents) { $unknown = 1; next }
			$sum = (ref $sum || ref $cents) ? big($sum) + $cents : $sum + $cents;
		}
		else
		{
			my $bd = $m->{bd};
			if (defined $bd && $bd =~ /infinity/) { $err{'22023'} = 1; next }
			if (!defined $m->{y} || !defined $bd) { $unknown = 1; next }
			# under 18 on 1 January of the tax year: born after that day 18 years earlier
			my $eighteen = sprintf('%04d-01-01', $m->{y} + 1 - 18);
			$unknown = 1 unless $bd gt $eighteen;
		}
	}
	$err{'22023'} = 1 if keys %years > 1;
	return { err => \%err } if %err;
	return { val => undef } if $unknown;
	return { val => 0 } if $sum < 0;
	return { err => { '22003' => 1 } } if ref $sum && $sum > $LIMIT;
	return { val => $sum };
}

# The ceiling of R2 in cents, or an error outcome.
sub ceiling
{
	my ($self, $size, $year) = @_;
	my %err;
	$err{'22023'} = 1 if $size < 1;
	my $row = $self->{ceiling}{$year};
	$err{'55000'} = 1 unless $row;
	return { err => \%err } if %err;
	return { val => $row->[0] + $row->[1] * ($size - 1) };
}

# im_verdict(total outcome value in cents or undef, size, year).
sub im_verdict
{
	my ($self, $total, $size, $year) = @_;
	if (!defined $total)
	{
		if (defined $size && defined $year)
		{
			my $c = $self->ceiling($size, $year);
			return $c if $c->{err};
		}
		return { text => 'ONHOLD' };
	}
	return { val => undef } if !defined $size || !defined $year;
	my $c = $self->ceiling($size, $year);
	return $c if $c->{err};
	return { text => $total < $c->{val} ? 'OK' : 'NOK' };
}

1;
