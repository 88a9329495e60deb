-- Parameters are data: every table commented, checked, dumped; every shipped row sourced.
\set VERBOSITY default
SELECT plan(15);

SELECT is(inami.version(), (SELECT extversion FROM pg_extension WHERE extname = 'inami'),
          'the library and the install script carry the same version');

SELECT is_empty($$
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'inami' AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL
$$, 'every table and view has a comment');

SELECT is_empty($$
    SELECT c.relname, a.attname FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = 'inami' AND c.relkind = 'r' AND col_description(c.oid, a.attnum) IS NULL
$$, 'every column of every table has a comment');

SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'inami' AND obj_description(p.oid, 'pg_proc') IS NULL
$$, 'every function and aggregate has a comment');

SELECT is_empty($$
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'inami' AND c.relkind = 'r'
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = c.oid AND k.contype = 'c')
$$, 'every table has a CHECK constraint');

-- Volatility: an IMMUTABLE SQL function calls only IMMUTABLE functions, or the planner never
-- inlines it (date_trunc over timestamptz, which depends on TimeZone, is STABLE). Each is
-- called on columns (not constants, which would be folded) and must be gone from the plan.
CREATE FUNCTION pg_temp.plan_of_call(f regprocedure) RETURNS text
LANGUAGE plpgsql AS $f$
DECLARE
    cols text;
    args text;
    plan text := '';
    line text;
BEGIN
    SELECT string_agg(format('NULL::%s AS a%s', format_type(t, NULL), i), ', ' ORDER BY i),
           string_agg('v.a' || i, ', ' ORDER BY i)
    INTO cols, args
    FROM pg_proc p, unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(t, i) WHERE p.oid = f;
    FOR line IN EXECUTE format('EXPLAIN (VERBOSE, COSTS OFF) SELECT %s(%s) FROM (SELECT %s OFFSET 0) v',
                               f::oid::regproc, args, cols) LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END;
$f$;

SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace = 'inami'::regnamespace AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql') AND p.provolatile = 'i'
      AND strpos(pg_temp.plan_of_call(p.oid), p.oid::regproc::text || '(') > 0
$$, 'every IMMUTABLE SQL function is inlined (it calls nothing less than IMMUTABLE)');

SELECT is_empty($$
    SELECT k.conrelid::regclass, k.conname FROM pg_constraint k
    WHERE k.connamespace = 'inami'::regnamespace AND k.contype = 'c'
      AND pg_get_constraintdef(k.oid) LIKE '%timestamp with time zone%'
$$, 'no CHECK goes through timestamptz (its date_trunc depends on TimeZone: not IMMUTABLE)');

-- A foreign key's referencing columns are indexed (the first columns of an index), or each
-- deleted or updated parent row scans the whole child table: deleting a Syst_01 file of a
-- million households would scan the events a million times. Not for the references to a
-- file or a run: one scan per file or run deleted, and no index to feed on every load.
SELECT is_empty($$
    SELECT k.conrelid::regclass, k.conname FROM pg_constraint k
    WHERE k.connamespace = 'inami'::regnamespace AND k.contype = 'f'
      AND k.confrelid NOT IN ('inami.flow_file'::regclass, 'inami.control_run'::regclass)
      AND NOT EXISTS (SELECT 1 FROM pg_index i
                      WHERE i.indrelid = k.conrelid
                        AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] @> k.conkey
                        AND (i.indkey::int2[])[0:cardinality(k.conkey) - 1] <@ k.conkey)
$$, 'every foreign key between households, members and their rows is backed by an index');

-- Every table and sequence holds users' data: pg_dump must dump it.
SELECT is_empty($$
    SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'inami' AND c.relkind IN ('r', 'p', 'S')
      AND NOT c.oid = ANY ((SELECT extconfig FROM pg_extension WHERE extname = 'inami')::oid[])
$$, 'every table and sequence is dumped by pg_dump (pg_extension_config_dump)');

-- Parameter tables (the ones with a shipped column): operator rows only.
SELECT is_empty($$
    SELECT c.oid::regclass, cfg.cond
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS cfg(rel, cond)
    JOIN pg_class c ON c.oid = cfg.rel
    WHERE e.extname = 'inami'
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'shipped')
      AND cfg.cond <> 'WHERE NOT shipped'
$$, 'pg_dump keeps operator rows only of parameter tables: shipped rows come back with CREATE EXTENSION');

SELECT is(count(*), 0::bigint, 'the IPCAL list ships empty (operator data)') FROM inami.ipcal_rule;

SELECT is_empty($$
    SELECT 'im_ceiling', income_year::text FROM inami.im_ceiling WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'pivot_index_step', effective_from::text FROM inami.pivot_index_step WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'contribution_rate', category FROM inami.contribution_rate WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'contribution_minimum_income', year::text FROM inami.contribution_minimum_income WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'contribution_minimum_factor', min_age::text FROM inami.contribution_minimum_factor WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'contribution_minimum_sheltered', min_age::text FROM inami.contribution_minimum_sheltered WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'dependent_limit_base', base_amount::text FROM inami.dependent_limit_base WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'parameter_coverage', series FROM inami.parameter_coverage WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
    UNION ALL SELECT 'return_code_asked_again', return_code FROM inami.return_code_asked_again WHERE shipped AND source !~ 'Circ\. O\.A\. [0-9]{4}/[0-9]+'
$$, 'every shipped row names its circular');
SELECT results_eq($$SELECT return_code FROM inami.return_code_asked_again WHERE shipped ORDER BY 1$$,
                  $$VALUES ('03'), ('04'), ('10'), ('11')$$,
                  'E 4.3, footnote 11: the return codes asked again in September ship');

SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'inami' AND p.prosecdef
$$, 'no SECURITY DEFINER function');

-- A PL/pgSQL simple expression (RETURN f(...)) keeps its function state for the whole
-- transaction: a row added by an earlier statement of the same transaction is seen.
CREATE FUNCTION pg_temp.plafond(s int, y int) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RETURN inami.im_plafond(s, y); END $$;
CREATE FUNCTION pg_temp.verdict(i numeric, s int, y int) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RETURN inami.im_verdict(i, s, y); END $$;
CREATE FUNCTION pg_temp.dependent(y int, q int) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RETURN inami.quarterly_dependent_limit(y, q); END $$;
CREATE FUNCTION pg_temp.items(y int) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RETURN inami.ipcal_items_income('{1250}', '{100.00}', y); END $$;
CREATE FUNCTION pg_temp.in_one_transaction() RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    seen text[];
BEGIN
    INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES (2023, '1250', 1, 'test', 'test: sample row');
    -- read once by each function...
    seen := ARRAY[pg_temp.plafond(1, 2022)::text, pg_temp.verdict(1000.00, 1, 2022),
                  pg_temp.dependent(2024, 3)::text, pg_temp.items(2023)::text];
    -- ...then rows added by the next statements, and each function asked again
    INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES (2031, 20000.00, 3000.00, 'test: added later');
    INSERT INTO inami.pivot_index_step (effective_from, exponent, source) VALUES ('2024-11-01', 29, 'test: added later');
    INSERT INTO inami.parameter_coverage (series, valid_until, source) VALUES ('quarterly_dependent_limit', '2024-12-31', 'test: added later');
    UPDATE inami.ipcal_rule SET factor = -1 WHERE tax_year = 2023 AND code = '1250';
    seen := seen || ARRAY[pg_temp.plafond(1, 2031)::text, pg_temp.verdict(25000.00, 1, 2031),
                          pg_temp.dependent(2024, 4)::text, pg_temp.items(2023)::text];
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = array_to_string(seen, ' ');  -- and roll it all back
END;
$$;
CREATE FUNCTION pg_temp.outcome() RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_temp.in_one_transaction();
    RETURN 'no exception';
EXCEPTION WHEN raise_exception THEN
    RETURN SQLERRM;
END;
$$;
SELECT is(pg_temp.outcome(), '23303.84 OK 3069.11 100.00 20000.00 NOK 3110.03 -100.00',
          'in one transaction, im_plafond, im_verdict, quarterly_dependent_limit and ipcal_items_income see the rows added since they first read (PL/pgSQL simple expressions)');

SELECT * FROM finish();

-- A row written in a subtransaction that is rolled back is not seen by a cache that read
-- it: under REPEATABLE READ the snapshot stays, so the subtransaction decides. The last
-- call must fail: 2099 has no ceiling once the savepoint is rolled back.
\set SHOW_CONTEXT never
BEGIN ISOLATION LEVEL REPEATABLE READ;
SAVEPOINT a;
INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES (2099, 100.00, 10.00, 'test: rolled back');
SELECT pg_temp.plafond(1, 2099) AS inside_the_savepoint;
ROLLBACK TO a;
SELECT pg_temp.plafond(1, 2099) AS after_the_rollback;
ROLLBACK;

-- A same-named operator on the caller's search_path does not stand in for numeric's own
-- in the parameter queries (they run with search_path = pg_catalog, pg_temp).
CREATE SCHEMA evil;
CREATE FUNCTION evil.times(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil.* ran'; END $$;
CREATE OPERATOR evil.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = evil.times);
SET search_path = public, evil;
SELECT inami.im_plafond(1, 2022) AS with_evil_on_the_path;
RESET search_path;
DROP SCHEMA evil CASCADE;
