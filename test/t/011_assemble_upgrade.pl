# How make assembles an upgrade script from its source (tools/assemble_upgrade.awk): a
# "-- @include FILE" line brings the whole file, "-- @include FILE NAME" the function or
# procedure inami.NAME, as CREATE OR REPLACE, through its COMMENT; anything it cannot do
# exactly is an error naming the line, and nothing is written (make keeps the .tmp).
use strict;
use warnings;
use File::Temp qw(tempdir);
use FindBin;
use IPC::Run qw(run);
use Test::More;

my $awk = "$FindBin::Bin/../../tools/assemble_upgrade.awk";
my $dir = tempdir(CLEANUP => 1);
mkdir "$dir/sql";

sub write_file
{
	my ($name, $text) = @_;
	open my $fh, '>', "$dir/$name" or die "$name: $!";
	print $fh $text;
	close $fh;
}

# assemble(SOURCE): (exit status, output, errors)
sub assemble
{
	my ($source) = @_;
	write_file('source.sql', $source);
	my ($out, $err);
	run([ 'awk', '-v', "src=$dir", '-v', 'name=sql/upgrade/x.sql', '-f', $awk, "$dir/source.sql" ],
		'>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

write_file('sql/domain.sql', "CREATE TABLE inami.t (a int);\nCOMMENT ON TABLE inami.t IS 'a domain';\n");
write_file('sql/objects.sql', <<'SQL');
-- a helper
CREATE FUNCTION inami.f(a int) RETURNS int
LANGUAGE sql IMMUTABLE
RETURN a + 1;
COMMENT ON FUNCTION inami.f(int) IS
'f, on two lines;
with a semicolon inside';

CREATE PROCEDURE inami.p() LANGUAGE plpgsql AS $$
BEGIN
    -- CREATE FUNCTION inami.f( in a body is not a second f
    NULL;
END;
$$;
COMMENT ON PROCEDURE inami.p() IS 'p';
CREATE FUNCTION inami.no_comment() RETURNS int LANGUAGE sql RETURN 1;
CREATE TABLE inami.after (a int);
CREATE FUNCTION inami.twice() RETURNS int LANGUAGE sql RETURN 1;
COMMENT ON FUNCTION inami.twice() IS 'one';
CREATE FUNCTION inami.twice() RETURNS int LANGUAGE sql RETURN 2;
COMMENT ON FUNCTION inami.twice() IS 'two';
SQL

my ($rc, $out, $err) = assemble(<<'SQL');
-- first line
-- @include sql/domain.sql
ALTER FUNCTION inami.g() RENAME TO h;
-- @include sql/objects.sql f
-- @include sql/objects.sql p
SQL
is($rc, 0, 'a source with whole files and single objects assembles');
is($out, <<'SQL', 'whole files as they are; objects as CREATE OR REPLACE through their COMMENT, nothing after');
-- assembled by make from sql/upgrade/x.sql; edit that, not this.
-- first line
-- sql/domain.sql
CREATE TABLE inami.t (a int);
COMMENT ON TABLE inami.t IS 'a domain';
ALTER FUNCTION inami.g() RENAME TO h;
-- sql/objects.sql: inami.f
CREATE OR REPLACE FUNCTION inami.f(a int) RETURNS int
LANGUAGE sql IMMUTABLE
RETURN a + 1;
COMMENT ON FUNCTION inami.f(int) IS
'f, on two lines;
with a semicolon inside';
-- sql/objects.sql: inami.p
CREATE OR REPLACE PROCEDURE inami.p() LANGUAGE plpgsql AS $$
BEGIN
    -- CREATE FUNCTION inami.f( in a body is not a second f
    NULL;
END;
$$;
COMMENT ON PROCEDURE inami.p() IS 'p';
SQL

my %refused = (
	"-- \@include sql/objects.sql f extra\n" => qr/source\.sql:1: malformed/,
	"-- \@include\n" => qr/malformed/,
	"-- \@include sql/missing.sql\n" => qr/no file .*missing\.sql/,
	"-- \@include sql/objects.sql nowhere\n" => qr/no inami\.nowhere in/,
	"-- \@include sql/objects.sql no_comment\n" => qr/inami\.no_comment in .* is not followed by its COMMENT/,
	"-- \@include sql/objects.sql twice\n" => qr/creates inami\.twice more than once/,
	"x\n-- \@include sql/objects.sql\r\n" => qr/source\.sql:2: malformed/);
for my $source (sort keys %refused)
{
	my ($code, undef, $errors) = assemble($source);
	ok($code != 0 && $errors =~ $refused{$source},
		"refused: " . ($source =~ s/\n/\\n/gr =~ s/\r/\\r/gr) . " (" . ($errors =~ s/\n\z//r) . ")");
}

done_testing();
