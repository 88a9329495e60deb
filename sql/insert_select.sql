-- inami._insert_select(target, query): INSERT INTO target <query> with the foreign keys
-- checked once for all the rows (the control runs write a year's decisions with it). The
-- same rows, errors and locks as the INSERT; the plain INSERT wherever the two could differ.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
CREATE SCHEMA isel;
CREATE TABLE isel.household (year int, number text, PRIMARY KEY (year, number));
CREATE TABLE isel.run (id bigint PRIMARY KEY);
CREATE TABLE isel.decision (
    year int NOT NULL,
    number text NOT NULL,
    run bigint REFERENCES isel.run,
    amount numeric CHECK (amount >= 0),
    PRIMARY KEY (year, number),
    FOREIGN KEY (year, number) REFERENCES isel.household ON DELETE CASCADE
);
INSERT INTO isel.household SELECT 2024, 'h' || i FROM generate_series(1, 5) i;
INSERT INTO isel.household VALUES (2025, 'h1');
INSERT INTO isel.run VALUES (1), (2);

SELECT plan(45);

-- The rows, and their checks made once.
SELECT is(inami._insert_select('isel.decision', $$SELECT 2024, 'h' || i, 1::bigint, i * 10.0 FROM generate_series(1, 3) i$$),
          3::bigint, 'three decisions inserted, the count returned');
SELECT results_eq($$SELECT year, number, run, amount FROM isel.decision ORDER BY number$$,
                  $$VALUES (2024, 'h1', 1::bigint, 10.0), (2024, 'h2', 1::bigint, 20.0), (2024, 'h3', 1::bigint, 30.0)$$,
                  'as the query gave them');
SELECT is((SELECT array_agg(number ORDER BY number) FROM isel.household WHERE xmax <> '0'), ARRAY['h1', 'h2', 'h3'],
          'the households they reference are locked (FOR KEY SHARE, as a per-row check locks them), no other');
SELECT is((SELECT array_agg(id) FROM isel.run WHERE xmax <> '0'), ARRAY[1::bigint], 'and the run they reference');
SELECT is(inami._insert_select('isel.decision', $$SELECT 2024, 'h4', NULL::bigint, NULL::numeric$$), 1::bigint,
          'a NULL key is not checked (MATCH SIMPLE)');
-- Every row with the same run (or none): that one key checked alone; two runs: both.
CREATE TABLE isel.step (k int PRIMARY KEY, run bigint REFERENCES isel.run);
INSERT INTO isel.run VALUES (3), (4), (5);
SELECT is(inami._insert_select('isel.step', $$SELECT k, CASE WHEN k > 1 THEN 3::bigint END FROM generate_series(1, 3) k$$),
          3::bigint, 'rows with one run or none: inserted');
SELECT is((SELECT array_agg(id ORDER BY id) FROM isel.run WHERE id > 2 AND xmax <> '0'), ARRAY[3::bigint],
          'the run they share is locked, no other');
SELECT is(inami._insert_select('isel.step', $$SELECT k, k::bigint FROM generate_series(4, 5) k$$), 2::bigint,
          'rows with two runs: inserted');
SELECT is((SELECT array_agg(id ORDER BY id) FROM isel.run WHERE id > 2 AND xmax <> '0'), ARRAY[3::bigint, 4, 5],
          'both are locked');
SELECT is(inami._insert_select('isel.decision', $$SELECT 2024, 'h' || i, 1::bigint, 0.0 FROM generate_series(1, 0) i$$),
          0::bigint, 'no row: 0');

-- Errors are the INSERT's; nothing stays of a failed call.
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h5'', 1::bigint, 1.0 UNION ALL SELECT 2024, ''h9'', 1::bigint, 1.0')$$,
                 '23503', 'insert or update on table "decision" violates foreign key constraint "decision_year_number_fkey"',
                 'a household that does not exist: the foreign key''s error');
SELECT is((SELECT count(*) FROM isel.decision WHERE number = 'h5'), 0::bigint, 'and the row that had its household is not kept either');
CREATE FUNCTION pg_temp.detail_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
    RETURN d;
END $$;
SELECT is(pg_temp.detail_of($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h9'', 1::bigint, 1.0')$$),
          'Key (year, number)=(2024, h9) is not present in table "household".', 'the detail names the key, as PostgreSQL''s does');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h5'', 7::bigint, 1.0')$$,
                 '23503', 'insert or update on table "decision" violates foreign key constraint "decision_run_fkey"',
                 'a run that does not exist');
SELECT is(pg_temp.detail_of($$SELECT inami._insert_select('isel.decision', 'SELECT y, n, 7::bigint, 1.0 FROM (VALUES (2024, ''h5''), (2025, ''h1'')) v(y, n)')$$),
          'Key (run)=(7) is not present in table "run".', 'the one key of every row missing: named');
SELECT is(pg_temp.detail_of($$SELECT inami._insert_select('isel.decision', 'SELECT y, n, r, 1.0 FROM (VALUES (2024, ''h5'', 1::bigint), (2025, ''h1'', 7)) v(y, n, r)')$$),
          'Key (run)=(7) is not present in table "run".', 'a key missing among two: named');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2025, ''h2'', 1::bigint, 1.0')$$,
                 '23503', NULL, 'a household of another year: every column of the key counts');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h5'', 1::bigint, -1.0')$$,
                 '23514', 'new row for relation "decision" violates check constraint "decision_amount_check"',
                 'a CHECK constraint');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, NULL::text, 1::bigint, 1.0')$$,
                 '23502', NULL, 'a NOT NULL constraint');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h1'', 1::bigint, 1.0')$$,
                 '23505', 'duplicate key value violates unique constraint "decision_pkey"', 'the primary key');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'DELETE FROM isel.decision RETURNING *')$$,
                 '22023', 'inami._insert_select takes one SELECT', 'a query that is no SELECT is refused');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h5'', 1::bigint, 1.0, 1')$$,
                 '42601', 'INSERT has more expressions than target columns', 'too many columns: the INSERT''s error');
SELECT is((SELECT count(*) FROM isel.decision), 4::bigint, 'after the errors, the four rows inserted before, no other');

-- A query reading the table it inserts into sees the table as it was (no row twice).
CREATE TABLE isel.copy (n int);
INSERT INTO isel.copy SELECT generate_series(1, 3);
SELECT is(inami._insert_select('isel.copy', 'SELECT n + 10 FROM isel.copy'), 3::bigint, 'a table copied into itself: its rows once');

-- Where the result could differ, the plain INSERT: a user's trigger fires, a typmod is
-- applied, a deferred key waits for the commit, row-level security applies.
CREATE TABLE isel.note (what text);
CREATE FUNCTION isel.note() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO isel.note VALUES (NEW.number); RETURN NEW; END $$;
CREATE TRIGGER note AFTER INSERT ON isel.decision FOR EACH ROW EXECUTE FUNCTION isel.note();
SELECT is(inami._insert_select('isel.decision', $$SELECT 2024, 'h5', 2::bigint, 5.0$$), 1::bigint, 'with a trigger of the user');
SELECT is((SELECT array_agg(what) FROM isel.note), ARRAY['h5'], 'the trigger fired');
DROP TRIGGER note ON isel.decision;
CREATE TABLE isel.rounded (amount numeric(6, 1));
SELECT is(inami._insert_select('isel.rounded', 'SELECT 1.26::numeric'), 1::bigint, 'into a column of a typmod');
SELECT is((SELECT amount FROM isel.rounded), 1.3, 'the value takes the column''s typmod');
CREATE TABLE isel.numbered (id bigint GENERATED ALWAYS AS IDENTITY, what text);
SELECT throws_ok($$SELECT inami._insert_select('isel.numbered', 'SELECT 7::bigint, ''x''')$$,
                 '428C9', 'cannot insert a non-DEFAULT value into column "id"', 'a GENERATED ALWAYS identity takes no value');
CREATE TABLE isel.late (id bigint REFERENCES isel.run DEFERRABLE INITIALLY DEFERRED);
SELECT is(inami._insert_select('isel.late', 'SELECT 1::bigint'), 1::bigint, 'with a deferrable foreign key');

-- A read-only transaction: refused, as the INSERT is.
BEGIN;
SET TRANSACTION READ ONLY;
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2025, ''h1'', 1::bigint, 1.0')$$,
                 '25006', 'cannot execute INSERT in a read-only transaction', 'in a read-only transaction: refused');
COMMIT;

-- Privileges: those of the INSERT.
CREATE ROLE isel_operator;
GRANT inami_operator TO isel_operator;
GRANT USAGE ON SCHEMA isel TO isel_operator;
GRANT SELECT ON ALL TABLES IN SCHEMA isel TO isel_operator;
SET ROLE isel_operator;
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2025, ''h1'', 1::bigint, 1.0')$$,
                 '42501', 'permission denied for table decision', 'without INSERT on the table: refused');
RESET ROLE;
GRANT INSERT ON isel.decision TO isel_operator;
SET ROLE isel_operator;
SELECT is(inami._insert_select('isel.decision', $$SELECT 2025, 'h1', 1::bigint, 1.0$$), 1::bigint,
          'with INSERT (and no privilege on the referenced tables, as for a per-row check): inserted');
RESET ROLE;
ALTER TABLE isel.decision ENABLE ROW LEVEL SECURITY;
CREATE POLICY small ON isel.decision USING (true) WITH CHECK (amount < 100);
SET ROLE isel_operator;
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2024, ''h5'', 1::bigint, 500.0')$$,
                 '42501', 'new row violates row-level security policy for table "decision"', 'row-level security applies');
RESET ROLE;
ALTER TABLE isel.decision DISABLE ROW LEVEL SECURITY;
-- The checks run as the referenced tables' owner: nothing of the caller's search_path runs
-- there (a count of its own would otherwise run with the owner's rights).
CREATE SCHEMA isel_evil;
CREATE FUNCTION isel_evil.step(bigint) RETURNS bigint LANGUAGE plpgsql AS
$$ BEGIN RAISE EXCEPTION 'the caller''s count ran as %', current_user; END $$;
CREATE AGGREGATE isel_evil.count(*) (SFUNC = isel_evil.step, STYPE = bigint);
GRANT USAGE ON SCHEMA isel_evil TO isel_operator;
INSERT INTO isel.household VALUES (2025, 'h2');
SET ROLE isel_operator;
SET search_path = isel_evil, pg_catalog;
SELECT inami._insert_select('isel.decision', $$SELECT 2025, 'h2', 1::bigint, 1.0$$) AS inserted \gset
RESET search_path;
RESET ROLE;
SELECT is(:inserted::bigint, 1::bigint, 'a count() first on the caller''s search_path does not run in the checks');

-- Few keys against a large referenced table (a year's first run beside the years kept):
-- each key is looked up in the referenced table's index (the DEBUG lines at the end say
-- so) rather than the table hashed; the same check, the same locks, the same errors.
INSERT INTO isel.household SELECT 2030, 'p' || i FROM generate_series(1, 400) i;
ANALYZE isel.household;
SELECT is(inami._insert_select('isel.decision', $$SELECT 2030, 'p' || i, 1::bigint, 1.0 FROM generate_series(1, 3) i$$),
          3::bigint, 'three rows whose keys are looked up one by one among 407 households');
SELECT is((SELECT array_agg(number ORDER BY number) FROM isel.household WHERE year = 2030 AND xmax <> '0'),
          ARRAY['p1', 'p2', 'p3'], 'the three households they reference are locked, and no other of the year');
SELECT throws_ok($$SELECT inami._insert_select('isel.decision', 'SELECT 2030, ''p4'', 1::bigint, 1.0 UNION ALL SELECT 2030, ''q1'', 1::bigint, 1.0')$$,
                 '23503', 'insert or update on table "decision" violates foreign key constraint "decision_year_number_fkey"',
                 'a key missing among few: the foreign key''s error');
SELECT is(pg_temp.detail_of($$SELECT inami._insert_select('isel.decision', 'SELECT 2030, ''p4'', 1::bigint, 1.0 UNION ALL SELECT 2030, ''q1'', 1::bigint, 1.0')$$),
          'Key (year, number)=(2030, q1) is not present in table "household".', 'naming the key missing');

-- Many keys of one year: only the households of that year are read, hashed (the DEBUG
-- lines say so); the same locks and errors.
SELECT is(inami._insert_select('isel.decision', $$SELECT 2030, 'p' || i, 1::bigint, 1.0 FROM generate_series(201, 350) i$$),
          150::bigint, '150 decisions of one year, their keys joined to that year''s households only');
SELECT is((SELECT count(*) FROM isel.household WHERE year = 2030 AND substr(number, 2)::int BETWEEN 8 AND 350 AND xmax <> '0'),
          150::bigint, 'their 150 households are locked, and none of p8 to p200');
SELECT is(pg_temp.detail_of($$SELECT inami._insert_select('isel.decision', 'SELECT 2030, ''p'' || i, 1::bigint, 1.0 FROM generate_series(351, 500) i')$$),
          'Key (year, number)=(2030, p401) is not present in table "household".', 'a key missing among them: named');

-- A control run's first run writes its decisions this way, a later run through MERGE: both
-- are tested by the control suites; here, that the way is the one said.
SELECT is((SELECT count(*) FROM isel.decision), 160::bigint, '160 decisions in the end');
SELECT is((SELECT count(*) FROM isel.household WHERE year = 2025 AND xmax <> '0'), 2::bigint,
          'the households of 2025 were locked by the operator''s inserts');
SELECT ok(has_function_privilege('inami_operator', 'inami._insert_select(regclass, text)', 'EXECUTE')
          AND NOT has_function_privilege('inami_analyst', 'inami._insert_select(regclass, text)', 'EXECUTE'),
          'operators may call it, analysts not');
SELECT * FROM finish();

-- Which way the rows went (DEBUG1): checked at once, or through INSERT (a trigger of the
-- user, a typmod, a deferrable key, a key of a row type, the replication role).
CREATE TYPE isel.pair AS (a int, b int);
CREATE TABLE isel.pair_parent (p isel.pair PRIMARY KEY);
CREATE TABLE isel.pair_child (p isel.pair REFERENCES isel.pair_parent);
SET client_min_messages = debug1;
SELECT inami._insert_select('isel.decision', $$SELECT 2030, 'p' || i, 1::bigint, 1.0 FROM generate_series(4, 5) i$$);
SELECT inami._insert_select('isel.decision', $$SELECT 2030, 'p' || i, i - 5::bigint, 1.0 FROM generate_series(6, 7) i$$);
SELECT inami._insert_select('isel.decision', $$SELECT 2030, 'p' || i, 1::bigint, 1.0 FROM generate_series(8, 200) i$$);
SELECT inami._insert_select('isel.decision', $$SELECT 2024, 'h5', 2::bigint, 5.0 WHERE false$$);
CREATE TRIGGER note AFTER INSERT ON isel.decision FOR EACH ROW EXECUTE FUNCTION isel.note();
SELECT inami._insert_select('isel.decision', $$SELECT 2024, 'h5', 2::bigint, 5.0 WHERE false$$);
SELECT inami._insert_select('isel.rounded', 'SELECT 1.26::numeric WHERE false');
SELECT inami._insert_select('isel.late', 'SELECT 1::bigint WHERE false');
SELECT inami._insert_select('isel.pair_child', 'SELECT ROW(1, NULL)::isel.pair WHERE false');
DROP TRIGGER note ON isel.decision;
SET session_replication_role = replica;
SELECT inami._insert_select('isel.decision', $$SELECT 2024, 'h5', 2::bigint, 5.0 WHERE false$$);
RESET session_replication_role;
RESET client_min_messages;

DROP SCHEMA isel, isel_evil CASCADE;
DROP ROLE isel_operator;
