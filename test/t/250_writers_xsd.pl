# The XSDs of the six exchange formats (xsd/): the hand-written samples of test/data/xsd/
# validate or fail for the stated reason, and every writer's output validates.
use strict;
use warnings;
use File::Basename qw(basename);
use FindBin;
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $root = "$FindBin::Bin/../..";
my $xsd_dir = "$root/xsd";
my $data = "$root/test/data/xsd";

# xmllint (libxml2-utils, installed by tools/common.sh) does the validating.
my $have_xmllint = run([ 'xmllint', '--version' ], '>', \my $ignored_out, '2>', \my $ignored_err);
ok($have_xmllint, 'xmllint is installed (Debian package libxml2-utils)')
  or BAIL_OUT('xmllint is needed: apt-get install libxml2-utils');

# Validate one file against xsd/<schema>.xsd; returns (exit ok, xmllint's messages).
sub validate
{
	my ($schema, $file) = @_;
	my ($out, $err) = ('', '');
	my $ok = run([ 'xmllint', '--noout', '--schema', "$xsd_dir/$schema.xsd", $file ],
		'>', \$out, '2>', \$err);
	return ($ok, $out . $err);
}

my @formats = qw(syst01 syst04 syst05 pro01 pro03 pro04);

# Valid samples: test/data/xsd/valid/<schema>-<what>.xml.
my @valid = sort glob("$data/valid/*.xml");
cmp_ok(scalar @valid, '>=', 6, 'there are valid samples');
my %seen;
for my $file (@valid)
{
	my ($schema) = basename($file) =~ /^([a-z0-9]+)-/;
	$seen{$schema} = 1;
	my ($ok, $msg) = validate($schema, $file);
	ok($ok, 'valid: ' . basename($file)) or diag($msg);
}
is(join(' ', sort keys %seen), join(' ', sort @formats), 'every format has a valid sample');

# Invalid samples: each must fail, for the reason its second line states
# (<!-- expect: REGEX -->, matched against xmllint's message).
my @invalid = sort glob("$data/invalid/*.xml");
cmp_ok(scalar @invalid, '>=', 20, 'there are invalid samples');
for my $file (@invalid)
{
	my ($schema) = basename($file) =~ /^([a-z0-9]+)-/;
	my $text = slurp_file($file);
	my ($expect) = $text =~ /^<!-- expect: (.*) -->$/m;
	unless (defined $expect)
	{
		fail(basename($file) . ' states why it is invalid (<!-- expect: REGEX --> on line 2)');
		next;
	}
	my ($ok, $msg) = validate($schema, $file);
	ok(!$ok && $msg =~ /$expect/, 'invalid: ' . basename($file) . " ($expect)")
	  or diag($msg);
}

# Every writer's output, on a fixture, validates against its schema.
my $node = PostgreSQL::Test::Cluster->new('writers');
$node->init;
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION inami');
$node->safe_psql('postgres', slurp_file("$root/test/data/writers-fixture.sql"));

my $out_dir = PostgreSQL::Test::Utils::tempdir();
my @calls = (
	[ syst01 => q{inami.syst01_document(2024, '300')}, 2 ],
	[ syst01 => q{inami.syst01_document(2024, '500')}, 400 ],
	[ syst01 => q{inami.syst01_document(2024, '999')}, 0 ],
	[ syst05 => q{inami.syst05_document(2024, '300')}, 3 ],
	[ syst05 => q{inami.syst05_document(2024, '500')}, 400 ],
	[ syst05 => q{inami.syst05_document(2031, '300')}, 0 ],
	[ pro01 => q{inami.pro01_document(2024, '300')}, 2 ],
	[ pro01 => q{inami.pro01_document(2024, '306')}, 0 ],
	[ pro04 => q{inami.pro04_document(2024, '300')}, 2 ],
	[ pro04 => q{inami.pro04_document(2025, '300')}, 0 ]);
my $n = 0;
for my $call (@calls)
{
	my ($schema, $sql, $records) = @$call;
	my $doc = $node->safe_psql('postgres', "SELECT $sql");
	my $file = sprintf('%s/%02d-%s.xml', $out_dir, ++$n, $schema);
	open(my $fh, '>', $file) or die "cannot write $file: $!";
	print $fh $doc, "\n";
	close($fh);
	my $found = () = $doc =~ /<(?:Household|Feedback|Result) /g;
	my ($ok, $msg) = validate($schema, $file);
	ok($ok && $found == $records, "$sql validates against xsd/$schema.xsd ($records records)")
	  or diag("$msg\nrecords found: $found\n$doc");
}

$node->stop;
done_testing();
