# A whole systematic control year (2024, OA 300) from files in the published format:
# test/data/scenario/make-scenario.pl writes the Syst_01, the two Syst_04 shipments, the
# IPCAL factors, the OA's household events and, per household, the outcome Circ. O.A.
# 2024/165 gives (expected.csv, with the section that says so). This test loads the files
# with inami.load_flow_file, adopts the households another OA listed (E 2.3), adds the
# events, runs the control and checks every household's income, reason and end of right
# against the circular; then that the Syst_05 validates against xsd/syst05.xsd and reloads
# to the same feedback, and that a second run changes nothing.
use strict;
use warnings;
use FindBin;
use IPC::Run qw(run);
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $scenario = "$root/test/data/scenario";
my $started = time;

# The files, where the server can read them (the test runs as the server's user).
my $dir = PostgreSQL::Test::Utils::tempdir();
my ($gen_out, $gen_err) = ('', '');
ok(run([ $^X, "$scenario/make-scenario.pl", '--out', $dir ], '>', \$gen_out, '2>', \$gen_err),
	'make-scenario.pl writes the files') or BAIL_OUT("make-scenario.pl: $gen_err");
note($gen_out);
is(slurp_file("$dir/expected.csv"), slurp_file("$scenario/expected.csv"),
	'test/data/scenario/expected.csv is what make-scenario.pl writes (regenerate it with --out test/data/scenario)');

# The generator writes the published format: its files validate against xsd/.
for my $f ([ syst01 => 'syst01' ], [ syst04 => 'syst04_1' ], [ syst04 => 'syst04_2' ])
{
	my ($schema, $name) = @$f;
	my ($out, $err) = ('', '');
	ok(run([ 'xmllint', '--noout', '--schema', "$root/xsd/$schema.xsd", "$dir/$name.xml" ], '>', \$out, '2>', \$err),
		"$name.xml validates against xsd/$schema.xsd") or diag($err);
}

# expected.csv: one row per household.
sub parse_csv_line
{
	my ($line) = @_;
	my @f;
	while ($line =~ /\G(?:"((?:[^"]|"")*)"|([^,]*))(,|$)/g)
	{
		my ($quoted, $plain, $sep) = ($1, $2, $3);
		push @f, defined $quoted ? $quoted =~ s/""/"/gr : $plain;
		last if $sep eq '';
	}
	return @f;
}
open(my $fh, '<', "$dir/expected.csv") or die "expected.csv: $!";
chomp(my $header = <$fh>);
my @cols = parse_csv_line($header);
my @expected;
while (my $line = <$fh>)
{
	chomp $line;
	my @f = parse_csv_line($line);
	die "expected.csv line $.: " . scalar(@f) . " fields, not " . scalar(@cols) . "\n" unless @f == @cols;
	my %row;
	@row{@cols} = @f;
	push @expected, \%row;
}
close($fh);
cmp_ok(scalar @expected, '>=', 50, 'the scenario has at least 50 households');

my $node = PostgreSQL::Test::Cluster->new('control_year');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION inami');
$node->safe_psql('postgres', slurp_file("$dir/ipcal.sql"));

# Load: Syst_01, then the August and October Syst_04.
my $count = sub { my ($file) = @_; my $n = () = slurp_file("$dir/$file") =~ /<Household /g; $n };
for my $file ('syst01.xml', 'syst04_1.xml', 'syst04_2.xml')
{
	is($node->safe_psql('postgres', "SELECT inami.load_flow_file('$dir/$file')"),
		$count->($file), "load_flow_file $file: every household");
}

# E 2.3: the households another OA listed, answered here through the CIN filter.
my @unlisted = sort map { $_->{request_number} } grep { $_->{oa} ne '300' } @expected;
is($node->safe_psql('postgres', 'SELECT string_agg(request_number, \' \' ORDER BY request_number) FROM inami.syst04_unlisted'),
	join(' ', @unlisted), 'syst04_unlisted: the households OA 400 and OA 500 listed');
is($node->safe_psql('postgres', "SELECT inami.adopt_unlisted_households(2024, '300')"),
	scalar @unlisted, 'adopt_unlisted_households lists them as OA 300\'s');

# The OA's events.
my $events = () = slurp_file("$dir/events.sql") =~ /^\s+\('/mg;
$node->safe_psql('postgres', slurp_file("$dir/events.sql"));
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.household_event'), $events, "$events household events");

# The control.
my $t0 = time;
$node->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
note(sprintf('run_systematic_control: %.2f s', time - $t0));
is($node->safe_psql('postgres', 'SELECT status FROM inami.control_run'), 'succeeded', 'the run succeeded');

my %decision;
for (split /\n/, $node->safe_psql('postgres',
		"SELECT request_number, reason, right_end, coalesce(household_total::text, 'unknown'), oa, sends_feedback
		 FROM inami.control_decision WHERE control_year = 2024"))
{
	my ($rn, $reason, $end, $total, $oa, $sends) = split /\|/;
	$decision{$rn} = { reason => $reason, right_end => $end, total => $total, oa => $oa, sends => $sends };
}
my %feedback;
for (split /\n/, $node->safe_psql('postgres',
		"SELECT request_number, reason, right_end FROM inami.read_syst05(inami.syst05_document(2024, '300')::text)"))
{
	my ($rn, $reason, $end) = split /\|/;
	$feedback{$rn} = "$reason $end";
}

# Every household: its income (R3) and the feedback OA 300 sends (R4), as the circular says.
for my $e (@expected)
{
	my $d = $decision{ $e->{request_number} };
	my $name = "$e->{household} ($e->{label})";
	is($d ? $d->{total} : 'no decision', $e->{household_income}, "$name: household income")
	  or diag("basis: $e->{basis}");
	{
		my $got = $feedback{ $e->{request_number} } // 'ABSENT';
		if ($e->{reason} eq 'ABSENT')    # OA 300 sends no feedback for it
		{
			is($got, 'ABSENT', "$name: no feedback from OA 300") or diag("basis: $e->{basis}");
		}
		elsif ($e->{right_end} eq '*')    # the circular gives no date: the reason alone
		{
			is((split / /, $got)[0], $e->{reason}, "$name: feedback $e->{reason} (no date in the circular)")
			  or diag("basis: $e->{basis}");
		}
		else
		{
			my $want = "$e->{reason} $e->{right_end}";
			is($got, $want, "$name: feedback $want") or diag("basis: $e->{basis}");
		}
	}
}

# The Syst_05 document: valid, one feedback per decision OA 300 sends (not those of
# households whose fiscal data went to their new OA: E 2.3), and loaded back it gives the
# same feedback.
my $doc = $node->safe_psql('postgres', "SELECT inami.syst05_document(2024, '300')");
open(my $out, '>', "$dir/syst05.xml") or die "syst05.xml: $!";
print $out $doc, "\n";
close($out);
my ($xout, $xerr) = ('', '');
ok(run([ 'xmllint', '--noout', '--schema', "$root/xsd/syst05.xsd", "$dir/syst05.xml" ], '>', \$xout, '2>', \$xerr),
	'syst05_document(2024, \'300\') validates against xsd/syst05.xsd') or diag($xerr);
my $n300 = grep { $_->{oa} eq '300' && $_->{sends} eq 't' } values %decision;
is(scalar keys %feedback, $n300, "the Syst_05 has one feedback per decision OA 300 sends ($n300)");
is($node->safe_psql('postgres', "SELECT inami.load_flow(pg_read_file('$dir/syst05.xml'))"), $n300,
	'load_flow takes the Syst_05 back');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM (
	  (SELECT request_number, oa, reason, right_end FROM inami.syst05_feedback_received WHERE control_year = 2024
	   EXCEPT SELECT request_number, oa, reason, right_end FROM inami.control_decision WHERE control_year = 2024 AND oa = '300' AND sends_feedback)
	  UNION ALL
	  (SELECT request_number, oa, reason, right_end FROM inami.control_decision WHERE control_year = 2024 AND oa = '300' AND sends_feedback
	   EXCEPT SELECT request_number, oa, reason, right_end FROM inami.syst05_feedback_received WHERE control_year = 2024)) x}),
	'0', 'the reloaded feedback is the decisions, row for row');

# A second run: the same decisions, nothing rewritten.
my $snapshot = "SELECT d::text FROM inami.control_decision d ORDER BY control_year, request_number";
my $before = $node->safe_psql('postgres', $snapshot);
$node->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
is($node->safe_psql('postgres', $snapshot), $before, 'a second run leaves every decision row as it was (run_id too)');
is($node->safe_psql('postgres',
		"SELECT string_agg(status || ' ' || counts::text, ' / ' ORDER BY run_id) FROM inami.control_run"),
	join(' / ', ($node->safe_psql('postgres',
		"SELECT 'succeeded ' || counts::text FROM inami.control_run ORDER BY run_id LIMIT 1")) x 2),
	'both runs succeeded with the same counts');

$node->stop;
note(sprintf('310_control_year_scenario: %.1f s', time - $started));
done_testing();
