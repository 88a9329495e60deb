------------------------------------------------------------------------------------------
-- Control runs: explain_decision
------------------------------------------------------------------------------------------

-- R4: why a household got its decision, step by step, with the rule behind each step.
CREATE FUNCTION inami.explain_decision(request_number text, control_year int)
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
COMMENT ON FUNCTION inami.explain_decision(text, int) IS
'R4: why a household got its Syst_05 decision: the household, the Syst_04 answer, every member with return code and income (and the under-18 rule), size, total, ceiling with its source row, verdict, events, every candidate end of right and the one reported, each with the circular and section behind it.';
