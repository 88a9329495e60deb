# A control run that is cancelled (pg_cancel_backend; statement_timeout and a stopped
# pg_cron job are the same error, 57014) is logged as failed with its SQLSTATE, not left
# "running", and changes no decision. Another session holds a lock on the Syst_04 answers
# so that the run is cancelled in the middle of its work, at a known point.
use strict;
use warnings;
use IPC::Run;
use Time::HiRes qw(usleep);
use FindBin;
use lib "$FindBin::RealBin/../lib";
use InamiControlNode;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = InamiControlNode->new('run_cancel');

# wait_for(SQL): poll until SQL returns a non-empty value (at most 60 s).
sub wait_for
{
	my ($sql) = @_;
	for (1 .. 600)
	{
		my $v = $node->safe_psql('postgres', $sql);
		return $v if $v ne '';
		usleep(100_000);
	}
	return '';
}

# The session that holds the lock, kept open through its stdin.
my ($in, $out, $err) = ('', '', '');
my $holder = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err);
$in .= "SET application_name = 'holder';\nBEGIN;\nLOCK TABLE inami.syst04_household IN ACCESS EXCLUSIVE MODE;\n";
$holder->pump_nb;
isnt(wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.application_name = 'holder' AND l.relation = 'inami.syst04_household'::regclass AND l.granted"),
	'', 'another session holds the Syst_04 answers');

my ($rout, $rerr) = ('', '');
# (two -c: one string would be one implicit transaction, where the run cannot commit its log)
my $run = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
		"SET application_name = 'control'", '-c', 'CALL inami.run_systematic_control(2024)' ],
	'>', \$rout, '2>', \$rerr);
my $pid = wait_for("SELECT pid FROM pg_stat_activity WHERE application_name = 'control' AND wait_event_type = 'Lock'");
isnt($pid, '', 'the run waits in the middle of its work');
is($node->safe_psql('postgres', "SELECT status FROM inami.control_run"), 'running', 'the log says running meanwhile');
is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"), 't', 'pg_cancel_backend');
$run->finish;
like($rerr, qr/canceling statement due to user request/, 'the caller sees the cancellation');
is($node->safe_psql('postgres',
		"SELECT status || ' ' || error_sqlstate || ' ' || (ended_at IS NOT NULL) FROM inami.control_run"),
	'failed 57014 true', 'the cancelled run is logged as failed with SQLSTATE 57014 and its end');
like($node->safe_psql('postgres', "SELECT error_message FROM inami.control_run"),
	qr/canceling statement due to user request/, 'with its message');
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.control_decision'), '0', 'no decision written');

$in .= "COMMIT;\n\\q\n";
$holder->finish;
$node->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
is($node->safe_psql('postgres', "SELECT string_agg(status, ' ' ORDER BY run_id) FROM inami.control_run"),
	'failed succeeded', 'the next run, unhindered, succeeds and is logged after it');
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.control_decision'), '2', 'and decides both households');

$node->stop;
done_testing();
