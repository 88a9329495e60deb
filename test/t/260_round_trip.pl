# Round trip: what the writers produce loads back with inami.load_flow, gives the same
# rows, and writes back the same document.
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('round_trip');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->safe_psql($_, 'CREATE EXTENSION inami') for qw(src dst);


$node->safe_psql('src', slurp_file("$FindBin::Bin/../data/writers-fixture.sql"));

# Load one document written in src into dst; returns load_flow's count.
sub load
{
	my ($doc) = @_;
	return $node->safe_psql('dst', 'SELECT inami.load_flow($doc$' . $doc . '$doc$)');
}

my %doc = map { $_ => $node->safe_psql('src', "SELECT inami.$_") }
  (q{syst01_document(2024, '300')}, q{syst01_document(2024, '306')}, q{syst05_document(2024, '300')},
   q{pro01_document(2024, '300')}, q{pro04_document(2024, '300')},
   q{syst01_document(2024, '999')});

# Syst01: the same rows, and the same document written back.
is(load($doc{q{syst01_document(2024, '300')}}), '2', 'load_flow takes the written Syst01 of OA 300: 2 households');
is(load($doc{q{syst01_document(2024, '306')}}), '1', 'load_flow takes the written Syst01 of OA 306: 1 household');
my $syst01_rows = q{
	SELECT h.control_year, h.request_number, h.oa, h.requester_niss,
	       (SELECT string_agg(m.niss, ',' ORDER BY m.niss) FROM inami.syst01_member m
	        WHERE m.control_year = h.control_year AND m.request_number = h.request_number)
	FROM inami.syst01_household h WHERE h.oa IN ('300', '306') ORDER BY 1, 2};
is($node->safe_psql('dst', $syst01_rows), $node->safe_psql('src', $syst01_rows),
	'Syst01: the loaded households and members are the written ones');
is($node->safe_psql('dst', q{SELECT inami.syst01_document(2024, '300')}),
	$doc{q{syst01_document(2024, '300')}}, 'Syst01: written again, the same document');
is($node->safe_psql('dst', q{SELECT inami.syst01_document(2024, '306')}),
	$doc{q{syst01_document(2024, '306')}}, 'Syst01 of OA 306: written again, the same document');

# Pro01: the same.
is(load($doc{q{pro01_document(2024, '300')}}), '2', 'load_flow takes the written Pro01: 2 households');
my $pro01_rows = q{
	SELECT h.year, h.request_number, h.oa, h.requester_niss,
	       (SELECT string_agg(m.niss, ',' ORDER BY m.niss) FROM inami.pro01_member m
	        WHERE m.year = h.year AND m.request_number = h.request_number)
	FROM inami.pro01_household h ORDER BY 1, 2};
is($node->safe_psql('dst', $pro01_rows), $node->safe_psql('src', $pro01_rows),
	'Pro01: the loaded households and members are the written ones');
is($node->safe_psql('dst', q{SELECT inami.pro01_document(2024, '300')}),
	$doc{q{pro01_document(2024, '300')}}, 'Pro01: written again, the same document');

# Syst05 and Pro04: load_flow takes them and counts every record.
is(load($doc{q{syst05_document(2024, '300')}}), '3', 'load_flow takes the written Syst05: 3 feedbacks (one for a household of OA 306)');
is(load($doc{q{pro04_document(2024, '300')}}), '2', 'load_flow takes the written Pro04: 2 results');

# What was loaded is what was written (the loader keeps received files in tables of their own).
my $feedback_src = q{SELECT request_number, reason, right_end FROM inami.control_decision
	WHERE control_year = 2024 AND oa = '300' ORDER BY 1};
my $feedback_dst = q{SELECT request_number, reason, right_end FROM inami.syst05_feedback_received
	WHERE control_year = 2024 AND oa = '300' ORDER BY 1};
is($node->safe_psql('dst', $feedback_dst), $node->safe_psql('src', $feedback_src),
	'Syst05: the loaded feedbacks are the written ones');
my $result_src = q{SELECT request_number, code FROM inami.proactive_decision
	WHERE year = 2024 AND request_number LIKE '300%' ORDER BY 1};
my $result_dst = q{SELECT request_number, code FROM inami.pro04_result_received
	WHERE year = 2024 AND shipment = 2 ORDER BY 1};
is($node->safe_psql('dst', $result_dst), $node->safe_psql('src', $result_src),
	'Pro04: the loaded results (shipment 2) are the written ones');

# An empty document the writer produced is valid: it loads nothing, without error.
is(load($doc{q{syst01_document(2024, '999')}}), '0', 'the empty Syst01 loads as 0 households');

# The schemas and the readers agree on the hand-written samples of test/data/xsd/: every
# valid one reads, every invalid one is refused (the same samples go through xmllint
# --schema in test/t/250).
my @samples = (sort(glob("$FindBin::Bin/../data/xsd/valid/*.xml")), sort(glob("$FindBin::Bin/../data/xsd/invalid/*.xml")));
for my $file (@samples)
{
	my ($kind) = $file =~ m{/([a-z0-9]+)-[^/]*\.xml$};
	my $name = $file =~ s{.*/data/xsd/}{}r;
	my $doc = slurp_file($file);
	$doc =~ s/\$doc\$//g;
	my ($ret, $out, $err) = $node->psql('dst',
		"\\set VERBOSITY verbose\nSELECT count(*) FROM inami.read_$kind(\$doc\$$doc\$doc\$)");
	if ($name =~ m{^valid/})
	{
		is($ret, 0, "the reader reads $name") or diag($err);
	}
	else
	{
		# Refused with a data error (class 22, 23 or 54) that shows what is wrong, never
		# an internal error.
		like($err, qr/ERROR:\s+(22|23|54)[0-9A-Z]{3}: .*\nDETAIL:  \S/, "the reader refuses $name with a data error and a DETAIL");
	}
}

$node->stop;
done_testing();
