# The error that fails a control run reaches its caller as the run met it, once the
# failure is logged: SQLSTATE, message, DETAIL, the CONTEXT of where it happened, and the
# schema, table, column and constraint names a client reads from it. Two failures an
# operator's own constraint on inami.control_decision causes: a CHECK and a NOT NULL.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/../lib";
use InamiControlNode;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = InamiControlNode->new('run_error');

# The run's error as psql shows it with every field (VERBOSITY verbose).
sub run_error
{
	my ($stdout, $stderr) = ('', '');
	$node->psql('postgres', 'CALL inami.run_systematic_control(2024)',
		stdout => \$stdout, stderr => \$stderr, extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return $stderr;
}

$node->safe_psql('postgres',
	'ALTER TABLE inami.control_decision ADD CONSTRAINT operator_check CHECK (household_size > 5)');
my $err = run_error();
like($err, qr/ERROR:  23514: new row for relation "control_decision" violates check constraint "operator_check"/,
	'a CHECK: the caller gets the SQLSTATE and the message');
like($err, qr/DETAIL:  Failing row contains/, 'the DETAIL');
like($err, qr/CONTEXT:  .*PL\/pgSQL function inami\.run_systematic_control\(integer\) line \d+ at (?:SQL statement|PERFORM)/s,
	'the CONTEXT of the statement that failed in the run');
like($err, qr/SCHEMA NAME:  inami\n/, 'the schema');
like($err, qr/TABLE NAME:  control_decision\n/, 'the table');
like($err, qr/CONSTRAINT NAME:  operator_check\n/, 'the constraint');
unlike($err, qr/COLUMN NAME|DATATYPE NAME|HINT/, 'and no field the error did not have');
is($node->safe_psql('postgres', q{
    SELECT status || ' ' || error_sqlstate || ' ' || (error_message ~ '^new row for relation "control_decision" violates check constraint "operator_check"\nDETAIL: Failing row contains')
    FROM inami.control_run}),
	'failed 23514 true', 'the run log has the failure, its message and DETAIL');

$node->safe_psql('postgres', q{
    ALTER TABLE inami.control_decision DROP CONSTRAINT operator_check;
    ALTER TABLE inami.control_decision ALTER COLUMN household_total SET NOT NULL;
});
$err = run_error();
like($err, qr/ERROR:  23502: null value in column "household_total"/, 'a NOT NULL: SQLSTATE and message');
like($err, qr/COLUMN NAME:  household_total\n/, 'the column');
like($err, qr/TABLE NAME:  control_decision\n/, 'the table');
unlike($err, qr/CONSTRAINT NAME/, 'no constraint name: the error had none');
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.control_decision'), '0', 'no decision written');

$node->safe_psql('postgres', 'ALTER TABLE inami.control_decision ALTER COLUMN household_total DROP NOT NULL');
$node->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
is($node->safe_psql('postgres', "SELECT string_agg(status || coalesce(' ' || error_sqlstate, ''), ', ' ORDER BY run_id) FROM inami.control_run"),
	'failed 23514, failed 23502, succeeded', 'the log keeps both failures, then the run that succeeded');

$node->stop;
done_testing();
