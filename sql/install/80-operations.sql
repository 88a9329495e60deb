------------------------------------------------------------------------------------------
-- Operations: access levels (roles and privileges), one OA's rows per role (row-level
-- security), progress of the loads and runs
------------------------------------------------------------------------------------------

-- Progress (progress.c): where each load and control run stands, in shared memory, for
-- every session to see; only with shared_preload_libraries = 'inami' (otherwise empty).
CREATE FUNCTION inami._progress_available() RETURNS boolean
AS 'MODULE_PATHNAME', 'inami_progress_available_sql'
LANGUAGE C VOLATILE PARALLEL SAFE;
COMMENT ON FUNCTION inami._progress_available() IS
'Whether inami.progress can show anything: the library was loaded by shared_preload_libraries.';

CREATE FUNCTION inami._progress_start(kind text, what text, year int, run_id bigint, total bigint) RETURNS void
AS 'MODULE_PATHNAME', 'inami_progress_start_sql'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION inami._progress_start(text, text, int, bigint, bigint) IS
'Internal to the control runs: starts this session''s report in inami.progress (does nothing without shared_preload_libraries = ''inami'').';

CREATE FUNCTION inami._progress_end(run_id bigint) RETURNS void
AS 'MODULE_PATHNAME', 'inami_progress_end_sql'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION inami._progress_end(bigint) IS
'Internal to the control runs: ends this session''s report in inami.progress of that run.';

CREATE FUNCTION inami._progress(OUT pid int, OUT kind text, OUT what text, OUT year int, OUT run_id bigint,
                                OUT done bigint, OUT total bigint, OUT started_at timestamptz,
                                OUT started_by text, OUT userid oid)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_progress_sql'
LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION inami._progress() IS
'The reports of the sessions loading a file or running a control, as they stand (inami.progress shows them).';

CREATE VIEW inami.progress WITH (security_invoker = true) AS
SELECT p.pid, p.kind,
       -- a run waiting for another of the same kind and year says so
       CASE WHEN a.wait_event_type = 'Lock' AND a.wait_event = 'advisory'
            THEN 'waiting for another run of the same year' ELSE p.what END AS what,
       p.year, p.run_id, p.done, p.total, p.started_at,
       pg_catalog.clock_timestamp() - p.started_at AS elapsed,
       CASE WHEN p.started_by = 'pg_cron' THEN 'pg_cron' ELSE coalesce(nullif(p.started_by, ''), 'client') END AS started_by,
       pg_catalog.pg_get_userbyid(p.userid) AS username
FROM inami._progress() p
LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = p.pid;
COMMENT ON VIEW inami.progress IS
'Each load (inami.load_flow, inami.load_flow_file), control run (run_systematic_control, run_proactive_flow) and purge (purge_expired) in progress, in the sessions the caller may see as pg_stat_activity shows their queries (those of roles whose privileges it has; every session for a member of pg_read_all_stats or inami_operator): kind (load, systematic_control, proactive_flow, purge), what it is doing (a load: the kind, year and source of the file), year, run_id (inami.control_run), done (records read; households decided), total (households to decide; NULL when not known, a load''s records), started_at, elapsed, started_by (pg_cron, or the application_name of the client, e.g. psql), username. Needs shared_preload_libraries = ''inami''; empty otherwise.';

------------------------------------------------------------------------------------------
-- One OA's rows per role: row-level security, enabled by the DBA (inami.set_oa_security)
------------------------------------------------------------------------------------------

CREATE TABLE inami.oa_access (
    role_name name NOT NULL,
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    PRIMARY KEY (role_name, oa)
);
COMMENT ON TABLE inami.oa_access IS
'Which OA''s rows a role sees once row-level security is enabled (inami.set_oa_security): a role (and every role that inherits its privileges) sees the rows of each OA listed for it, and of no other. The owner and roles with BYPASSRLS see every row.';
COMMENT ON COLUMN inami.oa_access.role_name IS 'A role (login or group); a row for a role that does not exist is ignored.';
COMMENT ON COLUMN inami.oa_access.oa IS 'OA code (3 digits) whose rows the role sees.';
SELECT pg_catalog.pg_extension_config_dump('inami.oa_access', '');

-- The OA codes the current role sees (the policies below).
CREATE FUNCTION inami._oa_visible() RETURNS SETOF text
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
    SELECT a.oa FROM inami.oa_access a JOIN pg_catalog.pg_roles r ON r.rolname = a.role_name
    WHERE pg_catalog.pg_has_role(r.oid, 'USAGE');
END;
COMMENT ON FUNCTION inami._oa_visible() IS
'The OA codes inami.oa_access lists for the current role or a role whose privileges it inherits: what the row-level security policies let it see.';

-- A table that carries the OA code shows that OA's rows; a table that does not, the rows
-- of the households it shows. flow_file: a file without OA (Syst04, Pro03, Pro04) is seen
-- by all (its counts, not its rows). Syst_04 answers: by the OA in the request number
-- (R4: its first 3 digits) or by the household listed in Syst_01 (an adopted household).
CREATE POLICY oa ON inami.flow_file USING (oa IS NULL OR oa IN (SELECT inami._oa_visible()));
CREATE POLICY oa ON inami.syst01_household USING (oa IN (SELECT inami._oa_visible()));
CREATE POLICY oa ON inami.syst01_member USING (EXISTS (
    SELECT FROM inami.syst01_household h
    WHERE h.control_year = syst01_member.control_year AND h.request_number = syst01_member.request_number));
CREATE POLICY oa ON inami.syst04_household USING (
    pg_catalog.left(request_number, 3) IN (SELECT inami._oa_visible())
    OR EXISTS (SELECT FROM inami.syst01_household h
               WHERE h.control_year = syst04_household.control_year AND h.request_number = syst04_household.request_number));
CREATE POLICY oa ON inami.syst04_member USING (
    pg_catalog.left(request_number, 3) IN (SELECT inami._oa_visible())
    OR EXISTS (SELECT FROM inami.syst01_household h
               WHERE h.control_year = syst04_member.control_year AND h.request_number = syst04_member.request_number));
CREATE POLICY oa ON inami.syst05_feedback_received USING (oa IN (SELECT inami._oa_visible()));
CREATE POLICY oa ON inami.control_decision USING (oa IN (SELECT inami._oa_visible()));
CREATE POLICY oa ON inami.household_event USING (EXISTS (
    SELECT FROM inami.syst01_household h
    WHERE h.control_year = household_event.control_year AND h.request_number = household_event.request_number));
CREATE POLICY oa ON inami.pro01_household USING (oa IN (SELECT inami._oa_visible()));
CREATE POLICY oa ON inami.pro01_member USING (EXISTS (
    SELECT FROM inami.pro01_household h WHERE h.year = pro01_member.year AND h.request_number = pro01_member.request_number));
CREATE POLICY oa ON inami.pro03_person USING (EXISTS (
    SELECT FROM inami.pro01_member m WHERE m.year = pro03_person.year AND m.niss = pro03_person.niss));
CREATE POLICY oa ON inami.pro04_result_received USING (EXISTS (
    SELECT FROM inami.pro01_household h
    WHERE h.year = pro04_result_received.year AND h.request_number = pro04_result_received.request_number));
CREATE POLICY oa ON inami.proactive_decision USING (EXISTS (
    SELECT FROM inami.pro01_household h WHERE h.year = proactive_decision.year AND h.request_number = proactive_decision.request_number));
CREATE POLICY oa ON inami.proactive_outcome USING (EXISTS (
    SELECT FROM inami.pro01_household h WHERE h.year = proactive_outcome.year AND h.request_number = proactive_outcome.request_number));

-- The views read their tables as the caller, so that the policies apply to what they show.
ALTER VIEW inami.syst04_ipcal SET (security_invoker = true);
ALTER VIEW inami.syst04_answer SET (security_invoker = true);
ALTER VIEW inami.syst04_unlisted SET (security_invoker = true);
ALTER VIEW inami.pro03_ipcal SET (security_invoker = true);
ALTER VIEW inami.pro03_answer SET (security_invoker = true);
ALTER VIEW inami.dependent_limit_month SET (security_invoker = true);

CREATE FUNCTION inami.set_oa_security(enabled boolean) RETURNS SETOF regclass
LANGUAGE plpgsql STRICT AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT p.polrelid::regclass FROM pg_catalog.pg_policy p JOIN pg_catalog.pg_class c ON c.oid = p.polrelid
             WHERE c.relnamespace = 'inami'::regnamespace AND p.polname = 'oa' ORDER BY c.relname
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s %s ROW LEVEL SECURITY', t, CASE WHEN enabled THEN 'ENABLE' ELSE 'DISABLE' END);
        RETURN NEXT t;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.set_oa_security(boolean) IS
'Enables (true) or disables (false) row-level security on every inami table with an OA policy, and returns them: once enabled, a role sees only the rows of the OAs inami.oa_access lists for it. Only the owner of the tables can call it; the owner and roles with BYPASSRLS still see every row (the loaders and inami.systematic_households refuse to run for a role the policies apply to).';

------------------------------------------------------------------------------------------
-- Access levels: three NOLOGIN group roles, made when absent (roles belong to the cluster:
-- DROP EXTENSION leaves them, and another database's inami shares them)
------------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'inami_analyst') THEN
        CREATE ROLE inami_analyst NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'inami_operator') THEN
        CREATE ROLE inami_operator NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'inami_parameters') THEN
        CREATE ROLE inami_parameters NOLOGIN;
    END IF;
    -- an operator also reads what an analyst reads
    IF NOT pg_catalog.pg_has_role('inami_operator', 'inami_analyst', 'MEMBER') THEN
        GRANT inami_analyst TO inami_operator;
    END IF;
END;
$$;

-- Every privilege by level, from the catalog: nothing to PUBLIC but the schema's USAGE;
-- parameter tables and the rules (functions that read no insured person's data) to
-- parameter maintainers; every table, view and function that reads to analysts; writing
-- the flows and running the controls to operators. Trigger and aggregate support
-- functions need no EXECUTE for their callers and get none. The same block is in the
-- upgrade script, so that both give the same privileges (pg_init_privs included).
CREATE PROCEDURE inami._grant_levels()
LANGUAGE plpgsql AS $$
DECLARE
    -- operators: the writers of rows and their plumbing
    operator_routines text[] := ARRAY['load_flow', 'adopt_unlisted_households', 'run_systematic_control', '_insert_select',
                                       '_systematic_memberless',
        'run_proactive_flow', 'purge_expired', '_control_run_start', '_control_run_fail', '_control_run_raise',
        '_control_lock_key', '_control_alive_key', '_progress_start', '_progress_end',
        -- the sharded runs, from the coordinator
        'run_systematic_control_sharded', 'run_proactive_flow_sharded', '_run_sharded', 'check_shards',
        '_check_shard', '_dblink_schema', '_dblink_close'];
    -- the owner's (load_flow_file: pg_read_server_files, as since 0.1.0)
    owner_routines text[] := ARRAY['load_flow_file', 'set_oa_security', '_grant_levels',
        -- the cluster's shape, and the sharded load of server files
        'add_shard', 'create_sharded_table', 'publish_parameters', '_shard_take_id_range', '_conninfo_options',
        'load_flow_file_sharded', '_split_flow_file', '_load_flow_part', '_load_flow_lo', 'prepared_loads'];
    -- reading insured persons' data: analysts, not parameter maintainers
    data_routines text[] := ARRAY['systematic_members', 'systematic_households', 'systematic_candidates', '_systematic_candidates', '_control_decisions',
        '_syst04_later_shipment_loaded', '_proactive_members', '_control_right_end', '_control_rule', '_candidate_json',
        'explain_decision', 'proactive_statistics', 'syst01_document', 'syst05_document', 'pro01_document',
        'pro04_document', 'read_syst01', 'read_syst04', 'read_syst05', 'read_pro01', 'read_pro03', 'read_pro04',
        '_progress', '_progress_available', '_oa_visible',
        'syst05_document_sharded', 'pro04_document_sharded', 'explain_decision_sharded', '_sharded_document'];
    parameter_tables text[] := ARRAY['pivot_index_step', 'dependent_limit_base', 'parameter_coverage', 'im_ceiling',
        'ipcal_rule', 'return_code_asked_again', 'contribution_minimum_income', 'contribution_minimum_factor',
        'contribution_minimum_sheltered', 'contribution_rate', 'dependent_limit_month', 'maf_social_ceiling',
        'maf_income_bracket', 'privileges'];
    r record;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- The schema's USAGE to PUBLIC reads nothing (every object is revoked from PUBLIC
    -- below): a role without a level is refused each object, with the level it needs
    -- (src/privileges.c), rather than the schema.
    GRANT USAGE ON SCHEMA inami TO PUBLIC, inami_analyst, inami_parameters;
    FOR r IN SELECT p.oid::regprocedure AS f, p.proname::text AS name, p.prorettype = 'trigger'::regtype
                    OR EXISTS (SELECT FROM pg_catalog.pg_aggregate a
                               WHERE p.oid IN (a.aggtransfn, a.aggfinalfn, a.aggcombinefn, a.aggserialfn,
                                               a.aggdeserialfn)) AS support
             FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'inami'::regnamespace ORDER BY p.oid
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC', r.f);
        IF r.support OR r.name = ANY (owner_routines) THEN
            CONTINUE;
        ELSIF r.name = ANY (operator_routines) THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO inami_operator', r.f);
        ELSE
            EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO inami_analyst', r.f);
            IF NOT r.name = ANY (data_routines) THEN
                EXECUTE pg_catalog.format('GRANT EXECUTE ON ROUTINE %s TO inami_parameters', r.f);
            END IF;
        END IF;
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS t, c.relname::text AS name, c.relkind
             FROM pg_catalog.pg_class c
             WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind IN ('r', 'v') ORDER BY c.oid
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s FROM PUBLIC', r.t);
        EXECUTE pg_catalog.format('GRANT SELECT ON %s TO inami_analyst', r.t);
        IF r.name = ANY (parameter_tables) THEN
            EXECUTE pg_catalog.format('GRANT SELECT%s ON %s TO inami_parameters',
                                      CASE WHEN r.relkind = 'r' THEN ', INSERT, UPDATE, DELETE' ELSE '' END, r.t);
        ELSIF r.relkind = 'r' AND r.name <> 'oa_access' THEN
            EXECUTE pg_catalog.format('GRANT INSERT, UPDATE, DELETE ON %s TO inami_operator', r.t);
        END IF;
    END LOOP;
END;
$$;
COMMENT ON PROCEDURE inami._grant_levels() IS
'Internal to the install and upgrade scripts: grants every privilege of the access levels inami_analyst, inami_operator (a member of inami_analyst) and inami_parameters, revoking PUBLIC''s.';

-- Which level grants what, from the privileges themselves: the reference of the access levels.
CREATE VIEW inami.privileges AS
SELECT o.object, o.kind, a.privilege_type AS privilege, r.rolname AS level
FROM (SELECT c.oid::regclass::text, CASE c.relkind WHEN 'v' THEN 'view' ELSE 'table' END, c.relacl
      FROM pg_catalog.pg_class c
      WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind IN ('r', 'v')
      UNION ALL
      SELECT p.oid::regprocedure::text,
             CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END, p.proacl
      FROM pg_catalog.pg_proc p
      WHERE p.pronamespace = 'inami'::regnamespace) o(object, kind, acl)
CROSS JOIN LATERAL pg_catalog.aclexplode(o.acl) a
JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
WHERE r.rolname IN ('inami_analyst', 'inami_operator', 'inami_parameters', 'pg_read_server_files');
COMMENT ON VIEW inami.privileges IS
'The access levels: each privilege on an inami table, view or routine (object, kind, privilege: SELECT, INSERT, UPDATE, DELETE, EXECUTE) and the level that grants it (inami_analyst, inami_operator, inami_parameters; pg_read_server_files for load_flow_file). inami_operator is a member of inami_analyst and has its privileges too. A refusal (42501) names the object and, once the library is loaded (shared_preload_libraries = ''inami''), the level to grant: "permission denied for procedure inami.run_systematic_control: access level inami_operator needed".';

CALL inami._grant_levels();
