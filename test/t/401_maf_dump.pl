# The operator's MAF rows (income brackets, a later MAF social ceiling) survive pg_dump and
# pg_restore; the shipped MAF social ceiling comes back with CREATE EXTENSION, not twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('maf_dump');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION inami;
	INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES
	    (2024, 0.00, 250.00, 'sample: lowest bracket', 'operator: sample row'),
	    (2024, 20000.00, 500.00, 'sample: second bracket', 'operator: sample row');
	INSERT INTO inami.maf_social_ceiling (year, ceiling, source)
	VALUES (2025, 460.00, 'operator: hypothetical circular');
});
my $answers = q{
	SELECT inami.maf_ceiling(2024, 100.00, true), inami.maf_ceiling(2024, 25000.00, false),
	       inami.maf_ceiling(2025, NULL, true),
	       (SELECT count(*) FROM inami.maf_income_bracket), (SELECT count(*) FROM inami.maf_social_ceiling)
};
my $before = $node->safe_psql('src', $answers);
is($before, '250.00|500.00|460.00|2|2', 'the operator rows answer before the dump');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore without error');
is($node->safe_psql('restored', $answers), $before, 'the restored database gives the same MAF ceilings');
is($node->safe_psql('restored', 'SELECT count(*) FROM inami.maf_social_ceiling WHERE shipped'), '1',
	'the shipped MAF social ceiling is not doubled');

$node->stop;
done_testing();
