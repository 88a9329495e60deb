# Operator rows in the parameter tables survive pg_dump and pg_restore; shipped rows come
# back with CREATE EXTENSION, not twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE DATABASE src;
});
$node->safe_psql('src', q{
	CREATE EXTENSION inami;
	INSERT INTO inami.im_ceiling (income_year, base, per_member, source)
	VALUES (2023, 25000.00, 4600.00, 'operator: hypothetical circular');
	INSERT INTO inami.pivot_index_step (effective_from, exponent, source)
	VALUES ('2024-11-01', 29, 'operator: hypothetical crossing');
	INSERT INTO inami.parameter_coverage (series, valid_until, source)
	VALUES ('quarterly_dependent_limit', '2024-12-31', 'operator: hypothetical circular');
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
	VALUES (2023, '1250', 1, 'sample: wages', 'operator: sample row');
});

my $answers = q{
	SELECT inami.im_plafond(3, 2023), inami.im_plafond(4, 2022),
	       inami.quarterly_dependent_limit(2024, 4), inami.quarterly_dependent_limit(2009, 1),
	       (SELECT count(*) FROM inami.ipcal_rule),
	       (SELECT count(*) FROM inami.pivot_index_step),
	       (SELECT count(*) FROM inami.parameter_coverage)
};
my $before = $node->safe_psql('src', $answers);
is($before, '34200.00|36246.38|3110.03|2148.87|1|20|2', 'the operator rows answer before the dump');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore without error');

is($node->safe_psql('restored', $answers), $before, 'the restored database gives the same answers');
is($node->safe_psql('restored', 'SELECT count(*) FROM inami.im_ceiling WHERE shipped'), '1',
	'shipped rows are not doubled');

$node->stop;
done_testing();
