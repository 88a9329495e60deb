------------------------------------------------------------------------------------------
-- Retention (R7): purge_expired
------------------------------------------------------------------------------------------

-- R7 (E 6, F 3): keep everything about year X until the end of X+7 (its reimbursements of
-- X+1 until the end of (X+1)+6), then remove it.
CREATE PROCEDURE inami.purge_expired(as_of date DEFAULT current_date)
LANGUAGE plpgsql AS $$
DECLARE
    last_year int;
    run bigint;
    removed jsonb := '{}';
    ended jsonb;
    k bigint;
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    -- The built-ins and operators are pg_catalog's, whatever the caller's search_path: a
    -- procedure that commits takes no SET clause, so it is pinned in each transaction.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF as_of IS NULL OR as_of NOT BETWEEN '1990-01-01' AND '2300-12-31' THEN
        RAISE EXCEPTION 'as_of must be a date between 1990 and 2300'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The date given is %s.', coalesce(as_of::text, 'NULL')),
                  HINT = 'Give the day of the purge, e.g. current_date.';
    END IF;
    -- E 6, F 3: what the reimbursements of a year Y rest on is kept until 31 December Y+6.
    -- A control year X's data rest the reimbursements of X+1 too (KEEP* rights run until
    -- 31 December X+1; the proactive flow's phase 4 runs until a year after its second
    -- shipment), so year X is kept until 31 December X+7: on as_of, every year up to
    -- year(as_of) - 8 expired. The households of X whose right ended in X go a year
    -- earlier (below).
    last_year := extract(year FROM as_of)::int - 8;
    -- Logged as the control runs are: alive while its session holds the lock
    -- inami._control_run_start takes, marked interrupted by the next purge otherwise.
    run := inami._control_run_start('purge', NULL);
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    BEGIN
        DELETE FROM inami.proactive_outcome t WHERE t.year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('proactive_outcome', k);
        DELETE FROM inami.proactive_decision t WHERE t.year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('proactive_decision', k);
        DELETE FROM inami.control_decision t WHERE t.control_year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('control_decision', k);
        DELETE FROM inami.household_event t WHERE t.control_year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('household_event', k);
        -- The loaded flows go with their files (ON DELETE CASCADE from inami.flow_file).
        removed := removed || pg_catalog.jsonb_build_object(
            'syst01_household', (SELECT count(*) FROM inami.syst01_household t WHERE t.control_year <= last_year),
            'syst04_household', (SELECT count(*) FROM inami.syst04_household t WHERE t.control_year <= last_year),
            'pro01_household', (SELECT count(*) FROM inami.pro01_household t WHERE t.year <= last_year),
            'pro03_person', (SELECT count(*) FROM inami.pro03_person t WHERE t.year <= last_year));
        DELETE FROM inami.flow_file t WHERE t.year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('flow_file', k);
        -- The run log of those years: counts per reason are about them too.
        DELETE FROM inami.control_run t WHERE t.year <= last_year AND t.kind <> 'purge';
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('control_run', k);
        -- The next year, X = year(as_of) - 7, is past its X+6: what rests only on the
        -- reimbursements of X goes now, since the permission limits keeping to six years
        -- (E 6): the Syst_01 households whose right ended in X, with their Syst_04 answers,
        -- events and decision. A household stays a year more, with the files, when its
        -- right runs into X+1 (its decision, or the Syst_05 received for it, says so) or
        -- when it was decided after X (what was paid in X+1 until then may be recovered).
        -- (decided: the day the run started, in Belgium, whatever the server's TimeZone)
        WITH kept AS (
            SELECT d.request_number FROM inami.control_decision d
            JOIN inami.control_run r ON r.run_id = d.run_id
            WHERE d.control_year = last_year + 1
              AND (d.right_end > pg_catalog.make_date(last_year + 1, 12, 31)
                   OR (r.started_at AT TIME ZONE 'Europe/Brussels')::date >= pg_catalog.make_date(last_year + 2, 1, 1))
            UNION
            SELECT f.request_number FROM inami.syst05_feedback_received f
            WHERE f.control_year = last_year + 1 AND f.right_end > pg_catalog.make_date(last_year + 1, 12, 31)
        ), answers AS (
            DELETE FROM inami.syst04_household s
            WHERE s.control_year = last_year + 1
              AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = s.request_number)
            RETURNING 1
        ), households AS (
            -- their members, events and decisions go with them (ON DELETE CASCADE)
            DELETE FROM inami.syst01_household h
            WHERE h.control_year = last_year + 1
              AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = h.request_number)
            RETURNING 1
        )
        SELECT pg_catalog.jsonb_build_object(
                   'syst04_household_ended', (SELECT count(*) FROM answers),
                   'syst01_household_ended', (SELECT count(*) FROM households),
                   'control_decision_ended', (SELECT count(*) FROM inami.control_decision d
                                              WHERE d.control_year = last_year + 1
                                                AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = d.request_number)),
                   'household_event_ended', (SELECT count(*) FROM inami.household_event e
                                             WHERE e.control_year = last_year + 1
                                               AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = e.request_number)),
                   'syst05_feedback_received_ended', (SELECT count(*) FROM inami.syst05_feedback_received f
                                                      WHERE f.control_year = last_year + 1
                                                        AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = f.request_number)))
        INTO ended;
        removed := removed || ended;
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(),
            counts = pg_catalog.jsonb_build_object('as_of', as_of, 'years_up_to', last_year, 'ended_in_year', last_year + 1)
                     || removed
        WHERE r.run_id = run;
    -- OTHERS leaves out query_canceled: a cancelled run (pg_cancel_backend, statement_timeout,
    -- a pg_cron job stopped) must be logged as failed too, not left "running".
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT, sch = SCHEMA_NAME, tbl = TABLE_NAME,
            col = COLUMN_NAME, typ = PG_DATATYPE_NAME, con = CONSTRAINT_NAME;
    END;
    -- The failed block took its search_path with it: pinned again before the log is written.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF st IS NOT NULL THEN
        CALL inami._control_run_fail(run, st, msg, det, hnt, ctx, ARRAY[sch, tbl, col, typ, con]);
    END IF;
END;
$$;
COMMENT ON PROCEDURE inami.purge_expired(date) IS
'R7 (Circ. O.A. 2024/165, 6; 2024/200, 3): removes everything about every year X whose keeping ended before as_of: the data of year X rest the reimbursements of X and X+1 (rights prolonged until 31 December X+1), each kept until the end of its year + 6 and no longer (the permission limits keeping to six years), so X goes when X+7 < year of as_of, and when X+6 < year of as_of the Syst_01 households of X go with their Syst_04 answers, events and decision unless their decision or received Syst_05 runs the right into X+1 or they were decided after X (households without a decision go too): loaded flows with their files, decisions, events, proactive outcomes and the runs of those years. Logs what it removed in inami.control_run (kind purge, counts per table); a purge whose session ended while it ran (a crash, a terminated backend) is marked interrupted by the next purge. Call it outside a transaction block; schedulable with pg_cron.';
