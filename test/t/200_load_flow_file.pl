# load_flow_file: generated files load and match what the readers say; the same shipment
# twice is refused; privileges (a plain role, pg_read_server_files); hostile and broken
# files through the file path are each a clear error that loads nothing.
use strict;
use warnings;
use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $gen = "$FindBin::Bin/../../bench/gen_flows.pl";
my $node = PostgreSQL::Test::Cluster->new('flows');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION inami');
my $dir = $node->basedir;

sub gen { my ($file, @args) = @_; system('perl', $gen, @args, '--out', "$dir/$file") == 0 or die "gen_flows.pl failed"; return "$dir/$file"; }
sub count { my ($sql) = @_; return $node->safe_psql('postgres', $sql); }
sub utf16 { my ($text) = @_; return "\xff\xfe" . join('', map { "$_\0" } split //, $text); }

my $s1 = gen('syst01.xml', '--kind', 'syst01', '--households', 3000);
my $s4a = gen('syst04_1.xml', '--kind', 'syst04', '--households', 3000);
my $s4b = gen('syst04_2.xml', '--kind', 'syst04', '--households', 3000, '--shipment', 2);
my $p1 = gen('pro01.xml', '--kind', 'pro01', '--households', 500, '--seed', 7);
my $p3 = gen('pro03.xml', '--kind', 'pro03', '--households', 500, '--seed', 7);

is(count("SELECT inami.load_flow_file('$s1')"), '3000', 'Syst01: 3000 households loaded from a file');
is(count("SELECT count(*) FROM inami.syst01_member"),
	count("SELECT count(*) FROM inami.read_syst01(pg_read_file('$s1'))"), 'as many members as read_syst01 reads');
my $n4a = count("SELECT count(DISTINCT request_number) FROM inami.read_syst04(pg_read_file('$s4a'))");
is(count("SELECT inami.load_flow_file('$s4a')"), $n4a, 'Syst04 shipment 1: every household the reader sees');
my $n4b = count("SELECT count(DISTINCT request_number) FROM inami.read_syst04(pg_read_file('$s4b'))");
is(count("SELECT inami.load_flow_file('$s4b')"), $n4b, 'Syst04 shipment 2');
is(count("SELECT count(*) FROM inami.syst04_ipcal"),
	count("SELECT count(*) FROM inami.read_syst04(pg_read_file('$s4a')) WHERE item_no IS NOT NULL")
	  + count("SELECT count(*) FROM inami.read_syst04(pg_read_file('$s4b')) WHERE item_no IS NOT NULL"),
	'every IPCAL item of both shipments');
is(count("SELECT sum(amount) FROM inami.syst04_ipcal WHERE shipment = 1"),
	count("SELECT sum(ipcal_amount) FROM inami.read_syst04(pg_read_file('$s4a'))"), 'the amounts, exactly');
is(count("SELECT count(*) FROM inami.syst04_answer"),
	count("SELECT count(DISTINCT request_number) FROM inami.syst04_household"), 'syst04_answer: one answer per household');
is(count("SELECT count(*) FROM inami.syst04_household WHERE shipment = 1"), $n4a, 'shipment 1 is kept beside shipment 2');
is(count("SELECT count(*) FROM inami.syst04_household WHERE shipment = 2"), $n4b, 'shipment 2 is stored as its own rows');
is(count("SELECT inami.load_flow_file('$p1')"), '500', 'Pro01');
ok(count("SELECT inami.load_flow_file('$p3')") > 500, 'Pro03: one row per person');
is(count("SELECT source_name FROM inami.flow_file WHERE kind = 'Syst01'"), $s1, 'flow_file keeps the path');

my ($ret, $out, $err) = $node->psql('postgres', "SELECT inami.load_flow_file('$s4a')", extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/23505: this Syst04 shipment is already loaded/, 'the same shipment again is refused');
like($err, qr/DELETE FROM inami.flow_file WHERE file_id = \d+/, 'with the HINT to replace it');

($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$dir/nope.xml')");
like($err, qr/58P01: could not open file/, 'a missing file: 58P01');
like($err, qr/DETAIL:  load_flow_file opens the file on the database server.*the path is the server's, not the client's\./,
	'a missing file: the detail says whose path it is');
like($err, qr/HINT:  .*inami\.load_flow\(text\)/, 'and the hint how to load a document of the client');
# A directory is refused before it is opened, as anything but a regular file (42809, as
# EISDIR was), not with the reader's generic error.
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('base')");
like($err, qr/ERROR:  42809: "base" is not a regular file/, 'a directory: 42809, not a regular file');
like($err, qr/DETAIL:  load_flow_file reads regular files only; this path is a directory\./, 'a directory: the detail says what the path is');

# Privileges.
$node->safe_psql('postgres', 'CREATE ROLE plain LOGIN; CREATE ROLE reader LOGIN; GRANT pg_read_server_files TO reader; GRANT USAGE ON SCHEMA inami TO plain, reader; GRANT ALL ON ALL TABLES IN SCHEMA inami TO plain, reader; GRANT USAGE ON ALL SEQUENCES IN SCHEMA inami TO plain, reader');
# (nothing of inami is PUBLIC's: the reader gets EXECUTE on every function, the CHECK
# constraints' included; load_flow_file through pg_read_server_files, as before)
$node->safe_psql('postgres', 'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA inami TO reader');
$node->safe_psql('postgres', 'DELETE FROM inami.flow_file');
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$s1')", extra_params => [ '-U', 'plain' ]);
like($err, qr/42501: permission denied for function load_flow_file\n/, 'a plain role may not execute load_flow_file');
# (this cluster does not preload the library, and the session called no C function of it:
# the refusal is PostgreSQL's own, which names no level)
unlike($err, qr/access level/, 'without the library loaded, the refusal is PostgreSQL\'s');
$node->safe_psql('postgres', 'GRANT EXECUTE ON FUNCTION inami.load_flow_file(text) TO plain');
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$s1')", extra_params => [ '-U', 'plain' ]);
like($err, qr/42501: permission denied to load a file of the server/, 'granted EXECUTE alone, the C check still refuses');
like($err, qr/pg_read_server_files/, 'and says which role is needed');
is($node->safe_psql('postgres', "SELECT inami.load_flow_file('$s1')", extra_params => [ '-U', 'reader' ]), '3000',
	'a member of pg_read_server_files loads');
is(count("SELECT loaded_by FROM inami.flow_file"), 'reader', 'flow_file says who loaded it');
# The rows go in as COPY FROM puts them: INSERT on each table, no row-level security.
$node->safe_psql('postgres', 'DELETE FROM inami.flow_file; REVOKE INSERT ON inami.syst01_member FROM reader');
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$s1')", extra_params => [ '-U', 'reader' ]);
like($err, qr/42501: permission denied for table syst01_member/, 'without INSERT on one of the tables, the load is refused');
$node->safe_psql('postgres', 'GRANT INSERT ON inami.syst01_member TO reader; ALTER TABLE inami.syst01_member ENABLE ROW LEVEL SECURITY');
($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$s1')", extra_params => [ '-U', 'reader' ]);
like($err, qr/0A000: cannot load into syst01_member: it has row-level security enabled/,
	'a table with row-level security enabled is refused, as COPY FROM refuses it');
like($err, qr/DETAIL:  Row-level security of table "inami.syst01_member" applies to role "reader"/,
	'the refusal names the table and the role');
$node->safe_psql('postgres', 'ALTER TABLE inami.syst01_member DISABLE ROW LEVEL SECURITY');
is(count('SELECT count(*) FROM inami.flow_file') + count('SELECT count(*) FROM inami.syst01_household'), 0, 'neither loaded anything');
is(count("SELECT count(*) FROM pg_proc WHERE proname = 'load_flow_file' AND prosecdef"), '0', 'no SECURITY DEFINER');

# Hostile and broken files, through the file path: a clear error, nothing loaded.
$node->safe_psql('postgres', 'DELETE FROM inami.flow_file');
my $head = '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">';
my $hh = '<Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household>';
my $laughs = qq{<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">}
  . join('', map { my $p = $_ - 1; qq{<!ENTITY lol$_ "} . ("&lol$p;" x 10) . '">' } 1 .. 9) . qq{]>\n$head<Household requestNumber="&lol9;"/></Syst01>};
$laughs =~ s/&lol0;/&lol;/g;
my $full = slurp_file($s1);
my %cases = (
	'bad UTF-8' => [ "$head<Household requestNumber=\"30020248507300332\xff\"/></Syst01>", '2200M' ],
	'a NUL byte' => [ "$head\0$hh</Syst01>", '2200M' ],
	'truncated' => [ substr($full, 0, int(length($full) / 2)), '2200M' ],
	'billion laughs' => [ $laughs, '2200M' ],
	'external entity' => [ qq{<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>$head&e;</Syst01>}, '2200M' ],
	'DOCTYPE after a comment' => [ qq{<!-- hello --><?pi x?>\n<!DOCTYPE x>$head</Syst01>}, '2200M' ],
	'wrong namespace' => [ '<Syst01 xmlns="urn:be:inami:flows:9" controlYear="2024" oa="300"/>', '2200N' ],
	'unknown element' => [ "$head<Household requestNumber=\"300202485073003328\"><X/></Household></Syst01>", '2200N' ],
	'100,000-deep nesting' => [ $head . ('<Household requestNumber="300202485073003328">' x 100000), '2200N' ],
	'an attribute of 2 MB' => [ $head . '<Household requestNumber="' . ('1' x 2_000_000) . '"/></Syst01>', '2200N' ],
	'empty file' => [ '', '2200M' ],
	# Exchange files are UTF-8, whatever they declare: the DOCTYPE scanner reads UTF-8 bytes.
	'UTF-16' => [ utf16(qq{$head<Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>}), '2200M' ],
	'billion laughs in UTF-16' => [ utf16($laughs), '2200M' ],
	'a bad NISS deep in a file' => [ $full =~ s/(.*)niss="(\d{10})(\d)"/$1 . 'niss="' . $2 . (($3 + 1) % 10) . '"'/ser, '22P02' ],
);
for my $name (sort keys %cases) {
	my ($content, $state) = @{ $cases{$name} };
	my $file = "$dir/hostile.xml";
	open(my $fh, '>:raw', $file) or die; print $fh $content; close $fh;
	($ret, $out, $err) = $node->psql('postgres', "\\set VERBOSITY verbose\nSELECT inami.load_flow_file('$file')");
	like($err, qr/ERROR:  $state: /, "$name: SQLSTATE $state");
	unlike($err, qr/XX000/, "$name: never XX000");
	is(count('SELECT count(*) FROM inami.flow_file'), '0', "$name: nothing loaded");
}
is(count('SELECT count(*) FROM inami.syst01_household'), '0', 'no household from any hostile file');

# The UTF-16 billion laughs never reached libxml2's entity handling.
{
	my $file = "$dir/laughs16.xml";
	open(my $fh, '>:raw', $file) or die; print $fh utf16($laughs); close $fh;
	($ret, $out, $err) = $node->psql('postgres', "SELECT inami.load_flow_file('$file')");
	unlike($err, qr/DETAIL:[^\n]*entit/i, 'billion laughs in UTF-16: refused before any entity is read');
}

# UTF-8 with its byte-order mark loads.
my $bom = "$dir/bom.xml";
open(my $fhb, '>:raw', $bom) or die;
print $fhb "\xef\xbb\xbf" . qq{$head<Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>};
close $fhb;
is(count("SELECT inami.load_flow_file('$bom')"), '1', 'UTF-8 with a byte-order mark: the household loaded');
is(count('SELECT request_number || \' \' || niss FROM inami.syst01_member'), '300202485073003328 85073003328',
	'UTF-8 with a byte-order mark: its member read right');
$node->safe_psql('postgres', 'DELETE FROM inami.flow_file');
is(count('SELECT 1'), '1', 'the server is up');

$node->stop;
done_testing();
