# Scale-out: a coordinator and two shards on one machine. add_shard checks the shards
# (version, parameter rows) and refuses a difference; the sharded tables place every row
# where inami.shard_of says; household_income, ipcal_income, maf_household and
# maf_refunded run on the shards (asserted on EXPLAIN VERBOSE), and the grouped answers
# equal the same queries on one node.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use IPC::Run;
use Time::HiRes qw(usleep);

my %node;
for my $name (qw(coordinator shard1 shard2 other))
{
	$node{$name} = PostgreSQL::Test::Cluster->new($name);
	# The coordinator publishes its parameter rows (logical replication).
	$node{$name}->init($name eq 'coordinator' ? (allows_streaming => 'logical') : ());
	$node{$name}->start;
}
my $coord = $node{coordinator};
sub conninfo
{
	my $n = shift;
	return 'host=' . $n->host . ' port=' . $n->port . ' dbname=postgres';
}

# The operator's parameter rows, the same on every node (ipcal_income needs them).
my $ipcal_rules = q{
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
	    (2023, '1250', 1, 'wages', 'operator: IPCAL list 2023'),
	    (2023, '1270', 0.1, 'spread over ten years', 'operator: IPCAL list 2023'),
	    (2023, '1400', -1, 'deducted', 'operator: IPCAL list 2023');
};
for my $name (qw(coordinator shard1 shard2))
{
	$node{$name}->safe_psql('postgres', "CREATE EXTENSION inami; $ipcal_rules");
}
$coord->safe_psql('postgres', 'CREATE EXTENSION postgres_fdw; CREATE EXTENSION dblink;');

# The hash is fixed: these values are the same on every platform and version.
is($coord->safe_psql('postgres', q{
	SELECT string_agg(inami.shard_of(k, n)::text, ',' ORDER BY k, n)
	FROM (VALUES ('000000000000000001'), ('123456789012345678'), ('')) AS v(k), (VALUES (1), (2), (3), (7)) AS m(n)}),
	'0,0,1,5,0,1,0,2,0,1,1,4', 'shard_of: the fixed values of the hash');
my ($rc, $out, $err) = $coord->psql('postgres', q{SELECT inami.shard_of('1', 0)});
like($err, qr/number of shards must be between 1 and 1024.*DETAIL:  The number of shards given is 0/s,
	'shard_of: 0 shards is an error with the value');
# Under a nondeterministic collation keys of different bytes compare equal, and their bytes'
# hash would place them on different shards: refused, by the operator class and shard_of.
$coord->safe_psql('postgres', q{
	CREATE COLLATION shard_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
	CREATE TABLE ci_keys (k text COLLATE shard_ci) PARTITION BY HASH (k inami.text_shard_ops);
	CREATE TABLE ci_keys_0 PARTITION OF ci_keys FOR VALUES WITH (MODULUS 1, REMAINDER 0)});
($rc, $out, $err) = $coord->psql('postgres', q{INSERT INTO ci_keys VALUES ('A')});
like($err, qr/inami.text_shard_ops cannot hash keys under a nondeterministic collation.*DETAIL:  The key's collation is "shard_ci".*HINT:  Shard on a column with a deterministic collation/s,
	'a key under a nondeterministic collation is refused by the operator class');
($rc, $out, $err) = $coord->psql('postgres', q{SELECT inami.shard_of('A' COLLATE shard_ci, 2)});
like($err, qr/cannot hash keys under a nondeterministic collation/, '... and by shard_of');
$coord->safe_psql('postgres', 'DROP TABLE ci_keys; DROP COLLATION shard_ci');

# Refused before anything is made: without dblink, a node without inami, another version,
# another parameter row.
$node{other}->safe_psql('postgres', 'SELECT 1');
($rc, $out, $err) = $coord->psql('postgres', "SELECT inami.add_shard('other', '" . conninfo($node{other}) . "')");
like($err, qr/shard "other" has no inami extension.*HINT:  On the shard: CREATE EXTENSION inami VERSION '0.2.0'/s,
	'add_shard: a node without inami is refused');
$node{other}->safe_psql('postgres', "CREATE EXTENSION inami VERSION '0.1.0'; $ipcal_rules");
($rc, $out, $err) = $coord->psql('postgres', "SELECT inami.add_shard('other', '" . conninfo($node{other}) . "')");
like($err, qr/shard "other" runs inami 0\.1\.0, the coordinator inami 0\.2\.0/,
	'add_shard: a shard with another inami version is refused');
$node{other}->safe_psql('postgres', q{ALTER EXTENSION inami UPDATE;
	UPDATE inami.ipcal_rule SET factor = 0.5 WHERE code = '1270'});
($rc, $out, $err) = $coord->psql('postgres', "SELECT inami.add_shard('other', '" . conninfo($node{other}) . "')");
like($err, qr/parameter table inami\.ipcal_rule differs on shard "other".*DETAIL:  3 rows with digest \w+ on the shard, 3 rows with digest \w+ on the coordinator/s,
	'add_shard: a shard with another parameter row is refused, naming the table and the node');
is($coord->safe_psql('postgres', q{SELECT (SELECT count(*) FROM pg_foreign_server) || '/' || (SELECT count(*) FROM inami.shard)}),
	'0/0', 'add_shard refused: no server, no shard left behind');
($rc, $out, $err) = $coord->psql('postgres', q{SELECT inami.add_shard('bad', 'host=/tmp port')});
like($err, qr/cannot read the connection string of a shard.*DETAIL:  What is not a keyword=value pair: port/s,
	'add_shard: an unreadable connection string is an error');

is($coord->safe_psql('postgres', "SELECT inami.add_shard('shard1', '" . conninfo($node{shard1}) . "')"), '0',
	'add_shard: the first shard at position 0');
is($coord->safe_psql('postgres', "SELECT inami.add_shard('shard2', '" . conninfo($node{shard2}) . " user=postgres')"), '1',
	'add_shard: the second shard at position 1');
like($coord->safe_psql('postgres', q{SELECT srvoptions::text FROM pg_foreign_server WHERE srvname = 'shard2'}),
	qr/extensions=inami,async_capable=true/, 'add_shard: the server ships inami and scans the shards at once');
is($coord->safe_psql('postgres', q{SELECT umoptions::text FROM pg_user_mappings WHERE srvname = 'shard2'}),
	'{user=postgres}', 'add_shard: the user of the connection string goes to the user mapping');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || position || ':' || inami_version, ',') FROM inami.check_shards()}),
	'shard1:0:0.2.0,shard2:1:0.2.0', 'check_shards: both shards agree with the coordinator');

# The sharded tables, and the same rows in plain tables of the coordinator (one node).
$coord->safe_psql('postgres', q{
	SELECT inami.create_sharded_table('member', 'household text NOT NULL, niss text, return_code text, income numeric, birth_date date', 'household');
	SELECT inami.create_sharded_table('ipcal_item', 'household text NOT NULL, niss text, code text, amount numeric', 'household');
	SELECT inami.create_sharded_table('person', 'address text NOT NULL, niss text, has_im boolean, im_basis text, tp boolean, host boolean', 'address');
	SELECT inami.create_sharded_table('contribution', 'household text NOT NULL, amount numeric', 'household');
	CREATE TABLE member_one (LIKE member); CREATE TABLE ipcal_item_one (LIKE ipcal_item);
	CREATE TABLE person_one (LIKE person); CREATE TABLE contribution_one (LIKE contribution);
	CREATE FUNCTION niss(d date, s int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
		SELECT nine || lpad((97 - ((CASE WHEN d >= '2000-01-01' THEN 2000000000 ELSE 0 END
		                            + nine::bigint) % 97))::text, 2, '0')
		FROM (SELECT to_char(d, 'YYMMDD') || lpad(s::text, 3, '0') AS nine) AS x $$;
	INSERT INTO member_one
	SELECT lpad(h::text, 18, '0'), niss(date '1950-01-01' + (h * 7 + k) % 25000, k),
	       CASE WHEN (h + k) % 9 = 0 THEN '01' ELSE '00' END,
	       CASE WHEN (h + k) % 9 = 0 THEN NULL ELSE round((h * 37 + k * 101) % 40000 + 0.5, 2) END,
	       date '1950-01-01' + (h * 7 + k) % 25000
	FROM generate_series(1, 2000) AS h, generate_series(1, 3) AS k;
	INSERT INTO ipcal_item_one
	SELECT household, niss, c, round(length(niss) * 100 + ascii(right(niss, 1)) * 7.5 + i, 2)
	FROM member_one, (VALUES ('1250', 1), ('1270', 2), ('1400', 3)) AS v(c, i);
	INSERT INTO person_one
	SELECT lpad(a::text, 10, '0'), niss(date '1960-01-01' + a % 20000, k), (a + k) % 3 = 0,
	       CASE (a + k) % 4 WHEN 0 THEN 'integration_allowance_abated' ELSE 'benefit' END,
	       a % 10 = 0 AND k > 1, a % 10 = 0 AND k = 1
	FROM generate_series(1, 1500) AS a, generate_series(1, 4) AS k;
	INSERT INTO contribution_one
	SELECT lpad((i % 1000)::text, 18, '0'), round(((i * 7919) % 20000 - 1500) / 100.0, 2)
	FROM generate_series(1, 30000) AS i;
	INSERT INTO member SELECT * FROM member_one;
	INSERT INTO ipcal_item SELECT * FROM ipcal_item_one;
	INSERT INTO person SELECT * FROM person_one;
	INSERT INTO contribution SELECT * FROM contribution_one;
	ANALYZE member, ipcal_item, person, contribution;
});

# A table one shard already has: an error, and no table made anywhere.
$node{shard2}->safe_psql('postgres', 'CREATE TABLE taken (x int)');
($rc, $out, $err) = $coord->psql('postgres', q{SELECT inami.create_sharded_table('taken', 'household text NOT NULL, x int', 'household')});
like($err, qr/relation "taken" already exists/, 'create_sharded_table: a shard that has the table already is an error');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname LIKE 'taken%'}) . '/'
	. $node{shard1}->safe_psql('postgres', q{SELECT count(*) FROM pg_class WHERE relname = 'taken'}) . '/'
	. $coord->safe_psql('postgres', q{SELECT count(*) FROM inami.sharded_table WHERE table_name = 'taken'}),
	'0/0/0', 'create_sharded_table refused: nothing on the coordinator nor on the other shard');
$node{shard2}->safe_psql('postgres', 'DROP TABLE taken');
($rc, $out, $err) = $coord->psql('postgres', q{SELECT inami.create_sharded_table('a.b.c', 'x int', 'x')});
like($err, qr/a sharded table is named table or schema\.table/, 'create_sharded_table: a name of three parts is refused');

# Each row is on the shard shard_of names, and every shard has rows.
is($coord->safe_psql('postgres', q{
	SELECT string_agg(t || ':' || bad, ',' ORDER BY t) FROM (
	    SELECT 'member' AS t, count(*) FILTER (WHERE inami.shard_of(household, 2) <> (tableoid::regclass::text <> 'member_shard1')::int) AS bad FROM member
	    UNION ALL
	    SELECT 'person', count(*) FILTER (WHERE inami.shard_of(address, 2) <> (tableoid::regclass::text <> 'person_shard1')::int) FROM person) s}),
	'member:0,person:0', 'every row is on the shard inami.shard_of names');
my $on1 = $node{shard1}->safe_psql('postgres', 'SELECT count(*) FROM member');
my $on2 = $node{shard2}->safe_psql('postgres', 'SELECT count(*) FROM member');
ok($on1 > 0 && $on2 > 0 && $on1 + $on2 == 6000, "the members are split over both shards ($on1 + $on2)");

my %query = (
	household_income => [ 'inami.household_income(', q{
		SELECT household, inami.household_income(return_code, income, birth_date, 2022) AS r
		FROM %s GROUP BY household} ],
	ipcal_income => [ 'inami.ipcal_income(', q{
		SELECT household || niss AS household, inami.ipcal_income(code, amount, 2023) AS r
		FROM %s GROUP BY household, niss} ],
	maf_household => [ 'inami.maf_household(', q{
		SELECT address AS household, inami.maf_household(2024, niss, NULL, has_im, im_basis, tp, host, NULL, NULL)::text AS r
		FROM %s GROUP BY address} ],
	maf_refunded => [ 'inami.maf_refunded(', q{
		SELECT household, inami.maf_refunded(amount, 450.00) AS r
		FROM %s GROUP BY household} ],
);
my %table = (household_income => 'member', ipcal_income => 'ipcal_item', maf_household => 'person',
	maf_refunded => 'contribution');
for my $agg (sort keys %query)
{
	my ($call, $sql) = @{ $query{$agg} };
	my $t = $table{$agg};
	my $plan = $coord->safe_psql('postgres',
		'SET enable_partitionwise_aggregate = on; EXPLAIN (VERBOSE, COSTS OFF) ' . sprintf($sql, $t));
	my @remote = $plan =~ /Remote SQL: SELECT [^\n]*\Q$call\E[^\n]*GROUP BY/g;
	my @pushed = $plan =~ /Relations: Aggregate on \(public\.${t}_shard\d/g;
	is(scalar(@remote) . '/' . scalar(@pushed), '2/2', "$agg: the aggregate runs on both shards (Remote SQL holds it)")
		or diag($plan);
	my $digest = q{SELECT count(*) || ':' || md5(string_agg(household || '=' || coalesce(r::text, 'NULL'), ',' ORDER BY household)) FROM (%s) s};
	my $sharded = $coord->safe_psql('postgres',
		'SET enable_partitionwise_aggregate = on; ' . sprintf($digest, sprintf($sql, $t)));
	my $one = $coord->safe_psql('postgres', sprintf($digest, sprintf($sql, "${t}_one")));
	like($one, qr/^[1-9]\d*:/, "$agg: one node answers");
	is($sharded, $one, "$agg: the sharded answer equals one node's");
}

# A parameter row changed on one shard afterwards: the shipped ipcal_income would read it,
# check_shards names the table and the shard.
$node{shard2}->safe_psql('postgres', q{UPDATE inami.ipcal_rule SET factor = 0.5 WHERE code = '1270'});
($rc, $out, $err) = $coord->psql('postgres', 'SELECT * FROM inami.check_shards()');
like($err, qr/parameter table inami\.ipcal_rule differs on shard "shard2"/,
	'check_shards: a parameter row changed on a shard is an error naming the table and the shard');

# The number of shards places the rows: no shard is added once tables are sharded.
($rc, $out, $err) = $coord->psql('postgres', "SELECT inami.add_shard('other', '" . conninfo($node{other}) . "')");
like($err, qr/cannot add a shard once tables are sharded/, 'add_shard: refused once tables are sharded');

# Control runs on the shards. The Syst_01 households of 2024 and their Syst_04 answers:
# on each shard those shard_of places there, on the coordinator all of them (one node).
my $households = q{
	CREATE FUNCTION pg_temp.niss(d date, s int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
		SELECT nine || lpad((97 - ((CASE WHEN d >= '2000-01-01' THEN 2000000000 ELSE 0 END
		                            + nine::bigint) % 97))::text, 2, '0')
		FROM (SELECT to_char(d, 'YYMMDD') || lpad(s::text, 3, '0') AS nine) AS x $$;
	CREATE TEMP TABLE h AS
	SELECT h, k, inami.request_number('300', 2024, pg_temp.niss(date '1960-01-01' + h, 1)) AS rn,
	       pg_temp.niss(date '1960-01-01' + h, k) AS niss
	FROM generate_series(1, 300) AS h, generate_series(1, 3) AS k WHERE k <= 1 + h % 3;
	DELETE FROM h WHERE %s;
	INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2024, '300', 'syst01', 300);
	INSERT INTO inami.syst01_household SELECT 2024, rn, '300', niss, currval(pg_get_serial_sequence('inami.flow_file', 'file_id')) FROM h WHERE k = 1;
	INSERT INTO inami.syst01_member SELECT 2024, rn, niss FROM h;
	INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES ('Syst04', 2024, '300', 2022, 1, 'syst04', 225);
	INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
	SELECT 2024, rn, 1, 2022, niss, currval(pg_get_serial_sequence('inami.flow_file', 'file_id')) FROM h WHERE k = 1 AND h % 4 <> 0;
	INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, ipcal_code, ipcal_amount)
	SELECT 2024, rn, 1, niss, CASE WHEN h % 7 = 0 THEN '01' ELSE '00' END,
	       CASE WHEN h % 7 = 0 THEN '{}' ELSE ARRAY['1250'] END,
	       CASE WHEN h % 7 = 0 THEN '{}' ELSE ARRAY[((h * 137) % 30000 + k * 1000)::numeric] END
	FROM h WHERE h % 4 <> 0;
};
$node{shard1}->safe_psql('postgres', sprintf($households, 'inami.shard_of(rn, 2) <> 0'));
$node{shard2}->safe_psql('postgres', sprintf($households, 'inami.shard_of(rn, 2) <> 1'));
$coord->safe_psql('postgres', sprintf($households, 'false'));

# The shard whose parameter row differs: the run is refused before it starts anywhere.
($rc, $out, $err) = $coord->psql('postgres', 'CALL inami.run_systematic_control_sharded(2024)');
like($err, qr/parameter table inami\.ipcal_rule differs on shard "shard2"/,
	'sharded run: refused while a shard has other parameter rows');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM inami.shard_run'), '0', 'sharded run refused: nothing started');
$node{shard2}->safe_psql('postgres', q{UPDATE inami.ipcal_rule SET factor = 0.1 WHERE code = '1270'});

# A run that fails on one shard (a constraint its decisions break): logged with the
# shard's own run, named in the error; the other shard completes.
$node{shard2}->safe_psql('postgres', q{ALTER TABLE inami.control_decision ADD CONSTRAINT refuse CHECK (false) NOT VALID});
($rc, $out, $err) = $coord->psql('postgres', 'CALL inami.run_systematic_control_sharded(2024)');
like($err, qr/the systematic control of 2024 failed on shard shard2.*DETAIL:  On shard shard2: .*refuse.*HINT:  .*CALL inami\.run_systematic_control_sharded\(2024, '\{shard2\}'\)/s,
	'sharded run: a failure names the shard to rerun');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || status || ':' || coalesce(error_sqlstate, '-') || ':' || (shard_run_id >= (position + 1) * 1000000000000), ',' ORDER BY shard)
	FROM inami.shard_run JOIN inami.shard ON name = shard}),
	'shard1:succeeded:-:true,shard2:failed:23514:true', 'sharded run: each shard logged with its own run id (in its range) and its error');
is($node{shard2}->safe_psql('postgres', 'SELECT status FROM inami.control_run'), 'failed', 'the failed run is in the shard\'s run log');
is($node{shard2}->safe_psql('postgres', 'SELECT count(*) FROM inami.control_decision'), '0', 'the failed shard wrote no decision');

# The rerun of the failed shard completes the year.
$node{shard2}->safe_psql('postgres', q{ALTER TABLE inami.control_decision DROP CONSTRAINT refuse});
$coord->safe_psql('postgres', q{CALL inami.run_systematic_control_sharded(2024, ARRAY['shard2'])});
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || status, ',' ORDER BY shard) FROM inami.shard_run WHERE sharded_run = 2}),
	'shard2:succeeded', 'rerun of the failed shard: succeeded');

# The same decisions as one node, nothing lost or doubled; ids unique over the cluster.
$coord->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
my $decisions = q{SELECT request_number, reason, right_end, verdict, household_total, extra_income, ceiling, provisional FROM inami.control_decision};
my $gathered = $coord->safe_psql('postgres', qq{
	SELECT count(*) || ':' || count(DISTINCT r) || ':' || md5(string_agg(r, ',' ORDER BY r)) FROM (
	    SELECT t::text AS r FROM dblink('shard1', \$q\$$decisions\$q\$) AS t(request_number text, reason text, right_end date, verdict text, household_total numeric, extra_income numeric, ceiling numeric, provisional boolean)
	    UNION ALL
	    SELECT t::text FROM dblink('shard2', \$q\$$decisions\$q\$) AS t(request_number text, reason text, right_end date, verdict text, household_total numeric, extra_income numeric, ceiling numeric, provisional boolean)) s});
my $one = $coord->safe_psql('postgres', qq{
	SELECT count(*) || ':' || count(DISTINCT r) || ':' || md5(string_agg(r, ',' ORDER BY r)) FROM (SELECT t::text AS r FROM ($decisions) t) s});
like($one, qr/^300:300:/, 'one node: a decision per household');
is($gathered, $one, 'sharded control year: the decisions of both shards are those of one node');
like($coord->safe_psql('postgres', q{SELECT string_agg(DISTINCT reason, ',' ORDER BY reason) FROM inami.control_decision}),
	qr/,/, 'the households reach several decisions');
is($coord->safe_psql('postgres', q{SELECT count(*) || ':' || count(*) FILTER (WHERE id / 1000000000000 = p + 1) FROM (
	    SELECT 0 AS p, id FROM dblink('shard1', 'SELECT run_id FROM inami.control_decision UNION ALL SELECT file_id FROM inami.flow_file') AS t(id bigint)
	    UNION ALL
	    SELECT 1, id FROM dblink('shard2', 'SELECT run_id FROM inami.control_decision UNION ALL SELECT file_id FROM inami.flow_file') AS t(id bigint)) s}),
	'304:304', 'run and file ids of each shard (300 decisions, 4 files) are in its own range');

# Syst_05 written on the coordinator from the shards' decisions: once the second shipment
# is in (a file without households, on every node), the document of one node.
for my $n ($coord, $node{shard1}, $node{shard2})
{
	$n->safe_psql('postgres', q{INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count)
		VALUES ('Syst04', 2024, '300', 2022, 2, 'syst04 2', 0)});
}
$coord->safe_psql('postgres', 'CALL inami.run_systematic_control_sharded(2024)');
$coord->safe_psql('postgres', 'CALL inami.run_systematic_control(2024)');
my $syst05 = $coord->safe_psql('postgres', q{SELECT inami.syst05_document(2024, '300')});
is(() = $syst05 =~ /<Feedback /g, 300, 'one node: Syst_05 has a Feedback per household');
is($coord->safe_psql('postgres', q{SELECT inami.syst05_document_sharded(2024, '300')}), $syst05,
	'syst05_document_sharded: the shards\' Feedback merged in request-number order, as one node writes it');
is($coord->safe_psql('postgres', q{SELECT inami.pro04_document_sharded(2024, '300')}),
	$coord->safe_psql('postgres', q{SELECT inami.pro04_document(2024, '300')}), 'pro04_document_sharded: as one node');
my $rn = $coord->safe_psql('postgres', q{SELECT min(request_number) FROM inami.control_decision WHERE household_total IS NOT NULL});
# Step 2 names the run (its id, its time): the shard's, not the one node's.
my $explain = q{SELECT string_agg(step || '|' || what || '|' || coalesce(value, '') || '|' || coalesce(rule, ''), E'\n' ORDER BY step) FROM %s('%s', 2024) WHERE step <> 2};
my $local = $coord->safe_psql('postgres', sprintf($explain, 'inami.explain_decision', $rn));
like($local, qr/household income\|3274\.00/, 'one node explains a decision');
is($coord->safe_psql('postgres', sprintf($explain, 'inami.explain_decision_sharded', $rn)), $local,
	'explain_decision_sharded: the explanation of the shard that holds the household');
like($coord->safe_psql('postgres', qq{SELECT value FROM inami.explain_decision_sharded('$rn', 2024) WHERE step = 2}),
	qr/^made by run [12]\d{12} /, 'explain_decision_sharded: the decision was made by the shard\'s run');

# A shard stopped in the middle of its run. Another session of shard2 locks its Syst_04
# answers, so that its run waits in the middle of its work; meanwhile the coordinator holds
# the lock of the year; then shard2 stops.
sub wait_for
{
	my ($n, $sql) = @_;
	for (1 .. 600)
	{
		my $v = $n->safe_psql('postgres', $sql);
		return $v if $v ne '';
		usleep(100_000);
	}
	return '';
}
my ($hin, $hout, $herr) = ('', '', '');
my $holder = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node{shard2}->connstr('postgres') ],
	'<', \$hin, '>', \$hout, '2>', \$herr);
$hin .= "BEGIN;\nLOCK TABLE inami.syst04_household IN ACCESS EXCLUSIVE MODE;\n";
$holder->pump_nb;
wait_for($node{shard2}, q{SELECT 1 FROM pg_locks WHERE relation = 'inami.syst04_household'::regclass AND mode = 'AccessExclusiveLock' AND granted});
my ($rout, $rerr) = ('', '');
my $sharded = IPC::Run::start([ 'psql', '-X', '-d', $coord->connstr('postgres'), '-c',
		"SET application_name = 'sharded'", '-c', 'CALL inami.run_systematic_control_sharded(2024)' ],
	'>', \$rout, '2>', \$rerr);
isnt(wait_for($node{shard2}, q{SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL inami.run_systematic_control(%' AND wait_event_type = 'Lock'}),
	'', 'the run on shard2 waits in the middle of its work');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
	WHERE a.application_name = 'sharded' AND l.locktype = 'advisory' AND l.granted
	  AND l.classid::bigint = (inami._control_lock_key('systematic_control')::bigint & 4294967295) AND l.objid = 2024}),
	'1', 'the coordinator holds the lock of the systematic control of 2024 while the shards run');
$node{shard2}->stop('immediate');
$sharded->finish;
eval { $holder->finish; };
like($rerr, qr/the systematic control of 2024 failed on shard shard2.*HINT:  .*run_systematic_control_sharded\(2024, '\{shard2\}'\)/s,
	'a shard stopped mid-run: the error names it');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || status, ',' ORDER BY shard) FROM inami.shard_run
	WHERE sharded_run = (SELECT max(sharded_run) FROM inami.shard_run)}),
	'shard1:succeeded,shard2:failed', 'a shard stopped mid-run: logged as failed, the other shard completed');
$node{shard2}->start;
is($node{shard2}->safe_psql('postgres', q{SELECT status FROM inami.control_run ORDER BY run_id DESC LIMIT 1}), 'running',
	'the shard stopped mid-run left its run log row running (as one node after a crash)');
$coord->safe_psql('postgres', q{CALL inami.run_systematic_control_sharded(2024, ARRAY['shard2'])});
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || status, ',' ORDER BY shard) FROM inami.shard_run
	WHERE sharded_run = (SELECT max(sharded_run) FROM inami.shard_run)}),
	'shard2:succeeded', 'the rerun of the stopped shard succeeds');
is($coord->safe_psql('postgres', q{SELECT inami.syst05_document_sharded(2024, '300')}), $syst05,
	'after the rerun, the Syst_05 of the cluster is still the one node\'s: nothing lost or doubled');

# A stopped shard: the run starts nowhere and the error names it.
$node{shard2}->stop;
($rc, $out, $err) = $coord->psql('postgres', 'CALL inami.run_proactive_flow_sharded(2024)');
like($err, qr/shard "shard2" cannot be reached/, 'sharded run: a stopped shard is named, nothing starts');
$node{shard2}->start;
$coord->safe_psql('postgres', 'CALL inami.run_proactive_flow_sharded(2024)');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || status, ',' ORDER BY shard) FROM inami.shard_run WHERE kind = 'proactive_flow'}),
	'shard1:succeeded,shard2:succeeded', 'the proactive flow runs on both shards');

# Sharded loading: a Syst_01 file of 2025 (written by the coordinator from its 2025 rows),
# loaded on both shards at once: the coordinator reads it once and sends each shard its part.
$coord->safe_psql('postgres', q{
	INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2025, '300', 'syst01 2025', 300);
	INSERT INTO inami.syst01_household
	SELECT 2025, inami.request_number('300', 2025, requester_niss), '300', requester_niss, currval(pg_get_serial_sequence('inami.flow_file', 'file_id'))
	FROM inami.syst01_household WHERE control_year = 2024;
	INSERT INTO inami.syst01_member
	SELECT 2025, inami.request_number('300', 2025, h.requester_niss), m.niss
	FROM inami.syst01_member m JOIN inami.syst01_household h USING (control_year, request_number) WHERE control_year = 2024;});
my $file = PostgreSQL::Test::Utils::tempdir() . '/syst01_2025.xml';
open(my $fh, '>', $file) or die "$file: $!";
print $fh $coord->safe_psql('postgres', q{SELECT inami.syst01_document(2025, '300')});
close($fh);
# shard2 already has one of its 2025 households: its load fails, and shard1, whose part
# loaded, does not commit it.
my $one_rn = $coord->safe_psql('postgres', q{SELECT min(request_number) FROM inami.syst01_household WHERE control_year = 2025 AND inami.shard_of(request_number, 2) = 1});
$node{shard2}->safe_psql('postgres', qq{
	INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2025, '300', 'by hand', 1);
	INSERT INTO inami.syst01_household VALUES (2025, '$one_rn', '300', substr('$one_rn', 8), currval(pg_get_serial_sequence('inami.flow_file', 'file_id')));});
($rc, $out, $err) = $coord->psql('postgres', "SELECT * FROM inami.load_flow_file_sharded('$file')");
like($err, qr/the file \S+ was not loaded on shard shard2.*DETAIL:  On shard shard2: .*already loaded.* No shard loaded the file\./s,
	'load_flow_file_sharded: a shard that fails is named');
is($node{shard1}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE year = 2025}), '0',
	'load_flow_file_sharded: a failure on one shard leaves the file on none');
$node{shard2}->safe_psql('postgres', q{DELETE FROM inami.flow_file WHERE source_name = 'by hand'});
is($node{shard2}->safe_psql('postgres', q{SELECT count(*) FROM inami.syst01_household WHERE control_year = 2025}), '0',
	'the failed shard loaded nothing of the file');
my $kept = $coord->safe_psql('postgres', "SELECT string_agg(shard || ':' || kept, ',' ORDER BY shard) FROM inami.load_flow_file_sharded('$file')");
like($kept, qr/^shard1:\d+,shard2:\d+$/, 'load_flow_file_sharded: once the cause is fixed, the file loads');
my $where = q{SELECT count(*) || ':' || count(*) FILTER (WHERE inami.shard_of(request_number, 2) = %d) || ':' || (SELECT count(*) FROM inami.syst01_member WHERE control_year = 2025) || ':' || (SELECT count(*) FROM inami.flow_file WHERE year = 2025) FROM inami.syst01_household WHERE control_year = 2025};
my ($h1, $h1ok, $m1, $f1) = split /:/, $node{shard1}->safe_psql('postgres', sprintf($where, 0));
my ($h2, $h2ok, $m2, $f2) = split /:/, $node{shard2}->safe_psql('postgres', sprintf($where, 1));
is("$h1ok/$h2ok", "$h1/$h2", 'each shard keeps only the households shard_of places there');
is(($h1 + $h2) . '/' . ($m1 + $m2) . "/$f1/$f2", $coord->safe_psql('postgres',
	q{SELECT (SELECT count(*) FROM inami.syst01_household WHERE control_year = 2025) || '/' || (SELECT count(*) FROM inami.syst01_member WHERE control_year = 2025)}) . '/1/1',
	'every household and member of the file once over the shards, the file row on each');
is($kept, "shard1:$h1,shard2:$h2", 'load_flow_file_sharded returns the households each shard kept');

# A Syst_04 whose households are all on shard1: shard2 lists none of them, which on one
# node refuses a file; judged on the whole file, it loads (shard2 keeps nothing).
sub syst04_file
{
	my ($name, $year, @households) = @_;
	my $xml = qq{<?xml version="1.0" encoding="UTF-8"?>\n<Syst04 xmlns="urn:be:inami:flows:1" controlYear="$year" incomeYear="}
	  . ($year - 2) . qq{" shipment="1">\n};
	for (@households)
	{
		my ($rn, $niss) = split / /;
		$xml .= qq{  <Household requestNumber="$rn">\n    <Requester niss="$niss"/>\n    <Member niss="$niss" returnCode="01"/>\n  </Household>\n};
	}
	$xml .= "</Syst04>\n";
	my $path = PostgreSQL::Test::Utils::tempdir() . "/$name.xml";
	open(my $f, '>', $path) or die "$path: $!";
	print $f $xml;
	close($f);
	return $path;
}
my @on1 = split /\n/, $coord->safe_psql('postgres', q{SELECT request_number || ' ' || requester_niss FROM inami.syst01_household
	WHERE control_year = 2025 AND inami.shard_of(request_number, 2) = 0 ORDER BY 1 LIMIT 3});
my $syst04 = syst04_file('syst04_2025', 2025, @on1);
is($coord->safe_psql('postgres', "SELECT string_agg(shard || ':' || kept, ',' ORDER BY shard) FROM inami.load_flow_file_sharded('$syst04')"),
	'shard1:3,shard2:0', 'load_flow_file_sharded: a Syst04 listed on one shard only loads (judged on the whole file)');
is($node{shard2}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE kind = 'Syst04' AND year = 2025}), '1',
	'the shard that keeps none of its households has the file row (the later-shipment check reads it)');
# A Syst_04 no Syst_01 of the cluster lists: refused, loaded nowhere.
my $syst04_2026 = syst04_file('syst04_2026', 2026, map { s/2025/2026/r } @on1);
($rc, $out, $err) = $coord->psql('postgres', "SELECT * FROM inami.load_flow_file_sharded('$syst04_2026')");
like($err, qr/Syst04 answers no household that a Syst01 lists.*DETAIL:  None of the 3 households .* on any shard/s,
	'load_flow_file_sharded: a Syst04 that no Syst01 of the cluster lists is refused');
is($node{shard1}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE year = 2026}) . '/'
	. $node{shard2}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE year = 2026}),
	'0/0', 'the refused file is on no shard (the shards commit only when all have loaded)');
# Syst_05 answers households one by one against the local Syst_01: refused.
my $syst05_file = PostgreSQL::Test::Utils::tempdir() . '/syst05.xml';
open(my $f5, '>', $syst05_file) or die;
print $f5 $syst05;
close($f5);
($rc, $out, $err) = $coord->psql('postgres', "SELECT * FROM inami.load_flow_file_sharded('$syst05_file')");
like($err, qr/a Syst05 file is not loaded on the shards/, 'load_flow_file_sharded: a Syst05 file is refused');
# The same with a comment before the root that names another kind.
my $syst05_commented = $syst05 =~ s/^(<\?xml[^>]*\?>\s*)?/($1 \/\/ '') . "<!-- <Syst01 controlYear=\"2024\"> -->\n"/er;
open($f5, '>', "$syst05_file.commented.xml") or die;
print $f5 $syst05_commented;
close($f5);
($rc, $out, $err) = $coord->psql('postgres', "SELECT * FROM inami.load_flow_file_sharded('$syst05_file.commented.xml')");
like($err, qr/a Syst05 file is not loaded on the shards/, '... also behind a comment that names another kind');

# The coordinator reads the file once and sends each shard its part: a file of its own data
# directory, named by a path relative to it, which no shard has, loads on both shards.
my $gen = "$FindBin::Bin/../../bench/gen_flows.pl";
sub gen_file
{
	my ($name, @args) = @_;
	my $path = $coord->data_dir . "/$name";
	system('perl', $gen, @args, '--out', $path) == 0 or die "gen_flows.pl failed";
	return $path;
}
sub count_in
{
	my ($path, $re) = @_;
	open(my $in, '<', $path) or die "$path: $!";
	my $n = 0;
	while (<$in>) { $n++ while /$re/g; }
	close($in);
	return $n;
}
my $lo_left = q{SELECT count(*) FROM pg_largeobject_metadata};
gen_file('pro01_2025.xml', '--kind', 'pro01', '--year', 2025, '--households', 40, '--seed', 3);
($rc, $out, $err) = $node{shard1}->psql('postgres', q{SELECT inami.load_flow_file('pro01_2025.xml')});
like($err, qr/could not open file "pro01_2025\.xml"/, 'a file of the coordinator\'s data directory: no shard can read it');
# A shard failing at the commit phase (a deferred trigger of shard2 refuses the file at its
# COMMIT): shard1 committed; the error names shard2, what committed and the rerun.
$node{shard2}->safe_psql('postgres', q{
	CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
	CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON inami.flow_file
	    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();});
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('pro01_2025.xml')});
like($err, qr/the file pro01_2025\.xml was not loaded on shard shard2.*DETAIL:  On shard shard2, committing: refused at commit.* Shards shard1 committed their part before the failure\..*HINT:  .*load_flow_file_sharded\('pro01_2025\.xml', '\{shard2\}'\)/s,
	'a shard failing at the commit phase: named, with the shards that committed and the rerun on it alone');
my $pro01 = q{SELECT count(*) || '/' || count(*) FILTER (WHERE inami.shard_of(request_number, 2) = %d) || '/' || (SELECT count(*) FROM inami.flow_file WHERE kind = 'Pro01' AND year = 2025) FROM inami.pro01_household WHERE year = 2025};
my ($p1) = split m{/}, $node{shard1}->safe_psql('postgres', sprintf($pro01, 0));
is($node{shard1}->safe_psql('postgres', sprintf($pro01, 0)) . ' ' . $node{shard2}->safe_psql('postgres', sprintf($pro01, 1)),
	"$p1/$p1/1 0/0/0", 'the commit phase: shard1 has its part, shard2 nothing of the file');
ok($p1 > 0 && $p1 < 40, "shard1 holds some of the 40 households ($p1)");
$node{shard2}->safe_psql('postgres', 'DROP TRIGGER refuse_at_commit ON inami.flow_file');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || kept, ',') FROM inami.load_flow_file_sharded('pro01_2025.xml', '{shard2}')}),
	'shard2:' . (40 - $p1), 'the rerun on the failed shard alone loads its part');
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('pro01_2025.xml', '{shard1}')});
like($err, qr/not loaded on shard shard1.*DETAIL:  On shard shard1: this Pro01 shipment is already loaded/s,
	'a rerun on a shard that has the file: refused there (this shipment is already loaded)');
is($node{shard1}->safe_psql('postgres', sprintf($pro01, 0)) . ' ' . $node{shard2}->safe_psql('postgres', sprintf($pro01, 1)),
	"$p1/$p1/1 " . (40 - $p1) . '/' . (40 - $p1) . '/1', 'after the reruns: every household once, on its shard; one file row on each');

my $pro03 = gen_file('pro03_2025.xml', '--kind', 'pro03', '--year', 2025, '--households', 40, '--seed', 3);
# A stopped shard: the file is read by no one, loaded nowhere, and the shard named.
$node{shard2}->stop;
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('pro03_2025.xml')});
like($err, qr/shard "shard2" cannot be reached/, 'load_flow_file_sharded: a stopped shard is named');
$node{shard2}->start;
is($node{shard1}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE kind = 'Pro03'}), '0',
	'a stopped shard: nothing loaded on the other');
# A shard that fails while it receives its part (another session holds pg_largeobject,
# and the shard's lock_timeout ends the wait): named, with what it said; the other
# shard's part, sent already, is rolled back with its transaction.
$node{shard2}->safe_psql('postgres', q{ALTER DATABASE postgres SET lock_timeout = '200ms'});
($hin, $hout, $herr) = ('', '', '');
$holder = IPC::Run::start([ 'psql', '-X', '-q', '-d', $node{shard2}->connstr('postgres') ],
	'<', \$hin, '>', \$hout, '2>', \$herr);
$hin .= "BEGIN;\nLOCK TABLE pg_largeobject IN ACCESS EXCLUSIVE MODE;\n";
$holder->pump_nb;
wait_for($node{shard2}, q{SELECT 1 FROM pg_locks WHERE relation = 'pg_largeobject'::regclass AND mode = 'AccessExclusiveLock' AND granted});
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('pro03_2025.xml')});
like($err, qr/the file pro03_2025\.xml was not loaded on shard shard2.*DETAIL:  On shard shard2, receiving its part: canceling statement due to lock timeout\. No shard loaded the file\./s,
	'a shard failing while it receives its part: named, with its error');
$hin .= "ROLLBACK;\n\\q\n";
$holder->finish;
$node{shard2}->safe_psql('postgres', 'ALTER DATABASE postgres RESET lock_timeout');
is($node{shard1}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE kind = 'Pro03'}) . ':'
	. $node{shard1}->safe_psql('postgres', $lo_left), '0:0', '... nothing of the file on the other shard, not even its part');

# Pro_03 persons are keyed by NISS: every shard receives and keeps all of them. A Pro_03
# that answers no loaded Pro_01 is refused by every shard, and loaded nowhere.
my $persons = count_in($pro03, qr/<Person /);
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || kept, ',' ORDER BY shard) FROM inami.load_flow_file_sharded('pro03_2025.xml')}),
	"shard1:$persons,shard2:$persons", "a Pro03: every shard keeps every person ($persons)");
gen_file('pro03_2026.xml', '--kind', 'pro03', '--year', 2026, '--households', 10);
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('pro03_2026.xml')});
like($err, qr/not loaded on shard shard1, shard2.*DETAIL:  On shard shard1: Pro03 of year 2026 answers no loaded Pro01.* No shard loaded the file\./s,
	'a Pro03 with no Pro01 of its year: refused');

# The same household twice in a file: both records go to the shard of the household,
# which refuses the file as one node does (the lines it names are those of its part).
my $niss = $coord->safe_psql('postgres', q{SELECT min(requester_niss) FROM inami.syst01_household WHERE control_year = 2025});
my $twice_rn = "3002032$niss";
my $twice_shard = $coord->safe_psql('postgres', "SELECT inami.shard_of('$twice_rn', 2) + 1");
open(my $tw, '>', $coord->data_dir . '/syst01_2032.xml') or die;
print $tw qq{<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2032" oa="300">\n},
	(qq{  <Household requestNumber="$twice_rn"><Requester niss="$niss"/><Member niss="$niss"/></Household>\n}) x 2, "</Syst01>\n";
close($tw);
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('syst01_2032.xml')});
like($err, qr/not loaded on shard shard$twice_shard\b.*DETAIL:  On shard shard$twice_shard: the same household twice in a file .*$twice_rn at lines \d+ and \d+ of the part of syst01_2032\.xml for shard position \d of 2\. No shard loaded the file\./s,
	'the same household twice in a file: refused by the shard of the household, nothing loaded');

# A file malformed near its end: the coordinator's reader refuses it with the line of the
# file, after parts were sent; the shards' transactions are rolled back with them.
my $bad = gen_file('syst01_2028.xml', '--kind', 'syst01', '--year', 2028, '--households', 20_000, '--seed', 5);
truncate($bad, (-s $bad) - 40) or die;
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('syst01_2028.xml')});
like($err, qr/ERROR:  exchange file is not well-formed XML.*DETAIL:  .*Line \d{6} of syst01_2028\.xml/s,
	'a file malformed after its first megabytes: the reader\'s error, with the line of the file');
is(join('/', map { $node{$_}->safe_psql('postgres', q{SELECT count(*) FROM inami.flow_file WHERE year IN (2026, 2028, 2032)}) . ':'
	. $node{$_}->safe_psql('postgres', $lo_left) } qw(shard1 shard2)),
	'0:0/0:0', 'the refused files: nothing on the shards, no part left in a large object');

# Memory: the coordinator's backend reads a file many times larger than the bound. Its
# peak resident memory (VmHWM) in one session: at the start; after a file of 3.6 MB (what
# any load takes: dblink, libpq and its buffers, the parts' buffers, the reader, the
# catalogs); after one of 57 MB, which must add less than 8 MB to that peak (nothing
# grows with the file); under 40 MB above the start in all.
gen_file('syst01_2029.xml', '--kind', 'syst01', '--year', 2029, '--households', 20_000, '--seed', 6);
my $big = gen_file('syst01_2027.xml', '--kind', 'syst01', '--year', 2027, '--households', 330_000, '--seed', 11);
my $mb = int((-s $big) / 1024 / 1024);
my $members = count_in($big, qr/<Member /);
ok($mb >= 50, "a Syst01 of $mb MB");
my $hwm = q{SELECT 'hwm ' || (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1];};
($rc, $out, $err) = $coord->psql('postgres', "$hwm\nSELECT * FROM inami.load_flow_file_sharded('syst01_2029.xml');\n$hwm\n"
	. "SELECT 'kept ' || string_agg(shard || ':' || kept, ',' ORDER BY shard) FROM inami.load_flow_file_sharded('syst01_2027.xml');\n$hwm");
my @kb = $out =~ /^hwm (\d+)$/mg;
my ($kept_big) = $out =~ /^kept (.*)$/m;
die "no VmHWM read: $out $err" unless @kb == 3;
diag("the coordinator's VmHWM: $kb[0] kB at the start, " . ($kb[1] - $kb[0]) . " kB more after a file of 3.6 MB, "
	. ($kb[2] - $kb[1]) . " kB more after one of $mb MB");
ok($kb[2] - $kb[1] < 8 * 1024, "a Syst01 of $mb MB after one of 3.6 MB: the coordinator's peak memory grew by less than 8 MB (nothing grows with the file)");
ok($kb[2] - $kb[0] < 40 * 1024, "a Syst01 of $mb MB: the coordinator's peak memory grew by less than 40 MB in all");
my $y2027 = q{SELECT count(*) || ':' || count(*) FILTER (WHERE inami.shard_of(request_number, 2) = %d) || ':' || (SELECT count(*) FROM inami.syst01_member WHERE control_year = 2027) FROM inami.syst01_household WHERE control_year = 2027};
my ($b1, $b1ok, $bm1) = split /:/, $node{shard1}->safe_psql('postgres', sprintf($y2027, 0));
my ($b2, $b2ok, $bm2) = split /:/, $node{shard2}->safe_psql('postgres', sprintf($y2027, 1));
is($kept_big // '', "shard1:$b1,shard2:$b2", 'the large file: each shard loaded its part');
is(($b1 + $b2) . '/' . ($bm1 + $bm2) . "/$b1ok/$b2ok", "330000/$members/$b1/$b2",
	'the large file: every household and member once over the shards, each on its shard');
is(join('/', map { $node{$_}->safe_psql('postgres', $lo_left) } qw(shard1 shard2)), '0/0',
	'the shards dropped the large objects of their parts');

# Two-phase commit. Both shards ran with max_prepared_transactions = 0 so far: the loads
# above committed the shards in turn. With it on shard1 only, a load still commits in turn,
# and says so, naming the shard without it.
my $two_phase = q{SELECT (SELECT count(*) FROM pg_prepared_xacts) || ':' || (SELECT count(*) FROM inami.flow_file WHERE year = %d) || ':' || (SELECT count(*) FROM pg_largeobject_metadata)};
$node{shard1}->append_conf('postgresql.conf', "max_prepared_transactions = 10\n");
$node{shard1}->restart;
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || max_prepared_transactions || ':' || prepared_loads, ',' ORDER BY shard) FROM inami.check_shards()}),
	'shard1:10:0,shard2:0:0', 'check_shards: each shard\'s max_prepared_transactions and its prepared loads');
gen_file('syst01_2030.xml', '--kind', 'syst01', '--year', 2030, '--households', 40, '--seed', 7);
($rc, $out, $err) = $coord->psql('postgres', q{SELECT string_agg(shard || ':' || kept, ',' ORDER BY shard) FROM inami.load_flow_file_sharded('syst01_2030.xml')});
like($err, qr/WARNING:  the file syst01_2030\.xml is committed on the shards in turn, without two-phase commit\nDETAIL:  Shards shard2 run with max_prepared_transactions = 0: .*\nHINT:  Set max_prepared_transactions/s,
	'a shard without prepared transactions: the load commits in turn, and warns naming the shard');
like($out, qr/^shard1:\d+,shard2:\d+$/, '... and loads the file');
is($node{shard1}->safe_psql('postgres', 'SELECT count(*) FROM inami.shard_load'), '0', '... not through two-phase commit');

# Every shard with prepared transactions: each prepares its part, then each commits it.
$node{shard2}->append_conf('postgresql.conf', "max_prepared_transactions = 10\n");
$node{shard2}->restart;
my $f2031 = gen_file('syst01_2031.xml', '--kind', 'syst01', '--year', 2031, '--households', 40, '--seed', 8);
($rc, $out, $err) = $coord->psql('postgres', q{SELECT string_agg(shard || ':' || kept, ',' ORDER BY shard) FROM inami.load_flow_file_sharded('syst01_2031.xml')});
is($err, '', 'every shard with prepared transactions: no warning');
my ($k1, $k2) = $out =~ /^shard1:(\d+),shard2:(\d+)$/;
is(($k1 // 0) + ($k2 // 0), count_in($f2031, qr/<Household /), 'two-phase commit: the file loads, every household once');
is(join('/', map { $node{$_}->safe_psql('postgres', sprintf($two_phase, 2031)) } qw(shard1 shard2)), '0:1:0/0:1:0',
	'two-phase commit: nothing left prepared, the file row on each shard, no large object');
my @load_gids = map { $node{$_}->safe_psql('postgres', q{SELECT gid || ' ' || source_name FROM inami.shard_load}) } qw(shard1 shard2);
like($load_gids[0], qr/^inami_load:\d+:\d+\.\d+:shard1 syst01_2031\.xml$/, 'each shard committed the prepared transaction named after the load and the shard');
is($load_gids[1], $load_gids[0] =~ s/:shard1 /:shard2 /r, '... the same load on both shards');

# A shard failing at PREPARE TRANSACTION (a deferred trigger of shard2 raises there): the
# shard that had prepared rolls back; the file is on no shard, nothing left prepared.
$node{shard2}->safe_psql('postgres', q{CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON inami.flow_file
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()});
gen_file('syst01_2033.xml', '--kind', 'syst01', '--year', 2033, '--households', 40, '--seed', 9);
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('syst01_2033.xml')});
like($err, qr/ERROR:  the file syst01_2033\.xml was not loaded on shard shard2\nDETAIL:  On shard shard2, preparing: refused at commit.* No shard loaded the file\.\nHINT:  Fix the cause, then load the file again\./s,
	'a shard failing at PREPARE TRANSACTION: named; no shard loaded the file');
is(join('/', map { $node{$_}->safe_psql('postgres', sprintf($two_phase, 2033)) } qw(shard1 shard2)), '0:0:0/0:0:0',
	'... the prepared shard rolled back: nothing of the file, nothing prepared, on either shard');
$node{shard2}->safe_psql('postgres', 'DROP TRIGGER refuse_at_commit ON inami.flow_file');

# A shard failing at COMMIT PREPARED, once every shard prepared: a deferred trigger of
# shard2 leaves its connection, once its transaction is prepared (by postgres, under the
# role set for the transaction only), under a role that may not finish it; the COMMIT
# PREPARED fails there before committing anything, as on a lost connection. shard1
# commits; shard2 keeps its part prepared, through a restart, until COMMIT PREPARED there.
$node{shard2}->safe_psql('postgres', q{
	CREATE ROLE not_the_preparer;
	CREATE FUNCTION leave_as_other() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('role', 'not_the_preparer', false); PERFORM set_config('role', 'none', true); RETURN NULL; END $$;
	CREATE CONSTRAINT TRIGGER leave_as_other AFTER INSERT ON inami.flow_file
	    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION leave_as_other();});
my $f2034 = gen_file('syst01_2034.xml', '--kind', 'syst01', '--year', 2034, '--households', 40, '--seed', 10);
($rc, $out, $err) = $coord->psql('postgres', q{SELECT * FROM inami.load_flow_file_sharded('syst01_2034.xml')});
like($err, qr/ERROR:  the file syst01_2034\.xml is prepared but not committed on shard shard2\nDETAIL:  On shard shard2, committing its prepared part inami_load:\S+:shard2: permission denied to finish prepared transaction.* Every shard had prepared its part; shard1 committed\. The part of shard2 is kept prepared on it\.\nHINT:  The load is decided: once the shard is back, finish it there: COMMIT PREPARED 'inami_load:[^']+:shard2'; on shard shard2 /s,
	'a shard failing at COMMIT PREPARED: named with its prepared transaction, and how to finish it');
my ($gid) = $err =~ /COMMIT PREPARED '([^']+)'/;
$gid //= '';
like($gid, qr/^inami_load:\d+:\d+\.\d+:shard2$/, '... named after the load and the shard');
is($node{shard2}->safe_psql('postgres', q{SELECT gid FROM pg_prepared_xacts}), $gid, '... its part is prepared on shard2');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ' ' || gid || ' ' || committed_elsewhere || ' ' || finish, E'\n') FROM inami.prepared_loads()}),
	"shard2 $gid true COMMIT PREPARED '$gid'", 'prepared_loads: the part left, decided (shard1 committed the load): commit it');
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ':' || prepared_loads, ',' ORDER BY shard) FROM inami.check_shards()}),
	'shard1:0,shard2:1', 'check_shards counts it');
my $y2034 = q{SELECT count(*) || ':' || count(*) FILTER (WHERE inami.shard_of(request_number, 2) = %d) FROM inami.syst01_household WHERE control_year = 2034};
my ($c1) = split /:/, $node{shard1}->safe_psql('postgres', sprintf($y2034, 0));
is($node{shard2}->safe_psql('postgres', sprintf($y2034, 1)), '0:0', 'shard2 shows nothing of the file while its part is prepared');
$node{shard2}->restart;
is($node{shard2}->safe_psql('postgres', q{SELECT gid FROM pg_prepared_xacts}), $gid, 'the prepared part survives a restart of the shard');
$node{shard2}->safe_psql('postgres', "COMMIT PREPARED '$gid'");
$node{shard2}->safe_psql('postgres', 'DROP TRIGGER leave_as_other ON inami.flow_file; DROP FUNCTION leave_as_other(); DROP ROLE not_the_preparer');
my ($c2, $c2ok) = split /:/, $node{shard2}->safe_psql('postgres', sprintf($y2034, 1));
is(($c1 + $c2) . "/$c2ok/" . $node{shard1}->safe_psql('postgres', sprintf($two_phase, 2034)) . '/' . $node{shard2}->safe_psql('postgres', sprintf($two_phase, 2034)),
	count_in($f2034, qr/<Household /) . "/$c2/0:1:0/0:1:0", 'after COMMIT PREPARED: every household of the file once over the shards, nothing prepared');
is($coord->safe_psql('postgres', q{SELECT count(*) FROM inami.prepared_loads()}), '0', 'prepared_loads: nothing left');

# A shard stopped once every shard prepared. shard1's COMMIT PREPARED is held (shard1
# waits for a synchronous standby it does not have; its PREPARE, under synchronous_commit
# = local for that transaction, did not wait); meanwhile shard2 stops. When shard1 is let
# go, the coordinator's COMMIT PREPARED on shard2 finds its connection lost: shard2's part
# stays prepared, on its disk, and is committed there once it is back.
$node{shard1}->append_conf('postgresql.conf', "wal_level = replica\nmax_wal_senders = 2\n");
$node{shard1}->restart;
$node{shard1}->safe_psql('postgres', q{
	CREATE FUNCTION prepare_locally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM set_config('synchronous_commit', 'local', true); RETURN NULL; END $$;
	CREATE CONSTRAINT TRIGGER prepare_locally AFTER INSERT ON inami.flow_file
	    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION prepare_locally();});
$node{shard1}->safe_psql('postgres', q{ALTER SYSTEM SET synchronous_standby_names = 'nobody'; SELECT pg_reload_conf();});
my $f2035 = gen_file('syst01_2035.xml', '--kind', 'syst01', '--year', 2035, '--households', 40, '--seed', 12);
my ($lout, $lerr) = ('', '');
my $load = IPC::Run::start([ 'psql', '-X', '-d', $coord->connstr('postgres'), '-c',
		q{SELECT * FROM inami.load_flow_file_sharded('syst01_2035.xml')} ], '>', \$lout, '2>', \$lerr);
isnt(wait_for($node{shard1}, q{SELECT 1 FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND query LIKE 'COMMIT PREPARED %'}), '',
	'every shard prepared; shard1 commits its part');
is($node{shard2}->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'inami\_load:%:shard2'}), '1',
	'shard2 has its part prepared');
$node{shard2}->stop('immediate');
$node{shard1}->safe_psql('postgres', q{ALTER SYSTEM RESET synchronous_standby_names; SELECT pg_reload_conf();});
$load->finish;
like($lerr, qr/ERROR:  the file syst01_2035\.xml is prepared but not committed on shard shard2\nDETAIL:  On shard shard2, committing its prepared part inami_load:\S+:shard2: .* Every shard had prepared its part; shard1 committed\. The part of shard2 is kept prepared on it\.\nHINT:  The load is decided: once the shard is back, finish it there: COMMIT PREPARED 'inami_load:[^']+:shard2'; on shard shard2 /s,
	'a shard stopped before its COMMIT PREPARED: named with its prepared transaction, and how to finish it');
($gid) = $lerr =~ /COMMIT PREPARED '([^']+)'/;
$gid //= '';
$node{shard2}->start;
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ' ' || finish, E'\n') FROM inami.prepared_loads()}),
	"shard2 COMMIT PREPARED '$gid'", 'the stopped shard is back: its part is prepared, to be committed');
$node{shard2}->safe_psql('postgres', "COMMIT PREPARED '$gid'");
$node{shard1}->safe_psql('postgres', 'DROP TRIGGER prepare_locally ON inami.flow_file; DROP FUNCTION prepare_locally()');
my $y2035 = q{SELECT count(*) || ':' || count(*) FILTER (WHERE inami.shard_of(request_number, 2) = %d) || ':' || (SELECT count(*) FROM inami.flow_file WHERE year = 2035) || ':' || (SELECT count(*) FROM pg_prepared_xacts) FROM inami.syst01_household WHERE control_year = 2035};
my ($d1, $d1ok, $d1f, $d1p) = split /:/, $node{shard1}->safe_psql('postgres', sprintf($y2035, 0));
my ($d2, $d2ok, $d2f, $d2p) = split /:/, $node{shard2}->safe_psql('postgres', sprintf($y2035, 1));
is(($d1 + $d2) . " $d1ok/$d2ok $d1f/$d2f $d1p/$d2p", count_in($f2035, qr/<Household /) . " $d1/$d2 1/1 0/0",
	'after COMMIT PREPARED on the restarted shard: every household once, on its shard; the file row on each; nothing prepared');

# A load the coordinator stopped before its commit phase: a part prepared on one shard, no
# shard committed it. prepared_loads says to roll it back.
$node{shard1}->safe_psql('postgres', q{BEGIN; INSERT INTO inami.shard_load (gid, source_name) VALUES ('inami_load:1:2.3:shard1', 'lost.xml');
	PREPARE TRANSACTION 'inami_load:1:2.3:shard1';});
is($coord->safe_psql('postgres', q{SELECT string_agg(shard || ' ' || committed_elsewhere || ' ' || finish, E'\n') FROM inami.prepared_loads()}),
	"shard1 false ROLLBACK PREPARED 'inami_load:1:2.3:shard1'", 'prepared_loads: a load no shard committed is rolled back');
$node{shard1}->safe_psql('postgres', q{ROLLBACK PREPARED 'inami_load:1:2.3:shard1'});

# A part prepared by a load still running (its transaction on the coordinator in
# progress): nothing to finish by hand while it runs; once it has ended without any
# shard committing, roll back.
is($coord->safe_psql('postgres', q{
	BEGIN;
	SELECT FROM dblink_exec('shard1', pg_catalog.format('BEGIN; INSERT INTO inami.shard_load (gid, source_name) VALUES (%1$L, ''running.xml''); PREPARE TRANSACTION %1$L',
		'inami_load:' || (SELECT oid FROM pg_database WHERE datname = current_database()) || ':' || pg_current_xact_id() || '.1:shard1'));
	SELECT shard || ' ' || coalesce(finish, 'NULL') FROM inami.prepared_loads();
	ROLLBACK;
	SELECT shard || ' ' || split_part(finish, ' ', 1) FROM inami.prepared_loads();}),
	"shard1 NULL\nshard1 ROLLBACK", 'prepared_loads: a part of a load still running is left to it (finish NULL), rolled back once it ended');
$node{shard1}->safe_psql('postgres', q{SELECT 'ROLLBACK PREPARED ' || quote_literal(gid) FROM pg_prepared_xacts WHERE gid LIKE 'inami\_load:%'}) =~ /(.+)/
	and $node{shard1}->safe_psql('postgres', $1);
is($node{shard1}->safe_psql('postgres', q{SELECT count(*) FROM pg_prepared_xacts}), '0', 'and nothing is left prepared on the shard');

# Parameter replication: the coordinator publishes its operator rows, each shard subscribes
# (without the first copy: add_shard found their rows equal); a row added or changed on
# the coordinator reaches both shards, and check_shards finds them equal.
($rc, $out, $err) = $node{other}->psql('postgres', 'SELECT inami.publish_parameters()');
like($err, qr/must run with wal_level = logical/, 'publish_parameters: refused without wal_level = logical');
is($coord->safe_psql('postgres', 'SELECT inami.publish_parameters()'), '12', 'publish_parameters: every parameter table');
for my $s (qw(shard1 shard2))
{
	$node{$s}->safe_psql('postgres', "CREATE SUBSCRIPTION inami_parameters_$s CONNECTION '" . conninfo($coord)
		. "' PUBLICATION inami_parameters WITH (copy_data = false)");
}
$coord->safe_psql('postgres', q{
	INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES (2023, '1500', 1, 'pensions', 'operator: IPCAL list 2023');
	UPDATE inami.ipcal_rule SET factor = 0.2 WHERE code = '1270';
	DELETE FROM inami.ipcal_rule WHERE code = '1400';});
$coord->wait_for_catchup("inami_parameters_$_") for qw(shard1 shard2);
is($node{shard2}->safe_psql('postgres', q{SELECT string_agg(code || '=' || factor, ',' ORDER BY code) FROM inami.ipcal_rule}),
	'1250=1,1270=0.2,1500=1', 'a shard receives the rows added, updated and deleted on the coordinator');
is($coord->safe_psql('postgres', 'SELECT count(*) FROM inami.check_shards()'), '2', 'check_shards: replicated shards agree');

$_->stop for values %node;
done_testing();
