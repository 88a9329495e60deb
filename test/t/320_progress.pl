# inami.progress from another session, and the run log tied to pg_cron. A cluster preloads
# pg_cron and inami. Another session holds a lock the work needs, so that each load or run
# is seen at a known point (no timing): a large generated Syst01 file being loaded, a
# control run waiting for another run of its year, then reading the households, a run
# started by a pg_cron job (with its job and run in inami.control_run), and a run and two
# purges left "running" by a crash, marked interrupted by the next run of the year and the
# next purge. Who sees whose sessions in inami.progress: as in pg_stat_activity.
use strict;
use warnings;
use IPC::Run;
use Time::HiRes qw(usleep);
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('progress');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron, inami'
cron.database_name = 'postgres'
cron.host = '@{[ $node->host ]}'
});
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION pg_cron; CREATE EXTENSION inami;');

# wait_for(SQL): poll until SQL returns a non-empty value (at most 150 s).
sub wait_for
{
	my ($sql) = @_;
	for (1 .. 1500)
	{
		my $v = $node->safe_psql('postgres', $sql);
		return $v if $v ne '';
		usleep(100_000);
	}
	return '';
}

# A session kept open through its stdin, named by application_name (as role $user, or
# the bootstrap superuser).
sub session
{
	my ($name, $sql, $user) = @_;
	my %s = (in => "SET application_name = '$name';\n$sql", out => '', err => '');
	$s{h} = IPC::Run::start([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr('postgres'),
		($user ? ('-U', $user) : ()) ],
		'<', \$s{in}, '>', \$s{out}, '2>', \$s{err});
	$s{h}->pump_nb;
	return \%s;
}

sub send_sql { my ($s, $sql) = @_; $s->{in} .= $sql; $s->{h}->pump_nb; }
sub finish { my ($s) = @_; $s->{in} .= "\\q\n"; $s->{h}->finish; }

is($node->safe_psql('postgres', 'SELECT inami._progress_available() AND NOT EXISTS (SELECT FROM inami.progress)'), 't',
	'preloaded: inami.progress is there, empty');

# 1. A large generated file, loaded while another session holds the Syst_01 households: the
# loader reads its first batch of records, then waits to insert them.
my $file = $node->basedir . '/syst01.xml';
system($^X, "$FindBin::RealBin/../../bench/gen_flows.pl", '--kind', 'syst01', '--households', '60000',
	'--year', '2024', '--out', $file) == 0 or die "gen_flows.pl failed";
chmod 0644, $file;
my $holder = session('holder', "BEGIN;\nLOCK TABLE inami.syst01_household IN SHARE MODE;\n");
isnt(wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
               WHERE a.application_name = 'holder' AND l.relation = 'inami.syst01_household'::regclass AND l.granted"),
	'', 'another session holds the Syst_01 households');
my $loader = session('psql', "SELECT inami.load_flow_file('$file');\n");
my $seen = wait_for("SELECT kind || ' | ' || what || ' | ' || (done > 0) || ' | ' || coalesce(total::text, 'NULL') || ' | '
                            || started_by || ' | ' || year || ' | ' || (elapsed >= '0'::interval)
                     FROM inami.progress WHERE kind = 'load'");
is($seen, "load | Syst01 2024: $file | true | NULL | psql | 2024 | true",
	'another session sees the load: the file, records read so far, no total, started by psql');

# Whose sessions a role sees (pg_stat_activity's rule): its own, those of the roles whose
# privileges it has, and every session for pg_read_all_stats and inami_operator.
$node->safe_psql('postgres', q{
	CREATE ROLE analyst_a LOGIN IN ROLE inami_analyst; CREATE ROLE analyst_b LOGIN IN ROLE inami_analyst;
	CREATE ROLE lead LOGIN IN ROLE analyst_a; CREATE ROLE operator_o LOGIN IN ROLE inami_operator;
	CREATE ROLE stats_s LOGIN IN ROLE inami_analyst, pg_read_all_stats;
	-- (a DBA's grant: an analyst's own report, as a load or run of its own would make)
	GRANT EXECUTE ON FUNCTION inami._progress_start(text, text, int, bigint, bigint) TO analyst_a;
});
sub seen_by
{
	my ($role) = @_;
	return $node->safe_psql('postgres', q{
		SELECT (SELECT coalesce(string_agg(p.kind || ' of ' || CASE WHEN r.rolsuper THEN 'the superuser' ELSE r.rolname END,
		                                   ', ' ORDER BY p.kind), '')
		        FROM inami.progress p JOIN pg_roles r ON r.rolname = p.username)
		       || ' / ' || (SELECT count(*) FROM inami._progress())}, extra_params => [ '-U', $role ]);
}
my $own = session('own', "BEGIN;\nSELECT inami._progress_start('purge', 'own report', NULL, NULL, NULL);\n", 'analyst_a');
wait_for("SELECT 1 FROM inami.progress WHERE what = 'own report'");
is(seen_by('analyst_a'), 'purge of analyst_a / 1', 'an analyst sees its own session, not the superuser\'s load');
is(seen_by('analyst_b'), ' / 0', 'another analyst sees neither (nor through inami._progress())');
is(seen_by('lead'), 'purge of analyst_a / 1', 'a role with the privileges of the first sees its session');
is(seen_by('operator_o'), 'load of the superuser, purge of analyst_a / 2', 'an operator sees every session');
is(seen_by('stats_s'), 'load of the superuser, purge of analyst_a / 2', 'so does a member of pg_read_all_stats');
send_sql($own, "ROLLBACK;\n");
finish($own);
send_sql($holder, "COMMIT;\n");
finish($loader);
like($loader->{out}, qr/60000/, 'the load ends: 60000 households');
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.progress'), '0', 'and leaves inami.progress');

# 2. A control run waiting for another run of its year, then reading the households.
$node->safe_psql('postgres', q{
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES (2023, '1250', 1, 'test: wages', 'test row');
});
send_sql($holder, "SELECT pg_advisory_lock(inami._control_lock_key('systematic_control'), 2024);\n");
wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'holder' AND l.locktype = 'advisory'");
my $run = session('psql', "CALL inami.run_systematic_control(2024);\n");
is(wait_for("SELECT kind || ' | ' || what || ' | ' || total || ' | ' || started_by || ' | ' || (run_id = (SELECT max(run_id) FROM inami.control_run))
             FROM inami.progress WHERE kind = 'systematic_control' AND what LIKE 'waiting%'"),
	'systematic_control | waiting for another run of the same year | 60000 | psql | true',
	'a run waiting for another of its year says so, with the households to decide');
# (the Syst_04 members: only systematic_households reads them, once the households are read)
send_sql($holder, "BEGIN; LOCK TABLE inami.syst04_member IN ACCESS EXCLUSIVE MODE;\n");
wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE a.application_name = 'holder' AND l.relation = 'inami.syst04_member'::regclass AND l.granted");
send_sql($holder, "SELECT pg_advisory_unlock(inami._control_lock_key('systematic_control'), 2024);\n");
is(wait_for("SELECT p.what || ' | ' || p.done || ' of ' || p.total FROM inami.progress p JOIN pg_stat_activity a USING (pid)
             WHERE p.kind = 'systematic_control' AND a.wait_event_type = 'Lock' AND a.wait_event = 'relation'"),
	'reading the households and their answers | 0 of 60000', 'then it reads the households');
send_sql($holder, "COMMIT;\n");
finish($run);
is($node->safe_psql('postgres', q{SELECT status || ' ' || (SELECT count(*) FROM inami.progress) FROM inami.control_run}),
	'succeeded 0', 'the run ends, and leaves inami.progress');

# The households decided so far, as a run reports them (its report started by hand here,
# the transaction left open while another session looks).
my $counting = session('counter', "BEGIN;\nSELECT inami._progress_start('systematic_control', 'deciding', 2024, 42, 60000);\n"
	. "SELECT count(*) FROM inami.systematic_households(2024);\n");
is(wait_for("SELECT what || ' | ' || done || ' of ' || total || ' | ' || run_id || ' | ' || started_by
             FROM inami.progress WHERE what = 'writing the decisions'"),
	'writing the decisions | 60000 of 60000 | 42 | counter', 'systematic_households counts the households a run decided');
send_sql($counting, "ROLLBACK;\n");
is(wait_for("SELECT 'gone' WHERE NOT EXISTS (SELECT FROM inami.progress)"), 'gone', 'a report ends with the transaction that rolls back');
finish($counting);

# 3. A run started by pg_cron: inami.progress says so, inami.control_run has its job and run.
send_sql($holder, "SELECT pg_advisory_lock(inami._control_lock_key('systematic_control'), 2024);\n");
wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'holder' AND l.locktype = 'advisory'");
my $jobid = $node->safe_psql('postgres', q{SELECT cron.schedule('im-control', '* * * * *', 'CALL inami.run_systematic_control(2024)')});
is(wait_for("SELECT started_by FROM inami.progress WHERE kind = 'systematic_control'"), 'pg_cron',
	'a run started by a pg_cron job: started_by pg_cron');
# (pg_cron marks its job's run "running" once the job's session is under way: waited for)
is(wait_for(qq{
	SELECT r.cron_jobid || ' ' || d.status || ' ' || (d.job_pid = p.pid)
	FROM inami.control_run r JOIN cron.job_run_details d ON d.runid = r.cron_runid
	JOIN inami.progress p ON p.run_id = r.run_id WHERE r.status = 'running' AND d.status = 'running'}),
	"$jobid running true", 'inami.control_run: the job and run, joined to cron.job_run_details');
send_sql($holder, "SELECT pg_advisory_unlock(inami._control_lock_key('systematic_control'), 2024);\n");
is(wait_for(qq{SELECT d.status FROM inami.control_run r JOIN cron.job_run_details d ON d.runid = r.cron_runid
               WHERE r.cron_jobid = $jobid AND r.status = 'succeeded' AND d.status = 'succeeded'}),
	'succeeded', 'the job and the run succeed together');
# (unscheduled once done: pg_cron cancels a job it unschedules while it runs)
$node->safe_psql('postgres', q{SELECT cron.unschedule('im-control')});

# 4. A crash while a run is running: the row stays "running" until the next run of the
# year, which marks it interrupted; a run still alive is left alone. The same for purges
# (no year): two purges wait for the proactive outcomes another session locks.
send_sql($holder, "SELECT pg_advisory_lock(inami._control_lock_key('systematic_control'), 2024);\n");
wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'holder' AND l.locktype = 'advisory'");
my $first = session('first', "CALL inami.run_systematic_control(2024);\n");
my $first_id = wait_for("SELECT run_id FROM inami.progress WHERE what LIKE 'waiting%'");
my $second = session('second', "CALL inami.run_systematic_control(2024);\n");
wait_for("SELECT 1 FROM inami.progress WHERE what LIKE 'waiting%' AND run_id > $first_id");
is($node->safe_psql('postgres', "SELECT status FROM inami.control_run WHERE run_id = $first_id"), 'running',
	'a run waiting behind another is alive: the next run leaves it running');
send_sql($holder, "BEGIN; LOCK TABLE inami.proactive_outcome IN ACCESS EXCLUSIVE MODE;\n");
wait_for("SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
          WHERE a.application_name = 'holder' AND l.relation = 'inami.proactive_outcome'::regclass AND l.granted");
my @purges = map { session("purge$_", "CALL inami.purge_expired();\n") } (1, 2);
is(wait_for("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'purge_' AND wait_event_type = 'Lock'
             HAVING count(*) = 2"), '2', 'two purges wait for the proactive outcomes');
is($node->safe_psql('postgres', q{SELECT string_agg(r.status || ' ' || p.kind || ' ' || p.what, ', ' ORDER BY r.run_id)
	FROM inami.control_run r JOIN inami.progress p USING (run_id) WHERE r.kind = 'purge'}),
	'running purge removing the expired years, running purge removing the expired years',
	'both are running, the first one left alone by the second, and inami.progress shows them');
$node->stop('immediate');
$_->{h}->kill_kill for ($holder, $first, $second, @purges);
$node->start;
is($node->safe_psql('postgres', "SELECT count(*) FROM inami.control_run WHERE status = 'running' AND kind = 'systematic_control'"), '2',
	'after the crash both runs still say running');
is($node->safe_psql('postgres', "SELECT count(*) FROM inami.control_run WHERE status = 'running' AND kind = 'purge'"), '2',
	'... and both purges');
$node->safe_psql('postgres', 'CALL inami.purge_expired()');
is($node->safe_psql('postgres', q{
	SELECT string_agg(status || ' ' || (ended_at = (SELECT max(started_at) FROM inami.control_run WHERE kind = 'purge'))
	                  || ' ' || coalesce(error_message ~ ('^interrupted: its session ended while it was running; found by run '
	                                                      || (SELECT max(run_id) FROM inami.control_run) || ', started at '), false),
	                  ', ' ORDER BY run_id)
	FROM inami.control_run WHERE kind = 'purge'}),
	'interrupted true true, interrupted true true, succeeded false false',
	'the next purge marks both interrupted, with when and by which purge');
is($node->safe_psql('postgres', "SELECT count(*) FROM inami.control_run WHERE status = 'running' AND kind = 'systematic_control'"), '2',
	'... and leaves the control runs to the next run of their year');
$node->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
is($node->safe_psql('postgres', qq{
	SELECT string_agg(status || ' ' || (ended_at = (SELECT max(started_at) FROM inami.control_run))
	                  || ' ' || coalesce(error_message ~ ('found by run ' || (SELECT max(run_id) FROM inami.control_run) || ', started at '), false),
	                  ', ' ORDER BY run_id)
	FROM inami.control_run WHERE run_id >= $first_id AND kind = 'systematic_control'}),
	'interrupted true true, interrupted true true, succeeded false false',
	'the next run of the year marks both interrupted, with when and by which run');

$node->stop;
done_testing();
