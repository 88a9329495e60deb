-- inami 0.1.0 -> 0.2.0. Every change 0.2.0 makes to an object 0.1.0 installed, in the order
-- that keeps each statement valid; the upgrade test proves that an updated database equals
-- a fresh 0.2.0 install (tools/upgrade-check.sh, test/t/010_upgrade.pl).
\echo Use "ALTER EXTENSION inami UPDATE TO '0.2.0'" to load this file. \quit

------------------------------------------------------------------------------------------
-- Internal helpers are named with a leading underscore: the aggregates' support functions,
-- the trigger functions and the plumbing of the control runs. \dx+ inami lists them apart
-- from the API, and no access level grants them.
------------------------------------------------------------------------------------------
ALTER FUNCTION inami.check_year(integer,text) RENAME TO _check_year;
ALTER FUNCTION inami.control_lock_key(text) RENAME TO _control_lock_key;
ALTER FUNCTION inami.control_right_end(text,integer,date) RENAME TO _control_right_end;
ALTER FUNCTION inami.control_rule(text,text,text) RENAME TO _control_rule;
ALTER PROCEDURE inami.control_run_fail(bigint,text,text,text,text,text,text[]) RENAME TO _control_run_fail;
ALTER FUNCTION inami.control_run_raise(text,text,text,text,text,text,text,text,text,text) RENAME TO _control_run_raise;
ALTER FUNCTION inami.control_run_start(text,integer) RENAME TO _control_run_start;
ALTER FUNCTION inami.household_event_check() RENAME TO _household_event_check;
ALTER FUNCTION inami.household_income_combine(internal,internal) RENAME TO _household_income_combine;
ALTER FUNCTION inami.household_income_deserial(bytea,internal) RENAME TO _household_income_deserial;
ALTER FUNCTION inami.household_income_final(internal) RENAME TO _household_income_final;
ALTER FUNCTION inami.household_income_serial(internal) RENAME TO _household_income_serial;
ALTER FUNCTION inami.household_income_trans(internal,text,numeric,date,integer) RENAME TO _household_income_trans;
ALTER FUNCTION inami.ipcal_income_combine(internal,internal) RENAME TO _ipcal_income_combine;
ALTER FUNCTION inami.ipcal_income_deserial(bytea,internal) RENAME TO _ipcal_income_deserial;
ALTER FUNCTION inami.ipcal_income_final(internal) RENAME TO _ipcal_income_final;
ALTER FUNCTION inami.ipcal_income_serial(internal) RENAME TO _ipcal_income_serial;
ALTER FUNCTION inami.ipcal_income_trans(internal,text,numeric,integer) RENAME TO _ipcal_income_trans;
ALTER FUNCTION inami.maf_counter_combine(internal,internal) RENAME TO _maf_counter_combine;
ALTER FUNCTION inami.maf_counter_deserialize(bytea,internal) RENAME TO _maf_counter_deserialize;
ALTER FUNCTION inami.maf_counter_serialize(internal) RENAME TO _maf_counter_serialize;
ALTER FUNCTION inami.maf_counter_trans(internal,numeric,numeric) RENAME TO _maf_counter_trans;
ALTER FUNCTION inami.maf_household_combine(internal,internal) RENAME TO _maf_household_combine;
ALTER FUNCTION inami.maf_household_deserialize(bytea,internal) RENAME TO _maf_household_deserialize;
ALTER FUNCTION inami.maf_household_final(internal) RENAME TO _maf_household_final;
ALTER FUNCTION inami.maf_household_serialize(internal) RENAME TO _maf_household_serialize;
ALTER FUNCTION inami.maf_household_trans(internal,integer,text,date,boolean,text,boolean,boolean,text,text) RENAME TO _maf_household_trans;
ALTER FUNCTION inami.maf_refund_final(internal) RENAME TO _maf_refund_final;
ALTER FUNCTION inami.maf_refunded_final(internal) RENAME TO _maf_refunded_final;
ALTER FUNCTION inami.proactive_decision_keep_ok() RENAME TO _proactive_decision_keep_ok;
ALTER FUNCTION inami.proactive_members(integer,text) RENAME TO _proactive_members;
ALTER FUNCTION inami.proactive_outcome_check() RENAME TO _proactive_outcome_check;
ALTER FUNCTION inami.protect_shipped_row() RENAME TO _protect_shipped_row;
ALTER FUNCTION inami.protect_shipped_truncate() RENAME TO _protect_shipped_truncate;
ALTER FUNCTION inami.syst04_later_shipment_loaded(integer) RENAME TO _syst04_later_shipment_loaded;

-- The functions whose body names a renamed helper: a body in quotes looks it up by name
-- when it runs, and a BEGIN ATOMIC body keeps the old name as a column alias.
CREATE OR REPLACE FUNCTION inami.contribution_minimum(year int, age int, sheltered boolean DEFAULT false) RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    income inami.contribution_minimum_income;
    f inami.contribution_minimum_factor;
    flat numeric;
BEGIN
    PERFORM inami._check_year(year, 'year');
    IF age < 0 THEN
        RAISE EXCEPTION 'age must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The age given is %s.', age),
                  HINT = 'Give the age at the start of the year, or at (re)registration.';
    END IF;
    IF sheltered THEN
        -- Art. 286, al. 3: a flat yearly remuneration per age class, the same every year.
        SELECT m.amount INTO flat FROM inami.contribution_minimum_sheltered m
        WHERE m.min_age <= $2 ORDER BY m.min_age DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no sheltered-workshop remuneration for age %', $2
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.contribution_minimum_sheltered has no row with min_age <= %s.', $2),
                      HINT = 'Add the age class to inami.contribution_minimum_sheltered.';
        END IF;
        RETURN flat;
    END IF;
    SELECT * INTO income FROM inami.contribution_minimum_income m WHERE m.year = $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no guaranteed minimum monthly income for year %', $1
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('inami.contribution_minimum_income has no row for year %s.', $1),
                  HINT = 'Add the row from the yearly circular: INSERT INTO inami.contribution_minimum_income (year, monthly_income, in_force_since, source) VALUES (...).';
    END IF;
    SELECT * INTO f FROM inami.contribution_minimum_factor m
    WHERE m.min_age <= $2 ORDER BY m.min_age DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no minimum value rule for age %', $2
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('inami.contribution_minimum_factor has no row with min_age <= %s.', $2),
                  HINT = 'Add the age class to inami.contribution_minimum_factor.';
    END IF;
    RETURN round(round(income.monthly_income * f.months, 2) * f.share, 2);
END;
$$;

CREATE OR REPLACE FUNCTION inami.systematic_candidates(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, household_size int, income_year int, shipment int,
               sent_total numeric, household_total numeric, extra_income numeric, ceiling numeric,
               ceiling_source text, verdict text, events bigint[],
               precedence int, reason text, right_end date, trigger_date date, event_id bigint, rule text,
               provisional boolean, cadastral_income numeric, moved boolean)
LANGUAGE sql STABLE BEGIN ATOMIC
    WITH per_household AS (
        SELECT h.request_number, h.oa, h.sent_total, h.household_size, h.income_year, h.shipment,
               h.household_total AS total, coalesce(h.cadastral_income, 0) AS sent_cadastral,
               -- E 4.1, 4.3: until a later shipment is loaded, a household no answer lists yet,
               -- or one unknown only through members the SCA asks again, may still be answered
               -- (a subquery: evaluated once, not per household)
               (h.shipment IS NULL OR h.asked_again) AND NOT (SELECT inami._syst04_later_shipment_loaded($1))
                 AS awaiting_answer
        FROM inami.systematic_households($1, $2) h
    ), ev AS (
        SELECT e.request_number, array_agg(e.event_id ORDER BY e.event_id) AS events,
               sum(e.amount) FILTER (WHERE e.event = 'extra_fiscal_data') AS extra_income,
               -- E 4.4: the OA's assessment of the own home's cadastral income (one per
               -- household): the part counted, and the CadastralIncome sent it was made on
               max(e.amount) FILTER (WHERE e.event = 'cadastral_income') AS cadastral_amount,
               max(e.basis) FILTER (WHERE e.event = 'cadastral_income') AS cadastral_basis,
               bool_or(e.event = 'extra_fiscal_data' AND e.amount IS NULL) AS fisc_without_amount,
               -- E 2.3, 5.2: a move the feedback (due before 1 May X+1) reports; a later one
               -- is no part of this control and competes like any event, by its end
               bool_or(e.event = 'oa_change' AND e.event_date < make_date($1 + 1, 5, 1)) AS moved,
               max(e.event_date) FILTER (WHERE e.event = 'extra_fiscal_data') AS fisc_date,
               -- E 5.3: an advantage maintains the right when it holds by the day the right would
               -- otherwise end (31 December X): one starting later opens a right of its own.
               min(e.event_date) FILTER (WHERE e.event = 'social_advantage'
                                          AND e.event_date <= make_date($1, 12, 31)) AS advantage_date,
               -- E 5.1: a new DSH from 1 October X to 31 March X+1 gives the right from 1 January X+1.
               min(e.event_date) FILTER (WHERE e.event = 'new_dsh'
                                          AND e.event_date BETWEEN make_date($1, 10, 1) AND make_date($1 + 1, 3, 31)) AS dsh_date
        FROM inami.household_event e
        WHERE e.control_year = $1 AND ($2 IS NULL OR e.request_number = $2)
        GROUP BY e.request_number
    ), basis AS (
        SELECT p.*, ev.extra_income, k.cadastral_income, ev.events, ev.fisc_date, ev.advantage_date, ev.dsh_date,
               ev.moved,
               -- The income can still change: an answer still to come (E 4.1, 4.3), or a
               -- cadastral income sent that the OA has not assessed (or assessed on another
               -- amount sent) while the income is under the ceiling (E 4.4: the part counted
               -- is 0 or more, so an income at or over the ceiling stays there).
               p.awaiting_answer
                 OR (p.sent_cadastral <> 0 AND k.cadastral_income IS NULL
                     AND inami.im_verdict(p.total, p.household_size, p.income_year) = 'OK') AS awaiting,
               inami.im_plafond(p.household_size, p.income_year) AS ceiling, c.source AS ceiling_source,
               inami.im_verdict(t.income, p.household_size, p.income_year) AS verdict,
               -- The income decides (E 5.1), unless the OA's own data (E 4.4) end the right.
               CASE WHEN inami.im_verdict(t.income, p.household_size, p.income_year) <> 'OK' THEN 'STOPSYST'
                    WHEN ev.fisc_without_amount
                      OR inami.im_verdict(t.income + ev.extra_income, p.household_size, p.income_year) = 'NOK'
                    THEN 'STOPFISC'
                    ELSE 'KEEPSYST' END AS income_reason
        FROM per_household p
        LEFT JOIN ev ON ev.request_number = p.request_number
        LEFT JOIN inami.im_ceiling c ON c.income_year = p.income_year
        -- The OA's assessment counts when made on the CadastralIncome sent now (E 4.4) ...
        CROSS JOIN LATERAL (SELECT CASE WHEN ev.cadastral_basis = p.sent_cadastral THEN ev.cadastral_amount END
                                   AS cadastral_income) k
        -- ... added to R3's total (the IPCAL items)
        CROSS JOIN LATERAL (SELECT p.total + coalesce(k.cadastral_income, 0) AS income) t
    ), income_candidate AS (
        -- A kept right replaces an end by the income: a social advantage, a new DSH in time.
        SELECT b.*,
               CASE WHEN b.income_reason = 'KEEPSYST' THEN 'KEEPSYST'
                    WHEN b.advantage_date IS NOT NULL THEN 'KEEPADV'
                    WHEN b.dsh_date IS NOT NULL THEN 'KEEPDSH'
                    ELSE b.income_reason END AS reason
        FROM basis b
    ), with_events AS (
        -- Households with events: the income's candidate and one per ending event, ranked.
        -- E 5.3: a household that moved to another OA ends the examination here, whatever
        -- the income says and whenever the income's end falls ("presenting an excess ...
        -- joined another OA without a DSH allowing a re-examination"): the income's
        -- candidate comes after every event then; events rank by the end they give.
        SELECT c.*, row_number() OVER (PARTITION BY c.request_number
                                       ORDER BY c.class = 1 AND c.moved, c.right_end, c.class, c.trigger_date NULLS LAST,
                                                array_position(ARRAY['STOPDEATH', 'STOPOA', 'STOPFAM'], c.reason),
                                                c.event_id)::int AS precedence
        FROM (SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
                     o.extra_income, o.ceiling, o.ceiling_source, o.verdict, o.events, o.income_reason, o.reason,
                     o.moved, o.awaiting, o.cadastral_income, inami._control_right_end(o.reason, $1, NULL) AS right_end,
                     CASE o.reason WHEN 'STOPFISC' THEN o.fisc_date WHEN 'KEEPADV' THEN o.advantage_date
                                   WHEN 'KEEPDSH' THEN o.dsh_date END AS trigger_date,
                     NULL::bigint AS event_id, 1 AS class
              FROM income_candidate o WHERE o.events IS NOT NULL
              UNION ALL
              SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
                     o.extra_income, o.ceiling, o.ceiling_source, o.verdict, o.events, o.income_reason, r.reason,
                     o.moved, o.awaiting, o.cadastral_income, inami._control_right_end(r.reason, $1, e.event_date), e.event_date, e.event_id, 0
              FROM inami.household_event e
              JOIN income_candidate o ON o.request_number = e.request_number
              CROSS JOIN LATERAL (SELECT CASE e.event WHEN 'composition_change' THEN 'STOPFAM'
                                                      WHEN 'death' THEN 'STOPDEATH'
                                                      WHEN 'oa_change' THEN 'STOPOA' END AS reason) r
              WHERE e.control_year = $1 AND ($2 IS NULL OR e.request_number = $2)
                AND e.event IN ('composition_change', 'death', 'oa_change')) c
    )
    -- Households without events have one candidate: no sort for them.
    SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
           o.extra_income, o.ceiling, o.ceiling_source, o.verdict, o.events, 1, o.reason,
           inami._control_right_end(o.reason, $1, NULL), NULL::date, NULL::bigint,
           inami._control_rule(o.reason, o.verdict, o.income_reason), o.awaiting, o.cadastral_income, false
    FROM income_candidate o WHERE o.events IS NULL
    UNION ALL
    SELECT w.request_number, w.oa, w.household_size, w.income_year, w.shipment, w.sent_total, w.total,
           w.extra_income, w.ceiling, w.ceiling_source, w.verdict, w.events, w.precedence, w.reason,
           w.right_end, w.trigger_date, w.event_id, inami._control_rule(w.reason, w.verdict, w.income_reason),
           -- Reported, this candidate waits for the next shipment when the income can still
           -- change it: it is the income's, or ends after 31 December X, where the income's
           -- end would come first if the income ends the right (not after a move: then the
           -- events come first whatever the income).
           -- A household that moved and no answer lists yet waits too: the next shipment
           -- says whether its data came here (then this OA sends its feedback, E 5.2).
           w.awaiting AND (w.event_id IS NULL OR (NOT coalesce(w.moved, false) AND w.right_end > make_date($1, 12, 31))
                           OR (coalesce(w.moved, false) AND w.shipment IS NULL)),
           w.cadastral_income, coalesce(w.moved, false)
    FROM with_events w;
END;

CREATE OR REPLACE PROCEDURE inami._control_run_fail(run bigint, sqlstate text, message text, detail text, hint text,
                                        context text, names text[])
LANGUAGE plpgsql AS $$
BEGIN
    -- A procedure takes no SET clause: pinned per transaction, as in the runs.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    UPDATE inami.control_run r
    SET status = 'failed', ended_at = clock_timestamp(), error_sqlstate = $2,
        error_message = pg_catalog.concat_ws(E'\n', $3, 'DETAIL: ' || nullif($4, ''), 'HINT: ' || nullif($5, ''))
    WHERE r.run_id = $1;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM inami._control_run_raise($2, $3, $4, $5, $6, $7[1], $7[2], $7[3], $7[4], $7[5]);
END;
$$;

CREATE OR REPLACE FUNCTION inami._control_run_start(kind text, year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
BEGIN
    IF year IS NULL THEN
        RAISE EXCEPTION 'year must be between 1990 and 2200'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The year given is NULL.',
                  HINT = 'Give the control year (systematic control) or the year of the proactive flow, e.g. 2024.';
    END IF;
    PERFORM inami._check_year(year, 'year');
    INSERT INTO inami.control_run (kind, year) VALUES (kind, year) RETURNING run_id INTO run;
    RETURN run;
END;
$$;

-- INSERT INTO target <query>, the target's foreign keys checked once for every row
-- (insert_select.c): what the runs write their decisions with.
CREATE FUNCTION inami._insert_select(target regclass, query text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_insert_select'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION inami._insert_select(regclass, text) IS
'Internal to the control runs: INSERT INTO target <query> (one SELECT of the table''s columns, in order), returning the rows inserted; with the privileges, constraints and errors of that INSERT, but the foreign keys checked once for all the rows, set-based, after they are in, their referenced rows locked FOR KEY SHARE as per-row checks lock them. A table with other triggers, rules, row-level security for the caller, or keys that are deferrable, MATCH FULL, or between different types, gets the plain INSERT.';

-- R4: the decision of every Syst_01 household of a control year, as the run writes it: the
-- first candidate of each, with every candidate when events compete (only the columns
-- kept: the rule's text of a million candidates is not).
CREATE FUNCTION inami._control_decisions(control_year int)
RETURNS TABLE (request_number text, oa text, reason text, right_end date, household_size int, income_year int,
               shipment int, sent_total numeric, household_total numeric, extra_income numeric, ceiling numeric,
               ceiling_source text, verdict text, events bigint[], candidates jsonb, sends_feedback boolean,
               provisional boolean, cadastral_income numeric)
LANGUAGE sql STABLE BEGIN ATOMIC
    WITH c AS MATERIALIZED (
        SELECT c.request_number, c.oa, c.reason, c.right_end, c.household_size, c.income_year, c.shipment,
               c.sent_total, c.household_total, c.extra_income, c.ceiling, c.ceiling_source, c.verdict,
               c.events, c.precedence, c.event_id, c.provisional, c.cadastral_income, c.moved
        FROM inami.systematic_candidates($1) c)
    SELECT c.request_number, c.oa, c.reason, c.right_end, c.household_size, c.income_year, c.shipment,
           c.sent_total, c.household_total, c.extra_income, c.ceiling, c.ceiling_source, c.verdict, c.events,
           coalesce(x.candidates, pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
               'reason', c.reason, 'right_end', c.right_end, 'from', 'income'))),
           -- E 2.3, 5.2: the OA that receives the fiscal data sends the feedback; those
           -- of a household that moved before any answer here went to its new OA
           NOT (c.moved AND c.shipment IS NULL), c.provisional, c.cadastral_income
    FROM c
    LEFT JOIN (SELECT c2.request_number,
                      pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('reason', c2.reason, 'right_end', c2.right_end,
                                                   'from', coalesce('event ' || c2.event_id, 'income'))
                                ORDER BY c2.precedence) AS candidates
               FROM c c2 WHERE c2.events IS NOT NULL GROUP BY c2.request_number) x
      ON x.request_number = c.request_number
    WHERE c.precedence = 1;
END;
COMMENT ON FUNCTION inami._control_decisions(int) IS
'Internal to inami.run_systematic_control: the decision of every Syst_01 household of control_year, with what it was made from (the columns of inami.control_decision but the year and the run): the first of inami.systematic_candidates, every candidate as JSON, and whether this OA sends its feedback.';

CREATE OR REPLACE PROCEDURE inami.run_systematic_control(control_year int)
LANGUAGE plpgsql AS $$
DECLARE
    y int := $1;
    run bigint := inami._control_run_start('systematic_control', $1);
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    -- The log row is committed before the work: a failed run stays in the log.
    COMMIT;
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(inami._control_lock_key('systematic_control'), y);
        -- One large set-based query whose row estimates through the SQL functions are far too
        -- high: JIT would compile for seconds what runs in less. For this transaction only.
        PERFORM pg_catalog.set_config('jit', 'off', true);
        -- A procedure that commits takes no SET clause: the built-ins and operators of the
        -- work (and of the functions it calls) are pg_catalog's for this transaction.
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        -- The year's first run writes every decision at once, the foreign keys checked once
        -- for all of them (inami._insert_select); a later one writes only what changed: a
        -- decision the run reaches again is left as it is (with the run that made it), so a
        -- rerun costs the computation, not a rewrite.
        IF NOT EXISTS (SELECT FROM inami.control_decision d WHERE d.control_year = y) THEN
            PERFORM inami._insert_select('inami.control_decision', pg_catalog.format(
                'SELECT %s, n.request_number, n.oa, n.reason, n.right_end, %s::bigint, n.household_size, n.income_year,'
                ' n.shipment, n.sent_total, n.household_total, n.extra_income, n.ceiling, n.ceiling_source, n.verdict,'
                ' n.events, n.candidates, n.sends_feedback, n.provisional, n.cadastral_income'
                ' FROM inami._control_decisions(%s) n', y, run, y));
        ELSE
            MERGE INTO inami.control_decision d
            USING inami._control_decisions(y) n ON d.control_year = y AND d.request_number = n.request_number
            WHEN MATCHED AND (d.oa, d.reason, d.right_end, d.household_size, d.income_year, d.shipment, d.sent_total,
                              d.household_total, d.extra_income, d.ceiling, d.ceiling_source, d.verdict, d.events,
                              d.candidates, d.sends_feedback, d.provisional, d.cadastral_income)
                             IS DISTINCT FROM
                             (n.oa, n.reason, n.right_end, n.household_size, n.income_year, n.shipment, n.sent_total,
                              n.household_total, n.extra_income, n.ceiling, n.ceiling_source, n.verdict, n.events,
                              n.candidates, n.sends_feedback, n.provisional, n.cadastral_income) THEN
                UPDATE SET oa = n.oa, reason = n.reason, right_end = n.right_end, run_id = run,
                           household_size = n.household_size, income_year = n.income_year, shipment = n.shipment,
                           sent_total = n.sent_total, household_total = n.household_total, extra_income = n.extra_income,
                           ceiling = n.ceiling, ceiling_source = n.ceiling_source, verdict = n.verdict, events = n.events,
                           candidates = n.candidates, sends_feedback = n.sends_feedback, provisional = n.provisional,
                           cadastral_income = n.cadastral_income
            WHEN NOT MATCHED THEN
                INSERT (control_year, request_number, oa, reason, right_end, run_id, household_size, income_year, shipment,
                        sent_total, household_total, extra_income, ceiling, ceiling_source, verdict, events, candidates,
                        sends_feedback, provisional, cadastral_income)
                VALUES (y, n.request_number, n.oa, n.reason, n.right_end, run, n.household_size, n.income_year, n.shipment,
                        n.sent_total, n.household_total, n.extra_income, n.ceiling, n.ceiling_source, n.verdict, n.events,
                        n.candidates, n.sends_feedback, n.provisional, n.cadastral_income);
            -- A household left without members has no decision any more (the others all have
            -- one, and a household removed from Syst_01 takes its decision with it: ON DELETE
            -- CASCADE). A decision this run wrote has members: only the others are looked at.
            DELETE FROM inami.control_decision d
            WHERE d.control_year = y AND d.run_id <> run
              AND NOT EXISTS (SELECT 1 FROM inami.syst01_member m
                              WHERE m.control_year = y AND m.request_number = d.request_number);
        END IF;
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(),
            counts = (SELECT coalesce(pg_catalog.jsonb_object_agg(s.reason, s.n ORDER BY s.reason), '{}')
                      FROM (SELECT d.reason, count(*) AS n FROM inami.control_decision d
                            WHERE d.control_year = y GROUP BY d.reason) s)
                     -- decisions waiting for the second shipment, when there are any
                     || (SELECT CASE WHEN count(*) > 0 THEN pg_catalog.jsonb_build_object('provisional', count(*))
                                     ELSE '{}' END
                         FROM inami.control_decision d WHERE d.control_year = y AND d.provisional)
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

CREATE OR REPLACE PROCEDURE inami.run_proactive_flow(year int)
LANGUAGE plpgsql AS $$
DECLARE
    y int := $1;
    run bigint := inami._control_run_start('proactive_flow', $1);
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    COMMIT;
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(inami._control_lock_key('proactive_flow'), y);
        PERFORM pg_catalog.set_config('jit', 'off', true);
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);  -- as above
        -- Outcomes being written are waited for and new ones wait: writing an outcome locks
        -- its household's decision row, and the run locks them all (no deadlock either way).
        LOCK TABLE inami.proactive_outcome IN SHARE MODE;
        -- Updated in place (every Pro_01 household gets its row again): the outcomes the OA
        -- recorded for its OK households (inami.proactive_outcome) point to these rows.
        INSERT INTO inami.proactive_decision AS d
            (year, request_number, code, run_id, household_size, income_year, household_total, ceiling, eldest_niss)
        SELECT y, p.request_number, inami.im_verdict(p.total, p.household_size, p.income_year), run,
               p.household_size, p.income_year, p.total, inami.im_plafond(p.household_size, p.income_year),
               -- the one born first for sure: its last possible day is no later than the first
               -- possible day of every other member (a NISS with month or day 00 allows a
               -- month or a year; on that one day, the one whose NISS dates it first, then the
               -- smaller NISS); none when that cannot be told, or a NISS is invalid
               CASE WHEN p.valid = p.household_size
                     AND (p.household_size = 1
                          OR CASE WHEN p.eldest_first = p.firsts[1] THEN p.firsts[2] ELSE p.firsts[1] END >= p.eldest_last)
                    THEN p.eldest END
        FROM (SELECT m.request_number, count(*)::int AS household_size, min(m.income_year) AS income_year,
                     inami.household_income(m.return_code, m.income, m.rule_birth_date, m.income_year) AS total,
                     (pg_catalog.array_agg(m.niss ORDER BY pg_catalog.upper(m.birth_dates), m.niss))[1] AS eldest,
                     (pg_catalog.array_agg(pg_catalog.lower(m.birth_dates) ORDER BY pg_catalog.upper(m.birth_dates), m.niss))[1]
                       AS eldest_first,
                     pg_catalog.min(pg_catalog.upper(m.birth_dates)) - 1 AS eldest_last,
                     pg_catalog.count(m.birth_dates)::int AS valid,
                     (pg_catalog.array_agg(pg_catalog.lower(m.birth_dates) ORDER BY pg_catalog.lower(m.birth_dates)))[1:2] AS firsts
              FROM inami._proactive_members(y) m
              GROUP BY m.request_number) p
        ON CONFLICT ON CONSTRAINT proactive_decision_pkey DO UPDATE
        SET code = excluded.code, run_id = excluded.run_id, household_size = excluded.household_size,
            income_year = excluded.income_year, household_total = excluded.household_total,
            ceiling = excluded.ceiling, eldest_niss = excluded.eldest_niss;
        DELETE FROM inami.proactive_decision d WHERE d.year = y AND d.run_id <> run;
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(),
            counts = (SELECT coalesce(pg_catalog.jsonb_object_agg(s.code, s.n ORDER BY s.code), '{}')
                      FROM (SELECT d.code, count(*) AS n FROM inami.proactive_decision d
                            WHERE d.year = y GROUP BY d.code) s)
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

CREATE OR REPLACE FUNCTION inami.explain_decision(request_number text, control_year int)
RETURNS TABLE (step int, what text, value text, rule text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    rn text := $1;
    y int := $2;
    h inami.syst01_household;
    d inami.control_decision;
    c record;
    m record;
    e record;
    n int := 0;
    ceil_row inami.im_ceiling;
    live boolean;
    sent_cadastral numeric;
    cad_amount numeric;
    cad_basis numeric;
    asked_again text;
    asked_codes text[] := '{}';
    later_loaded boolean;
BEGIN
    PERFORM inami._check_year(y, 'control year');
    SELECT * INTO h FROM inami.syst01_household s WHERE s.control_year = y AND s.request_number = rn;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown request number "%" for control year %', rn, y
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('inami.syst01_household has no household %s for control year %s.', rn, y),
                  HINT = 'Check the request number (OA + year + requester NISS) and the control year; the Syst_01 file must be loaded.';
    END IF;
    SELECT * INTO d FROM inami.control_decision x WHERE x.control_year = y AND x.request_number = rn;
    live := NOT FOUND;

    step := 1; what := 'household';
    value := format('%s, OA %s, requester %s, control year %s (Syst_01 file %s)', rn, h.oa, h.requester_niss, y,
                    (SELECT f.source_name FROM inami.flow_file f WHERE f.file_id = h.file_id));
    rule := 'Circ. O.A. 2024/165, 3.2-3.3: household under systematic control, request number OA + year + requester NISS';
    RETURN NEXT;

    IF live THEN
        step := 2; what := 'decision';
        value := 'no run has decided this household yet: what follows is what a run would decide from the data now';
        rule := 'CALL inami.run_systematic_control(control_year) stores the decision';
        RETURN NEXT;
        SELECT c2.household_size, c2.income_year, c2.shipment, c2.sent_total, c2.household_total, c2.extra_income,
               c2.ceiling, c2.ceiling_source, c2.verdict, c2.events, c2.reason, c2.right_end, c2.provisional,
               c2.cadastral_income
        INTO d.household_size, d.income_year, d.shipment, d.sent_total, d.household_total, d.extra_income,
             d.ceiling, d.ceiling_source, d.verdict, d.events, d.reason, d.right_end, d.provisional,
             d.cadastral_income
        FROM inami.systematic_candidates(y, rn) c2 WHERE c2.precedence = 1;
    ELSE
        step := 2; what := 'decision';
        value := format('made by run %s on %s', d.run_id,
                        (SELECT to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM inami.control_run r WHERE r.run_id = d.run_id));
        rule := 'inami.control_run: the run log';
        RETURN NEXT;
    END IF;

    step := 3; what := 'Syst_04 answer';
    value := CASE WHEN d.shipment IS NULL THEN 'no shipment answered the household: no fiscal data'
                  ELSE format('latest shipment %s (shipments received: %s), each member''s latest answer counts; income year %s, tax year %s',
                              d.shipment,
                              (SELECT string_agg(a.shipment::text, ', ' ORDER BY a.shipment) FROM inami.syst04_household a
                               WHERE a.control_year = y AND a.request_number = rn),
                              d.income_year, d.income_year + 1) END;
    rule := 'Circ. O.A. 2024/165, 4.1 and 4.3: the second shipment (October) answers what the first left open; each member''s latest answer counts, under the newest NISS (2.4); income year = control year - 2 (R3)';
    RETURN NEXT;

    FOR m IN SELECT * FROM inami.systematic_members(y, rn) x ORDER BY x.birth_date NULLS LAST, x.niss LOOP
        n := n + 1;
        step := 3 + n; what := 'member ' || m.niss;
        value := format('born %s, return code %s, income %s%s',
                        coalesce(to_char(m.birth_date, 'YYYY-MM-DD'), 'unknown'),
                        coalesce(m.return_code, 'none (not in the answer)'),
                        coalesce(m.income::text, 'unknown'),
                        CASE WHEN coalesce(m.return_code, '') <> '00' AND m.under18
                             THEN format('; under 18 on 1 January %s: counted as known with 0.00', m.income_year + 1)
                             WHEN coalesce(m.return_code, '') <> '00'
                             THEN '; income unknown: the household total is unknown' ELSE '' END);
        rule := CASE WHEN coalesce(m.return_code, '') <> '00' AND m.under18
                     THEN 'Circ. O.A. 2024/165, 4.3 and footnote 7: a member under 18 on 1 January of the tax year with unknown income counts 0.00 EUR'
                     WHEN coalesce(m.return_code, '') <> '00'
                     THEN 'Circ. O.A. 2024/165, 4.3 and 5.1 (art. 38, par. 3 A.R. 15.01.2014): return code other than 00 = income not known'
                     ELSE 'Circ. O.A. 2024/165, 4.2-4.4: return code 00, income = sum of the IPCAL items x their factor (inami.ipcal_rule)' END;
        RETURN NEXT;
        -- for the steps below: the CadastralIncome sent, and the codes asked again that
        -- leave a member unknown (not under 18)
        IF m.cadastral_income IS NOT NULL THEN
            sent_cadastral := coalesce(sent_cadastral, 0) + m.cadastral_income;
        END IF;
        IF m.shipment = 1 AND NOT coalesce(m.under18, false)
           AND m.return_code IN (SELECT r.return_code FROM inami.return_code_asked_again r) THEN
            asked_codes := asked_codes || m.return_code;
        END IF;
    END LOOP;
    n := 3 + n;

    n := n + 1; step := n; what := 'household size';
    value := d.household_size::text || ' (members listed in Syst_01, the requester once)';
    rule := 'Circ. O.A. 2024/165, 3.2: requester, spouse or legal cohabitant, and their dependents';
    RETURN NEXT;

    n := n + 1; step := n; what := 'household income';
    value := CASE WHEN d.household_total IS NULL THEN 'unknown (a member''s income is unknown, or no answer)'
                  ELSE d.household_total::text END
             || CASE WHEN d.sent_total IS NOT NULL THEN format(' (HouseholdTotal sent by the SCA: %s)', d.sent_total) ELSE '' END;
    rule := 'Circ. O.A. 2024/165, 4.4: total of the members, only when every member is known; a negative total becomes 0.00';
    RETURN NEXT;

    SELECT x.amount, x.basis INTO cad_amount, cad_basis FROM inami.household_event x
    WHERE x.control_year = y AND x.request_number = rn AND x.event = 'cadastral_income';
    IF sent_cadastral IS NOT NULL OR cad_basis IS NOT NULL OR (NOT live AND d.cadastral_income IS NOT NULL) THEN
        n := n + 1; step := n; what := 'cadastral income';
        value := format('sent: %s; counted by the OA: %s', coalesce(sent_cadastral::text, 'none'),
                        CASE WHEN cad_basis IS NULL THEN 'not assessed yet (no cadastral_income event)'
                             WHEN cad_basis <> coalesce(sent_cadastral, 0)
                             THEN format('none: the assessment (%s) was made on %s sent, not on what is sent now', cad_amount, cad_basis)
                             ELSE cad_amount::text END)
                 || CASE WHEN d.cadastral_income IS NOT NULL AND d.household_total IS NOT NULL
                         THEN format('; income for the verdict %s', d.household_total + d.cadastral_income) ELSE '' END
                 -- an assessment made, changed or made stale (another amount sent) since the run
                 || CASE WHEN NOT live AND d.cadastral_income IS DISTINCT FROM
                              (CASE WHEN cad_basis = coalesce(sent_cadastral, 0) THEN cad_amount END)
                         THEN format('; the decision counted %s: the assessment or the amount sent changed since, CALL inami.run_systematic_control(%s) decides again',
                                     coalesce(d.cadastral_income::text, 'none'), y) ELSE '' END;
        rule := 'Circ. O.A. 2024/165, 4.2 and 4.4: the own home''s cadastral income comes apart; the OA deducts the exempt amounts and counts the rest (a cadastral_income event)';
        RETURN NEXT;
    END IF;

    SELECT * INTO ceil_row FROM inami.im_ceiling i WHERE i.income_year = d.income_year;
    n := n + 1; step := n; what := 'ceiling';
    value := format('%s = %s + %s x (%s - 1), income year %s', d.ceiling, ceil_row.base, ceil_row.per_member,
                    d.household_size, d.income_year);
    rule := coalesce(d.ceiling_source, ceil_row.source) || ' (inami.im_ceiling row of income year ' || d.income_year || ')';
    RETURN NEXT;

    n := n + 1; step := n; what := 'verdict';
    value := d.verdict || CASE d.verdict WHEN 'OK' THEN ': income under the ceiling'
                                         WHEN 'NOK' THEN ': income at or over the ceiling'
                                         ELSE ': income unknown' END;
    rule := 'R3 (inami.im_verdict): total < ceiling -> OK; total >= ceiling -> NOK; unknown -> ONHOLD';
    RETURN NEXT;

    FOR e IN SELECT * FROM inami.household_event x WHERE x.control_year = y AND x.request_number = rn
             ORDER BY x.event_date, x.event_id LOOP
        n := n + 1; step := n; what := 'event ' || e.event_id;
        value := format('%s on %s%s%s', e.event, to_char(e.event_date, 'YYYY-MM-DD'),
                        CASE WHEN e.amount IS NOT NULL THEN ', amount ' || e.amount ELSE '' END,
                        CASE WHEN e.detail IS NOT NULL THEN ': ' || e.detail ELSE '' END)
                 || CASE WHEN e.event_id = ANY (coalesce(d.events, '{}')) OR live THEN '' ELSE ' (recorded after the decision)' END;
        rule := CASE e.event
            WHEN 'composition_change' THEN 'Circ. O.A. 2024/165, 5.3: STOPFAM, end at the latest on the last day of the quarter following the change'
            WHEN 'child_under16_arrival' THEN 'Circ. O.A. 2024/165, 5.3 (art. 35 A.R. 15.01.2014) and 2024/245 (D): arrival of a dependent child under 16 first registered, or with temporary protection: not a composition change that ends the right; the child gets the right too'
            WHEN 'death' THEN 'Circ. O.A. 2024/165, 5.3: STOPDEATH'
            WHEN 'oa_change' THEN 'Circ. O.A. 2024/165, 5.3: STOPOA, end of the examination'
            WHEN 'extra_fiscal_data' THEN 'Circ. O.A. 2024/165, 4.4 and 5.3: the OA adds what it knows (foreign income, alimony...): STOPFISC when the right ends on it'
            WHEN 'social_advantage' THEN CASE WHEN e.event_date <= make_date(y, 12, 31)
                                              THEN 'Circ. O.A. 2024/165, 5.3: KEEPADV, right maintained by a social advantage'
                                              ELSE 'Circ. O.A. 2024/165, 5.3: an advantage starting after 31 December X does not maintain the right for this control (it opens a right of its own)' END
            WHEN 'new_dsh' THEN CASE WHEN e.event_date BETWEEN make_date(y, 10, 1) AND make_date(y + 1, 3, 31)
                                     THEN 'Circ. O.A. 2024/165, 5.1: new DSH from 1 October X to 31 March X+1: KEEPDSH'
                                     ELSE 'Circ. O.A. 2024/165, 5.1: a new DSH outside 1 October X - 31 March X+1 does not keep the right for this control' END
            WHEN 'cadastral_income' THEN 'Circ. O.A. 2024/165, 4.4: the part of the own home''s cadastral income the OA counts after deducting the exempt amounts, added to the income'
        END;
        RETURN NEXT;
    END LOOP;

    FOR c IN SELECT * FROM inami.systematic_candidates(y, rn) x ORDER BY x.precedence LOOP
        n := n + 1; step := n;
        what := CASE WHEN c.precedence = 1 THEN 'candidate (chosen)' ELSE 'candidate' END;
        value := format('%s, right ends %s%s', c.reason, to_char(c.right_end, 'YYYY-MM-DD'),
                        CASE WHEN c.event_id IS NOT NULL THEN format(' (event %s of %s)', c.event_id, to_char(c.trigger_date, 'YYYY-MM-DD'))
                             ELSE ' (the income)' END);
        rule := c.rule;
        RETURN NEXT;
    END LOOP;

    n := n + 1; step := n; what := 'reported';
    value := format('%s, right ends %s', d.reason, to_char(d.right_end, 'YYYY-MM-DD'));
    rule := 'Circ. O.A. 2024/165, 5.3: the OA reports the reason that ended the right first (examples 1-3); on the same day an event comes before the income (example 2)';
    RETURN NEXT;

    -- the codes asked again, when the household's income is unknown only through them
    IF (SELECT hh.asked_again FROM inami.systematic_households(y, rn) hh) THEN
        asked_again := (SELECT string_agg(DISTINCT c, ', ' ORDER BY c) FROM unnest(asked_codes) AS c);
    END IF;
    later_loaded := inami._syst04_later_shipment_loaded(y);
    -- a later shipment loaded since the decision's run started (not one the run already read)
    IF d.provisional AND NOT live AND later_loaded
       AND EXISTS (SELECT 1 FROM inami.flow_file f JOIN inami.control_run r ON r.run_id = d.run_id
                   WHERE f.kind = 'Syst04' AND f.year = y AND f.shipment > 1 AND f.loaded_at >= r.started_at) THEN
        n := n + 1; step := n; what := 'provisional';
        value := format('a later Syst_04 shipment has been loaded since: CALL inami.run_systematic_control(%s) decides the household again', y);
        rule := 'Circ. O.A. 2024/165, 4.1 and 4.3: the second shipment answers what the first left open';
        RETURN NEXT;
    END IF;
    IF d.provisional AND d.shipment IS NULL AND NOT later_loaded THEN
        n := n + 1; step := n; what := 'provisional';
        value := 'no shipment has answered the household yet: the second shipment (October) answers what the first left open, and inami.syst05_document does not write this decision before a later shipment is loaded';
        rule := 'Circ. O.A. 2024/165, 4.1: the SCA sends its answers in two shipments, the second for the households it had no answer for the first time';
        RETURN NEXT;
    END IF;
    IF d.provisional AND asked_again IS NOT NULL AND NOT later_loaded THEN
        n := n + 1; step := n; what := 'provisional';
        value := format('a member answered in shipment 1 with %s, which the SCA asks again: the second shipment may change this decision, and inami.syst05_document does not write it before then',
                        asked_again);
        rule := 'Circ. O.A. 2024/165, 4.3 and footnote 11: income available but not yet processed (inami.return_code_asked_again) is asked again in September; only if the answer is still not 00 is the income unknown';
        RETURN NEXT;
    END IF;
    IF d.provisional AND d.cadastral_income IS NULL AND sent_cadastral <> 0
       AND inami.im_verdict(d.household_total, d.household_size, d.income_year) = 'OK' THEN
        n := n + 1; step := n; what := 'provisional';
        value := format('the Syst_04 sent a cadastral income of %s that the OA has not assessed (on that amount): inami.syst05_document does not write this decision before a cadastral_income event gives the part counted',
                        sent_cadastral);
        rule := 'Circ. O.A. 2024/165, 4.4: the OA deducts the exempt amounts from the cadastral income and counts the rest';
        RETURN NEXT;
    END IF;
END;
$$;

CREATE OR REPLACE PROCEDURE inami.purge_expired(as_of date DEFAULT current_date)
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

CREATE OR REPLACE FUNCTION inami.maf_ceiling(year int, household_income numeric, maf_social boolean)
RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    social numeric;
    bracket numeric;
BEGIN
    IF year IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM inami._check_year(year, 'MAF year');
    IF maf_social IS NULL THEN
        RAISE EXCEPTION 'maf_ceiling needs maf_social'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('maf_social is NULL for year %s.', year),
                  HINT = 'Give true when the household has members in a MAF social household (inami.maf_household), false otherwise.';
    END IF;
    IF household_income IS NULL AND NOT maf_social THEN
        RAISE EXCEPTION 'maf_ceiling needs the household income when MAF social does not apply'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('household_income is NULL and maf_social is false for year %s.', year),
                  HINT = 'Give the household''s net taxable income of year - 2 (0 when the insurer may presume no income, Circ. O.A. 2024/245). A household of TP persons arrived in 2023 has the MAF social ceiling, with or without the IM: give maf_social true.';
    END IF;
    IF household_income < 0 THEN
        RAISE EXCEPTION 'household income must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The household income given is %s.', household_income),
                  HINT = 'Give the household''s net taxable income of year - 2, 0 or more.';
    END IF;
    IF maf_social THEN
        SELECT c.ceiling INTO social FROM inami.maf_social_ceiling c WHERE c.year = $1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF social ceiling for year %', year
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.maf_social_ceiling has no row with year = %s.', year),
                      HINT = format('Add the ceiling of the year with its source: INSERT INTO inami.maf_social_ceiling (year, ceiling, source) VALUES (%s, ...).', year);
        END IF;
    END IF;
    IF household_income IS NOT NULL THEN
        PERFORM 1 FROM inami.maf_income_bracket b WHERE b.year = $1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF income brackets for year %', year
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.maf_income_bracket has no row with year = %s.', year),
                      HINT = format('Add the brackets of the year with their source: INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES (%s, 0.00, ...), ...', year);
        END IF;
        SELECT b.ceiling INTO bracket FROM inami.maf_income_bracket b
        WHERE b.year = $1 AND b.income_from <= household_income
        ORDER BY b.income_from DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF income bracket of year % holds an income of %', year, household_income
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The lowest income_from of inami.maf_income_bracket for year %s is %s.',
                                      year, (SELECT min(b.income_from) FROM inami.maf_income_bracket b WHERE b.year = $1)),
                      HINT = format('Add the first bracket: INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES (%s, 0.00, ...).', year);
        END IF;
    END IF;
    -- MAF social and a lower income bracket: the lower applies (Circ. O.A. 2024/245, "MAF 250").
    RETURN least(social, bracket);
END;
$$;

COMMENT ON FUNCTION inami._control_lock_key(text) IS
'First key of the transaction advisory lock (kind, year) a control run holds while it writes: pg_advisory_xact_lock(inami._control_lock_key(kind), year).';

------------------------------------------------------------------------------------------
-- Reports: the views a BI tool charts (inami.report_*, new in 0.2.0), as in
-- sql/install/70-reports.sql.
------------------------------------------------------------------------------------------

-- Every view runs with the rights of the role that reads it (security_invoker), as the
-- functions do: a reporting role needs SELECT on the tables behind the views.

-- Each decision twice: as a decision of its control year (previous = false) and as the
-- previous year of the next control year (previous = true), so that one aggregate gives a
-- year's figure and the year before's. The second branch joins a series of years on
-- equality rather than computing control_year + 1: a filter on control_year (pushed into
-- both branches) then reads the two years through the primary key, not the whole table.
CREATE VIEW inami._report_decision
WITH (security_invoker = true) AS
SELECT d.control_year, d.oa, false AS previous, d.reason, d.verdict, d.household_size,
       date_trunc('month', d.right_end::timestamp)::date AS right_end_month,
       d.provisional, d.sends_feedback
FROM inami.control_decision d
UNION ALL
SELECT y.control_year, d.oa, true, d.reason, d.verdict, d.household_size,
       (date_trunc('month', d.right_end::timestamp) + interval '1 year')::date,
       d.provisional, d.sends_feedback
FROM generate_series(1991, 2201) AS y(control_year)
JOIN inami.control_decision d ON d.control_year = y.control_year - 1;
COMMENT ON VIEW inami._report_decision IS
'Internal to the report views: each decision as one of its control year (previous false) and as one of the year before the next control year (previous true; right_end_month moved a year later, to stand beside the same month).';

-- The headline of a control year: one row per control year and OA.
CREATE VIEW inami.report_control_year
WITH (security_invoker = true) AS
SELECT g.control_year, g.oa,
       count(*) FILTER (WHERE NOT g.previous) AS households,
       count(*) FILTER (WHERE NOT g.previous AND g.reason LIKE 'KEEP%') AS keeping,
       count(*) FILTER (WHERE NOT g.previous AND g.reason LIKE 'STOP%') AS stopping,
       count(*) FILTER (WHERE NOT g.previous AND g.provisional) AS provisional,
       count(*) FILTER (WHERE NOT g.previous AND NOT g.sends_feedback) AS feedback_elsewhere,
       count(*) FILTER (WHERE g.previous) AS households_previous_year,
       count(*) FILTER (WHERE g.previous AND g.reason LIKE 'KEEP%') AS keeping_previous_year,
       count(*) FILTER (WHERE g.previous AND g.reason LIKE 'STOP%') AS stopping_previous_year,
       count(*) FILTER (WHERE g.previous AND g.provisional) AS provisional_previous_year,
       count(*) FILTER (WHERE g.previous AND NOT g.sends_feedback) AS feedback_elsewhere_previous_year
FROM inami._report_decision g
GROUP BY g.control_year, g.oa
HAVING count(*) FILTER (WHERE NOT g.previous) > 0;
COMMENT ON VIEW inami.report_control_year IS
'The headline of a control year (R4), one row per control year and OA with decisions: households decided (inami.control_decision rows), keeping the right (KEEPSYST, KEEPADV, KEEPDSH), losing it (STOP*), provisional (the income that decides can still change: inami.report_provisional_households says what each waits for), and those whose feedback the new OA sends (sends_feedback false, E 2.3); each beside the same figure of the year before for the same OA.';
COMMENT ON COLUMN inami.report_control_year.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_control_year.oa IS 'OA of the decisions (control_decision.oa).';
COMMENT ON COLUMN inami.report_control_year.households IS 'Households decided: one decision each.';
COMMENT ON COLUMN inami.report_control_year.keeping IS 'Decisions that keep the right: KEEPSYST, KEEPADV, KEEPDSH (until 31 December X+1).';
COMMENT ON COLUMN inami.report_control_year.stopping IS 'Decisions that end the right: STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC.';
COMMENT ON COLUMN inami.report_control_year.provisional IS 'Provisional decisions (control_decision.provisional): inami.syst05_document does not write them yet.';
COMMENT ON COLUMN inami.report_control_year.feedback_elsewhere IS 'Decisions of households that moved before any Syst_04 answered them here: the new OA sends their feedback (sends_feedback false, E 2.3, 5.2).';
COMMENT ON COLUMN inami.report_control_year.households_previous_year IS 'households of control year - 1, same OA.';
COMMENT ON COLUMN inami.report_control_year.keeping_previous_year IS 'keeping of control year - 1, same OA.';
COMMENT ON COLUMN inami.report_control_year.stopping_previous_year IS 'stopping of control year - 1, same OA.';
COMMENT ON COLUMN inami.report_control_year.provisional_previous_year IS 'provisional of control year - 1, same OA (as the decisions stand now).';
COMMENT ON COLUMN inami.report_control_year.feedback_elsewhere_previous_year IS 'feedback_elsewhere of control year - 1, same OA.';

-- Decisions by reason, by verdict, by household size and by the month the right ends: one
-- row per control year, OA and value that either year has; the window keeps the rows of
-- control years that have decisions (not the year after the last one).
CREATE VIEW inami.report_decisions_by_reason
WITH (security_invoker = true) AS
SELECT s.control_year, s.oa, s.reason, s.reason LIKE 'KEEP%' AS keeps_right,
       s.households, s.households_previous_year
FROM (SELECT g.control_year, g.oa, g.reason,
             count(*) FILTER (WHERE NOT g.previous) AS households,
             count(*) FILTER (WHERE g.previous) AS households_previous_year,
             sum(count(*) FILTER (WHERE NOT g.previous)) OVER (PARTITION BY g.control_year, g.oa) AS year_households
      FROM inami._report_decision g
      GROUP BY g.control_year, g.oa, g.reason) s
WHERE s.year_households > 0;
COMMENT ON VIEW inami.report_decisions_by_reason IS
'Decisions of a control year by Syst_05 reason (E 5.1, 5.3), one row per control year, OA and reason that the year or the year before has, with the previous year''s count beside it. A reason neither year has has no row.';
COMMENT ON COLUMN inami.report_decisions_by_reason.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_decisions_by_reason.oa IS 'OA of the decisions.';
COMMENT ON COLUMN inami.report_decisions_by_reason.reason IS 'KEEPSYST, STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC, KEEPADV or KEEPDSH.';
COMMENT ON COLUMN inami.report_decisions_by_reason.keeps_right IS 'True for the reasons that keep the right (KEEP*).';
COMMENT ON COLUMN inami.report_decisions_by_reason.households IS 'Decisions with this reason.';
COMMENT ON COLUMN inami.report_decisions_by_reason.households_previous_year IS 'The same, control year - 1, same OA.';

CREATE VIEW inami.report_decisions_by_verdict
WITH (security_invoker = true) AS
SELECT s.control_year, s.oa, s.verdict, s.households, s.households_previous_year
FROM (SELECT g.control_year, g.oa, g.verdict,
             count(*) FILTER (WHERE NOT g.previous) AS households,
             count(*) FILTER (WHERE g.previous) AS households_previous_year,
             sum(count(*) FILTER (WHERE NOT g.previous)) OVER (PARTITION BY g.control_year, g.oa) AS year_households
      FROM inami._report_decision g
      GROUP BY g.control_year, g.oa, g.verdict) s
WHERE s.year_households > 0;
COMMENT ON VIEW inami.report_decisions_by_verdict IS
'Decisions of a control year by R3 verdict of the income (OK under the ceiling, NOK at or over it, ONHOLD unknown), whatever reason was reported; one row per control year, OA and verdict either year has. verdict is NULL for decisions stored without one (not written by inami.run_systematic_control).';
COMMENT ON COLUMN inami.report_decisions_by_verdict.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_decisions_by_verdict.oa IS 'OA of the decisions.';
COMMENT ON COLUMN inami.report_decisions_by_verdict.verdict IS 'OK, NOK or ONHOLD (control_decision.verdict).';
COMMENT ON COLUMN inami.report_decisions_by_verdict.households IS 'Decisions with this verdict.';
COMMENT ON COLUMN inami.report_decisions_by_verdict.households_previous_year IS 'The same, control year - 1, same OA.';

CREATE VIEW inami.report_decisions_by_household_size
WITH (security_invoker = true) AS
SELECT s.control_year, s.oa, s.household_size, s.households, s.households_previous_year
FROM (SELECT g.control_year, g.oa, g.household_size,
             count(*) FILTER (WHERE NOT g.previous) AS households,
             count(*) FILTER (WHERE g.previous) AS households_previous_year,
             sum(count(*) FILTER (WHERE NOT g.previous)) OVER (PARTITION BY g.control_year, g.oa) AS year_households
      FROM inami._report_decision g
      GROUP BY g.control_year, g.oa, g.household_size) s
WHERE s.year_households > 0;
COMMENT ON VIEW inami.report_decisions_by_household_size IS
'Decisions of a control year by household size (the number of Syst_01 members, which sets the ceiling); one row per control year, OA and size either year has. household_size is NULL for decisions stored without one.';
COMMENT ON COLUMN inami.report_decisions_by_household_size.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_decisions_by_household_size.oa IS 'OA of the decisions.';
COMMENT ON COLUMN inami.report_decisions_by_household_size.household_size IS 'Members of the household (control_decision.household_size).';
COMMENT ON COLUMN inami.report_decisions_by_household_size.households IS 'Decisions of households of this size.';
COMMENT ON COLUMN inami.report_decisions_by_household_size.households_previous_year IS 'The same, control year - 1, same OA.';

CREATE VIEW inami.report_decisions_by_right_end_month
WITH (security_invoker = true) AS
SELECT s.control_year, s.oa, s.right_end_month, s.households, s.households_previous_year
FROM (SELECT g.control_year, g.oa, g.right_end_month,
             count(*) FILTER (WHERE NOT g.previous) AS households,
             count(*) FILTER (WHERE g.previous) AS households_previous_year,
             sum(count(*) FILTER (WHERE NOT g.previous)) OVER (PARTITION BY g.control_year, g.oa) AS year_households
      FROM inami._report_decision g
      WHERE g.right_end_month IS NOT NULL
      GROUP BY g.control_year, g.oa, g.right_end_month) s
WHERE s.year_households > 0;
COMMENT ON VIEW inami.report_decisions_by_right_end_month IS
'Decisions of a control year by the month their right ends (control_decision.right_end): one row per control year, OA and month either year has, the previous year''s count being that of the same month a year earlier (control year - 1, right ending 12 months before right_end_month). Decisions without right_end are not counted.';
COMMENT ON COLUMN inami.report_decisions_by_right_end_month.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_decisions_by_right_end_month.oa IS 'OA of the decisions.';
COMMENT ON COLUMN inami.report_decisions_by_right_end_month.right_end_month IS 'First day of the month in which the right ends.';
COMMENT ON COLUMN inami.report_decisions_by_right_end_month.households IS 'Decisions whose right ends in that month.';
COMMENT ON COLUMN inami.report_decisions_by_right_end_month.households_previous_year IS 'Decisions of control year - 1, same OA, whose right ends in the same month a year earlier.';

-- What a provisional decision waits for, from what the decision row keeps (the same cases
-- as inami.explain_decision): the run marks a decision provisional when no answer lists the
-- household yet or its income is unknown only through members asked again (E 4.1, 4.3:
-- both wait for a later Syst_04 shipment, or for a new run once one is loaded), or when
-- the income is known and under the ceiling but a cadastral income sent is not assessed
-- (E 4.4: a cadastral_income event, then a new run).
-- Whether a later shipment is loaded is asked once per control year (a materialized CTE),
-- not once per decision: without the October shipment, the question reads the whole
-- year's Syst_04 households.
CREATE VIEW inami.report_provisional_households
WITH (security_invoker = true) AS
WITH later AS MATERIALIZED (
    SELECT y.control_year, inami._syst04_later_shipment_loaded(y.control_year) AS shipment_loaded
    FROM generate_series(1990, 2200) AS y(control_year)
)
SELECT d.control_year, d.oa, d.request_number, d.reason, d.right_end,
       CASE WHEN d.shipment IS NOT NULL AND d.household_total IS NOT NULL THEN 'cadastral_income'
            WHEN l.shipment_loaded THEN 'new_run'
            WHEN d.shipment IS NULL THEN 'no_answer'
            ELSE 'asked_again' END AS waiting_for
FROM inami.control_decision d
JOIN later l ON l.control_year = d.control_year
WHERE d.provisional;
COMMENT ON VIEW inami.report_provisional_households IS
'The provisional decisions (inami.syst05_document refuses to write them), one row per household, with what each waits for: no_answer (no Syst_04 answer lists the household yet: the later shipment, E 4.1), asked_again (unknown only through members answered in shipment 1 with a code of inami.return_code_asked_again: the later shipment, E 4.3), new_run (a later shipment has been loaded since the decision: CALL inami.run_systematic_control(control_year)), cadastral_income (the income is under the ceiling and the CadastralIncome sent has no assessment made on it: a cadastral_income event, then a new run, E 4.4). inami.explain_decision gives the detail. request_number holds the requester''s NISS: personal data.';
COMMENT ON COLUMN inami.report_provisional_households.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_provisional_households.oa IS 'OA of the decision.';
COMMENT ON COLUMN inami.report_provisional_households.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.report_provisional_households.reason IS 'The reason reported for now.';
COMMENT ON COLUMN inami.report_provisional_households.right_end IS 'The end of the right for now.';
COMMENT ON COLUMN inami.report_provisional_households.waiting_for IS 'no_answer, asked_again, new_run or cadastral_income.';

CREATE VIEW inami.report_provisional
WITH (security_invoker = true) AS
SELECT s.control_year, s.oa, s.waiting_for, s.households, s.households_previous_year
FROM (SELECT p.control_year, p.oa, p.waiting_for,
             count(*) FILTER (WHERE NOT p.previous) AS households,
             count(*) FILTER (WHERE p.previous) AS households_previous_year,
             sum(count(*) FILTER (WHERE NOT p.previous)) OVER (PARTITION BY p.control_year, p.oa) AS year_households
      FROM (SELECT h.control_year, h.oa, h.waiting_for, false AS previous
            FROM inami.report_provisional_households h
            UNION ALL
            SELECT y.control_year, h.oa, h.waiting_for, true
            FROM generate_series(1991, 2201) AS y(control_year)
            JOIN inami.report_provisional_households h ON h.control_year = y.control_year - 1) p
      GROUP BY p.control_year, p.oa, p.waiting_for) s
WHERE s.year_households > 0;
COMMENT ON VIEW inami.report_provisional IS
'Provisional decisions of a control year by what they wait for (inami.report_provisional_households), one row per control year, OA and waiting_for either year has, with the previous year''s count as the decisions stand now. A control year without provisional decisions has no row.';
COMMENT ON COLUMN inami.report_provisional.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.report_provisional.oa IS 'OA of the decisions.';
COMMENT ON COLUMN inami.report_provisional.waiting_for IS 'no_answer, asked_again, new_run or cadastral_income.';
COMMENT ON COLUMN inami.report_provisional.households IS 'Provisional decisions waiting for it.';
COMMENT ON COLUMN inami.report_provisional.households_previous_year IS 'The same, control year - 1, same OA.';

-- G: tables 1, 2 and 3 of inami.proactive_statistics(year) for every year with a
-- proactive flow, each row beside the same row of the year before.
CREATE VIEW inami.report_proactive_statistics
WITH (security_invoker = true) AS
SELECT y.year, s.report_table, s.category, s.label, s.households, s.persons,
       p.households AS households_previous_year, p.persons AS persons_previous_year
FROM (SELECT DISTINCT d.year FROM inami.proactive_decision d) y
CROSS JOIN LATERAL inami.proactive_statistics(y.year) s
LEFT JOIN LATERAL inami.proactive_statistics(y.year - 1) p
       ON p.report_table = s.report_table AND p.category IS NOT DISTINCT FROM s.category AND p.label = s.label;
COMMENT ON VIEW inami.report_proactive_statistics IS
'G (circ. O.A. 2024/250): tables 1, 2 and 3 of the statistics of the proactive flow, as inami.proactive_statistics(year) computes them, for every year with Pro_04 codes, each row beside the same row of year - 1 (0 when that year has no flow). Table 1: OK households and their persons, households actually contacted, and of them those that opened the right (categories 5 and 6); table 2: households per category 1-6; table 3: persons per category. The proactive flow is not split by OA.';
COMMENT ON COLUMN inami.report_proactive_statistics.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.report_proactive_statistics.report_table IS 'G table: 1, 2 or 3.';
COMMENT ON COLUMN inami.report_proactive_statistics.category IS 'G category 1-6 (tables 2 and 3); NULL in table 1.';
COMMENT ON COLUMN inami.report_proactive_statistics.label IS 'The row''s label, as in inami.proactive_statistics.';
COMMENT ON COLUMN inami.report_proactive_statistics.households IS 'Households (tables 1 and 2; NULL in table 3).';
COMMENT ON COLUMN inami.report_proactive_statistics.persons IS 'Persons (tables 1 and 3; NULL in table 2).';
COMMENT ON COLUMN inami.report_proactive_statistics.households_previous_year IS 'households of year - 1.';
COMMENT ON COLUMN inami.report_proactive_statistics.persons_previous_year IS 'persons of year - 1.';

------------------------------------------------------------------------------------------
-- Published figures stay as the sources give them: a parameter row an operator adds or
-- edits may not change a figure of the period the shipped rows vouch for, nor may a
-- coverage row vouch for a quarter that has not begun (inami._refuse_vouched_change,
-- called by the protect_shipped triggers). NaN and the infinities are not amounts: the
-- SQL and PL/pgSQL functions that take one refuse them (inami._finite_amount).
------------------------------------------------------------------------------------------
CREATE FUNCTION inami._refuse_vouched_change(tbl text, r jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    day date;
    first_day date;
    last_day date;
    last_year int;
    y int;
    figure text;
    src text;
BEGIN
    IF tbl = 'pivot_index_step' THEN
        -- R1: from the first shipped step to the end of the shipped coverage.
        day := (r->>'effective_from')::date;
        SELECT min(s.effective_from) INTO first_day FROM inami.pivot_index_step s WHERE s.shipped;
        SELECT c.valid_until, c.source INTO last_day, src FROM inami.parameter_coverage c
        WHERE c.shipped AND c.series = 'quarterly_dependent_limit' ORDER BY c.valid_until DESC LIMIT 1;
        IF day BETWEEN first_day AND last_day THEN
            figure := format('the quarterly income limit of a dependent of Q%s %s (%s EUR)',
                             extract(quarter FROM day), extract(year FROM day),
                             inami.quarterly_dependent_limit(extract(year FROM day)::int, extract(quarter FROM day)::int));
        END IF;
    ELSIF tbl = 'parameter_coverage' THEN
        -- The sources publish a quarter's limit when the quarter begins, never before.
        day := (r->>'valid_until')::date;
        last_day := (date_trunc('quarter', current_date) + interval '3 months - 1 day')::date;
        IF day > last_day THEN
            RAISE EXCEPTION 'a parameter_coverage row cannot vouch for a quarter that has not begun'
                USING ERRCODE = 'check_violation',
                      DETAIL = format('valid_until = %s, after the end of the current quarter (%s).', day, last_day),
                      HINT = 'Add the pivot-index crossings the sources publish for the new quarters first, then the coverage up to the last of those quarters with the circular that publishes it.';
        END IF;
    ELSIF tbl = 'contribution_rate' THEN
        -- R8: a rate counts from the year it is in force on 1 January; after the category's
        -- first shipped rate and up to the last year the shipped minimum incomes come from
        -- (the same circulars), it would take the place of a shipped one.
        day := (r->>'effective_from')::date;
        y := extract(year FROM day)::int + CASE WHEN day = date_trunc('year', day)::date THEN 0 ELSE 1 END;
        SELECT min(c.effective_from), min(c.source) INTO first_day, src FROM inami.contribution_rate c
        WHERE c.shipped AND c.category = r->>'category';
        SELECT max(i.year) INTO last_year FROM inami.contribution_minimum_income i WHERE i.shipped;
        IF day > first_day AND y <= last_year THEN
            SELECT format('the contribution rate of %s in %s (%s %%)', c.category, y, c.rate) INTO figure
            FROM inami.contribution_rate c
            WHERE c.category = r->>'category' AND c.effective_from <= make_date(y, 1, 1)
            ORDER BY c.effective_from DESC LIMIT 1;
        END IF;
    ELSIF tbl IN ('contribution_minimum_factor', 'contribution_minimum_sheltered') THEN
        -- R8: a new age class splits one of the source's, for every year it covers.
        SELECT max(i.year) INTO last_year FROM inami.contribution_minimum_income i WHERE i.shipped;
        EXECUTE format('SELECT min(source) FROM inami.%I WHERE shipped', tbl) INTO src;
        IF src IS NOT NULL AND last_year IS NOT NULL THEN
            y := (r->>'min_age')::int;
            figure := format('the minimum value of %s aged %s in %s (%s EUR)',
                             CASE WHEN tbl = 'contribution_minimum_sheltered' THEN 'a sheltered worker' ELSE 'a worker' END,
                             y, last_year,
                             inami.contribution_minimum(last_year, y, tbl = 'contribution_minimum_sheltered'));
        END IF;
    END IF;
    IF figure IS NOT NULL THEN
        RAISE EXCEPTION 'a row of inami.% would change %', tbl, figure
            USING ERRCODE = 'check_violation',
                  DETAIL = format('The row %s falls in the period the shipped rows vouch for (%s).', r - 'shipped', src),
                  HINT = 'The figures the sources publish stay as they are: add rows only for the periods after them (see doc/security.md).';
    END IF;
END;
$$;
COMMENT ON FUNCTION inami._refuse_vouched_change(text, jsonb) IS
'Trigger helper: refuses a parameter row of an operator that would change a figure of the period the shipped rows vouch for, naming the figure.';

CREATE OR REPLACE FUNCTION inami._protect_shipped_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.shipped THEN
        RAISE EXCEPTION 'cannot % a parameter row shipped with the extension', lower(TG_OP)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The row of %I.%I is the published figure of %s.',
                                  TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.source),
                  HINT = 'Shipped rows are fixed by the sources; add a row for a new period instead.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    -- pg_dump keeps only the rows not shipped: a row marked shipped by hand would be lost.
    IF NEW.shipped THEN
        RAISE EXCEPTION 'only the extension ships parameter rows'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('A row of %I.%I given shipped = true (source: %s).',
                                  TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.source),
                  HINT = 'Leave shipped false (the default): the rows you add are yours, kept by pg_dump with your data.';
    END IF;
    PERFORM inami._refuse_vouched_change(TG_TABLE_NAME, to_jsonb(NEW));
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami._protect_shipped_row() IS
'Trigger: refuses to update or delete a parameter row shipped with the extension, to mark a row shipped (pg_dump keeps only the rows not shipped), and a row that would change a figure the shipped rows vouch for (inami._refuse_vouched_change).';

CREATE FUNCTION inami._finite_amount(amount numeric, what text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF amount IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION '% must be a finite amount', what
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value given is %s.', amount),
                  HINT = 'Give an amount in EUR; NaN and the infinities are not amounts.';
    END IF;
    RETURN amount;
END;
$$;
COMMENT ON FUNCTION inami._finite_amount(numeric, text) IS
'The amount unchanged (NULL too), or an error (22023) naming what when it is NaN or an infinity.';

CREATE OR REPLACE FUNCTION inami.dependent_income_within_limit(quarter_income numeric, year int, quarter int)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN inami._finite_amount(quarter_income, 'quarter_income') <= inami.quarterly_dependent_limit(year, quarter);

CREATE OR REPLACE FUNCTION inami.contribution_complement(year int, age int, wages numeric,
                                              assimilated_workdays numeric,
                                              category text DEFAULT 'workers',
                                              sheltered boolean DEFAULT false)
RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    minimum numeric := inami.contribution_minimum(year, age, sheltered);
    r numeric;
    shortfall numeric;
    complement numeric;
BEGIN
    PERFORM inami._finite_amount(wages, 'wages');
    PERFORM inami._finite_amount(assimilated_workdays, 'assimilated_workdays');
    -- B takes the workdays of the assimilated periods over 240 (I): more than 240 (a
    -- six-day week) leaves nothing to claim, at most the days of a year.
    IF wages < 0 OR assimilated_workdays < 0 OR assimilated_workdays > 366 THEN
        RAISE EXCEPTION 'wages and assimilated workdays must be within their range'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('wages = %s, assimilated_workdays = %s.', wages, assimilated_workdays),
                  HINT = 'Give wages >= 0 as on the contribution documents and 0 to 366 workdays of assimilated periods.';
    END IF;
    SELECT c.rate INTO r FROM inami.contribution_rate c
    WHERE c.category = $5 AND c.effective_from <= make_date($1, 1, 1)
    ORDER BY c.effective_from DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no contribution rate for category "%" in %', $5, $1
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('inami.contribution_rate has no row for category %L in force on 1 January %s.', $5, $1),
                  HINT = 'Use a category of inami.contribution_rate (workers, miners, public_services) or add its rate.';
    END IF;
    -- A: minimum - wages; B: - minimum x workdays / 240; C: rounded up to the euro, x rate.
    shortfall := ceil(minimum - wages - minimum * assimilated_workdays / 240);
    IF shortfall <= 0 THEN
        RETURN 0.00;
    END IF;
    -- Under 10.00 EUR nothing is claimed (I: "ce montant", the product, before rounding:
    -- 136 x 7.35 % = 9.996 is nothing, though it rounds to 10.00).
    complement := shortfall * r / 100;
    RETURN CASE WHEN complement < 10.00 THEN 0.00 ELSE round(complement, 2) END;
END;
$$;

CREATE OR REPLACE FUNCTION inami.maf_ceiling(year int, household_income numeric, maf_social boolean)
RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    social numeric;
    bracket numeric;
BEGIN
    IF year IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM inami._check_year(year, 'MAF year');
    PERFORM inami._finite_amount(household_income, 'household_income');
    IF maf_social IS NULL THEN
        RAISE EXCEPTION 'maf_ceiling needs maf_social'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('maf_social is NULL for year %s.', year),
                  HINT = 'Give true when the household has members in a MAF social household (inami.maf_household), false otherwise.';
    END IF;
    IF household_income IS NULL AND NOT maf_social THEN
        RAISE EXCEPTION 'maf_ceiling needs the household income when MAF social does not apply'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('household_income is NULL and maf_social is false for year %s.', year),
                  HINT = 'Give the household''s net taxable income of year - 2 (0 when the insurer may presume no income, Circ. O.A. 2024/245). A household of TP persons arrived in 2023 has the MAF social ceiling, with or without the IM: give maf_social true.';
    END IF;
    IF household_income < 0 THEN
        RAISE EXCEPTION 'household income must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The household income given is %s.', household_income),
                  HINT = 'Give the household''s net taxable income of year - 2, 0 or more.';
    END IF;
    IF maf_social THEN
        SELECT c.ceiling INTO social FROM inami.maf_social_ceiling c WHERE c.year = $1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF social ceiling for year %', year
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.maf_social_ceiling has no row with year = %s.', year),
                      HINT = format('Add the ceiling of the year with its source: INSERT INTO inami.maf_social_ceiling (year, ceiling, source) VALUES (%s, ...).', year);
        END IF;
    END IF;
    IF household_income IS NOT NULL THEN
        PERFORM 1 FROM inami.maf_income_bracket b WHERE b.year = $1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF income brackets for year %', year
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.maf_income_bracket has no row with year = %s.', year),
                      HINT = format('Add the brackets of the year with their source: INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES (%s, 0.00, ...), ...', year);
        END IF;
        SELECT b.ceiling INTO bracket FROM inami.maf_income_bracket b
        WHERE b.year = $1 AND b.income_from <= household_income
        ORDER BY b.income_from DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF income bracket of year % holds an income of %', year, household_income
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The lowest income_from of inami.maf_income_bracket for year %s is %s.',
                                      year, (SELECT min(b.income_from) FROM inami.maf_income_bracket b WHERE b.year = $1)),
                      HINT = format('Add the first bracket: INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES (%s, 0.00, ...).', year);
        END IF;
    END IF;
    -- MAF social and a lower income bracket: the lower applies (Circ. O.A. 2024/245, "MAF 250").
    RETURN least(social, bracket);
END;
$$;

------------------------------------------------------------------------------------------
-- Scale-out: maf_member[] a member of the extension (postgres_fdw ships maf_household to a
-- shard only then), the shard hash and its operator class, the parameter fingerprint,
-- the coordinator's shard tables and functions, the sharded control runs and documents
-- (as in sql/install/70-shards.sql).
------------------------------------------------------------------------------------------
ALTER EXTENSION inami ADD TYPE inami.maf_member[];

------------------------------------------------------------------------------------------
-- Scale-out: a coordinator and shards (postgres_fdw foreign partitions, dblink commands)
--
-- Households live on shards, placed by one hash of their key (inami.shard_of, the
-- operator class inami.text_shard_ops); the coordinator holds tables partitioned by that
-- hash whose partitions are postgres_fdw foreign tables. With the server option
-- extensions 'inami', grouped aggregates run on the shards. A shipped function reads the
-- SHARD's parameter tables, so every node must run the same version with the same
-- parameter rows: add_shard and check_shards compare them and refuse a difference.
------------------------------------------------------------------------------------------

-- The hash: defined in src/shard.c, the same on every platform and version.
CREATE FUNCTION inami._shard_hash(key text) RETURNS int
AS 'MODULE_PATHNAME', 'inami_shard_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._shard_hash(text) IS
'Hash support function 1 of inami.text_shard_ops: the low 32 bits of the shard hash of key with seed 0.';

CREATE FUNCTION inami._shard_hash_extended(key text, seed bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_shard_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._shard_hash_extended(text, bigint) IS
'Hash support function 2 of inami.text_shard_ops: the 64-bit shard hash of key (FNV-1a over its bytes, seeded, finished by MurmurHash3 fmix64).';

CREATE OPERATOR CLASS inami.text_shard_ops FOR TYPE text USING hash AS
    OPERATOR 1 pg_catalog.= (text, text),
    FUNCTION 1 inami._shard_hash(text),
    FUNCTION 2 inami._shard_hash_extended(text, bigint);
COMMENT ON OPERATOR CLASS inami.text_shard_ops USING hash IS
'The hash partitioning of the sharded tables: PARTITION BY HASH (key inami.text_shard_ops) places a row where inami.shard_of(key, shards) says, on every platform and version.';

CREATE FUNCTION inami.shard_of(key text, shards int) RETURNS int
AS 'MODULE_PATHNAME', 'inami_shard_of'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.shard_of(text, int) IS
'The shard (0 to shards - 1, the position of inami.shard) that holds key: the remainder of the hash partition of a table partitioned by HASH (key inami.text_shard_ops) with MODULUS shards. The hash is over the bytes of key: the same on every platform and version.';

-- Every parameter table (a table of the extension with a shipped column), its row count
-- and a digest of its rows: two nodes whose answers are equal compute with the same
-- parameters. The text of a row depends on the output settings: pinned here.
CREATE FUNCTION inami.parameter_fingerprint()
RETURNS TABLE (table_name text, row_count bigint, digest text)
LANGUAGE plpgsql STABLE
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET TimeZone = 'UTC' SET extra_float_digits = 1
AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass
             FROM pg_catalog.pg_extension e
             CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)
             JOIN pg_catalog.pg_class c ON c.oid = x.oid
             WHERE e.extname = 'inami'
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attname = 'shipped' AND NOT a.attisdropped)
             ORDER BY c.relname
    LOOP
        table_name := t::text;
        EXECUTE pg_catalog.format(
            'SELECT count(*), pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('
            'coalesce(pg_catalog.string_agg(r::text, E''\n'' ORDER BY r::text), ''''), ''UTF8'')), ''hex'') '
            'FROM %s AS r', t)
        INTO row_count, digest;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.parameter_fingerprint() IS
'Every parameter table of inami (schema-qualified name), its number of rows and the SHA-256 of its rows'' text in order: equal on two nodes when their parameter rows are equal. inami.add_shard and inami.check_shards compare it between the coordinator and each shard.';

-- The shards of this coordinator, in the order of their hash partitions.
CREATE TABLE inami.shard (
    name text PRIMARY KEY,
    position int NOT NULL UNIQUE CHECK (position >= 0),
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE inami.shard IS
'The shards of this coordinator (inami.add_shard): name is the foreign server''s, position the remainder of its hash partitions (inami.shard_of(key, count) = position).';
COMMENT ON COLUMN inami.shard.name IS 'The shard''s foreign server (postgres_fdw), made by inami.add_shard.';
COMMENT ON COLUMN inami.shard.position IS 'The remainder of the shard''s hash partitions: it holds the keys k with inami.shard_of(k, shards) = position.';
COMMENT ON COLUMN inami.shard.added_at IS 'When the shard was added.';
SELECT pg_catalog.pg_extension_config_dump('inami.shard', '');

-- The tables partitioned over the shards (inami.create_sharded_table).
CREATE TABLE inami.sharded_table (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    shard_key text NOT NULL CHECK (pg_catalog.btrim(shard_key) <> ''),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (schema_name, table_name)
);
COMMENT ON TABLE inami.sharded_table IS
'The tables of this coordinator partitioned by hash of shard_key over the shards (inami.create_sharded_table): one foreign partition per shard, a table of the same name on each shard.';
COMMENT ON COLUMN inami.sharded_table.schema_name IS 'Schema of the table, on the coordinator and on each shard.';
COMMENT ON COLUMN inami.sharded_table.table_name IS 'Name of the table, on the coordinator (partitioned) and on each shard; its partitions are table_name_SHARD.';
COMMENT ON COLUMN inami.sharded_table.shard_key IS 'The text column whose hash (inami.text_shard_ops) places each row.';
COMMENT ON COLUMN inami.sharded_table.created_at IS 'When the table was sharded.';
SELECT pg_catalog.pg_extension_config_dump('inami.sharded_table', '');

-- Ids that name a shard's rows in results (file_id, run_id, event_id, ...) are unique over
-- the cluster: each shard draws them from a range of its own, taken when it is added.
-- Only the next value moves (setval, kept by pg_dump like the rows): the run procedures
-- and tables stay as they are.
CREATE FUNCTION inami._shard_take_id_range(shard_position int) RETURNS int
LANGUAGE plpgsql STRICT AS $$
DECLARE
    s record;
    base bigint := (shard_position::bigint + 1) * 1000000000000;
    last bigint;
    n int := 0;
BEGIN
    FOR s IN SELECT pg_catalog.pg_get_serial_sequence(c.oid::regclass::text, a.attname) AS seq
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
             WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind = 'r' AND a.attidentity <> ''
             ORDER BY 1
    LOOP
        SELECT q.last_value INTO last FROM pg_catalog.pg_sequences q
        WHERE q.schemaname = 'inami' AND pg_catalog.format('inami.%I', q.sequencename) = s.seq;
        IF last IS NULL OR last < base THEN
            PERFORM pg_catalog.setval(s.seq, base, false);
        ELSIF last >= base + 1000000000000 THEN
            RAISE EXCEPTION 'the ids of % are past the range of shard position %', s.seq, shard_position
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = pg_catalog.format('The last id drawn is %s; the range of position %s ends at %s.', last, shard_position, base + 999999999999),
                      HINT = 'Add this node at the position its ids were drawn for, or start from an empty node.';
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION inami._shard_take_id_range(int) IS
'Run on a shard by inami.add_shard: every identity of inami''s tables draws its next ids from (position + 1) x 10^12 on, so that ids are unique over the cluster (10^12 per shard). Returns the number of identities moved into the range.';

-- The schema where dblink is installed (the shard commands run through it).
CREATE FUNCTION inami._dblink_schema() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the coordinator needs the extension dblink'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'inami runs its commands on the shards through dblink, which is not installed in this database.',
                  HINT = 'CREATE EXTENSION dblink; (it comes with PostgreSQL''s contrib modules).';
    END IF;
    RETURN s;
END;
$$;
COMMENT ON FUNCTION inami._dblink_schema() IS
'The schema of the dblink extension in this database; an error when it is not installed.';

-- One shard against this node: same extension version, same library, same parameter
-- rows. Every difference is an error naming the table and the shard.
CREATE FUNCTION inami._check_shard(shard text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    mine text;
    theirs text;
    lib text;
    d record;
BEGIN
    SELECT e.extversion INTO mine FROM pg_catalog.pg_extension e WHERE e.extname = 'inami';
    BEGIN
        EXECUTE pg_catalog.format(
            'SELECT v FROM %I.dblink($1, $q$SELECT (SELECT extversion FROM pg_catalog.pg_extension '
            'WHERE extname = ''inami'')$q$) AS t(v text)', dbl)
        INTO theirs USING shard;
    EXCEPTION WHEN sqlclient_unable_to_establish_sqlconnection THEN
        GET STACKED DIAGNOSTICS lib = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'shard "%" cannot be reached', shard
            USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                  DETAIL = lib,
                  HINT = pg_catalog.format('Start the shard, or correct the options of its foreign server: ALTER SERVER %I OPTIONS (SET host ''...'');', shard);
    END;
    IF theirs IS NULL THEN
        RAISE EXCEPTION 'shard "%" has no inami extension', shard
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('The database the foreign server %I connects to has no extension inami; this coordinator runs inami %s.', shard, mine),
                  HINT = pg_catalog.format('On the shard: CREATE EXTENSION inami VERSION %L;', mine);
    END IF;
    EXECUTE pg_catalog.format('SELECT l FROM %I.dblink($1, ''SELECT inami.version()'') AS t(l text)', dbl)
    INTO lib USING shard;
    IF theirs <> mine OR lib <> inami.version() THEN
        RAISE EXCEPTION 'shard "%" runs inami %, the coordinator inami %', shard, theirs, mine
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('Extension version %s with library %s on the shard, %s with library %s on the coordinator: a function shipped to the shard would compute with other rules.',
                                             theirs, lib, mine, inami.version()),
                  HINT = 'Install the same inami on every node and run ALTER EXTENSION inami UPDATE where it is older.';
    END IF;
    EXECUTE pg_catalog.format(
        'SELECT coalesce(c.table_name, s.table_name) AS table_name, c.row_count AS my_rows, s.row_count AS their_rows, '
        'c.digest AS my_digest, s.digest AS their_digest '
        'FROM inami.parameter_fingerprint() AS c FULL JOIN %I.dblink($1, ''SELECT * FROM inami.parameter_fingerprint()'') '
        'AS s(table_name text, row_count bigint, digest text) ON s.table_name = c.table_name '
        'WHERE c.digest IS DISTINCT FROM s.digest ORDER BY 1 LIMIT 1', dbl)
    INTO d USING shard;
    IF d.table_name IS NOT NULL THEN
        RAISE EXCEPTION 'parameter table % differs on shard "%"', d.table_name, shard
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s rows with digest %s on the shard, %s rows with digest %s on the coordinator: a function shipped to the shard would compute with other parameters.',
                                             coalesce(d.their_rows::text, 'no table'), coalesce(d.their_digest, '-'),
                                             coalesce(d.my_rows::text, 'no table'), coalesce(d.my_digest, '-')),
                  HINT = pg_catalog.format('Make the rows of %s equal on every node (the publication inami_parameters of the coordinator, subscribed on each shard, keeps them so), then check again: SELECT * FROM inami.check_shards();', d.table_name);
    END IF;
END;
$$;
COMMENT ON FUNCTION inami._check_shard(text) IS
'Compares one shard (a foreign server) with this node: extension version, library version and every parameter table''s fingerprint; an error naming the first difference.';

CREATE FUNCTION inami.check_shards()
RETURNS TABLE (shard text, "position" int, inami_version text, parameter_tables int,
               max_prepared_transactions int, prepared_loads int)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT h.name, h.position FROM inami.shard h ORDER BY h.position
    LOOP
        PERFORM inami._check_shard(s.name);
        shard := s.name;
        "position" := s.position;
        inami_version := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'inami');
        parameter_tables := (SELECT count(*) FROM inami.parameter_fingerprint());
        EXECUTE pg_catalog.format(
            'SELECT * FROM %I.dblink($1, $q$SELECT pg_catalog.current_setting(''max_prepared_transactions'')::int, '
            '(SELECT count(*) FROM pg_catalog.pg_prepared_xacts WHERE gid LIKE ''inami\_load:%%'' AND database = pg_catalog.current_database())::int$q$) '
            'AS t(m int, p int)', inami._dblink_schema())
        INTO max_prepared_transactions, prepared_loads USING s.name;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.check_shards() IS
'Checks every shard of this coordinator against it (same inami version, same parameter rows): one row per shard when all agree, an error naming the shard and the table at the first difference. Also the shard''s max_prepared_transactions (0: inami.load_flow_file_sharded commits there without two-phase commit) and its sharded loads left prepared (inami.prepared_loads lists them).';

-- conninfo's keywords: user and password go to the user mapping, the others to the server.
CREATE FUNCTION inami._conninfo_options(conninfo text, for_user boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    m text[];
    opts text[] := '{}';
    rest text := conninfo;
    v text;
BEGIN
    FOR m IN SELECT pg_catalog.regexp_matches(conninfo,
                 '([A-Za-z_]+)\s*=\s*(''(?:[^''\\]|\\.)*''|[^\s'']+)', 'g')
    LOOP
        v := m[2];
        IF v LIKE '''%' THEN
            v := pg_catalog.regexp_replace(pg_catalog.substr(v, 2, pg_catalog.length(v) - 2), '\\(.)', '\1', 'g');
        END IF;
        IF (m[1] IN ('user', 'password')) = for_user THEN
            opts := opts || pg_catalog.format('%I %L', m[1], v);
        END IF;
        rest := pg_catalog.replace(rest, m[1] || '=' || m[2], '');
    END LOOP;
    IF pg_catalog.btrim(rest) <> '' THEN
        RAISE EXCEPTION 'cannot read the connection string of a shard'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('What is not a keyword=value pair: %s.', pg_catalog.btrim(rest)),
                  HINT = 'Give keyword=value pairs separated by spaces, e.g. ''host=/var/run/postgresql port=5433 dbname=inami''.';
    END IF;
    RETURN pg_catalog.array_to_string(opts, ', ');
END;
$$;
COMMENT ON FUNCTION inami._conninfo_options(text, boolean) IS
'The keyword=value pairs of a libpq connection string as OPTIONS of a foreign server (for_user false) or of its user mapping (user and password, for_user true).';

CREATE FUNCTION inami.add_shard(name text, conninfo text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    pos int;
    server_opts text := inami._conninfo_options(conninfo, false);
    user_opts text := inami._conninfo_options(conninfo, true);
    max_prepared int;
BEGIN
    PERFORM inami._dblink_schema();
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.fdwname = 'postgres_fdw') THEN
        RAISE EXCEPTION 'the coordinator needs the extension postgres_fdw'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The sharded tables are partitions on postgres_fdw foreign tables; postgres_fdw is not installed in this database.',
                  HINT = 'CREATE EXTENSION postgres_fdw; (it comes with PostgreSQL''s contrib modules).';
    END IF;
    IF EXISTS (SELECT 1 FROM inami.sharded_table) THEN
        RAISE EXCEPTION 'cannot add a shard once tables are sharded'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s tables are partitioned over the %s shards: their rows are placed by the number of shards.',
                                             (SELECT count(*) FROM inami.sharded_table), (SELECT count(*) FROM inami.shard)),
                  HINT = 'Add every shard first, then create the sharded tables (inami.create_sharded_table); moving rows to a new shard is not supported.';
    END IF;
    SELECT count(*) INTO pos FROM inami.shard;
    EXECUTE pg_catalog.format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (%s%sextensions ''inami'', async_capable ''true'', fetch_size ''10000'')',
                              name, server_opts, CASE WHEN server_opts <> '' THEN ', ' ELSE '' END);
    EXECUTE pg_catalog.format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I%s',
                              name, CASE WHEN user_opts <> '' THEN pg_catalog.format(' OPTIONS (%s)', user_opts) ELSE '' END);
    -- Checked through the server just made: on an error, nothing of it stays.
    PERFORM inami._check_shard(name);
    -- Its ids drawn from a range of its own (a commit on the shard: taken again harmlessly
    -- if this transaction fails).
    EXECUTE pg_catalog.format('SELECT n FROM %I.dblink($1, $2) AS t(n int)', inami._dblink_schema())
    USING name, pg_catalog.format('SELECT inami._shard_take_id_range(%s)', pos);
    INSERT INTO inami.shard (name, position) VALUES (name, pos);
    EXECUTE pg_catalog.format('SELECT m FROM %I.dblink($1, $q$SELECT pg_catalog.current_setting(''max_prepared_transactions'')::int$q$) AS t(m int)',
                              inami._dblink_schema())
    INTO max_prepared USING name;
    IF max_prepared = 0 THEN
        RAISE NOTICE 'shard "%" runs with max_prepared_transactions = 0', name
            USING DETAIL = 'inami.load_flow_file_sharded commits a file on such a shard without two-phase commit: a shard failing while the shards commit leaves the file on those that committed.',
                  HINT = 'Set max_prepared_transactions (e.g. 10) in the shard''s postgresql.conf and restart it.';
    END IF;
    RETURN pos;
END;
$$;
COMMENT ON FUNCTION inami.add_shard(text, text) IS
'Adds a shard to this coordinator: a postgres_fdw foreign server named name (options from conninfo, extensions ''inami'', async_capable), a user mapping for the current user (user and password of conninfo), after checking that the shard runs the same inami version with the same parameter rows (an error names the table and the shard, and nothing is added). Returns the shard''s position. Needs dblink and postgres_fdw on the coordinator.';

CREATE FUNCTION inami.create_sharded_table(name text, columns text, shard_key text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    parts text[] := pg_catalog.parse_ident(name);
    sch text;
    tab text;
    n int;
    s record;
    conns text[] := '{}';
    c text;
BEGIN
    IF pg_catalog.cardinality(parts) = 1 THEN
        sch := 'public'; tab := parts[1];
    ELSIF pg_catalog.cardinality(parts) = 2 THEN
        sch := parts[1]; tab := parts[2];
    ELSE
        RAISE EXCEPTION 'a sharded table is named table or schema.table'
            USING ERRCODE = 'invalid_name',
                  DETAIL = pg_catalog.format('The name given is %s.', name),
                  HINT = 'Give the name without a database: schema.table.';
    END IF;
    SELECT count(*) INTO n FROM inami.shard;
    IF n = 0 THEN
        RAISE EXCEPTION 'this coordinator has no shard'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('inami.shard is empty; %I.%I would have no partition.', sch, tab),
                  HINT = 'Add the shards first: SELECT inami.add_shard(''shard1'', ''host=... port=... dbname=...'');';
    END IF;
    -- The coordinator's part first (errors in columns or shard_key end here); the shards'
    -- tables in one open transaction each, committed when every shard has made its table.
    EXECUTE pg_catalog.format('CREATE TABLE %I.%I (%s) PARTITION BY HASH (%I inami.text_shard_ops)',
                              sch, tab, columns, shard_key);
    FOR s IN SELECT h.name, h.position FROM inami.shard h ORDER BY h.position
    LOOP
        EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %I.%I PARTITION OF %I.%I FOR VALUES WITH (MODULUS %s, REMAINDER %s) '
                                  'SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                  sch, tab || '_' || s.name, sch, tab, n, s.position, s.name, sch, tab);
    END LOOP;
    BEGIN
        FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
        LOOP
            c := 'inami_shard_ddl_' || s.name;
            EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', dbl) USING c, s.name;
            conns := conns || c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''BEGIN'')', dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl)
                USING c, pg_catalog.format('CREATE TABLE %I.%I (%s)', sch, tab, columns);
        END LOOP;
        FOREACH c IN ARRAY conns
        LOOP
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''COMMIT'')', dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        -- Closing a connection rolls back its open transaction.
        FOREACH c IN ARRAY conns
        LOOP
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        END LOOP;
        RAISE;
    END;
    INSERT INTO inami.sharded_table (schema_name, table_name, shard_key) VALUES (sch, tab, shard_key);
    RETURN n;
END;
$$;
COMMENT ON FUNCTION inami.create_sharded_table(text, text, text) IS
'Creates a table sharded by household: on each shard a table name (columns), on the coordinator a table name (columns) partitioned by HASH (shard_key inami.text_shard_ops) whose partitions name_SHARD are foreign tables on the shards (a row goes to the shard inami.shard_of(shard_key, shards)). shard_key is a text column; columns may not hold a unique or primary key (foreign partitions have no index). Returns the number of shards.';


-- The coordinator's log of the runs it started on the shards: one row per shard and run,
-- with the shard's own run log row (gathered when the shard answered) or the error that
-- stopped it there.
CREATE TABLE inami.shard_run (
    sharded_run bigint NOT NULL,
    shard text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('systematic_control', 'proactive_flow')),
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    shard_run_id bigint,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL CHECK (ended_at >= started_at),
    status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    counts jsonb,
    error_sqlstate text CHECK (error_sqlstate ~ '^[0-9A-Z]{5}$'),
    error_message text,
    PRIMARY KEY (sharded_run, shard),
    CHECK ((status = 'failed') = (error_message IS NOT NULL))
);
COMMENT ON TABLE inami.shard_run IS
'The coordinator''s log of its sharded control runs (inami.run_systematic_control_sharded, inami.run_proactive_flow_sharded): one row per run and shard, with the shard''s run id, counts and status from its inami.control_run, or the error that stopped the run on that shard (failed: rerun that shard).';
COMMENT ON COLUMN inami.shard_run.sharded_run IS 'Numbers one sharded run (the same for all its shards).';
COMMENT ON COLUMN inami.shard_run.shard IS 'The shard (inami.shard).';
COMMENT ON COLUMN inami.shard_run.kind IS 'systematic_control or proactive_flow.';
COMMENT ON COLUMN inami.shard_run.year IS 'Control year (systematic), year (proactive).';
COMMENT ON COLUMN inami.shard_run.started_at IS 'When the coordinator started the run on the shard.';
COMMENT ON COLUMN inami.shard_run.ended_at IS 'When the coordinator saw it end.';
COMMENT ON COLUMN inami.shard_run.status IS 'succeeded, or failed (the shard must be run again).';
COMMENT ON COLUMN inami.shard_run.counts IS 'The counts of the shard''s run (its inami.control_run.counts).';
COMMENT ON COLUMN inami.shard_run.error_sqlstate IS 'SQLSTATE of the error that failed the run on the shard.';
COMMENT ON COLUMN inami.shard_run.error_message IS 'Message (with detail) of the error that failed the run on the shard, or of the connection that failed.';
COMMENT ON COLUMN inami.shard_run.shard_run_id IS 'The run_id of the run in the shard''s inami.control_run; NULL when the run never started there.';
CREATE SEQUENCE inami.shard_run_seq;
COMMENT ON SEQUENCE inami.shard_run_seq IS 'Numbers the sharded runs (inami.shard_run.sharded_run).';
SELECT pg_catalog.pg_extension_config_dump('inami.shard_run', '');
SELECT pg_catalog.pg_extension_config_dump('inami.shard_run_seq', '');

-- Starts kind's procedure for year on the shards (all, or those named) at once through
-- dblink_send_query, waits for all, logs each into inami.shard_run and commits, then
-- raises the first failure naming the shards to rerun. The coordinator's lock of the kind
-- and year is held until every shard has ended: one sharded run of a year at a time.
CREATE PROCEDURE inami._run_sharded(kind text, year int, shards text[])
LANGUAGE plpgsql AS $$
DECLARE
    dbl text;
    run bigint;
    s record;
    c text;
    conns text[] := '{}';
    before bigint;
    started timestamptz;
    failed text[] := '{}';
    first_error text;
    first_state text;
    unknown text;
    st text; msg text; det text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    dbl := inami._dblink_schema();
    IF year IS NULL THEN
        RAISE EXCEPTION 'year must be between 1990 and 2200'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The year given is NULL.',
                  HINT = 'Give the control year (systematic control) or the year of the proactive flow, e.g. 2024.';
    END IF;
    PERFORM inami._check_year(year, 'year');
    SELECT pg_catalog.string_agg(u, ', ') INTO unknown
    FROM pg_catalog.unnest(shards) AS u WHERE u NOT IN (SELECT h.name FROM inami.shard h);
    IF unknown IS NOT NULL OR NOT EXISTS (SELECT 1 FROM inami.shard) THEN
        RAISE EXCEPTION 'no shard named %', coalesce(unknown, 'in inami.shard')
            USING ERRCODE = 'undefined_object',
                  DETAIL = pg_catalog.format('The shards of this coordinator: %s.',
                                             coalesce((SELECT pg_catalog.string_agg(h.name, ', ' ORDER BY h.position) FROM inami.shard h), 'none')),
                  HINT = 'Name shards of inami.shard, or give NULL for all of them.';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(inami._control_lock_key(kind), year);
    -- Every shard must compute with the rules and parameters of the coordinator.
    FOR s IN SELECT h.name FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        PERFORM inami._check_shard(s.name);
    END LOOP;
    run := pg_catalog.nextval('inami.shard_run_seq');
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.inami_shard_run_start (shard text, conn text, before bigint, started timestamptz, error text, state text);
    TRUNCATE pg_temp.inami_shard_run_start;
    -- Started on every shard before any is waited for.
    FOR s IN SELECT h.name FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        c := 'inami_run_' || s.name;
        started := pg_catalog.clock_timestamp();
        BEGIN
            -- A connection an interrupted run of this session left open is closed first.
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1) WHERE $1 = ANY (%I.dblink_get_connections())', dbl, dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', dbl) USING c, s.name;
            conns := conns || c;
            EXECUTE pg_catalog.format('SELECT b FROM %I.dblink($1, %L) AS t(b bigint)', dbl,
                                      'SELECT coalesce(max(run_id), 0) FROM inami.control_run')
            INTO before USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_send_query($1, $2)', dbl)
            USING c, pg_catalog.format('CALL inami.%I(%s)',
                                       CASE kind WHEN 'systematic_control' THEN 'run_systematic_control' ELSE 'run_proactive_flow' END, year);
            INSERT INTO pg_temp.inami_shard_run_start VALUES (s.name, c, before, started, NULL, NULL);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            INSERT INTO pg_temp.inami_shard_run_start VALUES (s.name, NULL, NULL, started, pg_catalog.concat_ws(E'\n', msg, 'DETAIL: ' || nullif(det, '')), st);
        END;
    END LOOP;
    -- Waited for, each; then its run log row gathered.
    FOR s IN SELECT * FROM pg_temp.inami_shard_run_start ORDER BY shard
    LOOP
        st := s.state; msg := s.error; det := NULL;
        IF s.conn IS NOT NULL THEN
            BEGIN
                EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1) AS t(status text)', dbl) USING s.conn;
                EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1) AS t(status text)', dbl) USING s.conn;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
                msg := pg_catalog.concat_ws(E'\n', msg, 'DETAIL: ' || nullif(det, ''));
            END;
        END IF;
        INSERT INTO inami.shard_run (sharded_run, shard, kind, year, started_at, ended_at, status, error_sqlstate, error_message)
        VALUES (run, s.shard, kind, year, s.started, pg_catalog.clock_timestamp(),
                CASE WHEN msg IS NULL THEN 'succeeded' ELSE 'failed' END,
                CASE WHEN msg IS NOT NULL THEN coalesce(nullif(st, ''), 'XX000') END, msg);
        -- The shard's own log row: its run id, counts, and its status when it answers (on a
        -- connection of its own: the run's may be left in any state by an error).
        IF s.conn IS NOT NULL THEN
            BEGIN
                EXECUTE pg_catalog.format(
                    'UPDATE inami.shard_run r SET shard_run_id = t.run_id, counts = t.counts, '
                    'status = CASE WHEN t.status = ''succeeded'' AND r.status = ''succeeded'' THEN ''succeeded'' ELSE ''failed'' END, '
                    'error_sqlstate = coalesce(r.error_sqlstate, t.error_sqlstate, CASE WHEN t.status <> ''succeeded'' THEN ''XX000'' END), '
                    'error_message = coalesce(r.error_message, t.error_message, CASE WHEN t.status <> ''succeeded'' THEN ''the run is '' || t.status || '' on the shard'' END) '
                    'FROM %I.dblink($1, $2) AS t(run_id bigint, status text, counts jsonb, error_sqlstate text, error_message text) '
                    'WHERE r.sharded_run = $3 AND r.shard = $4', dbl)
                USING s.shard,
                      pg_catalog.format('SELECT run_id, status, counts, error_sqlstate, error_message FROM inami.control_run '
                                        'WHERE kind = %L AND year = %s AND run_id > %s ORDER BY run_id DESC LIMIT 1', kind, year, s.before),
                      run, s.shard;
            EXCEPTION WHEN OTHERS THEN
                NULL;  -- the shard stopped answering: what its run returned stays logged
            END;
        END IF;
    END LOOP;
    -- Every connection closed, whatever happened on it.
    FOREACH c IN ARRAY conns
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
    END LOOP;
    SELECT pg_catalog.array_agg(r.shard ORDER BY r.shard), (pg_catalog.array_agg(r.error_message ORDER BY r.shard))[1],
           (pg_catalog.array_agg(r.error_sqlstate ORDER BY r.shard))[1]
    INTO failed, first_error, first_state
    FROM inami.shard_run r WHERE r.sharded_run = run AND r.status = 'failed';
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'the % of % failed on shard %', pg_catalog.replace(kind, '_', ' '), year, pg_catalog.array_to_string(failed, ', ')
            USING ERRCODE = 'external_routine_exception',
                  DETAIL = pg_catalog.format('On shard %s: %s', failed[1], first_error),
                  HINT = pg_catalog.format('The other shards completed (inami.shard_run, sharded_run %s). Once the shard is back, run it again: CALL inami.%s_sharded(%s, %L); a rerun leaves the decisions already made as they are.',
                                           run, CASE kind WHEN 'systematic_control' THEN 'run_systematic_control' ELSE 'run_proactive_flow' END,
                                           year, failed::text);
    END IF;
END;
$$;
COMMENT ON PROCEDURE inami._run_sharded(text, int, text[]) IS
'Internal to the sharded control runs: checks the shards, holds the coordinator''s lock of kind and year, starts the run on every shard (or those named) at once through dblink_send_query, waits for all, logs each into inami.shard_run, commits, and raises the failure naming the shards to rerun.';

CREATE PROCEDURE inami.run_systematic_control_sharded(control_year int, shards text[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    CALL inami._run_sharded('systematic_control', control_year, shards);
END;
$$;
COMMENT ON PROCEDURE inami.run_systematic_control_sharded(int, text[]) IS
'R4 on a coordinator: CALL inami.run_systematic_control(control_year) on every shard (or on those named) at once, after checking that each runs the same inami with the same parameter rows; one run of a year at a time over the cluster (the coordinator''s lock). Logs each shard''s run into inami.shard_run and commits (call it outside a transaction block); a failure on a shard is an error naming the shards to rerun, the others keep their decisions.';

CREATE PROCEDURE inami.run_proactive_flow_sharded(year int, shards text[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    CALL inami._run_sharded('proactive_flow', year, shards);
END;
$$;
COMMENT ON PROCEDURE inami.run_proactive_flow_sharded(int, text[]) IS
'R5 on a coordinator: CALL inami.run_proactive_flow(year) on every shard (or on those named) at once, as inami.run_systematic_control_sharded does for the systematic control.';

-- The coordinator's documents: each shard writes its part with the node's own writer, the
-- parts are merged in request-number order (as one node writes them: C collation). The
-- records are empty elements, one per line, indented by two spaces (src/xml_writer.c).
CREATE FUNCTION inami._sharded_document(writer text, year int, oa text, root_name text, item_name text)
RETURNS xml
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    s record;
    doc text;
    root text;
    shard_root text;
    first_shard text;
    items text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM inami.shard) THEN
        RAISE EXCEPTION 'this coordinator has no shard'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('inami.%s_sharded merges the documents of the shards; inami.shard is empty.', writer),
                  HINT = pg_catalog.format('On one node, call inami.%s instead.', writer);
    END IF;
    FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
    LOOP
        EXECUTE pg_catalog.format('SELECT d FROM %I.dblink($1, $2) AS t(d text)', dbl) INTO doc
        USING s.name, pg_catalog.format('SELECT inami.%I(%s, %L)::text', writer, year, oa);
        shard_root := pg_catalog.substring(doc, '^<' || root_name || '[^>]*?(?=/?>)');
        IF root IS NULL THEN
            root := shard_root;
            first_shard := s.name;
        ELSIF root <> shard_root THEN
            RAISE EXCEPTION 'the shards write different % documents', root_name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = pg_catalog.format('Shard %s writes %s>, shard %s writes %s>.', first_shard, root, s.name, shard_root),
                      HINT = 'Load every file of the year on every shard (its households go to their shards, the file itself to all), then run the year again.';
        END IF;
        items := items || ARRAY(SELECT m[1] FROM pg_catalog.regexp_matches(doc, '(<' || item_name || ' [^>]*/>)', 'g') AS m);
    END LOOP;
    RETURN (SELECT CASE WHEN count(*) = 0 THEN root || '/>'
                        ELSE root || E'>\n' || pg_catalog.string_agg('  ' || i, E'\n'
                                 ORDER BY pg_catalog.substring(i, 'requestNumber="([0-9]+)"') COLLATE "C")
                             || E'\n</' || root_name || '>' END
            FROM pg_catalog.unnest(items) AS i)::xml;
END;
$$;
COMMENT ON FUNCTION inami._sharded_document(text, int, text, text, text) IS
'Internal to the coordinator''s writers: writer(year, oa) on every shard, its item_name records merged in request-number order under the root the shards agree on.';

CREATE FUNCTION inami.syst05_document_sharded(control_year int, oa text) RETURNS xml
LANGUAGE sql STRICT
RETURN inami._sharded_document('syst05_document', control_year, oa, 'Syst05', 'Feedback');
COMMENT ON FUNCTION inami.syst05_document_sharded(int, text) IS
'R4 on a coordinator: the Syst_05 of control_year for oa over the whole cluster, as inami.syst05_document writes it on one node: every shard''s Feedback records merged in request-number order. A shard''s error (provisional decisions, ...) is the error.';

CREATE FUNCTION inami.pro04_document_sharded(year int, oa text) RETURNS xml
LANGUAGE sql STRICT
RETURN inami._sharded_document('pro04_document', year, oa, 'Pro04', 'Result');
COMMENT ON FUNCTION inami.pro04_document_sharded(int, text) IS
'R5 on a coordinator: the Pro_04 of year for oa over the whole cluster, as inami.pro04_document writes it on one node: every shard''s Result records merged in request-number order; an error when the shards disagree on the shipment.';

-- explain_decision of the shard that holds the household.
CREATE FUNCTION inami.explain_decision_sharded(request_number text, control_year int)
RETURNS TABLE (step int, what text, value text, rule text)
LANGUAGE plpgsql STRICT AS $$
DECLARE
    n int := (SELECT count(*) FROM inami.shard);
    target text;
BEGIN
    SELECT h.name INTO target FROM inami.shard h WHERE h.position = inami.shard_of($1, n);
    IF target IS NULL THEN
        RAISE EXCEPTION 'this coordinator has no shard'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'inami.explain_decision_sharded asks the shard that holds the household; inami.shard is empty.',
                  HINT = 'On one node, call inami.explain_decision instead.';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT * FROM %I.dblink($1, $2) AS t(step int, what text, value text, rule text)', inami._dblink_schema())
    USING target, pg_catalog.format('SELECT * FROM inami.explain_decision(%L, %s)', $1, $2);
END;
$$;
COMMENT ON FUNCTION inami.explain_decision_sharded(text, int) IS
'R4 on a coordinator: inami.explain_decision(request_number, control_year) run on the shard that holds the household (inami.shard_of(request_number, shards)).';

-- The operator's parameter rows of the coordinator, published for the shards to subscribe
-- to (logical replication): every parameter table, rows not shipped (the shipped ones come
-- with CREATE EXTENSION on each node). A filtered publication replicates an UPDATE or
-- DELETE only when the replica identity covers the filter's column: FULL.
CREATE FUNCTION inami.publish_parameters(publication name DEFAULT 'inami_parameters') RETURNS int
LANGUAGE plpgsql STRICT AS $$
DECLARE
    t text;
    tables text[] := '{}';
BEGIN
    IF pg_catalog.current_setting('wal_level') <> 'logical' THEN
        RAISE EXCEPTION 'the coordinator must run with wal_level = logical to publish its parameters'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('wal_level is %s.', pg_catalog.current_setting('wal_level')),
                  HINT = 'ALTER SYSTEM SET wal_level = logical; then restart the coordinator.';
    END IF;
    FOR t IN SELECT f.table_name FROM inami.parameter_fingerprint() f ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY FULL', t);
        tables := tables || pg_catalog.format('%s WHERE (NOT shipped)', t);
    END LOOP;
    EXECUTE pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s', publication, pg_catalog.array_to_string(tables, ', '));
    RETURN pg_catalog.cardinality(tables);
END;
$$;
COMMENT ON FUNCTION inami.publish_parameters(name) IS
'On a coordinator: publishes the operator''s rows (not shipped) of every parameter table (REPLICA IDENTITY FULL, so that updates and deletes replicate too) as publication; each shard subscribes to it, and every node computes with the same parameters. Needs wal_level = logical. Returns the number of tables published.';

-- Sharded loading. The coordinator reads the file ONCE, with the one streamed reader
-- (inami._split_flow_file, in C): each shard receives only its part, an exchange document
-- of the same kind with only its households (Pro_03 persons, keyed by NISS, go to every
-- shard), written into a large object made on the shard through dblink, in bounded chunks,
-- inside the shard's open transaction. Each shard loads its part with the one-node loader
-- (inami._load_flow_part, streamed from the large object), which makes every check of a
-- one-node load on it; the coordinator judges on the whole file what a part cannot tell (a
-- Syst04 none of whose households a Syst01 lists), then commits every shard, or none.
CREATE FUNCTION inami._split_flow_file(path text, dblink_schema text, shard_names text[], connections text[],
                                       positions int[], shards int,
                                       OUT kind text, OUT records bigint, OUT parts oid[], OUT part_records bigint[])
AS 'MODULE_PATHNAME', 'inami_split_flow_file'
LANGUAGE C STRICT;
COMMENT ON FUNCTION inami._split_flow_file(text, text, text[], text[], int[], int) IS
'Run by inami.load_flow_file_sharded on the coordinator: reads the file at path once (streamed, checked by the reader) and writes each shard''s part (the same root, the households inami.shard_of places on the shard at that position of shards; Pro03 persons to every shard) into a new large object on the shard, through the dblink connection named (in its open transaction), 1 MB at a time. Returns the kind of the file, its records, and for each shard given the large object of its part and the records in it. Refuses Syst05 and Pro04 files.';

CREATE FUNCTION inami._load_flow_lo(part oid, source text, name text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_load_flow_lo'
LANGUAGE C STRICT;
COMMENT ON FUNCTION inami._load_flow_lo(oid, text, text) IS
'The loader of inami.load_flow_file over the document in the large object part (streamed): the same checks and tables; source names the document in messages, name is the source_name of its inami.flow_file row. Returns the records loaded.';

-- On a shard: the sharded loads it committed through two-phase commit, by the name of
-- their prepared transaction. The coordinator writes the row into the load's transaction
-- before PREPARE TRANSACTION: a load whose part is still prepared on one shard and whose
-- row is committed on another was decided (commit the rest); with no row anywhere, it
-- was not (roll back). inami.prepared_loads reads them.
CREATE TABLE inami.shard_load (
    gid text PRIMARY KEY CHECK (gid LIKE 'inami\_load:%' AND pg_catalog.octet_length(gid) < 200),
    source_name text NOT NULL CHECK (pg_catalog.btrim(source_name) <> ''),
    loaded_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE inami.shard_load IS
'On a shard: one row per sharded load (inami.load_flow_file_sharded) committed here through two-phase commit, written in the load''s transaction before it was prepared. A part still prepared on another shard under the same load (gid up to its last colon) was decided: COMMIT PREPARED it (inami.prepared_loads says so).';
COMMENT ON COLUMN inami.shard_load.gid IS 'The prepared transaction''s name on this shard: inami_load:<coordinator database oid>:<coordinator transaction>.<microseconds>:<shard name>.';
COMMENT ON COLUMN inami.shard_load.source_name IS 'The coordinator''s path of the file (the source_name of its inami.flow_file row).';
COMMENT ON COLUMN inami.shard_load.loaded_at IS 'When the load''s transaction started on this shard.';
SELECT pg_catalog.pg_extension_config_dump('inami.shard_load', '');

CREATE FUNCTION inami._load_flow_part(part oid, path text, shard_position int, shards int,
                                      OUT kind text, OUT kept bigint, OUT listed bigint)
LANGUAGE plpgsql AS $$
DECLARE
    file bigint;
BEGIN
    -- A Syst04 none of whose households a Syst01 here lists is the coordinator's to judge,
    -- on the whole file; every other check is made here, as on one node.
    PERFORM pg_catalog.set_config('inami.flow_load_part', 'on', true);
    kept := inami._load_flow_lo(part, pg_catalog.format('the part of %s for shard position %s of %s', path, shard_position, shards), path);
    PERFORM pg_catalog.set_config('inami.flow_load_part', 'off', true);
    PERFORM pg_catalog.lo_unlink(part);
    file := pg_catalog.currval(pg_catalog.pg_get_serial_sequence('inami.flow_file', 'file_id'));
    SELECT f.kind INTO kind FROM inami.flow_file f WHERE f.file_id = file;
    IF kind IN ('Syst05', 'Pro04') THEN
        RAISE EXCEPTION 'a % file is not loaded on the shards', kind
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = pg_catalog.format('%s answers households one by one; each shard lists only its own. The file: %s.', kind, path),
                  HINT = 'Load it on the shard of each household: its lines for the households of inami.shard_of(request_number, shards) = position, with inami.load_flow on that shard.';
    END IF;
    IF kind = 'Syst04' THEN
        SELECT count(*) INTO listed FROM inami.syst04_household h
        WHERE h.file_id = file AND EXISTS (SELECT 1 FROM inami.syst01_household s
                                           WHERE s.control_year = h.control_year AND s.request_number = h.request_number);
    END IF;
END;
$$;
COMMENT ON FUNCTION inami._load_flow_part(oid, text, int, int) IS
'Run on a shard by inami.load_flow_file_sharded, in a transaction it commits once every shard has loaded: loads the part of the file at path that the coordinator wrote into the large object part (the households of the shard at shard_position, Pro_03 persons whole) with the one-node loader, every check of a one-node load made on it but for a Syst04 whose households this node lists none of (judged by the coordinator on the whole file); the file''s row in inami.flow_file names path. Drops the large object. Returns the kind of the file, the households (or persons) loaded and, for a Syst04, how many of them a Syst01 here lists.';

CREATE FUNCTION inami.load_flow_file_sharded(path text, shards text[] DEFAULT NULL)
RETURNS TABLE (shard text, kept bigint)
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    n int := (SELECT count(*) FROM inami.shard);
    s record;
    c text;
    conns text[] := '{}';
    names text[] := '{}';
    live text[] := '{}';
    positions int[] := '{}';
    split_kind text;
    split_records bigint;
    split_parts oid[];
    split_sent bigint[];
    failed text[] := '{}';
    first_error text;
    first_state text;
    msg text; det text; st text;
    unknown text;
    k text;
    l bigint;
    committed text[] := '{}';
    two_phase int;
    no_two_phase text[] := '{}';
    load_id text;
    gid text;
    prepared text[] := '{}';
    prepared_gids text[] := '{}';
    kept_prepared text[] := '{}';
    left_prepared text[] := '{}';
    i int;
BEGIN
    SELECT pg_catalog.string_agg(u, ', ') INTO unknown
    FROM pg_catalog.unnest(shards) AS u WHERE u NOT IN (SELECT h.name FROM inami.shard h);
    IF unknown IS NOT NULL OR n = 0 THEN
        RAISE EXCEPTION 'no shard named %', coalesce(unknown, 'in inami.shard')
            USING ERRCODE = 'undefined_object',
                  DETAIL = pg_catalog.format('The shards of this coordinator: %s.',
                                             coalesce((SELECT pg_catalog.string_agg(h.name, ', ' ORDER BY h.position) FROM inami.shard h), 'none')),
                  HINT = 'Name shards of inami.shard, or give NULL for all of them.';
    END IF;
    FOR s IN SELECT h.name FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        PERFORM inami._check_shard(s.name);
    END LOOP;
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.inami_flow_part (shard text, conn text, sent bigint, kind text, kept bigint, listed bigint);
    TRUNCATE pg_temp.inami_flow_part;
    -- A connection to every shard, each in a transaction left open.
    FOR s IN SELECT h.name, h.position FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        c := 'inami_load_' || s.name;
        BEGIN
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1) WHERE $1 = ANY (%I.dblink_get_connections())', dbl, dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', dbl) USING c, s.name;
            conns := conns || c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''BEGIN'')', dbl) USING c;
            -- Two-phase commit needs prepared transactions on every shard of the load.
            EXECUTE pg_catalog.format('SELECT v FROM %I.dblink($1, $q$SELECT pg_catalog.current_setting(''max_prepared_transactions'')::int$q$) AS t(v int)', dbl)
            INTO two_phase USING c;
            IF two_phase = 0 THEN
                no_two_phase := no_two_phase || s.name;
            END IF;
            names := names || s.name;
            live := live || c;
            positions := positions || s.position;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
            failed := failed || s.name;
            first_state := coalesce(first_state, st);
            first_error := coalesce(first_error, pg_catalog.format('On shard %s: %s', s.name, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
        END;
    END LOOP;
    IF pg_catalog.cardinality(failed) = 0 THEN
        -- The file read once, here; each shard's part into a large object there. A failure
        -- (the file, a shard) is the error: every shard's transaction is rolled back.
        BEGIN
            SELECT f.kind, f.records, f.parts, f.part_records INTO split_kind, split_records, split_parts, split_sent
            FROM inami._split_flow_file(path, dbl, names, live, positions, n) f;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            FOREACH c IN ARRAY conns
            LOOP
                BEGIN
                    EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
                EXCEPTION WHEN OTHERS THEN
                    NULL;
                END;
            END LOOP;
            RAISE;
        END;
        -- Every shard loads its part at once.
        FOR i IN 1 .. pg_catalog.cardinality(names)
        LOOP
            c := live[i];
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_send_query($1, $2)', dbl)
                USING c, pg_catalog.format('SELECT * FROM inami._load_flow_part(%s, %L, %s, %s)', split_parts[i], path, positions[i], n);
                INSERT INTO pg_temp.inami_flow_part VALUES (names[i], c, split_sent[i], NULL, NULL, NULL);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                failed := failed || names[i];
                first_state := coalesce(first_state, st);
                first_error := coalesce(first_error, pg_catalog.format('On shard %s: %s', names[i], pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
            END;
        END LOOP;
    END IF;
    FOR s IN SELECT * FROM pg_temp.inami_flow_part p ORDER BY p.shard
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1) AS t(kind text, kept bigint, listed bigint)', dbl)
            INTO k, kept, l USING s.conn;
            EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1, false) AS t(kind text, kept bigint, listed bigint)', dbl) USING s.conn;
            -- the shard loaded what it was sent, no more, no less
            IF kept IS DISTINCT FROM s.sent THEN
                RAISE EXCEPTION 'shard % loaded % records of the % of its part', s.shard, kept, s.sent
                    USING ERRCODE = 'internal_error';
            END IF;
            UPDATE pg_temp.inami_flow_part p SET kind = k, kept = load_flow_file_sharded.kept, listed = l WHERE p.shard = s.shard;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
            failed := failed || s.shard;
            first_state := coalesce(first_state, st);
            first_error := coalesce(first_error, pg_catalog.format('On shard %s: %s', s.shard, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
        END;
    END LOOP;
    -- On the whole file: a Syst04 is refused when no Syst01 of the cluster lists any of its
    -- households (the one-node check; loading it on the shards named only, the others'
    -- parts are already in).
    IF pg_catalog.cardinality(failed) = 0 AND shards IS NULL AND split_kind = 'Syst04' AND split_records > 0
       AND (SELECT sum(p.listed) FROM pg_temp.inami_flow_part p) = 0 THEN
        FOREACH c IN ARRAY conns
        LOOP
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
        END LOOP;
        RAISE EXCEPTION 'Syst04 answers no household that a Syst01 lists'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = pg_catalog.format('None of the %s households of %s is in a loaded Syst01 of its control year on any shard.',
                                             split_records, path),
                  HINT = 'Load the Syst01 of that control year first (inami.load_flow_file_sharded), or check that this file is of the right control year. No shard loaded the file.';
    END IF;
    -- Every shard's part committed when every shard has loaded it; otherwise none is. With
    -- prepared transactions on every shard: PREPARE TRANSACTION on each (a failure rolls
    -- back those prepared), then COMMIT PREPARED on each; a shard that fails then keeps its
    -- part prepared, to be committed there. Without: COMMIT on each in turn.
    IF pg_catalog.cardinality(failed) = 0 AND pg_catalog.cardinality(no_two_phase) = 0 THEN
        load_id := pg_catalog.format('inami_load:%s:%s.%s', (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()),
                                     pg_catalog.pg_current_xact_id(), (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::bigint);
        FOR s IN SELECT * FROM pg_temp.inami_flow_part p ORDER BY p.shard
        LOOP
            gid := load_id || ':' || s.shard;
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl)
                USING s.conn, pg_catalog.format('INSERT INTO inami.shard_load (gid, source_name) VALUES (%L, %L)', gid, path);
                EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl)
                USING s.conn, pg_catalog.format('PREPARE TRANSACTION %L', gid);
                prepared := prepared || s.shard;
                prepared_gids := prepared_gids || gid;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                failed := failed || s.shard;
                first_state := coalesce(first_state, st);
                first_error := coalesce(first_error, pg_catalog.format('On shard %s, preparing: %s', s.shard, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
            END;
            EXIT WHEN pg_catalog.cardinality(failed) > 0;
        END LOOP;
        FOR i IN 1 .. pg_catalog.cardinality(prepared)
        LOOP
            c := (SELECT p.conn FROM pg_temp.inami_flow_part p WHERE p.shard = prepared[i]);
            BEGIN
                IF pg_catalog.cardinality(failed) > 0 THEN
                    EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl) USING c, pg_catalog.format('ROLLBACK PREPARED %L', prepared_gids[i]);
                ELSE
                    EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl) USING c, pg_catalog.format('COMMIT PREPARED %L', prepared_gids[i]);
                    committed := committed || prepared[i];
                END IF;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                IF pg_catalog.cardinality(failed) > 0 THEN
                    left_prepared := left_prepared || pg_catalog.format('ROLLBACK PREPARED %L; on shard %s', prepared_gids[i], prepared[i]);
                ELSE
                    kept_prepared := kept_prepared || prepared[i];
                    left_prepared := left_prepared || pg_catalog.format('COMMIT PREPARED %L; on shard %s', prepared_gids[i], prepared[i]);
                    first_state := coalesce(first_state, st);
                    first_error := coalesce(first_error, pg_catalog.format('On shard %s, committing its prepared part %s: %s.', prepared[i], prepared_gids[i],
                                                                          pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
                END IF;
            END;
        END LOOP;
    ELSIF pg_catalog.cardinality(failed) = 0 THEN
        RAISE WARNING 'the file % is committed on the shards in turn, without two-phase commit', path
            USING ERRCODE = '01000',
                  DETAIL = pg_catalog.format('Shards %s run with max_prepared_transactions = 0: a shard failing while the shards commit leaves the file on those that committed.',
                                             pg_catalog.array_to_string(no_two_phase, ', ')),
                  HINT = 'Set max_prepared_transactions (e.g. 10) in the postgresql.conf of those shards and restart them: the shards then prepare their parts first and commit all or none.';
        FOR s IN SELECT * FROM pg_temp.inami_flow_part p ORDER BY p.shard
        LOOP
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''COMMIT'')', dbl) USING s.conn;
                committed := committed || s.shard;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                failed := failed || s.shard;
                first_state := coalesce(first_state, st);
                first_error := coalesce(first_error, pg_catalog.format('On shard %s, committing: %s', s.shard, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
            END;
        END LOOP;
    END IF;
    -- Closing a connection rolls back what it left open.
    FOREACH c IN ARRAY conns
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
    END LOOP;
    IF pg_catalog.cardinality(kept_prepared) > 0 THEN
        RAISE EXCEPTION 'the file % is prepared but not committed on shard %', path, pg_catalog.array_to_string(kept_prepared, ', ')
            USING ERRCODE = 'external_routine_exception',
                  DETAIL = first_error || pg_catalog.format(' Every shard had prepared its part; %s committed. The part of %s is kept prepared on it.',
                                                            coalesce(NULLIF(pg_catalog.array_to_string(committed, ', '), ''), 'none'),
                                                            pg_catalog.array_to_string(kept_prepared, ', ')),
                  HINT = pg_catalog.format('The load is decided: once the shard is back, finish it there: %s (SELECT * FROM inami.prepared_loads(); lists what is left). Do not load the file again.',
                                           pg_catalog.array_to_string(left_prepared, ' '));
    END IF;
    IF pg_catalog.cardinality(failed) > 0 THEN
        RAISE EXCEPTION 'the file % was not loaded on shard %', path, pg_catalog.array_to_string(failed, ', ')
            USING ERRCODE = 'external_routine_exception',
                  DETAIL = first_error || CASE WHEN pg_catalog.cardinality(committed) = 0
                                               THEN ' No shard loaded the file.'
                                               ELSE pg_catalog.format(' Shards %s committed their part before the failure.', pg_catalog.array_to_string(committed, ', ')) END,
                  HINT = CASE WHEN pg_catalog.cardinality(left_prepared) > 0
                              THEN pg_catalog.format('A part stays prepared where it could not be rolled back: once the shard is back, %s Then fix the cause and load the file again.',
                                                     pg_catalog.array_to_string(left_prepared, ' '))
                              WHEN pg_catalog.cardinality(committed) = 0
                              THEN 'Fix the cause, then load the file again.'
                              ELSE pg_catalog.format('Once the cause is fixed, load it on those shards only: SELECT * FROM inami.load_flow_file_sharded(%L, %L); (a shard that has the file already refuses it: this shipment is already loaded).', path, failed::text) END;
    END IF;
    FOR s IN SELECT p.shard, p.kept FROM pg_temp.inami_flow_part p ORDER BY p.shard
    LOOP
        shard := s.shard;
        kept := s.kept;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.load_flow_file_sharded(text, text[]) IS
'On a coordinator: loads an exchange file (Syst01, Syst04, Pro01, Pro03) of the coordinator''s server on every shard (or on those named). The coordinator reads it once (streamed) and sends each shard only its part (its households; Pro_03 persons, keyed by NISS, to every shard) into a large object there, in chunks; each shard loads its part with the one-node loader and its checks (the file row in its flow_file). A Syst04 none of whose households a Syst01 lists is judged on the whole file. The shards commit when all have loaded their part: a failure leaves the file on none (unless a shard fails while committing; the error names the shards to load it on). No shard reads the file. Returns the households (or persons) each shard loaded.';

-- The sharded loads left prepared on the shards (the coordinator stopped between PREPARE
-- TRANSACTION and COMMIT PREPARED, or a shard failed at COMMIT PREPARED), and what to do
-- with each: a load one shard committed (its inami.shard_load row) was decided, its other
-- parts are committed; a load no shard committed is rolled back.
CREATE FUNCTION inami.prepared_loads()
RETURNS TABLE (shard text, gid text, prepared timestamptz, committed_elsewhere boolean, finish text)
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    s record;
    msg text;
    loads text[];
    found text[];
    decided text[] := '{}';
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.inami_prepared_load (shard text, gid text, prepared timestamptz, load text);
    TRUNCATE pg_temp.inami_prepared_load;
    FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
    LOOP
        BEGIN
            EXECUTE pg_catalog.format(
                'INSERT INTO pg_temp.inami_prepared_load SELECT $1, t.gid, t.prepared, '
                'pg_catalog.split_part(t.gid, '':'', 1) || '':'' || pg_catalog.split_part(t.gid, '':'', 2) || '':'' || pg_catalog.split_part(t.gid, '':'', 3) '
                'FROM %I.dblink($1, $q$SELECT gid, prepared FROM pg_catalog.pg_prepared_xacts '
                'WHERE gid LIKE ''inami\_load:%%'' AND database = pg_catalog.current_database()$q$) AS t(gid text, prepared timestamptz)', dbl)
            USING s.name;
        EXCEPTION WHEN sqlclient_unable_to_establish_sqlconnection THEN
            GET STACKED DIAGNOSTICS msg = PG_EXCEPTION_DETAIL;
            RAISE EXCEPTION 'shard "%" cannot be reached', s.name
                USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                      DETAIL = pg_catalog.concat_ws(' ', NULLIF(msg, ''), 'Whether it holds a prepared load, or committed a load prepared on another shard, cannot be told without it.'),
                      HINT = 'Start the shard, then list again: SELECT * FROM inami.prepared_loads();';
        END;
    END LOOP;
    SELECT pg_catalog.array_agg(DISTINCT p.load) INTO loads FROM pg_temp.inami_prepared_load p;
    IF loads IS NULL THEN
        RETURN;
    END IF;
    -- The loads some shard committed: their inami.shard_load row is there.
    FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
    LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(t.load) FROM %I.dblink($1, $2) AS t(load text)', dbl)
        INTO found
        USING s.name, pg_catalog.format(
            'SELECT DISTINCT l FROM (SELECT pg_catalog.split_part(gid, '':'', 1) || '':'' || pg_catalog.split_part(gid, '':'', 2) || '':'' '
            '|| pg_catalog.split_part(gid, '':'', 3) AS l FROM inami.shard_load) x WHERE l = ANY (%L::text[])', loads);
        decided := decided || coalesce(found, '{}');
    END LOOP;
    RETURN QUERY
    SELECT p.shard, p.gid, p.prepared, p.load = ANY (decided),
           pg_catalog.format('%s PREPARED %L', CASE WHEN p.load = ANY (decided) THEN 'COMMIT' ELSE 'ROLLBACK' END, p.gid)
    FROM pg_temp.inami_prepared_load p ORDER BY p.gid;
END;
$$;
COMMENT ON FUNCTION inami.prepared_loads() IS
'On a coordinator: the parts of sharded loads (inami.load_flow_file_sharded) left prepared on its shards (pg_prepared_xacts, gid inami_load:...), one row per shard and part, with the statement that finishes each, to run on that shard: COMMIT PREPARED when another shard committed the same load (its inami.shard_load row: the load was decided), ROLLBACK PREPARED when none did (the coordinator stopped before the commit phase; load the file again). Every shard must be reachable.';

------------------------------------------------------------------------------------------
-- Operations: the run log tied to pg_cron and interrupted runs (inami.control_run), the
-- progress of loads and runs (inami.progress), one OA's rows per role (row-level security,
-- inami.oa_access, inami.set_oa_security) and the access levels (inami_analyst,
-- inami_operator, inami_parameters; inami.privileges). As in sql/install/50-control.sql,
-- 51-control_runs.sql and 80-operations.sql. Keep this section after every section that
-- creates a table, view or routine: its last statement grants the levels on all of them.
------------------------------------------------------------------------------------------
ALTER TABLE inami.control_run ADD COLUMN cron_jobid bigint, ADD COLUMN cron_runid bigint,
    DROP CONSTRAINT control_run_status_check,
    ADD CONSTRAINT control_run_status_check CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted'));
COMMENT ON COLUMN inami.control_run.status IS 'running, succeeded, failed, or interrupted: the session ended while the run was running (a server crash, a terminated backend), as the next run of the same kind and year found.';
COMMENT ON COLUMN inami.control_run.error_message IS 'Message (with detail and hint) of the error that failed the run; for an interrupted run, which run found it and when.';
COMMENT ON COLUMN inami.control_run.cron_jobid IS 'The pg_cron job that started the run (cron.job_run_details.jobid); NULL when not started by pg_cron.';
COMMENT ON COLUMN inami.control_run.cron_runid IS 'The pg_cron run of that job (cron.job_run_details.runid); NULL when not started by pg_cron.';

CREATE OR REPLACE FUNCTION inami._control_run_start(kind text, year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
    started timestamptz;
    job bigint;
    job_run bigint;
    old bigint;
    total bigint;
BEGIN
    -- (a purge has no year: it removes every year whose keeping ended)
    IF kind <> 'purge' THEN
        IF year IS NULL THEN
            RAISE EXCEPTION 'year must be between 1990 and 2200'
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'The year given is NULL.',
                      HINT = 'Give the control year (systematic control) or the year of the proactive flow, e.g. 2024.';
        END IF;
        PERFORM inami._check_year(year, 'year');
    END IF;
    -- Started by pg_cron (it names its connections so): the job and run it is, for a join
    -- with cron.job_run_details (read only when pg_cron is there; its rows of the running
    -- job name this backend).
    IF pg_catalog.current_setting('application_name') = 'pg_cron'
       AND pg_catalog.to_regclass('cron.job_run_details') IS NOT NULL THEN
        EXECUTE 'SELECT d.jobid, d.runid FROM cron.job_run_details d
                 WHERE d.job_pid = pg_catalog.pg_backend_pid() AND d.status IN (''starting'', ''running'')
                 ORDER BY d.runid DESC LIMIT 1' INTO job, job_run;
    END IF;
    INSERT INTO inami.control_run (kind, year, cron_jobid, cron_runid) VALUES (kind, year, job, job_run)
    RETURNING run_id, started_at INTO run, started;
    -- The run is alive while its session holds this lock (released when the run ends,
    -- inami._control_run_ended, or with the session): a run of the same kind and year (a
    -- purge: any earlier purge) left "running" whose lock is free was interrupted (a crash,
    -- a terminated backend).
    PERFORM pg_catalog.pg_advisory_lock(inami._control_lock_key('alive'), inami._control_alive_key(run));
    FOR old IN SELECT r.run_id FROM inami.control_run r
               WHERE r.kind = $1 AND r.year IS NOT DISTINCT FROM $2 AND r.status = 'running' AND r.run_id < run
    LOOP
        IF pg_catalog.pg_try_advisory_lock(inami._control_lock_key('alive'), inami._control_alive_key(old)) THEN
            -- the trigger releases the lock taken
            UPDATE inami.control_run r
            SET status = 'interrupted', ended_at = greatest(started, r.started_at),
                error_message = pg_catalog.format('interrupted: its session ended while it was running; found by run %s, started at %s',
                                                  run, started)
            WHERE r.run_id = old AND r.status = 'running';
            IF NOT FOUND THEN
                PERFORM pg_catalog.pg_advisory_unlock(inami._control_lock_key('alive'), inami._control_alive_key(old));
            END IF;
        END IF;
    END LOOP;
    -- inami.progress (with shared_preload_libraries = 'inami'): the households to decide
    IF inami._progress_available() THEN
        IF kind = 'systematic_control' THEN
            SELECT pg_catalog.count(*) INTO total FROM inami.syst01_household h WHERE h.control_year = $2;
        ELSIF kind = 'proactive_flow' THEN
            SELECT pg_catalog.count(*) INTO total FROM inami.pro01_household h WHERE h.year = $2;
        END IF;
        PERFORM inami._progress_start(kind, CASE WHEN kind = 'purge' THEN 'removing the expired years'
                                                 ELSE 'deciding the households' END, year, run, total);
    END IF;
    RETURN run;
END;
$$;
COMMENT ON FUNCTION inami._control_run_start(text, int) IS
'Internal to the control runs and purges: checks the year (a purge, kind purge, has none), writes the run''s log row (status running, with the pg_cron job and run when pg_cron started it), holds the lock that tells it alive, marks as interrupted the runs of the same kind and year (every earlier purge, for a purge) whose session ended while they were running, and starts the run''s report in inami.progress.';

-- The lock that tells a live run (inami._control_run_start): its second key.
CREATE FUNCTION inami._control_alive_key(run bigint) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN (run % 2147483647)::int;
COMMENT ON FUNCTION inami._control_alive_key(bigint) IS
'Second key of the session advisory lock a control run holds while it runs: pg_advisory_lock(inami._control_lock_key(''alive''), inami._control_alive_key(run_id)).';

-- When a run's status leaves running: its report in inami.progress ends and its lock goes.
CREATE FUNCTION inami._control_run_ended() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    k1 int := inami._control_lock_key('alive');
    k2 int := inami._control_alive_key(NEW.run_id);
BEGIN
    PERFORM inami._progress_end(NEW.run_id);
    IF EXISTS (SELECT FROM pg_catalog.pg_locks l
               WHERE l.locktype = 'advisory' AND l.pid = pg_catalog.pg_backend_pid() AND l.granted
                 AND l.classid = k1::oid AND l.objid = k2::oid AND l.objsubid = 2) THEN
        PERFORM pg_catalog.pg_advisory_unlock(k1, k2);
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION inami._control_run_ended() IS
'Trigger of inami.control_run: when a run''s status leaves running, ends its report in inami.progress and releases the lock that told it alive.';
CREATE TRIGGER control_run_ended AFTER UPDATE OF status ON inami.control_run
FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running')
EXECUTE FUNCTION inami._control_run_ended();


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
        'run_proactive_flow', 'purge_expired', '_control_run_start', '_control_run_fail', '_control_run_raise',
        '_control_lock_key', '_control_alive_key', '_progress_start', '_progress_end',
        -- the sharded runs, from the coordinator
        'run_systematic_control_sharded', 'run_proactive_flow_sharded', '_run_sharded', 'check_shards',
        '_check_shard', '_dblink_schema'];
    -- the owner's (load_flow_file: pg_read_server_files, as since 0.1.0)
    owner_routines text[] := ARRAY['load_flow_file', 'set_oa_security', '_grant_levels',
        -- the cluster's shape, and the sharded load of server files
        'add_shard', 'create_sharded_table', 'publish_parameters', '_shard_take_id_range', '_conninfo_options',
        'load_flow_file_sharded', '_split_flow_file', '_load_flow_part', '_load_flow_lo', 'prepared_loads'];
    -- reading insured persons' data: analysts, not parameter maintainers
    data_routines text[] := ARRAY['systematic_members', 'systematic_households', 'systematic_candidates', '_control_decisions',
        '_syst04_later_shipment_loaded', '_proactive_members', '_control_right_end', '_control_rule',
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

------------------------------------------------------------------------------------------
-- Last step, as at the end of an install: CREATE OR REPLACE drops a function's SET clause.
------------------------------------------------------------------------------------------
-- Every PL/pgSQL function runs with search_path = pg_catalog, pg_temp: a function or
-- operator of the same name in a schema the caller's search_path lists (one another role
-- can write to) can never stand in for a built-in. The SQL functions with a body are
-- BEGIN ATOMIC (bound when created), the RETURN ones too; the procedures, which commit
-- and so take no SET clause, pin it with set_config at the start of each transaction.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE p.pronamespace = 'inami'::regnamespace AND p.prokind = 'f' AND l.lanname = 'plpgsql'
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END;
$$;
