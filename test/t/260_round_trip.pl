# Round trip: what the writers produce loads back with inami.load_flow, gives the same
# rows, and writes back the same document. load_flow comes from the reading half of
# issue 6; without it this test skips.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('round_trip');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->safe_psql($_, 'CREATE EXTENSION inami') for qw(src dst);

if ($node->safe_psql('dst', q{SELECT to_regprocedure('inami.load_flow(text)') IS NULL}) eq 't')
{
	$node->stop;
	plan skip_all => 'inami.load_flow(text) does not exist in this build (the loader of the reading half of issue 6 is not merged)';
}

$node->safe_psql('src', q{
	INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES
		('Syst01', 2024, '300', 'fixture', 2), ('Pro01', 2024, '300', 'fixture', 2);
	INSERT INTO inami.syst01_household VALUES
		(2024, '300202485073003328', '300', '85073003328', 1),
		(2024, '300202465112420037', '300', '65112420037', 1);
	INSERT INTO inami.syst01_member VALUES
		(2024, '300202485073003328', '87021512307'), (2024, '300202485073003328', '85073003328'),
		(2024, '300202485073003328', '15070701175'), (2024, '300202485073003328', '12030104533'),
		(2024, '300202465112420037', '65112420037');
	INSERT INTO inami.control_run (kind, year) VALUES ('systematic_control', 2024), ('proactive_flow', 2024);
	INSERT INTO inami.control_decision VALUES
		(2024, '300202485073003328', '300', 'STOPFAM', '2024-09-30', 1),
		(2024, '300202465112420037', '300', 'KEEPSYST', '2025-12-31', 1);
	INSERT INTO inami.pro01_household VALUES
		(2024, '300202478051032182', '300', '78051032182', 2),
		(2024, '300202465112420037', '300', '65112420037', 2);
	INSERT INTO inami.pro01_member VALUES
		(2024, '300202478051032182', '90010100123'), (2024, '300202478051032182', '78051032182'),
		(2024, '300202465112420037', '65112420037');
	INSERT INTO inami.proactive_decision VALUES
		(2024, '300202478051032182', 'OK', 2), (2024, '300202465112420037', 'ONHOLD', 2);
});

# Load one document written in src into dst; returns load_flow's count.
sub load
{
	my ($doc) = @_;
	return $node->safe_psql('dst', 'SELECT inami.load_flow($doc$' . $doc . '$doc$)');
}

my %doc = map { $_ => $node->safe_psql('src', "SELECT inami.$_") }
  (q{syst01_document(2024, '300')}, q{syst05_document(2024, '300')},
   q{pro01_document(2024, '300')}, q{pro04_document(2024, '300')},
   q{syst01_document(2024, '999')});

# Syst01: the same rows, and the same document written back.
is(load($doc{q{syst01_document(2024, '300')}}), '2', 'load_flow takes the written Syst01: 2 households');
my $syst01_rows = q{
	SELECT h.control_year, h.request_number, h.oa, h.requester_niss,
	       (SELECT string_agg(m.niss, ',' ORDER BY m.niss) FROM inami.syst01_member m
	        WHERE m.control_year = h.control_year AND m.request_number = h.request_number)
	FROM inami.syst01_household h ORDER BY 1, 2};
is($node->safe_psql('dst', $syst01_rows), $node->safe_psql('src', $syst01_rows),
	'Syst01: the loaded households and members are the written ones');
is($node->safe_psql('dst', q{SELECT inami.syst01_document(2024, '300')}),
	$doc{q{syst01_document(2024, '300')}}, 'Syst01: written again, the same document');

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
is(load($doc{q{syst05_document(2024, '300')}}), '2', 'load_flow takes the written Syst05: 2 feedbacks');
is(load($doc{q{pro04_document(2024, '300')}}), '2', 'load_flow takes the written Pro04: 2 results');

# An empty document the writer produced is valid: it loads nothing, without error.
is(load($doc{q{syst01_document(2024, '999')}}), '0', 'the empty Syst01 loads as 0 households');

$node->stop;
done_testing();
