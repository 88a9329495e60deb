# pg_cron end to end: the control runs as scheduled jobs, as they are. A throwaway
# cluster preloads pg_cron; a job runs the systematic control of a small year 2024 and
# succeeds; a job for 2026 (no ceiling for income year 2024) fails. Both show in
# cron.job_run_details and in inami.control_run, the failure with its SQLSTATE.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
# pg_cron connects to the server like a client: through the cluster's socket directory.
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.host = '@{[ $node->host ]}'
});
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION pg_cron;
	CREATE EXTENSION inami;
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
	VALUES (2023, '1250', 1, 'test: wages', 'test row');
	INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
		('Syst01', 2024, '300', NULL, NULL, 'cron test Syst01', 2),
		('Syst04', 2024, NULL, 2022, 1, 'cron test Syst04', 2),
		('Syst01', 2026, '300', NULL, NULL, 'cron test Syst01 2026', 1);
	-- 85073003328 earns 15,000.00 (under 23,303.84: KEEPSYST); 05010100113 30,000.00 (STOPSYST).
	INSERT INTO inami.syst01_household
	SELECT 2024, inami.request_number('300', 2024, n), '300', n, 1 FROM unnest(ARRAY['85073003328', '05010100113']) n;
	INSERT INTO inami.syst01_household VALUES (2026, inami.request_number('300', 2026, '85073003328'), '300', '85073003328', 3);
	INSERT INTO inami.syst01_member SELECT control_year, request_number, requester_niss FROM inami.syst01_household;
	INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
	SELECT 2024, request_number, 1, 2022, requester_niss, 2 FROM inami.syst01_household WHERE control_year = 2024;
	INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, ipcal_code, ipcal_amount)
	SELECT 2024, request_number, 1, requester_niss, '00', ARRAY['1250'],
	       ARRAY[CASE requester_niss WHEN '85073003328' THEN 15000.00 ELSE 30000.00 END] FROM inami.syst04_household;
});

# Scheduled exactly as a DBA would: one CALL per job.
$node->safe_psql('postgres', q{
	SELECT cron.schedule('im-control', '* * * * *', 'CALL inami.run_systematic_control(2024)');
	SELECT cron.schedule('im-control-2026', '* * * * *', 'CALL inami.run_systematic_control(2026)');
});

# Wait (up to 150 s: jobs start on the minute) for a finished run of each job.
my $done = q{
	SELECT count(DISTINCT j.jobname) FROM cron.job_run_details d JOIN cron.job j USING (jobid)
	WHERE d.status IN ('succeeded', 'failed')
};
my $finished = 0;
for (my $i = 0; $i < 300; $i++) {
	$finished = $node->safe_psql('postgres', $done);
	last if $finished == 2;
	usleep(500_000);
}
is($finished, '2', 'both scheduled jobs ran');
$node->safe_psql('postgres', q{
	SELECT cron.unschedule('im-control'); SELECT cron.unschedule('im-control-2026');
});
# (cron.job loses the rows; cron.job_run_details keeps them, by command.)
# A run that started just before the unschedule may still be going: let it end.
for (my $i = 0; $i < 60; $i++) {
	last if $node->safe_psql('postgres', q{SELECT count(*) FROM inami.control_run WHERE status = 'running'}) eq '0';
	usleep(500_000);
}

is($node->safe_psql('postgres', q{
	SELECT d.status FROM cron.job_run_details d
	WHERE d.command = 'CALL inami.run_systematic_control(2024)' ORDER BY d.runid LIMIT 1
}), 'succeeded', 'cron.job_run_details: the 2024 control succeeded');
is($node->safe_psql('postgres', q{
	SELECT status || ' ' || (counts->>'KEEPSYST') || ' ' || (counts->>'STOPSYST')
	FROM inami.control_run WHERE year = 2024 ORDER BY run_id LIMIT 1
}), 'succeeded 1 1', 'inami.control_run: the scheduled run is logged with its counts');
is($node->safe_psql('postgres', q{
	SELECT string_agg(reason || ' ' || right_end, ', ' ORDER BY reason)
	FROM inami.control_decision WHERE control_year = 2024
}), 'KEEPSYST 2025-12-31, STOPSYST 2024-12-31', 'the scheduled run wrote the decisions');

my $cron_failure = $node->safe_psql('postgres', q{
	SELECT d.status || ': ' || d.return_message FROM cron.job_run_details d
	WHERE d.command = 'CALL inami.run_systematic_control(2026)' ORDER BY d.runid LIMIT 1
});
like($cron_failure, qr/^failed: .*no IM income ceiling for income year 2024/,
	'cron.job_run_details: the 2026 control failed, with the message');
is($node->safe_psql('postgres', q{
	SELECT status || ' ' || error_sqlstate || ' ' || (error_message ~ 'HINT: Add the ceiling')
	FROM inami.control_run WHERE year = 2026 ORDER BY run_id LIMIT 1
}), 'failed 55000 true', 'inami.control_run: the failure keeps its SQLSTATE and hint');
is($node->safe_psql('postgres', q{SELECT count(*) FROM inami.control_decision WHERE control_year = 2026}),
	'0', 'the failed run wrote no decision');

# The purge is schedulable the same way (run here directly through the job's command).
$node->safe_psql('postgres', q{CALL inami.purge_expired('2024-06-01')});
is($node->safe_psql('postgres', q{SELECT status FROM inami.control_run WHERE kind = 'purge'}),
	'succeeded', 'purge_expired runs as a single CALL, like a job');

$node->stop;
done_testing();
