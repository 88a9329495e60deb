------------------------------------------------------------------------------------------
-- Control runs: the systematic control (R4) and the proactive flow (R5), set-based
------------------------------------------------------------------------------------------

-- R3 per member of the Syst_01 households of a control year (one household when given).
CREATE FUNCTION inami.systematic_members(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, sent_total numeric, niss text, shipment int, income_year int,
               return_code text, income numeric, birth_date date, under18 boolean, rule_birth_date date,
               cadastral_income numeric)
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
    WITH hh AS (
        SELECT h.request_number, h.oa, a.household_total AS sent_total,
               coalesce(a.income_year, $1 - 2) AS income_year
        FROM inami.syst01_household h
        LEFT JOIN inami.syst04_answer a ON a.control_year = h.control_year AND a.request_number = h.request_number
        WHERE h.control_year = $1 AND ($2 IS NULL OR h.request_number = $2)
    ), answer_rows AS (
        -- Every Syst_04 answer of a member; a requester whose NISS changed is answered under
        -- the new NISS, the request number keeps the old one, Syst_01's (E 2.2, 2.4).
        SELECT sm.request_number, x.niss, sm.shipment, sm.return_code, sm.ipcal_code, sm.ipcal_amount,
               sm.cadastral_income, left(x.niss, 2) || lpad((substr(x.niss, 3, 2)::int % 20)::text, 2, '0') || substr(x.niss, 5, 2) AS birth_key
        FROM inami.syst04_member sm
        JOIN inami.syst04_household a
          ON a.control_year = sm.control_year AND a.request_number = sm.request_number AND a.shipment = sm.shipment
        CROSS JOIN LATERAL (SELECT CASE WHEN sm.niss = a.requester_niss THEN substr(sm.request_number, 8)
                                        ELSE sm.niss END AS niss) x
        WHERE sm.control_year = $1 AND ($2 IS NULL OR sm.request_number = $2)
    ), left_out AS (
        -- Syst_01 members no answer lists ...
        SELECT m.request_number, m.niss, count(*) OVER (PARTITION BY m.request_number) AS n,
               left(m.niss, 2) || lpad((substr(m.niss, 3, 2)::int % 20)::text, 2, '0') || substr(m.niss, 5, 2) AS birth_key
        FROM hh JOIN inami.syst01_member m ON m.control_year = $1 AND m.request_number = hh.request_number
        WHERE NOT EXISTS (SELECT FROM answer_rows r WHERE r.request_number = m.request_number AND r.niss = m.niss)
    ), unlisted AS (
        -- ... and answers under a NISS Syst_01 does not list for the household
        SELECT u.request_number, u.niss, u.birth_key, count(*) OVER (PARTITION BY u.request_number) AS n
        FROM (SELECT DISTINCT r.request_number, r.niss, r.birth_key FROM answer_rows r
              WHERE NOT EXISTS (SELECT FROM inami.syst01_member m
                                WHERE m.control_year = $1 AND m.request_number = r.request_number AND m.niss = r.niss)) u
    ), renamed AS (
        -- E 2.4, footnote 6: the SCA answers under the newest NISS. Such an answer is the
        -- member's no answer lists when there is one of each, otherwise the one left-out
        -- member with the same birth date in the NISS, when there is exactly one of each.
        SELECT u.request_number, u.niss AS answered, l.niss AS listed
        FROM unlisted u JOIN left_out l ON l.request_number = u.request_number
        WHERE (u.n = 1 AND l.n = 1)
           OR (l.birth_key = u.birth_key
               AND (SELECT count(*) FROM left_out l2
                    WHERE l2.request_number = l.request_number AND l2.birth_key = l.birth_key) = 1
               AND (SELECT count(*) FROM unlisted u2
                    WHERE u2.request_number = u.request_number AND u2.birth_key = u.birth_key) = 1)
    ), answers AS (
        -- Each member's latest answer (E 4.1, 4.3: October answers what August left open).
        SELECT DISTINCT ON (r.request_number, x.niss) r.request_number, x.niss, r.shipment, r.return_code,
               r.ipcal_code, r.ipcal_amount, r.cadastral_income
        FROM answer_rows r
        LEFT JOIN renamed rn ON rn.request_number = r.request_number AND rn.answered = r.niss
        CROSS JOIN LATERAL (SELECT coalesce(rn.listed, r.niss) AS niss) x
        ORDER BY r.request_number, x.niss, r.shipment DESC
    )
    SELECT m.request_number, hh.oa, hh.sent_total, m.niss, an.shipment, hh.income_year, an.return_code,
           -- E 4.3: the SCA answers "00" with 0 EUR (no IPCAL item) for a child whose income it lacks
           CASE WHEN an.return_code = '00' THEN inami.ipcal_items_income(an.ipcal_code, an.ipcal_amount, hh.income_year + 1) END,
           b.birth_date,
           -- R3: under 18 on 1 January of the tax year (income year + 1).
           b.rule_birth_date > make_date(hh.income_year + 1 - 18, 1, 1),
           b.rule_birth_date, an.cadastral_income
    FROM hh
    JOIN inami.syst01_member m ON m.control_year = $1 AND m.request_number = hh.request_number
    LEFT JOIN answers an ON an.request_number = m.request_number AND an.niss = m.niss
    CROSS JOIN LATERAL (SELECT inami.niss_is_valid(m.niss) AS valid) v
    CROSS JOIN LATERAL (SELECT CASE WHEN v.valid THEN inami.niss_birth_date(m.niss) END AS birth_date,
                               CASE WHEN v.valid THEN inami.niss_birth_date_for_age(m.niss, 18, make_date(hh.income_year + 1, 1, 1)) END
                               AS rule_birth_date) b;
END;
COMMENT ON FUNCTION inami.systematic_members(int, text) IS
'R3 per member of the Syst_01 households of a control year (or of one household): the latest household answer''s HouseholdTotal as sent and income year; the member''s latest Syst_04 answer (shipment, return code; NULL: no shipment answers the member; a requester is also found under the new NISS of a Syst_04 <Requester>), income from its IPCAL items (inami.ipcal_income; 0.00 for "00" without items), birth date from the NISS (NULL when unknown or invalid), whether the under-18 rule can apply, the birth date R3 uses for it (inami.niss_birth_date_for_age: also when the NISS gives only the year and every day of it gives the same answer), and the CadastralIncome of the answer.';

-- R3 per Syst_01 household of a control year: what systematic_members grouped by household
-- gives, in one pass over the four tables read in request-number order (no join, no sort).
CREATE FUNCTION inami.systematic_households(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, household_size int, income_year int, shipment int,
               sent_total numeric, household_total numeric, cadastral_income numeric,
               asked_again boolean)
AS 'MODULE_PATHNAME', 'inami_systematic_households'
LANGUAGE C STABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION inami.systematic_households(int, text) IS
'R3 per Syst_01 household with members of a control year (or one household): OA, household size (Syst_01 members), income year, the Syst_04 shipment whose answer counts (the latest; NULL without one), its HouseholdTotal as sent, the household income (inami.household_income over inami.systematic_members of the household; NULL when unknown), the sum of the members'' CadastralIncome (NULL when no answer carries one), and asked_again: the income is unknown only through members whose latest answer is a shipment-1 code the SCA asks again (inami.return_code_asked_again, E 4.3), every other member known. Reads the tables in primary-key order in one pass: what the control run decides from.';

-- How many Syst_01 households without members the last pass over a whole control year
-- found in this transaction (the run's MERGE reads such a pass).
CREATE FUNCTION inami._systematic_memberless(control_year int) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_systematic_memberless'
LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION inami._systematic_memberless(int) IS
'Internal to inami.run_systematic_control: how many Syst_01 households without members the last inami.systematic_households pass over the whole of control_year found in this transaction; NULL when no such pass ran in it.';

-- E 4.1: has a Syst_04 shipment after the first been loaded for the control year? A file
-- without households counts (the SCA sent no October answer for this OA).
CREATE FUNCTION inami._syst04_later_shipment_loaded(control_year int) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT 1 FROM inami.flow_file f WHERE f.kind = 'Syst04' AND f.year = $1 AND f.shipment > 1)
    OR EXISTS (SELECT 1 FROM inami.syst04_household s WHERE s.control_year = $1 AND s.shipment > 1);
COMMENT ON FUNCTION inami._syst04_later_shipment_loaded(int) IS
'E 4.1: whether a Syst_04 shipment after the first (a file, even without households, or its rows) is loaded for the control year: until then, what no answer lists, or an answer the SCA asks again, is not final.';

-- R4: the end of the right each reason gives (E 5.1, 5.3), for control year X.
CREATE FUNCTION inami._control_right_end(reason text, control_year int, event_date date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE reason
    -- E 5.1: prolonged until 31 December X+1; kept rights run as long.
    WHEN 'KEEPSYST' THEN make_date(control_year + 1, 12, 31)
    WHEN 'KEEPADV' THEN make_date(control_year + 1, 12, 31)
    WHEN 'KEEPDSH' THEN make_date(control_year + 1, 12, 31)
    -- E 5.1: ended on 31 December X (income at or over the ceiling, or unknown).
    WHEN 'STOPSYST' THEN make_date(control_year, 12, 31)
    WHEN 'STOPFISC' THEN make_date(control_year, 12, 31)
    -- E 5.3: at the latest the last day of the quarter following that of the change.
    -- (Through timestamp, not timestamptz: the day does not depend on TimeZone, the
    -- function stays IMMUTABLE and the planner inlines it.)
    WHEN 'STOPFAM' THEN (date_trunc('quarter', event_date::timestamp) + interval '6 months - 1 day')::date
    -- The right ends with the death.
    WHEN 'STOPDEATH' THEN event_date
    -- The OA's examination ends the day before the first day at the other OA.
    WHEN 'STOPOA' THEN event_date - 1
END;
COMMENT ON FUNCTION inami._control_right_end(text, int, date) IS
'R4: the last day of the right a reason gives in control year X: KEEPSYST, KEEPADV, KEEPDSH 31 Dec X+1; STOPSYST, STOPFISC 31 Dec X; STOPFAM the last day of the quarter after the change''s; STOPDEATH the day of death; STOPOA the day before the first day at the other OA.';

-- R4: the circular and section behind a reason.
CREATE FUNCTION inami._control_rule(reason text, verdict text, income_reason text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE reason
    WHEN 'KEEPSYST' THEN 'Circ. O.A. 2024/165, 5.1: income under the ceiling, right prolonged until 31 December X+1'
    WHEN 'STOPSYST' THEN CASE WHEN verdict = 'NOK'
        THEN 'Circ. O.A. 2024/165, 5.1: income at or over the ceiling, right ended on 31 December X'
        ELSE 'Circ. O.A. 2024/165, 5.1 and 3.2 (art. 38, par. 3 A.R. 15.01.2014): no fiscal data for a member (under-18 rule applied), right ended on 31 December X' END
    WHEN 'STOPFISC' THEN 'Circ. O.A. 2024/165, 5.3 and 4.4: additional fiscal data of the OA bring the income to the ceiling; ended like the control, 31 December X'
    WHEN 'KEEPADV' THEN 'Circ. O.A. 2024/165, 5.3: right maintained by a social advantage, instead of ' || income_reason || '; maintained like a prolongation, until 31 December X+1'
    WHEN 'KEEPDSH' THEN 'Circ. O.A. 2024/165, 5.1 and 5.3: new DSH between 1 October X and 31 March X+1, right from 1 January X+1 (not a new opening), instead of ' || income_reason || '; until 31 December X+1'
    WHEN 'STOPFAM' THEN 'Circ. O.A. 2024/165, 5.3 (art. 35 A.R. 15.01.2014): composition change, right ended at the latest on the last day of the quarter following the quarter of the change'
    WHEN 'STOPDEATH' THEN 'Circ. O.A. 2024/165, 5.3: end of the right by death, on the day of death (the circular gives no other date)'
    WHEN 'STOPOA' THEN 'Circ. O.A. 2024/165, 5.3: the household moved to another OA; the examination ends the day before its first day there (the circular gives no other date)'
END;
COMMENT ON FUNCTION inami._control_rule(text, text, text) IS
'R4: the circular and section behind a reason (verdict and the income''s own reason complete STOPSYST, KEEPADV and KEEPDSH).';

-- R4: one candidate of a household as control_decision.candidates lists it.
CREATE FUNCTION inami._candidate_json(reason text, right_end date, event_id bigint) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE
RETURN jsonb_build_object('reason', reason, 'right_end', right_end, 'from', coalesce('event ' || event_id, 'income'));
COMMENT ON FUNCTION inami._candidate_json(text, date, bigint) IS
'Internal to the systematic control: a candidate as inami.control_decision.candidates lists it, {reason, right_end, from: "income" or "event <event_id>"}.';

-- R4: every candidate end of right of the households of a control year, in precedence order,
-- each with every candidate of its household as JSON (what a decision keeps). One stream,
-- nothing of it stored: the rule's text is computed at the top, so that a caller that does
-- not read it (the control run) does not pay for it; a household's candidates are ranked
-- and gathered by one window, for the households with events only.
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
               coalesce(ev.moved, false) AS moved,
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
        -- (Computed here once, the joins above it not flattened into the query below: the
        -- households' columns are what the candidates of events read, not expressions
        -- evaluated again.)
        SELECT b.*,
               CASE WHEN b.income_reason = 'KEEPSYST' THEN 'KEEPSYST'
                    WHEN b.advantage_date IS NOT NULL THEN 'KEEPADV'
                    WHEN b.dsh_date IS NOT NULL THEN 'KEEPDSH'
                    ELSE b.income_reason END AS reason
        FROM basis b
        OFFSET 0
    )
    -- One row per candidate. A household without events has one, the income's: first, and
    -- its candidates' JSON is one of a few (built once each, not a million times). A
    -- household with events gets the income's candidate and one per ending event, ranked
    -- by the subquery beside it, which runs for those households only.
    SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
           o.extra_income, o.ceiling, o.verdict, o.events, coalesce(w.precedence, 1), coalesce(w.reason, o.reason),
           CASE WHEN w.precedence IS NULL THEN inami._control_right_end(o.reason, $1, NULL) ELSE w.right_end END,
           w.trigger_date, w.event_id, o.income_reason,
           -- Reported, this candidate waits for the next shipment when the income can still
           -- change it: it is the income's, or ends after 31 December X, where the income's
           -- end would come first if the income ends the right (not after a move: then the
           -- events come first whatever the income).
           -- A household that moved and no answer lists yet waits too: the next shipment
           -- says whether its data came here (then this OA sends its feedback, E 5.2).
           o.awaiting AND (w.event_id IS NULL OR (NOT o.moved AND w.right_end > make_date($1, 12, 31))
                           OR (o.moved AND o.shipment IS NULL)),
           o.cadastral_income, o.moved,
           CASE WHEN w.precedence IS NOT NULL THEN w.candidates
                WHEN o.reason = 'KEEPSYST'
                THEN (SELECT jsonb_build_array(inami._candidate_json('KEEPSYST', inami._control_right_end('KEEPSYST', $1, NULL), NULL)))
                WHEN o.reason = 'STOPSYST'
                THEN (SELECT jsonb_build_array(inami._candidate_json('STOPSYST', inami._control_right_end('STOPSYST', $1, NULL), NULL)))
                ELSE jsonb_build_array(inami._candidate_json(o.reason, inami._control_right_end(o.reason, $1, NULL), NULL)) END
    FROM income_candidate o
    LEFT JOIN LATERAL (
        -- E 5.3: a household that moved to another OA ends the examination here, whatever
        -- the income says and whenever the income's end falls ("presenting an excess ...
        -- joined another OA without a DSH allowing a re-examination"): the income's
        -- candidate comes after every event then; events rank by the end they give.
        SELECT r.*
        FROM (SELECT c.reason, c.right_end, c.trigger_date, c.event_id, row_number() OVER ranked::int AS precedence,
                     -- every candidate of the household, in the same order (control_decision.candidates)
                     jsonb_agg(inami._candidate_json(c.reason, c.right_end, c.event_id))
                       OVER (ranked ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS candidates
              FROM (SELECT o.reason, inami._control_right_end(o.reason, $1, NULL) AS right_end,
                           CASE o.reason WHEN 'STOPFISC' THEN o.fisc_date WHEN 'KEEPADV' THEN o.advantage_date
                                         WHEN 'KEEPDSH' THEN o.dsh_date END AS trigger_date,
                           NULL::bigint AS event_id, 1 AS class
                    UNION ALL
                    SELECT x.reason, inami._control_right_end(x.reason, $1, e.event_date), e.event_date, e.event_id, 0
                    FROM inami.household_event e
                    CROSS JOIN LATERAL (SELECT CASE e.event WHEN 'composition_change' THEN 'STOPFAM'
                                                            WHEN 'death' THEN 'STOPDEATH'
                                                            WHEN 'oa_change' THEN 'STOPOA' END AS reason) x
                    WHERE e.control_year = $1 AND e.request_number = o.request_number
                      AND e.event IN ('composition_change', 'death', 'oa_change')) c
              WINDOW ranked AS (ORDER BY c.class = 1 AND o.moved, c.right_end, c.class, c.trigger_date NULLS LAST,
                                array_position(ARRAY['STOPDEATH', 'STOPOA', 'STOPFAM'], c.reason), c.event_id)
              OFFSET 0) r
        -- (both OFFSET 0 keep this test above the ranking: a household without events
        -- skips the subquery, its sort and window included)
        WHERE o.events IS NOT NULL
        OFFSET 0
    ) w ON true
  ) AS c (request_number, oa, household_size, income_year, shipment, sent_total, household_total, extra_income,
          ceiling, verdict, events, precedence, reason, right_end, trigger_date, event_id,
          income_reason, provisional, cadastral_income, moved, candidates)
  -- the ceiling's source, joined here: not carried through the households' rows
  LEFT JOIN inami.im_ceiling ic ON ic.income_year = c.income_year;
END;
COMMENT ON FUNCTION inami._systematic_candidates(int, text) IS
'Internal to inami.systematic_candidates and the control run: its rows, each with candidates, every candidate of the household in precedence order as JSON (as inami.control_decision.candidates keeps them).';

-- R4: every candidate end of right of the households of a control year, in precedence order.
CREATE FUNCTION inami.systematic_candidates(control_year int, request_number text DEFAULT NULL)
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
COMMENT ON FUNCTION inami.systematic_candidates(int, text) IS
'R4: every candidate reason and end of right of each Syst_01 household of a control year (or of one household), with what it was made from and the rule behind it; precedence 1 is the one reported: the earliest end of right, an event before the income on the same day (E 5.3, example 2), then the earlier event; a household that moved to another OA before the feedback (an oa_change dated before 1 May X+1) has its events before the income whatever their dates (E 2.3, 5.3, end of the examination; moved says so), a later move competes like any event, by its end; when both a social advantage and a new DSH keep the right, KEEPADV (the income''s candidate, like STOPFISC and KEEPDSH). provisional: reported, the candidate could still change, the income deciding and not final yet: before any later shipment is loaded, a household no answer lists, or unknown only through members answered in shipment 1 with a code of inami.return_code_asked_again (E 4.1, 4.3); or, the income under the ceiling, a cadastral income sent that no cadastral_income event assessed (on that amount sent, E 4.4). cadastral_income: the part the OA counts (its assessment made on the CadastralIncome sent now), added to household_total for the verdict.';

-- R5 per member of the Pro_01 households of a year: the latest Pro_03 answer of each person.
CREATE FUNCTION inami._proactive_members(year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, niss text, shipment int, income_year int, return_code text,
               income numeric, birth_date date, under18 boolean, rule_birth_date date, birth_dates daterange)
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
    WITH members AS (
        SELECT m.request_number, m.niss, a.shipment, coalesce(a.income_year, $1 - 2) AS income_year, a.return_code,
               a.ipcal_code, a.ipcal_amount
        FROM inami.pro01_member m
        LEFT JOIN inami.pro03_answer a ON a.year = m.year AND a.niss = m.niss
        WHERE m.year = $1 AND ($2 IS NULL OR m.request_number = $2)
    )
    SELECT m.request_number, m.niss, m.shipment, m.income_year, m.return_code,
           -- as in Syst_04 (E 4.3): "00" without IPCAL items is 0 EUR
           CASE WHEN m.return_code = '00' THEN inami.ipcal_items_income(m.ipcal_code, m.ipcal_amount, m.income_year + 1) END,
           b.birth_date, b.rule_birth_date > make_date(m.income_year + 1 - 18, 1, 1), b.rule_birth_date,
           CASE WHEN v.valid THEN inami.niss_birth_range(m.niss) END
    FROM members m
    CROSS JOIN LATERAL (SELECT inami.niss_is_valid(m.niss) AS valid) v
    CROSS JOIN LATERAL (SELECT CASE WHEN v.valid THEN inami.niss_birth_date(m.niss) END AS birth_date,
                               CASE WHEN v.valid THEN inami.niss_birth_date_for_age(m.niss, 18, make_date(m.income_year + 1, 1, 1)) END
                               AS rule_birth_date) b;
END;
COMMENT ON FUNCTION inami._proactive_members(int, text) IS
'R5 per member of the Pro_01 households of a year (or of one household): the latest Pro_03 answer of the person (F 2.2: one usable answer per NISS), return code (NULL: no answer), income from the IPCAL items (0.00 for "00" without items), birth date from the NISS, whether the under-18 rule can apply and the birth date it uses (inami.niss_birth_date_for_age), the days the NISS allows as birth date (inami.niss_birth_range; NULL for an invalid NISS).';

-- A run's lock: two runs of one kind for one year never write at once (the second waits).
CREATE FUNCTION inami._control_lock_key(kind text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN hashtext('inami.control_run:' || kind);
COMMENT ON FUNCTION inami._control_lock_key(text) IS
'First key of the transaction advisory lock (kind, year) a control run holds while it writes: pg_advisory_xact_lock(inami._control_lock_key(kind), year).';

CREATE FUNCTION inami._control_run_raise(sqlstate text, message text, detail text, hint text, context text,
                                        schema_name text, table_name text, column_name text,
                                        datatype_name text, constraint_name text) RETURNS void
AS 'MODULE_PATHNAME', 'inami_control_run_raise' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION inami._control_run_raise(text, text, text, text, text, text, text, text, text, text) IS
'Internal to the control runs: raises the error given, with only the fields that are neither NULL nor empty (as GET STACKED DIAGNOSTICS returns them), which RAISE cannot do.';

-- Re-raises an error caught by a run, after its failure was logged and committed.
CREATE PROCEDURE inami._control_run_fail(run bigint, sqlstate text, message text, detail text, hint text,
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
COMMENT ON PROCEDURE inami._control_run_fail(bigint, text, text, text, text, text, text[]) IS
'Internal to the control runs: marks run failed with the error, commits the log, and raises the error again with its context and the names it carried (schema, table, column, data type, constraint, in that order in names), so that a caller or pg_cron sees the failure the run met.';

CREATE FUNCTION inami._control_run_start(kind text, year int) RETURNS bigint
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

-- INSERT INTO target <query>, the target's foreign keys checked once for every row
-- (insert_select.c): what the runs write their decisions with.
CREATE FUNCTION inami._insert_select(target regclass, query text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_insert_select'
LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION inami._insert_select(regclass, text) IS
'Internal to the control runs: INSERT INTO target <query> (one SELECT of the table''s columns, in order), returning the rows inserted; with the privileges, constraints and errors of that INSERT, but the foreign keys checked once for all the rows, set-based, after they are in, their referenced rows locked FOR KEY SHARE as per-row checks lock them. A table with other triggers, rules, row-level security for the caller, or keys that are deferrable, MATCH FULL, or between different types, gets the plain INSERT.';

-- R4: the decision of every Syst_01 household of a control year, as the run writes it: the
-- first candidate of each, with every candidate as JSON (only the columns kept: the rule's
-- text of a million candidates is not computed).
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

-- R4: decide every Syst_01 household of a control year and store the Syst_05 feedback.
CREATE PROCEDURE inami.run_systematic_control(control_year int)
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
            -- CASCADE). The pass the MERGE decided from counted the households it met without
            -- members: when there were none, every decision of the year is one it just matched
            -- or wrote, and none is looked for. Otherwise they are found by a query of their
            -- own, which PostgreSQL may run in parallel (a DELETE never is; a decision this run
            -- wrote has members), then deleted by key, the condition checked again.
            IF inami._systematic_memberless(y) IS DISTINCT FROM 0 THEN
                SELECT pg_catalog.array_agg(d.request_number) INTO stale
                FROM inami.control_decision d
                WHERE d.control_year = y AND d.run_id <> run
                  AND NOT EXISTS (SELECT 1 FROM inami.syst01_member m
                                  WHERE m.control_year = y AND m.request_number = d.request_number);
            END IF;
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
COMMENT ON PROCEDURE inami.run_systematic_control(int) IS
'R4: decides every Syst_01 household of control_year (latest Syst_04 answer, R3 income, ceiling, household events, precedence of E 5.3) and brings the year''s rows of inami.control_decision up to date (writing only the decisions that changed). Logs into inami.control_run (committed before the work, so call it outside a transaction block, as pg_cron does); a failed run changes no decision. A second run of the same year waits for the first.';

-- R5: the Pro_04 code of every Pro_01 household of a year.
CREATE PROCEDURE inami.run_proactive_flow(year int)
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
COMMENT ON PROCEDURE inami.run_proactive_flow(int) IS
'R5: computes the Pro_04 code (OK, NOK, ONHOLD) of every Pro_01 household of year from the latest Pro_03 answers of its members (R3, ceiling for the number of members) and replaces the year''s rows of inami.proactive_decision. Logged like run_systematic_control; call it outside a transaction block.';
