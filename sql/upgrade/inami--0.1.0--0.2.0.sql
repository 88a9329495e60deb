-- inami 0.1.0 -> 0.2.0. Every change 0.2.0 makes to an object 0.1.0 installed, in the order
-- that keeps each statement valid; the upgrade test proves that an updated database equals
-- a fresh 0.2.0 install (test/t/010_upgrade.pl). Make assembles inami--0.1.0--0.2.0.sql from
-- this file: a line "-- @include FILE" stands for the whole of FILE, a domain of 0.2.0 whose
-- objects are all new (its install source, sql/install/, written once). At the release, the
-- assembled script is kept in sql/ as it shipped, as the install script of 0.1.0 is.
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

-- R4: every candidate end of right of the households of a control year, in precedence order,
-- each with every candidate of its household as JSON (what a decision keeps). One stream:
-- the rule's text is computed at the top, so that a caller that does not read it (the
-- control run) does not pay for it; a household's candidates are ranked and gathered by
-- one window, over the households with events only.
CREATE FUNCTION inami._systematic_candidates(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, household_size int, income_year int, shipment int,
               sent_total numeric, household_total numeric, extra_income numeric, ceiling numeric,
               ceiling_source text, verdict text, events bigint[],
               precedence int, reason text, right_end date, trigger_date date, event_id bigint, rule text,
               provisional boolean, cadastral_income numeric, moved boolean, candidates jsonb)
LANGUAGE sql STABLE BEGIN ATOMIC
  SELECT c.request_number, c.oa, c.household_size, c.income_year, c.shipment, c.sent_total, c.household_total,
         c.extra_income, c.ceiling, ic.source, c.verdict, c.events, c.precedence, c.reason, c.right_end,
         c.trigger_date, c.event_id, inami._control_rule(c.reason, c.verdict, c.income_reason), c.provisional,
         c.cadastral_income, c.moved, c.candidates
  FROM (
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
               inami.im_plafond(p.household_size, p.income_year) AS ceiling,
               inami.im_verdict(t.income, p.household_size, p.income_year) AS verdict,
               -- The income decides (E 5.1), unless the OA's own data (E 4.4) end the right.
               CASE WHEN inami.im_verdict(t.income, p.household_size, p.income_year) <> 'OK' THEN 'STOPSYST'
                    WHEN ev.fisc_without_amount
                      OR inami.im_verdict(t.income + ev.extra_income, p.household_size, p.income_year) = 'NOK'
                    THEN 'STOPFISC'
                    ELSE 'KEEPSYST' END AS income_reason
        FROM per_household p
        LEFT JOIN ev ON ev.request_number = p.request_number
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
        SELECT c.*, row_number() OVER ranked::int AS precedence,
               -- every candidate of the household, in the same order (control_decision.candidates)
               jsonb_agg(jsonb_build_object('reason', c.reason, 'right_end', c.right_end,
                                            'from', coalesce('event ' || c.event_id, 'income')))
                 OVER (ranked ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS candidates
        FROM (SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
                     o.extra_income, o.ceiling, o.verdict, o.events, o.income_reason, o.reason,
                     o.moved, o.awaiting, o.cadastral_income, inami._control_right_end(o.reason, $1, NULL) AS right_end,
                     CASE o.reason WHEN 'STOPFISC' THEN o.fisc_date WHEN 'KEEPADV' THEN o.advantage_date
                                   WHEN 'KEEPDSH' THEN o.dsh_date END AS trigger_date,
                     NULL::bigint AS event_id, 1 AS class
              FROM income_candidate o WHERE o.events IS NOT NULL
              UNION ALL
              SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
                     o.extra_income, o.ceiling, o.verdict, o.events, o.income_reason, r.reason,
                     o.moved, o.awaiting, o.cadastral_income, inami._control_right_end(r.reason, $1, e.event_date), e.event_date, e.event_id, 0
              FROM inami.household_event e
              JOIN income_candidate o ON o.request_number = e.request_number
              CROSS JOIN LATERAL (SELECT CASE e.event WHEN 'composition_change' THEN 'STOPFAM'
                                                      WHEN 'death' THEN 'STOPDEATH'
                                                      WHEN 'oa_change' THEN 'STOPOA' END AS reason) r
              WHERE e.control_year = $1 AND ($2 IS NULL OR e.request_number = $2)
                AND e.event IN ('composition_change', 'death', 'oa_change')) c
        WINDOW ranked AS (PARTITION BY c.request_number
                          ORDER BY c.class = 1 AND c.moved, c.right_end, c.class, c.trigger_date NULLS LAST,
                                   array_position(ARRAY['STOPDEATH', 'STOPOA', 'STOPFAM'], c.reason), c.event_id)
    )
    -- Households without events have one candidate: no sort for them, and their candidates'
    -- JSON is one of a few (the reason's, taken from a table of them rather than built a
    -- million times; built for a reason the table would lack).
    SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
           o.extra_income, o.ceiling, o.verdict, o.events, 1, o.reason,
           inami._control_right_end(o.reason, $1, NULL), NULL::date, NULL::bigint,
           o.income_reason, o.awaiting, o.cadastral_income, false,
           coalesce(j.candidates, jsonb_build_array(jsonb_build_object(
               'reason', o.reason, 'right_end', inami._control_right_end(o.reason, $1, NULL), 'from', 'income')))
    FROM income_candidate o
    LEFT JOIN (SELECT r.reason, jsonb_build_array(jsonb_build_object(
                   'reason', r.reason, 'right_end', inami._control_right_end(r.reason, $1, NULL), 'from', 'income'))
               FROM unnest(ARRAY['KEEPSYST', 'STOPSYST', 'STOPFISC']) AS r(reason)) AS j(reason, candidates)
      ON j.reason = o.reason
    WHERE o.events IS NULL
    UNION ALL
    SELECT w.request_number, w.oa, w.household_size, w.income_year, w.shipment, w.sent_total, w.total,
           w.extra_income, w.ceiling, w.verdict, w.events, w.precedence, w.reason,
           w.right_end, w.trigger_date, w.event_id, w.income_reason,
           -- Reported, this candidate waits for the next shipment when the income can still
           -- change it: it is the income's, or ends after 31 December X, where the income's
           -- end would come first if the income ends the right (not after a move: then the
           -- events come first whatever the income).
           -- A household that moved and no answer lists yet waits too: the next shipment
           -- says whether its data came here (then this OA sends its feedback, E 5.2).
           w.awaiting AND (w.event_id IS NULL OR (NOT coalesce(w.moved, false) AND w.right_end > make_date($1, 12, 31))
                           OR (coalesce(w.moved, false) AND w.shipment IS NULL)),
           w.cadastral_income, coalesce(w.moved, false), w.candidates
    FROM with_events w
  ) AS c (request_number, oa, household_size, income_year, shipment, sent_total, household_total, extra_income,
          ceiling, verdict, events, precedence, reason, right_end, trigger_date, event_id,
          income_reason, provisional, cadastral_income, moved, candidates)
  -- the ceiling's source, joined here: not carried through the households' rows
  LEFT JOIN inami.im_ceiling ic ON ic.income_year = c.income_year;
END;
COMMENT ON FUNCTION inami._systematic_candidates(int, text) IS
'Internal to inami.systematic_candidates and the control run: its rows, each with candidates, every candidate of the household in precedence order as JSON (as inami.control_decision.candidates keeps them).';

-- R4: every candidate end of right of the households of a control year, in precedence order.
CREATE OR REPLACE FUNCTION inami.systematic_candidates(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, household_size int, income_year int, shipment int,
               sent_total numeric, household_total numeric, extra_income numeric, ceiling numeric,
               ceiling_source text, verdict text, events bigint[],
               precedence int, reason text, right_end date, trigger_date date, event_id bigint, rule text,
               provisional boolean, cadastral_income numeric, moved boolean)
LANGUAGE sql STABLE BEGIN ATOMIC
    SELECT c.request_number, c.oa, c.household_size, c.income_year, c.shipment, c.sent_total, c.household_total,
           c.extra_income, c.ceiling, c.ceiling_source, c.verdict, c.events, c.precedence, c.reason, c.right_end,
           c.trigger_date, c.event_id, c.rule, c.provisional, c.cadastral_income, c.moved
    FROM inami._systematic_candidates($1, $2) c;
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
    SELECT c.request_number, c.oa, c.reason, c.right_end, c.household_size, c.income_year, c.shipment,
           c.sent_total, c.household_total, c.extra_income, c.ceiling, c.ceiling_source, c.verdict, c.events,
           c.candidates,
           -- E 2.3, 5.2: the OA that receives the fiscal data sends the feedback; those
           -- of a household that moved before any answer here went to its new OA
           NOT (c.moved AND c.shipment IS NULL), c.provisional, c.cadastral_income
    FROM inami._systematic_candidates($1) c
    WHERE c.precedence = 1;
END;
COMMENT ON FUNCTION inami._control_decisions(int) IS
'Internal to inami.run_systematic_control: the decision of every Syst_01 household of control_year, with what it was made from (the columns of inami.control_decision but the year and the run): the first of inami._systematic_candidates, with every candidate as JSON, and whether this OA sends its feedback.';

CREATE OR REPLACE PROCEDURE inami.run_systematic_control(control_year int)
LANGUAGE plpgsql AS $$
DECLARE
    y int := $1;
    run bigint := inami._control_run_start('systematic_control', $1);
    stale text[];
    tally jsonb;
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
            -- Found by a query of its own, which PostgreSQL may run in parallel (a DELETE
            -- never is), then deleted by key, the condition checked again.
            SELECT pg_catalog.array_agg(d.request_number) INTO stale
            FROM inami.control_decision d
            WHERE d.control_year = y AND d.run_id <> run
              AND NOT EXISTS (SELECT 1 FROM inami.syst01_member m
                              WHERE m.control_year = y AND m.request_number = d.request_number);
            IF stale IS NOT NULL THEN
                DELETE FROM inami.control_decision d
                WHERE d.control_year = y AND d.request_number = ANY (stale)
                  AND NOT EXISTS (SELECT 1 FROM inami.syst01_member m
                                  WHERE m.control_year = y AND m.request_number = d.request_number);
            END IF;
        END IF;
        -- The decisions per reason, and those waiting for the second shipment when there are
        -- any: one read of the year's decisions (a query of its own, as above).
        SELECT coalesce(pg_catalog.jsonb_object_agg(s.reason, s.n ORDER BY s.reason), '{}')
               || CASE WHEN sum(s.provisional) > 0
                       THEN pg_catalog.jsonb_build_object('provisional', sum(s.provisional)::bigint) ELSE '{}' END
        INTO tally
        FROM (SELECT d.reason, count(*) AS n, count(*) FILTER (WHERE d.provisional) AS provisional
              FROM inami.control_decision d WHERE d.control_year = y GROUP BY d.reason) s;
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(), counts = tally
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

COMMENT ON FUNCTION inami._control_lock_key(text) IS
'First key of the transaction advisory lock (kind, year) a control run holds while it writes: pg_advisory_xact_lock(inami._control_lock_key(kind), year).';

-- @include sql/install/70-reports.sql

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

-- @include sql/install/70-shards.sql

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

-- @include sql/install/80-operations.sql

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
