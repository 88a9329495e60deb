------------------------------------------------------------------------------------------
-- Reports: views a BI tool charts (decisions of a control year, provisional households,
-- the statistics of the proactive flow), each figure beside the previous year's
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
