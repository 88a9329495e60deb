# What a hostile document can cost a backend: a start tag of 200,000 attributes (libxml2
# 2.9 checks them against each other in one read, where no interrupt is served: minutes
# before the reader's limits) ends with its error under statement_timeout; 64 MB of
# comments (libxml2 keeps them outside PostgreSQL's accounting: about twice their size
# before) leave the backend's peak memory (VmHWM) where it was; a large load is cancelled
# by statement_timeout; a FIFO or a device is refused before it is opened. The bounds on
# time are generous liveness checks (the machine is shared), not speed assertions.
use strict;
use warnings;
use FindBin;
use Time::HiRes qw(time);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = "$FindBin::Bin/../../bench/gen_flows.pl";
my $node = PostgreSQL::Test::Cluster->new('limits');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION inami');
my $dir = $node->basedir;
my $head = '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">';

sub write_file { my ($name, @parts) = @_; open(my $fh, '>:raw', "$dir/$name") or die; print $fh @parts; close $fh; return "$dir/$name"; }

# The peak resident memory of the backend (kB) before and after sql, in one session.
my $hwm = q{SELECT 'hwm ' || (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1];};
sub peak_growth
{
	my ($sql) = @_;
	my ($ret, $out, $err) = $node->psql('postgres',
		"\\set VERBOSITY verbose\n$hwm\n$sql\n$hwm", on_error_stop => 0);
	my @kb = $out =~ /^hwm (\d+)$/mg;
	die "no VmHWM read: $out $err" unless @kb == 2;
	return ($kb[1] - $kb[0], $err);
}

# 200,000 attributes on one start tag (2.3 MB), through the file and through the reader.
my $attrs = join(' ', map { "a$_=\"x\"" } 1 .. 200_000);
my $many = write_file('attributes.xml', qq{<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300" $attrs/>});
for my $call ("SELECT inami.load_flow_file('$many')", "SELECT count(*) FROM inami.read_syst01(pg_read_file('$many'))")
{
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres', "SET statement_timeout = '1s';\n\\set VERBOSITY verbose\n$call");
	my $elapsed = time - $t0;
	like($err, qr/ERROR:  2200N: tag too long/, "200,000 attributes ($call): refused as a tag too long");
	ok($elapsed < 30, "200,000 attributes ($call): the statement ends (within 30 s, a liveness bound)");
	diag(sprintf('200,000 attributes (%s): %.3f s', $call, $elapsed));
}

# Memory: 64 MB of comments, before and inside the root, and the attributes again.
my $comment = '<!-- ' . ('c' x 1000) . " -->\n";
my $before = write_file('comments_before.xml', $comment x 65_536, "$head</Syst01>");
my $inside = write_file('comments_inside.xml', $head, $comment x 65_536, '</Syst01>');
my $pis = write_file('pis.xml', $head, ('<?pi ' . ('p' x 1000) . "?>\n") x 65_536, '</Syst01>');
for my $case ([ 'comments before the root', $before ], [ 'comments inside the root', $inside ],
	[ 'processing instructions', $pis ])
{
	my ($name, $file) = @$case;
	my ($kb, $err) = peak_growth("SELECT inami.load_flow_file('$file');");
	like($err, qr/ERROR:  54000: too many bytes of comments and processing instructions/, "64 MB of $name: 54000");
	ok($kb < 32 * 1024, "64 MB of $name: the backend's peak memory grew by less than 32 MB");
	diag("64 MB of $name: VmHWM grew by $kb kB");
}
{
	my ($kb, $err) = peak_growth("SELECT inami.load_flow_file('$many');");
	like($err, qr/ERROR:  2200N: tag too long/, '200,000 attributes: refused');
	ok($kb < 32 * 1024, '200,000 attributes: the peak memory grew by less than 32 MB');
	diag("200,000 attributes: VmHWM grew by $kb kB");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.flow_file'), '0', 'none of them loaded anything');

# statement_timeout cancels a load that would take far longer than it: 57014, nothing
# loaded, the session goes on.
my $big = "$dir/syst01_big.xml";
system('perl', $gen, '--kind', 'syst01', '--households', 300_000, '--out', $big) == 0 or die;
{
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres',
		"SET statement_timeout = '100ms';\n\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$big');\nRESET statement_timeout;\nSELECT 'after ' || count(*) FROM inami.flow_file;",
		on_error_stop => 0);
	like($err, qr/ERROR:  57014: canceling statement due to statement timeout/, 'a 300,000-household load under a 100 ms statement_timeout: 57014');
	ok(time - $t0 < 30, 'the statement ends (within 30 s, a liveness bound)');
	like($out, qr/^after 0$/m, 'nothing loaded, and the session goes on');
}

# Anything but a regular file is refused before it is opened (a FIFO's open waits for a
# writer, where no interrupt is served).
my $fifo = "$dir/flow.fifo";
system('mkfifo', $fifo) == 0 or die "mkfifo: $!";
for my $case ([ 'a FIFO', $fifo, 'FIFO \(named pipe\)' ], [ 'a device', '/dev/zero', 'device' ], [ 'a directory', $dir, 'directory' ])
{
	my ($name, $path, $what) = @$case;
	my $t0 = time;
	my ($ret, $out, $err) = $node->psql('postgres', "SET statement_timeout = '60s';\n\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$path')",
		timeout => 120);
	like($err, qr/ERROR:  42809: "\Q$path\E" is not a regular file/, "$name: 42809, not a regular file");
	like($err, qr/DETAIL:  load_flow_file reads regular files only; this path is a $what\./, "$name: the detail says what it is");
	ok(time - $t0 < 30, "$name: refused without waiting (within 30 s, a liveness bound)");
}
is($node->safe_psql('postgres', 'SELECT count(*) FROM inami.flow_file'), '0', 'nothing loaded');

$node->stop;
done_testing();
