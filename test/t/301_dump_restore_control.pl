# The control runs' data survive pg_dump and pg_restore: flows, events (restored after
# their household, whose check they need), decisions with what they were made from, the
# run log and its sequence, the proactive codes and the outcomes recorded for them.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump_control');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', q{
	CREATE EXTENSION inami;
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES (2023, '1250', 1, 'test: wages', 'test row');
	INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
		('Syst01', 2024, '300', NULL, NULL, 'Syst01', 1), ('Syst04', 2024, NULL, 2022, 1, 'Syst04', 1),
		('Pro01', 2024, '300', NULL, NULL, 'Pro01', 1), ('Pro03', 2024, NULL, 2022, 1, 'Pro03', 1);
	INSERT INTO inami.syst01_household VALUES (2024, '300202485073003328', '300', '85073003328', 1);
	INSERT INTO inami.syst01_member VALUES (2024, '300202485073003328', '85073003328');
	INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
	VALUES (2024, '300202485073003328', 1, 2022, '85073003328', 2);
	INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, ipcal_code, ipcal_amount)
	VALUES (2024, '300202485073003328', 1, '85073003328', '00', '{1250}', '{30000.00}');
	INSERT INTO inami.household_event (request_number, event, event_date, detail)
	VALUES ('300202485073003328', 'composition_change', '2024-05-10', 'the spouse left');
	INSERT INTO inami.pro01_household VALUES (2024, '300202405010100113', '300', '05010100113', 3);
	INSERT INTO inami.pro01_member VALUES (2024, '300202405010100113', '05010100113');
	INSERT INTO inami.pro03_person VALUES (2024, 1, '05010100113', 2022, '00', 4, '{1250}', '{9000.00}');
});
$node->safe_psql('src', 'CALL inami.run_systematic_control(2024)');
$node->safe_psql('src', 'CALL inami.run_proactive_flow(2024)');
$node->safe_psql('src', q{
	INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
	VALUES (2024, '300202405010100113', '05010100113', 5, true);
});

my $answers = q{
	SELECT (SELECT string_agg(reason || ' ' || right_end || ' ' || household_total || ' ' || ceiling || ' ' || candidates::text, ';')
	        FROM inami.control_decision),
	       (SELECT string_agg(event || ' ' || event_date, ';') FROM inami.household_event),
	       (SELECT string_agg(code || ' ' || household_total, ';') FROM inami.proactive_decision),
	       (SELECT string_agg(category::text, ';') FROM inami.proactive_outcome),
	       (SELECT string_agg(kind || ' ' || status || ' ' || counts::text, ';' ORDER BY run_id) FROM inami.control_run),
	       (SELECT string_agg(value, ';' ORDER BY step) FROM inami.explain_decision('300202485073003328', 2024)
	        WHERE what <> 'decision')
};
my $before = $node->safe_psql('src', $answers);
like($before, qr/^STOPFAM 2024-09-30 30000.00 23303.84/, 'the source database holds a decided year');

my $dump = $node->basedir . '/src.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('src'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ],
	'pg_restore without error (events and outcomes after what they point to)');
is($node->safe_psql('restored', $answers), $before, 'the restored database gives the same answers');

# The run log's sequence goes on after the restored runs, and a new run replaces in place.
$node->safe_psql('restored', 'CALL inami.run_proactive_flow(2024)');
is($node->safe_psql('restored', q{
	SELECT count(*) || ' ' || max(run_id) FROM inami.control_run
}), '3 3', 'a new run after the restore gets the next run_id');
is($node->safe_psql('restored', 'SELECT count(*) FROM inami.proactive_outcome'), '1',
	'a rerun of the proactive flow keeps the recorded outcomes');

$node->stop;
done_testing();
