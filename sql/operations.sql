-- Operations: the access levels (every level against every table, view and routine, and
-- the level each refusal names: the cluster preloads the library, test/inami.conf), one
-- OA's rows per role (row-level security), the run log's interrupted runs.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DELETE FROM inami.proactive_outcome; DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision;
DELETE FROM inami.household_event; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;

CREATE ROLE ops_nobody; CREATE ROLE ops_analyst IN ROLE inami_analyst;
CREATE ROLE ops_operator IN ROLE inami_operator; CREATE ROLE ops_parameters IN ROLE inami_parameters;
CREATE ROLE ops_analyst_300 IN ROLE inami_analyst; CREATE ROLE ops_analyst_500 IN ROLE inami_analyst;
CREATE ROLE ops_super SUPERUSER;

-- q run as role r, rolled back: 'ok', 'ok: SQLSTATE' (allowed, failed otherwise) or 'denied: message'.
CREATE FUNCTION pg_temp.try(r name, q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', r);
        EXECUTE q;
        RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0009';
    EXCEPTION
        WHEN insufficient_privilege THEN RETURN 'denied: ' || SQLERRM;
        WHEN OTHERS THEN RETURN CASE WHEN SQLSTATE = 'P0009' THEN 'ok' ELSE 'ok: ' || SQLSTATE END;
    END;
END;
$$;

-- Every cell: each table (SELECT, INSERT, UPDATE, DELETE; a view: SELECT) and routine
-- (EXECUTE, planned but not run: WHERE false; a procedure is called with NULLs); the owner
-- of the extension and another superuser too. The level a refusal must name: the first of
-- inami_analyst, inami_parameters, inami_operator (with an analyst's privileges) and
-- pg_read_server_files that inami.privileges says grants the privilege; none: the owner's.
CREATE TEMP TABLE cells AS
WITH objects AS (
    SELECT c.oid::regclass::text AS object, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END AS kind,
           c.oid::regclass::text AS name, p.privilege,
           CASE p.privilege
               WHEN 'SELECT' THEN format('SELECT FROM %s WHERE false', c.oid::regclass)
               WHEN 'INSERT' THEN format('INSERT INTO %s (%I) SELECT NULL WHERE false', c.oid::regclass, a.attname)
               WHEN 'UPDATE' THEN format('UPDATE %s SET %I = NULL WHERE false', c.oid::regclass, a.attname)
               WHEN 'DELETE' THEN format('DELETE FROM %s WHERE false', c.oid::regclass) END AS query
    FROM pg_class c
    CROSS JOIN LATERAL (SELECT a.attname FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attidentity = ''
                        ORDER BY a.attnum LIMIT 1) a
    CROSS JOIN LATERAL unnest(CASE c.relkind WHEN 'r' THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']
                                             ELSE ARRAY['SELECT'] END) p(privilege)
    WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind IN ('r', 'v')
    UNION ALL
    SELECT p.oid::regprocedure::text, CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END,
           'inami.' || quote_ident(p.proname), 'EXECUTE',
           CASE WHEN p.prokind = 'p'
                THEN format('CALL %s(%s)', p.oid::regproc,
                            (SELECT string_agg(format('NULL::%s', format_type(t, NULL)), ', ' ORDER BY n)
                             FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, n)))
                ELSE format('SELECT %s(%s) FROM (SELECT %s OFFSET 0) s WHERE false', p.oid::regproc,
                            (SELECT string_agg('s.a' || n, ', ' ORDER BY n) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, n)),
                            coalesce((SELECT string_agg(format('NULL::%s AS a%s', format_type(t, NULL), n), ', ' ORDER BY n)
                                      FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY u(t, n)), '1')) END
    FROM pg_proc p
    WHERE p.pronamespace = 'inami'::regnamespace AND p.prorettype <> 'trigger'::regtype
      AND NOT EXISTS (SELECT FROM pg_aggregate a WHERE p.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn,
                                                                   a.aggserialfn, a.aggdeserialfn))
), levels(role, levels) AS (
    VALUES ('ops_nobody', '{}'::text[]), ('ops_analyst', '{inami_analyst}'),
           ('ops_operator', '{inami_operator,inami_analyst}'), ('ops_parameters', '{inami_parameters}'),
           (current_user, NULL), ('ops_super', NULL)
)
SELECT l.role, o.object, o.privilege, o.query,
       l.levels IS NULL OR EXISTS (SELECT FROM inami.privileges v WHERE v.object = o.object AND v.privilege = o.privilege
                                                                   AND v.level = ANY (l.levels)) AS expected,
       pg_temp.try(l.role, o.query) AS actual,
       format('denied: permission denied for %s %s: %s', o.kind, o.name,
              coalesce('access level ' || (SELECT u.level FROM unnest(ARRAY['inami_analyst', 'inami_parameters', 'inami_operator',
                                                                            'pg_read_server_files']) WITH ORDINALITY u(level, n)
                                           WHERE EXISTS (SELECT FROM inami.privileges v
                                                         WHERE v.object = o.object AND v.privilege = o.privilege
                                                           AND (v.level = u.level OR (u.level = 'inami_operator'
                                                                                      AND v.level = 'inami_analyst')))
                                           ORDER BY u.n LIMIT 1) || ' needed',
                       'only the owner of extension inami may use it')) AS refusal
FROM objects o CROSS JOIN levels l;

SELECT plan(69);

-- 1. The matrix: every cell the documented mapping (inami.privileges) allows works, every
-- other is refused with 42501 naming the object and the level that grants it; a refusal is
-- of an object that a level grants (the mapping names it), or of the owner's.
SELECT is((SELECT count(*) FROM cells WHERE role = r), (SELECT count(*) FROM cells WHERE role = 'ops_analyst'),
          CASE r WHEN current_user THEN 'the owner' ELSE r END || ': every table, view and routine checked')
FROM unnest(ARRAY['ops_nobody', 'ops_operator', 'ops_parameters', current_user, 'ops_super']) r;
SELECT cmp_ok((SELECT count(*) FROM cells WHERE role = 'ops_analyst'), '>', 150::bigint, 'the matrix has every object');
SELECT is_empty(format($$SELECT object, privilege, expected, actual FROM cells
                         WHERE role = %L AND (expected <> (actual LIKE 'ok%%') OR actual LIKE 'ok: 42501')$$, r),
                CASE r WHEN current_user THEN 'the owner' ELSE r END || ': each cell as inami.privileges says')
FROM unnest(ARRAY['ops_nobody', 'ops_analyst', 'ops_operator', 'ops_parameters', current_user, 'ops_super']) r;
SELECT is_empty($$SELECT role, object, actual, refusal FROM cells WHERE actual LIKE 'denied:%' AND actual <> refusal$$,
                'every refusal names the object and the level that grants it (or the owner''s)');
SELECT cmp_ok((SELECT count(*) FROM cells WHERE actual LIKE 'denied:%access level%needed'), '>', 400::bigint,
              '... of the many refused cells');
SELECT is((SELECT string_agg(DISTINCT substring(actual from 'access level (\w+) needed'), ', ') FROM cells), 
          'inami_analyst, inami_operator, inami_parameters, pg_read_server_files', '... each level named where it is needed');
SELECT is((SELECT count(*) FROM cells WHERE role IN (current_user, 'ops_super') AND actual NOT LIKE 'ok%'), 0::bigint,
          'the owner of the extension and a superuser are refused nothing');
SELECT is_empty($$SELECT role, object, privilege FROM cells c WHERE actual LIKE 'denied:%'
                  AND NOT EXISTS (SELECT FROM inami.privileges v WHERE v.object = c.object AND v.privilege = c.privilege)
                  AND object NOT IN ('inami.set_oa_security(boolean)', 'inami._grant_levels()',
                                     -- the cluster's shape and the sharded load of server files
                                     'inami.add_shard(text,text)', 'inami.create_sharded_table(text,text,text)',
                                     'inami.publish_parameters(name)', 'inami._shard_take_id_range(integer)',
                                     'inami._conninfo_options(text,boolean)',
                                     'inami.load_flow_file_sharded(text,text[])',
                                     'inami._split_flow_file(text,text,text[],text[],integer[],integer)',
                                     'inami._load_flow_part(oid,text,integer,integer)',
                                     'inami._load_flow_lo(oid,text,text)',
                                     'inami.prepared_loads()')
                  AND NOT (object = 'inami.oa_access' AND privilege <> 'SELECT')$$,
                'every refusal is of an object a level grants (inami.privileges names it), or the owner''s (writing inami.oa_access)');
SELECT is((SELECT count(*) FROM cells WHERE role = 'ops_nobody' AND actual NOT LIKE 'denied: permission denied for %'),
          0::bigint, 'a role without a level: every object refused (each with the level it needs, above)');
SELECT ok(has_schema_privilege('ops_nobody', 'inami', 'USAGE') AND NOT has_schema_privilege('ops_nobody', 'inami', 'CREATE'),
          'the schema''s USAGE is PUBLIC''s (it reads nothing), not CREATE');
-- The design, cell by cell.
SELECT is_empty($$SELECT object, privilege FROM cells WHERE role = 'ops_analyst' AND privilege <> 'SELECT'
                  AND privilege <> 'EXECUTE' AND actual LIKE 'ok%'$$, 'an analyst changes no row');
SELECT set_eq($$SELECT object FROM cells WHERE role = 'ops_parameters' AND privilege = 'INSERT' AND actual LIKE 'ok%'$$,
              $$SELECT object FROM cells WHERE role = 'ops_parameters' AND privilege = 'SELECT' AND actual LIKE 'ok%'
                AND object IN (SELECT c.oid::regclass::text FROM pg_class c WHERE c.relkind = 'r')$$,
              'a parameter maintainer reads and writes the parameter tables, and no other table');
SELECT is_empty($$SELECT object FROM cells WHERE role = 'ops_parameters' AND actual LIKE 'ok%'
                  AND object ~ '^inami\.(syst|pro0|control_|household_event|proactive_|flow_file|oa_access|systematic|explain|read_)'$$,
                'a parameter maintainer reads no insured person''s data');
SELECT is((SELECT actual FROM cells WHERE role = 'ops_parameters' AND object = 'inami.niss_is_valid(text)'), 'ok',
          'a parameter maintainer calls the rules');
SELECT is_empty($$SELECT object, privilege FROM cells WHERE role = 'ops_operator' AND privilege IN ('INSERT', 'UPDATE', 'DELETE')
                  AND actual LIKE 'ok%' AND object IN (SELECT object FROM cells WHERE role = 'ops_parameters' AND privilege = 'INSERT'
                                                       AND actual LIKE 'ok%')$$,
                'an operator changes no parameter');
SELECT is((SELECT string_agg(role || ' ' || left(actual, 7), ', ' ORDER BY role) FROM cells WHERE object IN ('inami.load_flow(text)') AND role <> ALL (ARRAY[current_user, 'ops_super'])),
          'ops_analyst denied:, ops_nobody denied:, ops_operator ok, ops_parameters denied:', 'load_flow: operators');
SELECT is((SELECT string_agg(role || ' ' || left(actual, 7), ', ' ORDER BY role) FROM cells WHERE object = 'inami.load_flow_file(text)' AND role <> ALL (ARRAY[current_user, 'ops_super'])),
          'ops_analyst denied:, ops_nobody denied:, ops_operator denied:, ops_parameters denied:',
          'load_flow_file: pg_read_server_files only, also for an operator');
SELECT is((SELECT string_agg(role || ' ' || left(actual, 7), ', ' ORDER BY role)
           FROM cells WHERE object = 'inami.run_systematic_control(integer)' AND role <> ALL (ARRAY[current_user, 'ops_super'])),
          'ops_analyst denied:, ops_nobody denied:, ops_operator ok: 220, ops_parameters denied:',
          'run_systematic_control: operators (NULL year: 22023)');
SELECT is((SELECT actual FROM cells WHERE role = 'ops_analyst' AND object = 'inami.run_systematic_control(integer)'),
          'denied: permission denied for procedure inami.run_systematic_control: access level inami_operator needed',
          'a refusal names the object and the level it needs');
SELECT is((SELECT level FROM inami.privileges WHERE object = 'inami.run_systematic_control(integer)'), 'inami_operator',
          '... as inami.privileges does');
SELECT is_empty($$SELECT o.object FROM (SELECT c.oid::regclass::text, c.relacl FROM pg_class c WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind IN ('r', 'v')
                  UNION ALL SELECT p.oid::regprocedure::text, p.proacl FROM pg_proc p WHERE p.pronamespace = 'inami'::regnamespace) o(object, acl)
                  WHERE o.acl IS NULL OR EXISTS (SELECT FROM aclexplode(o.acl) a WHERE a.grantee = 0)$$,
                'nothing of inami is granted to PUBLIC');
SELECT ok(pg_has_role('inami_operator', 'inami_analyst', 'MEMBER') AND NOT pg_has_role('inami_parameters', 'inami_analyst', 'MEMBER')
          AND NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'inami_analyst'),
          'the levels are NOLOGIN group roles; an operator is an analyst too');

-- The refusal, whole: message, detail and hint.
CREATE FUNCTION pg_temp.refusal(r name, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    m text; d text; h text;
BEGIN
    BEGIN
        EXECUTE format('SET LOCAL ROLE %I', r);
        EXECUTE q;
        RAISE EXCEPTION 'rolled back' USING ERRCODE = 'P0009';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
        RETURN CASE WHEN SQLSTATE = 'P0009' THEN 'ok' ELSE concat_ws(' | ', SQLSTATE, m, d, h) END;
    END;
END;
$$;
SELECT is(pg_temp.refusal('ops_analyst', 'CALL inami.run_systematic_control(2024)'),
          '42501 | permission denied for procedure inami.run_systematic_control: access level inami_operator needed | '
          'Role ops_analyst has no EXECUTE privilege on procedure inami.run_systematic_control; the level inami_operator grants it. | '
          'GRANT inami_operator TO ops_analyst;', 'a CALL refused: the level, the role that lacks it, the GRANT to run');
SELECT is(pg_temp.refusal('ops_operator', 'TRUNCATE inami.control_run'),
          '42501 | permission denied for table inami.control_run: only the owner of extension inami may use it | '
          'Role ops_operator has no TRUNCATE privilege on table inami.control_run, and no access level grants it. | '
          'Run it as the owner of extension inami (or a superuser).', 'TRUNCATE: no level grants it, the owner''s');
SELECT is(pg_temp.try('ops_operator', 'CALL inami.run_systematic_control(inami._shard_take_id_range(NULL))'),
          'denied: permission denied for function inami._shard_take_id_range: only the owner of extension inami may use it',
          'a CALL: the functions of its arguments too');
-- folded into a constant by the planner (an immutable function): refused before
SELECT is(pg_temp.try('ops_nobody', $$SELECT inami.niss_is_valid('85073003328')$$),
          'denied: permission denied for function inami.niss_is_valid: access level inami_analyst needed',
          'a call the planner folds into a constant');
-- inside SQL functions (another role's, callable by all): inlined by the planner (RETURN, a
-- body in quotes), or planned on its own (two statements)
CREATE FUNCTION public.ops_valid(text) RETURNS boolean LANGUAGE sql IMMUTABLE RETURN inami.niss_is_valid($1);
CREATE FUNCTION public.ops_valid_quoted(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT inami.niss_is_valid($1)';
CREATE FUNCTION public.ops_runs() RETURNS bigint LANGUAGE sql AS 'SELECT 1; SELECT count(*) FROM inami.control_run';
SELECT is(pg_temp.try('ops_nobody', $$SELECT public.ops_valid('85073003328')$$),
          'denied: permission denied for function inami.niss_is_valid: access level inami_analyst needed',
          'a function called inside a SQL function (RETURN, inlined)');
SELECT is(pg_temp.try('ops_nobody', $$SELECT public.ops_valid_quoted(n) FROM (VALUES ('85073003328')) v(n)$$),
          'denied: permission denied for function inami.niss_is_valid: access level inami_analyst needed',
          '... (a body in quotes, inlined)');
SELECT is(pg_temp.try('ops_parameters', 'SELECT public.ops_runs()'),
          'denied: permission denied for table inami.control_run: access level inami_analyst needed',
          '... (planned on its own)');
SELECT is(pg_temp.try('ops_parameters', $$SELECT public.ops_valid('85073003328'), public.ops_valid_quoted('85073003328')$$), 'ok',
          '... and called by a role with the level');
-- a view reads its tables as the caller (security_invoker): the table is named
GRANT SELECT ON inami.syst04_answer TO ops_nobody;
SELECT is(pg_temp.try('ops_nobody', 'SELECT * FROM inami.syst04_answer'),
          'denied: permission denied for table inami.syst04_household: access level inami_analyst needed',
          'a view of the caller''s rights granted alone: the table behind it is refused, with its level');
REVOKE SELECT ON inami.syst04_answer FROM ops_nobody;
-- a view that reads as its owner, granted by a DBA: no refusal
CREATE VIEW public.ops_ceilings AS SELECT income_year, base FROM inami.im_ceiling;
GRANT SELECT ON public.ops_ceilings TO ops_nobody;
SELECT is(pg_temp.try('ops_nobody', 'SELECT * FROM public.ops_ceilings'), 'ok', 'a view that reads as its owner: not refused');
-- column privileges a DBA granted are respected
GRANT SELECT (run_id, status) ON inami.control_run TO ops_parameters;
SELECT is(pg_temp.try('ops_parameters', 'SELECT run_id, status FROM inami.control_run'), 'ok',
          'a column privilege granted by a DBA: those columns read');
SELECT is(pg_temp.try('ops_parameters', 'SELECT count(*) FROM inami.control_run'), 'ok', '... and a count');
SELECT is(pg_temp.try('ops_parameters', 'SELECT run_id, kind FROM inami.control_run'),
          'denied: permission denied for table inami.control_run: access level inami_analyst needed', '... another column refused');
-- COPY of a table (COPY to a file needs pg_write_server_files as well, granted here)
GRANT pg_write_server_files TO ops_parameters;
SELECT is(pg_temp.try('ops_parameters', $$COPY inami.control_run (run_id, status) TO '/dev/null'$$), 'ok',
          'COPY of the columns granted');
SELECT is(pg_temp.try('ops_parameters', $$COPY inami.control_run TO '/dev/null'$$),
          'denied: permission denied for table inami.control_run: access level inami_analyst needed', 'COPY of the table refused');
SELECT is(pg_temp.try('ops_analyst', $$COPY inami.im_ceiling FROM '/dev/null'$$),
          'denied: permission denied for table inami.im_ceiling: access level inami_parameters needed', 'COPY FROM refused');
REVOKE pg_write_server_files FROM ops_parameters;
REVOKE SELECT (run_id, status) ON inami.control_run FROM ops_parameters;
DROP VIEW public.ops_ceilings;
DROP FUNCTION public.ops_valid(text), public.ops_valid_quoted(text), public.ops_runs();

-- 2. One OA's rows per role. Households of OA 300 and 500 of control year 2024 and of the
-- 2024 proactive flow, decided by the owner.
CREATE FUNCTION pg_temp.niss(n int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT nine || lpad((97 - (nine::bigint % 97))::text, 2, '0') FROM (SELECT '8001010' || lpad(n::text, 2, '0') AS nine) s
$$;
INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count)
VALUES ('Syst01', 2024, '300', 'ops-300', 2), ('Syst01', 2024, '500', 'ops-500', 2),
       ('Pro01', 2024, '300', 'pro-300', 2), ('Pro01', 2024, '500', 'pro-500', 2);
INSERT INTO inami.syst01_household (control_year, request_number, oa, requester_niss, file_id)
SELECT 2024, inami.request_number(o, 2024, pg_temp.niss(n)), o, pg_temp.niss(n),
       (SELECT file_id FROM inami.flow_file WHERE source_name = 'ops-' || o)
FROM (VALUES ('300', 1), ('300', 2), ('500', 3), ('500', 4)) v(o, n);
INSERT INTO inami.syst01_member SELECT control_year, request_number, requester_niss FROM inami.syst01_household WHERE control_year = 2024;
INSERT INTO inami.household_event (control_year, request_number, event, event_date)
SELECT control_year, request_number, 'death', '2024-06-01' FROM inami.syst01_household WHERE control_year = 2024;
INSERT INTO inami.pro01_household (year, request_number, oa, requester_niss, file_id)
SELECT 2024, inami.request_number(o, 2024, pg_temp.niss(n)), o, pg_temp.niss(n),
       (SELECT file_id FROM inami.flow_file WHERE source_name = 'pro-' || o)
FROM (VALUES ('300', 1), ('300', 2), ('500', 3), ('500', 4)) v(o, n);
INSERT INTO inami.pro01_member SELECT year, request_number, requester_niss FROM inami.pro01_household WHERE year = 2024;
CALL inami.run_systematic_control(2024);
CALL inami.run_proactive_flow(2024);
UPDATE inami.proactive_decision SET code = 'OK' WHERE year = 2024;
INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
SELECT year, request_number, niss, 4, true FROM inami.pro01_member WHERE year = 2024;
INSERT INTO inami.oa_access VALUES ('ops_analyst_300', '300'), ('ops_analyst_500', '500'), ('ops_gone', '500');
GRANT SELECT ON ALL TABLES IN SCHEMA pg_temp TO PUBLIC;

SELECT is((SELECT array_agg(t::text ORDER BY t::text) FROM inami.set_oa_security(true) t),
          '{inami.control_decision,inami.flow_file,inami.household_event,inami.pro01_household,inami.pro01_member,inami.pro03_person,inami.pro04_result_received,inami.proactive_decision,inami.proactive_outcome,inami.syst01_household,inami.syst01_member,inami.syst04_household,inami.syst04_member,inami.syst05_feedback_received}',
          'set_oa_security(true) enables row-level security on every table with an OA policy');
SELECT is(pg_temp.try('ops_operator', 'SELECT inami.set_oa_security(false)'),
          'denied: permission denied for function inami.set_oa_security: only the owner of extension inami may use it',
          'only the owner enables or disables it');

-- Every table and view, as the analyst of OA 300: what of OA 500 it sees, by household.
CREATE TEMP TABLE seen (who text, what text, n bigint);
CREATE FUNCTION pg_temp.seen_as(r name) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t record;
    k bigint;
BEGIN
    FOR t IN SELECT c.oid::regclass AS rel FROM pg_class c WHERE c.relnamespace = 'inami'::regnamespace
             AND c.relkind IN ('r', 'v') AND c.relname <> 'oa_access' AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid
                                                     AND a.attname IN ('request_number', 'niss', 'oa'))
    LOOP
        EXECUTE format('SET LOCAL ROLE %I', r);
        EXECUTE format($q$SELECT count(*) FROM (SELECT to_jsonb(x) j FROM %s x) s
                          WHERE j->>'oa' = '500' OR left(j->>'request_number', 3) = '500'
                             OR j->>'niss' IN (SELECT pg_temp.niss(3) UNION SELECT pg_temp.niss(4))$q$, t.rel) INTO k;
        RESET ROLE;
        INSERT INTO seen VALUES (r, t.rel::text, k);
    END LOOP;
END;
$$;
SELECT pg_temp.seen_as('ops_analyst_300');
SELECT pg_temp.seen_as('ops_analyst');
SELECT cmp_ok((SELECT count(*) FROM seen WHERE who = 'ops_analyst_300'), '>=', 18::bigint, 'every table and view with households looked at');
SELECT is_empty($$SELECT what, n FROM seen WHERE who = 'ops_analyst_300' AND n > 0$$,
                'the analyst of OA 300 sees no row of OA 500 in any table or view');
SELECT is((SELECT count(*) FROM seen WHERE who = 'ops_analyst' AND n > 0), 0::bigint,
          'an analyst no OA is listed for sees nothing');
CREATE TEMP TABLE explained AS
SELECT * FROM inami.explain_decision(inami.request_number('300', 2024, pg_temp.niss(1)), 2024);
GRANT SELECT ON pg_temp.explained TO PUBLIC;
SET ROLE ops_analyst_300;
SELECT is((SELECT array_agg(DISTINCT oa) FROM inami.syst01_household WHERE control_year = 2024), '{300}', 'its own households, all of them');
SELECT is((SELECT count(*) FROM inami.syst01_household h JOIN inami.syst01_member m USING (control_year, request_number)
           JOIN inami.household_event e USING (control_year, request_number) JOIN inami.control_decision d USING (control_year, request_number)
           WHERE h.control_year = 2024), 2::bigint, 'joins: the households of OA 300 with their members, events and decisions');
SELECT is((SELECT inami.household_income(m.return_code, m.income, m.rule_birth_date, m.income_year) IS NULL
                  AND count(*) = 2 FROM inami.systematic_members(2024) m), true, 'an aggregate over systematic_members: OA 300''s members only');
SELECT is((SELECT households FROM inami.proactive_statistics(2024) WHERE report_table = 2 AND category = 4), 2::bigint,
          'proactive_statistics counts OA 300''s households only');
SELECT ok(inami.syst05_document(2024, '300')::text ~ '3002024' AND inami.syst05_document(2024, '500')::text !~ '5002024',
          'syst05_document: the households of OA 300, none of OA 500');
SELECT ok(inami.pro04_document(2024, '300')::text ~ '3002024' AND inami.pro04_document(2024, '500')::text !~ '5002024', 'pro04_document: the households of OA 300, none of OA 500');
SELECT throws_ok(format('SELECT * FROM inami.explain_decision(%L, 2024)', inami.request_number('500', 2024, pg_temp.niss(3))),
                 'P0002', NULL, 'explain_decision: a household of OA 500 is unknown to the analyst of OA 300');
SELECT results_eq(format('SELECT step, what, value, rule FROM inami.explain_decision(%L, 2024)', inami.request_number('300', 2024, pg_temp.niss(1))),
                  'SELECT step, what, value, rule FROM pg_temp.explained ORDER BY step',
                  'explain_decision of its own household: every step, as the owner sees it');
SELECT throws_ok('SELECT count(*) FROM inami.systematic_households(2024)', '0A000',
                 'inami.systematic_households does not apply row-level security to a whole year',
                 'systematic_households of a whole year under row-level security: refused, nothing shown');
RESET ROLE;
-- A policy of the DBA's that shows part of a household: refused, not read whole.
DO $$ BEGIN EXECUTE format('CREATE POLICY hide_one ON inami.syst01_member AS RESTRICTIVE USING (niss <> %L)', pg_temp.niss(1)); END $$;
SET ROLE ops_analyst_300;
SELECT throws_ok(format('SELECT * FROM inami.explain_decision(%L, 2024)', inami.request_number('300', 2024, pg_temp.niss(1))),
                 '0A000', NULL, 'a household the policies show in part: refused, nothing shown');
RESET ROLE;
DROP POLICY hide_one ON inami.syst01_member;
-- A household no Syst_01 here lists, answered for OA 500 (an unlisted Syst_04): nothing
-- tells the analyst of OA 300 that it exists, no error either.
INSERT INTO inami.flow_file (kind, year, income_year, shipment, source_name, record_count)
VALUES ('Syst04', 2024, 2022, 1, 'ops-unlisted', 1);
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
SELECT 2024, inami.request_number('500', 2024, pg_temp.niss(5)), 1, 2022, pg_temp.niss(5), file_id
FROM inami.flow_file WHERE source_name = 'ops-unlisted';
SET ROLE ops_analyst_300;
SELECT is((SELECT count(*) FROM inami.systematic_households(2024, inami.request_number('500', 2024, pg_temp.niss(5)))), 0::bigint,
          'a household listed nowhere here, answered for OA 500: nothing, and no error that tells it exists');
RESET ROLE;
DELETE FROM inami.flow_file WHERE source_name = 'ops-unlisted';
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2024), 4::bigint, 'the owner sees every OA');
SELECT is((SELECT count(*) FROM inami.set_oa_security(false)), 14::bigint, 'set_oa_security(false) disables it again');
SET ROLE ops_analyst_300;
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2024), 4::bigint, 'disabled: every analyst sees every OA');
RESET ROLE;

-- 3. A run left running by a session that ended (no lock tells it alive) is marked
-- interrupted by the next run of the same kind and year, with when and by which run.
INSERT INTO inami.control_run (kind, year, started_at) VALUES ('systematic_control', 2024, '2025-03-01 02:00+00');
INSERT INTO inami.control_run (kind, year, started_at) VALUES ('proactive_flow', 2024, '2025-03-01 02:00+00');
CALL inami.run_systematic_control(2024);
SELECT is((SELECT status || ' ' || (ended_at = (SELECT max(started_at) FROM inami.control_run WHERE status = 'succeeded' AND kind = 'systematic_control'))
                  || ' ' || (error_message ~ '^interrupted: its session ended while it was running; found by run \d+, started at ')
           FROM inami.control_run WHERE started_at = '2025-03-01 02:00+00' AND kind = 'systematic_control'),
          'interrupted true true', 'the next run marks it interrupted, ended when found, with the run and its start');
SELECT is((SELECT status FROM inami.control_run WHERE started_at = '2025-03-01 02:00+00' AND kind = 'proactive_flow'), 'running',
          'a run of another kind is left alone');
SELECT is((SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()), 0::bigint,
          'the ended runs hold no lock');

SELECT * FROM finish();

DELETE FROM inami.oa_access;
DELETE FROM inami.proactive_outcome; DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision;
DELETE FROM inami.household_event; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;
DROP OWNED BY ops_nobody, ops_analyst, ops_operator, ops_parameters, ops_analyst_300, ops_analyst_500, ops_super;
DROP ROLE ops_nobody, ops_analyst, ops_operator, ops_parameters, ops_analyst_300, ops_analyst_500, ops_super;
