# load_flow_file stops on pg_cancel_backend and leaves nothing loaded; the time from the
# cancel to the end of the statement is printed (not asserted: the machine is shared).
use strict;
use warnings;
use FindBin;
use IPC::Run;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = "$FindBin::Bin/../../bench/gen_flows.pl";
my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION inami');
my $file = $node->basedir . '/syst01.xml';
system('perl', $gen, '--kind', 'syst01', '--households', 150000, '--out', $file) == 0 or die;

my ($stdout, $stderr) = ('', '');
my $h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
		"SET application_name = 'flow_load'; SELECT inami.load_flow_file('$file')" ],
	'>', \$stdout, '2>', \$stderr);

# Wait until the load has been running for a second.
my $pid = '';
for (1 .. 600) {
	$pid = $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE application_name = 'flow_load' AND state = 'active' AND now() - query_start > interval '1 second'");
	last if $pid ne '';
	usleep(100_000);
}
isnt($pid, '', 'the load is running');
my $t0 = time;
is($node->safe_psql('postgres', "SELECT pg_cancel_backend($pid)"), 't', 'pg_cancel_backend');
$h->finish;
my $elapsed = time - $t0;
diag(sprintf('load_flow_file stopped %.3f s after pg_cancel_backend', $elapsed));
like($stderr, qr/canceling statement due to user request/, 'the statement is canceled');
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.flow_file'), '0', 'no flow_file row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.syst01_household'), '0', 'no household');
is($node->safe_psql('postgres', "SELECT inami.load_flow_file('$file')"), '150000', 'the same file then loads in full');

$node->stop;
done_testing();
