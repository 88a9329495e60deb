-- R4, R5: the systematic control (Syst_05) and the proactive flow (Pro_04), their run log,
-- household events and explanations, on a hand-made control year 2024 built on the
-- examples of Circ. O.A. 2024/165 (E 5.3) and the edges of R3/R4.
-- Income year 2022 (tax year 2023); ceilings: 1 person 23,303.84; 2 persons 27,618.02;
-- 3 persons 31,932.20; 4 persons 36,246.38.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;

-- The suites share one database: start from empty flow and run tables.
DELETE FROM inami.proactive_outcome; DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision;
DELETE FROM inami.household_event; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;
-- Event ids from 1 whatever ran before (the explanations below name them).
ALTER TABLE inami.household_event ALTER COLUMN event_id RESTART;

-- A NISS for a birth date and a serial number (R9: check digits, 2 prefix from 2000 on).
CREATE FUNCTION pg_temp.niss(born date, seq int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT nine || lpad((97 - ((CASE WHEN born >= '2000-01-01' THEN '2' ELSE '' END || nine)::bigint % 97))::text, 2, '0')
    FROM (SELECT to_char(born, 'YYMMDD') || lpad(seq::text, 3, '0') AS nine) s
$$;

INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
    (2023, '1250', 1, 'test: wages', 'test row'),
    (2023, '1460', -1, 'test: deduction', 'test row');

-- The population: household, member position (1 = requester), birth date, Syst_04
-- answer per shipment (return code; NULL code = member missing from that shipment's
-- answer; no row for a shipment = the shipment did not answer the household), income.
CREATE TEMP TABLE fx_member (hh int, pos int, born date);
CREATE TEMP TABLE fx_answer (hh int, pos int, shipment int, code text, amount numeric);
INSERT INTO fx_member VALUES
    (1, 1, '1985-07-30'), (1, 2, '1987-02-11'), (1, 3, '2010-05-05'),   -- R3's example
    (2, 1, '1970-01-10'),                                               -- single, over
    (3, 1, '1960-03-03'), (3, 2, '1962-04-04'),                         -- never answered
    (4, 1, '1975-01-01'), (4, 2, '1976-01-01'),                         -- E 5.3 example 1
    (5, 1, '1975-02-02'), (5, 2, '1976-02-02'),                         -- E 5.3 example 2
    (6, 1, '1990-06-06'), (6, 2, '1991-06-06'),                         -- child under 16 arrives
    (7, 1, '1940-07-07'),                                               -- death
    (8, 1, '1980-08-08'),                                               -- moved to another OA
    (9, 1, '1982-09-09'), (9, 2, '1983-09-09'),                         -- extra fiscal data
    (10, 1, '1950-10-10'),                                              -- social advantage
    (11, 1, '1955-11-11'),                                              -- new DSH in time
    (12, 1, '1956-12-12'),                                              -- new DSH too early
    (13, 1, '1988-01-13'),                                              -- answered in shipment 2
    (14, 1, '1979-02-14'), (14, 2, '2012-02-14'),                       -- adult unknown
    (15, 1, '1978-03-15'), (15, 2, '2005-01-01'),                       -- 18 on 1 Jan 2023
    (16, 1, '1978-03-16'), (16, 2, '2005-01-02'),                       -- 17 on 1 Jan 2023
    (17, 1, '1977-04-17'),                                              -- income = ceiling
    (18, 1, '1976-05-18'),                                              -- Q4 change, over
    (19, 1, '1975-06-19'),                                              -- Q4 change, under
    (20, 1, '1974-07-20'), (20, 2, '1973-07-20'),                       -- Q1 change (example 3)
    (21, 1, '1972-08-21'), (21, 2, '1971-08-21'),                       -- member missing from answer
    (22, 1, '1969-09-22'),                                              -- moved, income under
    (23, 1, '1968-10-23'), (23, 2, '1967-10-23'),                       -- change and death, same end
    (24, 1, '1966-11-24');                                              -- advantage, no fiscal data
INSERT INTO fx_answer VALUES
    (1, 1, 1, '00', 15000.00), (1, 2, 1, '00', 12000.00), (1, 3, 1, '01', NULL),
    (2, 1, 1, '00', 30000.00),
    (4, 1, 1, '00', 20000.00), (4, 2, 1, '00', 20000.00),
    (5, 1, 2, '00', 20000.00), (5, 2, 2, '00', 20000.00),
    (6, 1, 1, '00', 10000.00), (6, 2, 1, '00', 5000.00),
    (7, 1, 1, '00', 12000.00),
    (8, 1, 1, '00', 40000.00),
    (9, 1, 1, '00', 12000.00), (9, 2, 1, '00', 8000.00),
    (10, 1, 1, '00', 50000.00),
    (11, 1, 1, '00', 50000.00),
    (12, 1, 1, '00', 50000.00),
    (13, 1, 1, '03', NULL), (13, 1, 2, '00', 10000.00),
    (14, 1, 1, '01', NULL), (14, 2, 1, '01', NULL),
    (15, 1, 1, '00', 10000.00), (15, 2, 1, '01', NULL),
    (16, 1, 1, '00', 10000.00), (16, 2, 1, '01', NULL),
    (17, 1, 1, '00', 23303.84),
    (18, 1, 1, '00', 30000.00),
    (19, 1, 1, '00', 10000.00),
    (20, 1, 1, '00', 10000.00), (20, 2, 1, '00', 10000.00),
    (21, 1, 1, '00', 1000.00), (21, 2, 1, NULL, NULL),
    (22, 1, 1, '00', 10000.00),
    (23, 1, 1, '00', 10000.00), (23, 2, 1, '00', 10000.00),
    (24, 1, 1, '01', NULL);

CREATE TEMP VIEW fx_hh AS
SELECT m.hh, inami.request_number('300', 2024, pg_temp.niss(m.born, m.hh)) AS request_number,
       pg_temp.niss(m.born, m.hh) AS requester
FROM fx_member m WHERE m.pos = 1;

INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
    ('Syst01', 2024, '300', NULL, NULL, 'test Syst01', 24),
    ('Syst04', 2024, NULL, 2022, 1, 'test Syst04 shipment 1', 0),
    ('Syst04', 2024, NULL, 2022, 2, 'test Syst04 shipment 2', 0);
INSERT INTO inami.syst01_household (control_year, request_number, oa, requester_niss, file_id)
SELECT 2024, h.request_number, '300', h.requester, (SELECT file_id FROM inami.flow_file WHERE source_name = 'test Syst01')
FROM fx_hh h;
INSERT INTO inami.syst01_member (control_year, request_number, niss)
SELECT 2024, h.request_number, pg_temp.niss(m.born, m.hh) FROM fx_member m JOIN fx_hh h USING (hh);
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, household_total, file_id)
SELECT DISTINCT 2024, h.request_number, a.shipment, 2022, h.requester, NULL::numeric,
       (SELECT file_id FROM inami.flow_file WHERE source_name = 'test Syst04 shipment ' || a.shipment)
FROM fx_answer a JOIN fx_hh h USING (hh);
-- The IPCAL items of a "00" member: one '1250' item of the amount.
INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, ipcal_code, ipcal_amount)
SELECT 2024, h.request_number, a.shipment, pg_temp.niss(m.born, m.hh), a.code,
       CASE WHEN a.code = '00' THEN ARRAY['1250'] ELSE '{}' END, CASE WHEN a.code = '00' THEN ARRAY[a.amount] ELSE '{}' END
FROM fx_answer a JOIN fx_hh h USING (hh) JOIN fx_member m USING (hh, pos) WHERE a.code IS NOT NULL;
-- Household 1 also has a deduction: 15,000 - 0 (item 2 = 0.00) keeps R3's example exact.
UPDATE inami.syst04_member s SET ipcal_code = ipcal_code || '1460'::text, ipcal_amount = ipcal_amount || 0.00
FROM fx_hh h WHERE h.hh = 1 AND s.request_number = h.request_number AND s.shipment = 1
  AND s.niss = pg_temp.niss('1985-07-30', 1);

SELECT plan(88);

-- 0. R3 per household in one ordered pass (what the runs decide from) equals
-- systematic_members grouped by household (what explain_decision shows), edge by edge:
-- unanswered, answered in shipment 2 only, a member missing from the answer, under 18.
CREATE TEMP VIEW fx_grouped AS
SELECT m.request_number, min(m.oa) AS oa, count(*)::int AS household_size, min(m.income_year) AS income_year,
       max(m.shipment) AS shipment, min(m.sent_total) AS sent_total,
       inami.household_income(m.return_code, m.income, m.rule_birth_date, m.income_year) AS household_total,
       sum(m.cadastral_income) AS cadastral_income
FROM inami.systematic_members(2024) m GROUP BY m.request_number;
CREATE TEMP VIEW fx_pass AS
SELECT request_number, oa, household_size, income_year, shipment, sent_total, household_total, cadastral_income
FROM inami.systematic_households(2024);
SELECT results_eq('SELECT * FROM fx_pass ORDER BY request_number', 'SELECT * FROM fx_grouped ORDER BY request_number',
                  'systematic_households(year) = systematic_members grouped by household, for every household');
-- The members' pages all-visible (VACUUM): their rows come from the primary key's index
-- alone, no row fetched from the table; then a member removed and put back, after the
-- VACUUM: the pages touched are read from the table again, the row removed not seen.
VACUUM inami.syst01_member;
SELECT results_eq('SELECT * FROM fx_pass ORDER BY request_number', 'SELECT * FROM fx_grouped ORDER BY request_number',
                  'the same, the members read from the index alone (their pages all-visible)');
-- (rows fetched through the index, counted within a transaction: the counts of the
-- statements before may not be reported yet)
CREATE FUNCTION pg_temp.member_fetches() RETURNS bigint LANGUAGE sql
RETURN pg_stat_get_xact_tuples_fetched('inami.syst01_member_pkey'::regclass);
BEGIN;
SELECT pg_temp.member_fetches() AS fetched \gset
SELECT lives_ok('SELECT * FROM fx_pass', 'a pass with the members'' pages all-visible');
SELECT is(pg_temp.member_fetches() - :fetched, 0::bigint, 'fetches no member row from the table');
COMMIT;
CREATE TEMP TABLE fx_moved AS
SELECT m.* FROM inami.syst01_member m JOIN fx_hh h USING (request_number) WHERE h.hh = 1 AND m.niss <> h.requester;
DELETE FROM inami.syst01_member m USING fx_moved x WHERE m.request_number = x.request_number AND m.niss = x.niss;
INSERT INTO inami.syst01_member SELECT * FROM fx_moved;
SELECT results_eq('SELECT * FROM fx_pass ORDER BY request_number', 'SELECT * FROM fx_grouped ORDER BY request_number',
                  'the same, a member removed and put back since (the old row not seen, the new one read)');
BEGIN;
SELECT pg_temp.member_fetches() AS fetched \gset
SELECT lives_ok('SELECT * FROM fx_pass', 'a pass after that');
SELECT ok(pg_temp.member_fetches() - :fetched > 0, 'fetches from the table the rows of the pages no longer all-visible');
COMMIT;
SELECT results_eq($$SELECT h.hh, s.household_size, s.shipment, s.household_total FROM fx_hh h
                    CROSS JOIN LATERAL inami.systematic_households(2024, h.request_number) s
                    WHERE h.hh IN (1, 3, 13, 14, 15, 16, 21) ORDER BY h.hh$$,
    $$VALUES (1, 3, 1, 27000.00), (3, 2, NULL, NULL), (13, 1, 2, 10000.00), (14, 2, 1, NULL),
             (15, 2, 1, NULL), (16, 2, 1, 10000.00), (21, 2, 1, NULL)$$,
    'systematic_households(year, household): R3 example 27,000.00, unanswered, shipment 2, under 18 and not, member missing');
SELECT is_empty($$SELECT * FROM inami.systematic_households(2024, '300202499999999999')
                  UNION ALL SELECT * FROM inami.systematic_households(2023)
                  UNION ALL SELECT * FROM inami.systematic_households(NULL)$$,
                'no rows for an unknown household, a year without households, a NULL year');
-- Every IPCAL code of the answer that counts needs a factor; a superseded answer's do not.
-- (Household 13's August answer, superseded in October, becomes a "00" with such a code.)
UPDATE inami.syst04_member s SET return_code = '00', ipcal_code = '{9999}', ipcal_amount = '{1.00}'
FROM fx_hh h WHERE h.hh = 13 AND s.request_number = h.request_number AND s.shipment = 1 AND s.niss = h.requester;
SELECT lives_ok($$SELECT * FROM inami.systematic_households(2024)$$,
                'an unknown IPCAL code in a superseded shipment (household 13, shipment 1) is not read');
UPDATE inami.syst04_member s SET ipcal_code = ipcal_code || '9999'::text, ipcal_amount = ipcal_amount || 1.00
FROM fx_hh h WHERE h.hh = 2 AND s.request_number = h.request_number AND s.shipment = 1 AND s.niss = h.requester;
SELECT throws_ok($$SELECT * FROM inami.systematic_households(2024)$$, '55000',
                 'IPCAL code "9999" has no factor for tax year 2023',
                 'an IPCAL code without a factor in the answer that counts is an error, as in ipcal_income');
SELECT throws_ok($$SELECT * FROM fx_grouped$$, '55000', 'IPCAL code "9999" has no factor for tax year 2023',
                 'the same error from the SQL form');
UPDATE inami.syst04_member SET return_code = '03', ipcal_code = '{}', ipcal_amount = '{}'
WHERE ipcal_code = '{9999}';
UPDATE inami.syst04_member SET ipcal_code = ipcal_code[1:1], ipcal_amount = ipcal_amount[1:1]
WHERE '9999' = ANY (ipcal_code);

-- 1. Events: a CHECK on the kind, and a clear error for an unknown household.
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date)
                   VALUES ('300202499999999999', 'death', '2024-01-01')$$,
                 '23503', 'unknown request number "300202499999999999"', 'an event of an unknown household is refused');
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date)
                   SELECT request_number, 'divorce', '2024-01-01' FROM fx_hh WHERE hh = 4$$,
                 '23514', NULL, 'an unknown kind of event is refused');
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date, amount)
                   SELECT request_number, 'death', '2024-01-01', 10 FROM fx_hh WHERE hh = 4$$,
                 '23514', NULL, 'only extra_fiscal_data carries an amount');

INSERT INTO inami.household_event (request_number, event, event_date, detail, amount)
SELECT h.request_number, e.event, e.d::date, e.detail, e.amount
FROM (VALUES (4, 'composition_change', '2024-05-10', 'example 1: change in Q2', NULL::numeric),
             (5, 'composition_change', '2024-08-20', 'example 2: change in Q3', NULL),
             (6, 'child_under16_arrival', '2024-06-01', 'newborn, first registration', NULL),
             (7, 'death', '2024-03-15', 'the requester died', NULL),
             (8, 'oa_change', '2025-01-01', 'first day at OA 500', NULL),
             (9, 'extra_fiscal_data', '2024-10-20', 'foreign pension', 10000.00),
             (10, 'social_advantage', '2024-02-01', 'GRAPA', NULL),
             (11, 'new_dsh', '2024-11-15', 'complete DSH', NULL),
             (12, 'new_dsh', '2024-06-01', 'DSH before October', NULL),
             (18, 'composition_change', '2024-11-05', 'change in Q4', NULL),
             (19, 'composition_change', '2024-11-05', 'change in Q4', NULL),
             (20, 'composition_change', '2024-01-15', 'change in Q1 (example 3)', NULL),
             (22, 'oa_change', '2024-07-01', 'first day at OA 500', NULL),
             (23, 'death', '2024-06-30', 'the requester died', NULL),
             (23, 'composition_change', '2024-02-10', 'a dependent left in Q1', NULL),
             (24, 'social_advantage', '2024-03-01', 'integration allowance', NULL)) AS e(hh, event, d, detail, amount)
JOIN fx_hh h USING (hh);
SELECT is(count(*), 16::bigint, 'events get their control year from Syst_01')
FROM inami.household_event WHERE control_year = 2024;

-- 2. The run. The caller's search_path offers operators named like pg_catalog's for the
-- types the run and the parameter queries use (each fails if it runs): the run must not
-- take them (the results below are the test).
CREATE SCHEMA evil;
CREATE FUNCTION evil.fail_concat(text, bigint) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil.|| ran'; END $$;
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = bigint, FUNCTION = evil.fail_concat);
CREATE FUNCTION evil.fail_eq(bigint[], bigint[]) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil.= ran'; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint[], RIGHTARG = bigint[], FUNCTION = evil.fail_eq);
CREATE FUNCTION evil.fail_times(numeric, integer) RETURNS numeric LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil.* ran'; END $$;
CREATE OPERATOR evil.* (LEFTARG = numeric, RIGHTARG = integer, FUNCTION = evil.fail_times);
SET search_path = public, evil;
CALL inami.run_systematic_control(2024);
RESET search_path;

SELECT results_eq($$
    SELECT h.hh, d.reason, d.right_end FROM inami.control_decision d JOIN fx_hh h USING (request_number)
    WHERE d.control_year = 2024 ORDER BY h.hh$$,
    $$VALUES (1, 'KEEPSYST', '2025-12-31'::date), (2, 'STOPSYST', '2024-12-31'), (3, 'STOPSYST', '2024-12-31'),
             (4, 'STOPFAM', '2024-09-30'), (5, 'STOPFAM', '2024-12-31'), (6, 'KEEPSYST', '2025-12-31'),
             (7, 'STOPDEATH', '2024-03-15'), (8, 'STOPOA', '2024-12-31'), (9, 'STOPFISC', '2024-12-31'),
             (10, 'KEEPADV', '2025-12-31'), (11, 'KEEPDSH', '2025-12-31'), (12, 'STOPSYST', '2024-12-31'),
             (13, 'KEEPSYST', '2025-12-31'), (14, 'STOPSYST', '2024-12-31'), (15, 'STOPSYST', '2024-12-31'),
             (16, 'KEEPSYST', '2025-12-31'), (17, 'STOPSYST', '2024-12-31'), (18, 'STOPSYST', '2024-12-31'),
             (19, 'STOPFAM', '2025-03-31'), (20, 'STOPFAM', '2024-06-30'), (21, 'STOPSYST', '2024-12-31'),
             (22, 'STOPOA', '2024-06-30'), (23, 'STOPFAM', '2024-06-30'), (24, 'KEEPADV', '2025-12-31')$$,
    'every household gets its reason and end of right');

-- R3's example, kept with the decision.
SELECT results_eq($$SELECT household_size, income_year, shipment, household_total, ceiling, verdict, ceiling_source ~ '2024/165'
                    FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 1$$,
                  $$VALUES (3, 2022, 1, 27000.00, 31932.20, 'OK', true)$$,
                  'R3 example: 27,000.00 < ceiling(3, 2022) = 31,932.20 -> OK, with what it was made from');
-- The ceiling's source is not blank: refused when empty or spaces only, as btrim(x) <> ''
-- refuses it (each value tried in a subtransaction, the decision left as it was).
CREATE FUNCTION pg_temp.source_accepted(v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    UPDATE inami.control_decision SET ceiling_source = v
    WHERE request_number = (SELECT request_number FROM fx_hh WHERE hh = 1);
    RAISE EXCEPTION 'accepted' USING ERRCODE = 'P0001';
EXCEPTION
    WHEN check_violation THEN RETURN false;
    WHEN raise_exception THEN RETURN true;
END;
$$;
SELECT results_eq($$SELECT v, pg_temp.source_accepted(v) FROM unnest(ARRAY['', ' ', '   ', ' a', 'a ', '  a  ', E'\t', E' \t', 'é', ' é', NULL]) WITH ORDINALITY AS u(v, i) ORDER BY i$$,
                  $$SELECT v, (btrim(v) <> '') IS NOT FALSE FROM unnest(ARRAY['', ' ', '   ', ' a', 'a ', '  a  ', E'\t', E' \t', 'é', ' é', NULL]) WITH ORDINALITY AS u(v, i) ORDER BY i$$,
                  'a decision''s ceiling source: empty or spaces refused, anything else (a tab, a leading space) kept, as btrim(x) <> ''''');
SELECT is(ceiling_source ~ '2024/165', true, 'the source tried is left as the run wrote it')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 1;
SELECT results_eq($$SELECT shipment, household_total, verdict FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 3$$,
                  $$VALUES (NULL::int, NULL::numeric, 'ONHOLD')$$, 'no shipment answered: no fiscal data, ONHOLD -> STOPSYST');
SELECT results_eq($$SELECT shipment, household_total FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 13$$,
                  $$VALUES (2, 10000.00)$$, 'the latest shipment counts: code 03 in August, answered in October');
SELECT is(household_total, NULL, 'an adult with code 01 makes the total unknown (no partial sum)')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 14;
SELECT is(household_total, NULL, 'born 1 Jan 2005: 18 on 1 Jan 2023, the under-18 rule does not apply')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 15;
SELECT is(household_total, 10000.00, 'born 2 Jan 2005: under 18 on 1 Jan 2023, counts 0.00')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 16;
SELECT is(verdict, 'NOK', 'income equal to the ceiling is NOK')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 17;
SELECT is(verdict, 'ONHOLD', 'a Syst_01 member missing from the answer has no fiscal data')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 21;
SELECT results_eq($$SELECT household_total, extra_income, verdict FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 9$$,
                  $$VALUES (20000.00, 10000.00, 'OK')$$, 'STOPFISC: 20,000 under 27,618.02, plus 10,000 known to the OA reaches it');

-- Precedence (E 5.3): every candidate is kept, the first is reported.
SELECT is(jsonb_path_query_array(candidates, '$[*].reason'), '["STOPFAM", "STOPSYST"]'::jsonb,
          'example 1: STOPFAM (30 Sep) before STOPSYST (31 Dec)')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 4;
SELECT is(jsonb_path_query_array(candidates, '$[*].right_end'), '["2024-12-31", "2024-12-31"]'::jsonb,
          'example 2: STOPFAM and STOPSYST end the same day; STOPFAM is reported')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 5;
SELECT is(jsonb_path_query_array(candidates, '$[*].reason'), '["STOPSYST", "STOPFAM"]'::jsonb,
          'a change in Q4 ends the right on 31 March X+1: STOPSYST ended it first')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 18;
SELECT is(jsonb_path_query_array(candidates, '$[*].reason'), '["STOPFAM", "STOPDEATH", "KEEPSYST"]'::jsonb,
          'the same end of right from two events: the earlier event (the change in February) is reported')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 23;
SELECT is(verdict, 'ONHOLD', 'KEEPADV keeps the right of a household without fiscal data')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 24;
SELECT is(jsonb_array_length(candidates), 1, 'the arrival of a child under 16 is no candidate end (art. 35)')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 6;
SELECT is(cardinality(events), 1, 'the decision lists the events it used')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 6;

-- 3. The run log.
SELECT results_eq($$SELECT kind, year, status, error_sqlstate, counts FROM inami.control_run ORDER BY run_id$$,
    $$VALUES ('systematic_control', 2024, 'succeeded', NULL::text,
              '{"KEEPADV": 2, "KEEPDSH": 1, "STOPFAM": 5, "STOPOA": 2, "STOPFISC": 1, "KEEPSYST": 4, "STOPSYST": 8, "STOPDEATH": 1}'::jsonb)$$,
    'the run is logged with its counts per reason');
SELECT ok(ended_at >= started_at, 'the run has a start and an end') FROM inami.control_run;

-- 4. Idempotent: a second run gives the same rows.
CREATE TEMP TABLE first_run AS
SELECT control_year, request_number, oa, reason, right_end, household_size, income_year, shipment, sent_total,
       household_total, extra_income, ceiling, ceiling_source, verdict, events, candidates
FROM inami.control_decision;
CALL inami.run_systematic_control(2024);
SELECT is(count(*), 24::bigint, 'a second run leaves 24 decisions, not 48') FROM inami.control_decision;
SELECT set_eq($$SELECT control_year, request_number, oa, reason, right_end, household_size, income_year, shipment, sent_total,
                       household_total, extra_income, ceiling, ceiling_source, verdict, events, candidates
                FROM inami.control_decision$$,
              'SELECT * FROM first_run', 'the second run gives the same rows');
SELECT is(count(*), 24::bigint, 'the second run wrote nothing: every decision still names the first run')
FROM inami.control_decision WHERE run_id = (SELECT min(run_id) FROM inami.control_run);
-- A new fact changes one decision: that one row is rewritten, by the third run.
INSERT INTO inami.household_event (request_number, event, event_date, detail)
SELECT request_number, 'death', '2024-03-10', 'test: the rerun writes what changed'
FROM fx_hh WHERE hh = 1;
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT d.reason, d.right_end, d.run_id = (SELECT max(run_id) FROM inami.control_run)
                    FROM inami.control_decision d JOIN fx_hh h USING (request_number) WHERE h.hh = 1$$,
                  $$VALUES ('STOPDEATH', '2024-03-10'::date, true)$$,
                  'a rerun after a death rewrites that decision, with the new run');
SELECT is(count(*), 23::bigint, 'and leaves the 23 others as the first run made them')
FROM inami.control_decision WHERE run_id = (SELECT min(run_id) FROM inami.control_run);
DELETE FROM inami.household_event WHERE detail = 'test: the rerun writes what changed';
CALL inami.run_systematic_control(2024);
SELECT set_eq($$SELECT control_year, request_number, oa, reason, right_end, household_size, income_year, shipment, sent_total,
                       household_total, extra_income, ceiling, ceiling_source, verdict, events, candidates
                FROM inami.control_decision$$,
              'SELECT * FROM first_run', 'the event removed, the next run gives the first rows back');
-- A household whose members were all removed has no decision left.
CREATE TEMP TABLE fx_gone AS
SELECT m.* FROM inami.syst01_member m JOIN fx_hh h USING (request_number) WHERE h.hh = 1;
DELETE FROM inami.syst01_member m USING fx_hh h WHERE m.request_number = h.request_number AND h.hh = 1;
-- The pass over the year counts the households it meets without members (a run looks for
-- decisions left without members only when there are some): in its transaction only.
BEGIN;
SELECT is(inami._systematic_memberless(2024), NULL::bigint, 'no pass yet in this transaction: no count');
SELECT lives_ok('SELECT * FROM inami.systematic_households(2024)', 'a pass over the year');
SELECT is(inami._systematic_memberless(2024), 1::bigint, 'it met one household without members');
SELECT is(inami._systematic_memberless(2023), NULL::bigint, 'and says nothing of another year');
COMMIT;
SELECT is(inami._systematic_memberless(2024), NULL::bigint, 'nor in the next transaction');
CALL inami.run_systematic_control(2024);
SELECT is(count(*), 0::bigint, 'a household without members loses its decision')
FROM inami.control_decision JOIN fx_hh h USING (request_number) WHERE h.hh = 1;
INSERT INTO inami.syst01_member SELECT * FROM fx_gone;
CALL inami.run_systematic_control(2024);
SELECT is(count(*), 24::bigint, 'its members back, it has one again') FROM inami.control_decision;

-- 4b. Moves (E 2.3, 5.2, 5.3): one the feedback reports (before 1 May X+1, when it is due)
-- ends the examination here whatever the dates; a later one competes like any event.
CREATE FUNCTION pg_temp.first(hh int) RETURNS text LANGUAGE sql AS $$
    SELECT c.reason || ' ' || to_char(c.right_end, 'YYYY-MM-DD') || ' ' || c.moved
    FROM fx_hh h, inami.systematic_candidates(2024, h.request_number) c WHERE h.hh = $1 AND c.precedence = 1 $$;
SELECT throws_ok($$SELECT * FROM inami.systematic_households(0)$$, '22023', 'control year must be between 1990 and 2200',
                 'systematic_households checks the control year');
SELECT throws_ok($$SELECT * FROM inami.explain_decision('x', 1800)$$, '22023', 'control year must be between 1990 and 2200',
                 'explain_decision checks the year first');
INSERT INTO inami.household_event (request_number, event, event_date, detail)
SELECT request_number, 'oa_change', '2025-04-30', 'test: a move' FROM fx_hh WHERE hh = 2;
SELECT is(pg_temp.first(2), 'STOPOA 2025-04-29 true', 'over the ceiling, a move on 30 April X+1: STOPOA, not STOPSYST');
UPDATE inami.household_event SET event_date = '2025-05-01' WHERE detail = 'test: a move';
SELECT is(pg_temp.first(2), 'STOPSYST 2024-12-31 false', 'a move on 1 May X+1, after the feedback is due: STOPSYST ended the right first');
UPDATE inami.household_event SET request_number = (SELECT request_number FROM fx_hh WHERE hh = 1), event_date = '2026-01-02'
WHERE detail = 'test: a move';
SELECT is(pg_temp.first(1), 'KEEPSYST 2025-12-31 false', 'a move in January X+2 leaves the prolongation to 31 December X+1');
UPDATE inami.household_event SET event_date = '2025-06-01' WHERE detail = 'test: a move';
SELECT is(pg_temp.first(1), 'STOPOA 2025-05-31 false', 'a move in June X+1 ends the right here before 31 December X+1');
DELETE FROM inami.household_event WHERE detail = 'test: a move';
-- Two kept rights: an advantage and a new DSH (both to 31 December X+1): KEEPADV.
INSERT INTO inami.household_event (request_number, event, event_date, detail)
SELECT request_number, 'social_advantage', '2024-12-31', 'test: an advantage too' FROM fx_hh WHERE hh = 11;
SELECT is(pg_temp.first(11), 'KEEPADV 2025-12-31 false', 'a new DSH and an advantage by 31 December X: KEEPADV');
DELETE FROM inami.household_event WHERE detail = 'test: an advantage too';
-- A household no answer lists here that moved: its new OA sends the feedback, whatever
-- the reason reported (here a change in Q1 ends the right the day before the move).
INSERT INTO inami.household_event (request_number, event, event_date, detail)
SELECT request_number, e.event, e.d::date, 'test: moved unanswered'
FROM fx_hh, (VALUES ('composition_change', '2024-02-10'), ('oa_change', '2024-07-01')) AS e(event, d) WHERE hh = 3;
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT d.reason, d.right_end, d.shipment, d.sends_feedback FROM inami.control_decision d JOIN fx_hh h USING (request_number) WHERE h.hh = 3$$,
                  $$VALUES ('STOPFAM', '2024-06-30'::date, NULL::int, false)$$,
                  'moved before any answer here: STOPFAM reported, and the new OA sends it');
DELETE FROM inami.household_event WHERE detail = 'test: moved unanswered';
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT d.reason, d.sends_feedback FROM inami.control_decision d JOIN fx_hh h USING (request_number) WHERE h.hh = 3$$,
                  $$VALUES ('STOPSYST', true)$$, 'without the move, this OA sends it');
SELECT set_eq($$SELECT control_year, request_number, oa, reason, right_end, household_size, income_year, shipment, sent_total,
                       household_total, extra_income, ceiling, ceiling_source, verdict, events, candidates
                FROM inami.control_decision$$,
              'SELECT * FROM first_run', 'the test events removed, the decisions of the first run again');

-- 5. A failed run: control 2025 needs the ceiling of income year 2023.
INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2025, '300', 'test Syst01 2025', 1);
INSERT INTO inami.syst01_household
SELECT 2025, inami.request_number('300', 2025, '85073003328'), '300', '85073003328', file_id FROM inami.flow_file WHERE source_name = 'test Syst01 2025';
INSERT INTO inami.syst01_member SELECT 2025, inami.request_number('300', 2025, '85073003328'), '85073003328';
INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES (2023, 25000.00, 4600.00, 'test: hypothetical circular');
CALL inami.run_systematic_control(2025);
SELECT results_eq($$SELECT reason, right_end, ceiling FROM inami.control_decision WHERE control_year = 2025$$,
                  $$VALUES ('STOPSYST', '2025-12-31'::date, 25000.00)$$, 'control 2025 with an operator ceiling row');
DELETE FROM inami.im_ceiling WHERE income_year = 2023;
CALL inami.run_systematic_control(2025);
SELECT results_eq($$SELECT status, error_sqlstate, error_message ~ 'no IM income ceiling for income year 2023'
                    FROM inami.control_run ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('failed', '55000', true)$$, 'the failed run stays in the log with its SQLSTATE and message');
SELECT ok(error_message ~ 'HINT: Add the ceiling', 'the logged failure keeps the hint')
FROM inami.control_run ORDER BY run_id DESC LIMIT 1;
SELECT results_eq($$SELECT reason, right_end, run_id FROM inami.control_decision WHERE control_year = 2025$$,
                  $$SELECT 'STOPSYST', '2025-12-31'::date, max(run_id) FROM inami.control_run WHERE year = 2025 AND status = 'succeeded'$$,
                  'a failed run changes no decision');
SELECT is(count(*), 24::bigint, 'nor the decisions of another year') FROM inami.control_decision WHERE control_year = 2024;

-- The error a run met is raised again whole, once the failure is logged and committed
-- (inami._control_run_fail): inami._control_run_raise gives back every field, and leaves
-- out the NULL or empty ones, which RAISE cannot do. The whole path is test/t/303.
CREATE FUNCTION pg_temp.raised(VARIADIC f text[]) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    PERFORM inami._control_run_raise(f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]);
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
        hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT, sch = SCHEMA_NAME, tbl = TABLE_NAME,
        col = COLUMN_NAME, typ = PG_DATATYPE_NAME, con = CONSTRAINT_NAME;
    -- the context given comes first, then where it was raised again
    RETURN ARRAY[st, msg, det, hnt, split_part(ctx, E'\n', 1), sch, tbl, col, typ, con];
END;
$$;
SELECT is(pg_temp.raised('23514', 'new row violates check constraint "c"', 'Failing row contains (1).', 'Fix the row.',
                         'PL/pgSQL function f() line 3 at SQL statement', 'inami', 'control_decision', 'reason', 'text', 'c'),
          ARRAY['23514', 'new row violates check constraint "c"', 'Failing row contains (1).', 'Fix the row.',
                'PL/pgSQL function f() line 3 at SQL statement', 'inami', 'control_decision', 'reason', 'text', 'c'],
          'an error raised again keeps its SQLSTATE, message, DETAIL, HINT, CONTEXT and names');
SELECT is(r[1:4] || r[6:10], ARRAY['55000', 'no IM income ceiling', '', '', '', '', '', '', ''],
          'the fields given NULL or empty read as empty')
FROM pg_temp.raised('55000', 'no IM income ceiling', NULL, '', NULL, NULL, '', NULL, '', NULL) AS r;
-- What a client gets: an empty DETAIL is left out, not shown empty.
SELECT inami._control_run_raise('55000', 'no IM income ceiling for income year 2023', '', 'Add the ceiling.',
                               NULL, NULL, NULL, NULL, NULL, NULL);
SELECT is((pg_temp.raised('55000', 'x', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))[5],
          'SQL statement "SELECT inami._control_run_raise(f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10])"',
          'without a context given, the context is only where it was raised again');
SELECT throws_ok($$SELECT inami._control_run_raise('01000', 'a warning', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$,
                 '01000', 'a warning', 'any class but 00 is raised as given, as RAISE EXCEPTION takes it');
SELECT throws_ok($$SELECT inami._control_run_raise('00000', 'm', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)$$,
                 '22023', 'invalid SQLSTATE for an error', 'success (class 00) is refused');
SELECT is(array_agg(s ORDER BY s) FILTER (WHERE (pg_temp.raised(s, 'm', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL))[1] <> '22023'),
          NULL, 'so are NULL, lowercase and other than five characters')
FROM unnest(ARRAY[NULL, '00000', '2351', '235140', 'p0001', '']) AS s;

-- 6. Explain: every step with its rule.
SELECT results_eq($$SELECT what, regexp_replace(value, 'event [0-9]+ ', 'event N ') FROM inami.explain_decision((SELECT request_number FROM fx_hh WHERE hh = 4), 2024)
                    WHERE what IN ('candidate (chosen)', 'candidate', 'reported', 'verdict') ORDER BY step$$,
    $$VALUES ('verdict', 'NOK: income at or over the ceiling'),
             ('candidate (chosen)', 'STOPFAM, right ends 2024-09-30 (event N of 2024-05-10)'),
             ('candidate', 'STOPSYST, right ends 2024-12-31 (the income)'),
             ('reported', 'STOPFAM, right ends 2024-09-30')$$,
    'explain: the candidates of example 1 and the one reported');
SELECT ok(bool_and(rule ~ '(Circ\. O\.A\. 20[0-9]{2}/[0-9]+|R3|inami\.)'), 'every step names its rule')
FROM inami.explain_decision((SELECT request_number FROM fx_hh WHERE hh = 16), 2024);
SELECT results_eq($$SELECT value, rule ~ 'footnote 7' FROM inami.explain_decision((SELECT request_number FROM fx_hh WHERE hh = 16), 2024)
                    WHERE what = 'member ' || pg_temp.niss('2005-01-02', 16)$$,
    $$VALUES ('born 2005-01-02, return code 01, income unknown; under 18 on 1 January 2023: counted as known with 0.00', true)$$,
    'explain: where the under-18 rule applied');
SELECT results_eq($$SELECT value, rule FROM inami.explain_decision((SELECT request_number FROM fx_hh WHERE hh = 1), 2024) WHERE what = 'ceiling'$$,
    $$SELECT '31932.20 = 23303.84 + 4314.18 x (3 - 1), income year 2022', source || ' (inami.im_ceiling row of income year 2022)'
      FROM inami.im_ceiling WHERE income_year = 2022$$,
    'explain: the ceiling with its source row');
SELECT throws_ok($$SELECT * FROM inami.explain_decision('300202400000000000', 2024)$$, 'P0002', NULL,
                 'explain: an unknown household is an error');

-- 7. The proactive flow: requester = eldest; same R3; ceiling for the number of members.
INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
    ('Pro01', 2024, '300', NULL, NULL, 'test Pro01', 4),
    ('Pro03', 2024, NULL, 2022, 1, 'test Pro03 shipment 1', 0),
    ('Pro03', 2024, NULL, 2022, 2, 'test Pro03 shipment 2', 0);
CREATE TEMP TABLE fx_pro (hh int, pos int, born date, s1 text, a1 numeric, s2 text, a2 numeric);
INSERT INTO fx_pro VALUES
    (1, 1, '1960-01-01', '00', 20000.00, NULL, NULL), (1, 2, '1962-01-01', '00', 16246.37, NULL, NULL),
    (1, 3, '2009-01-01', '01', NULL, NULL, NULL), (1, 4, '2011-01-01', NULL, NULL, NULL, NULL),  -- 4 persons, 36,246.37 < 36,246.38: OK
    (2, 1, '1960-02-01', '00', 20000.00, NULL, NULL), (2, 2, '1962-02-01', '00', 16246.38, NULL, NULL),
    (2, 3, '2009-02-01', '01', NULL, NULL, NULL), (2, 4, '2011-02-01', NULL, NULL, NULL, NULL),  -- = 36,246.38: NOK
    (3, 1, '1950-03-01', '04', NULL, '04', NULL),                                                   -- still not processed: ONHOLD
    (4, 1, '1950-04-01', '10', NULL, '00', 9000.00), (4, 2, '1999-04-01', '00', 0.00, NULL, NULL); -- answered in shipment 2: OK
CREATE TEMP VIEW fx_pro_hh AS
SELECT p.hh, inami.request_number('300', 2024, pg_temp.niss(p.born, 100 + p.hh)) AS request_number,
       pg_temp.niss(p.born, 100 + p.hh) AS requester
FROM fx_pro p WHERE p.pos = 1;
INSERT INTO inami.pro01_household SELECT 2024, h.request_number, '300', h.requester, f.file_id
FROM fx_pro_hh h, inami.flow_file f WHERE f.source_name = 'test Pro01';
INSERT INTO inami.pro01_member SELECT 2024, h.request_number, pg_temp.niss(p.born, 100 + p.hh) FROM fx_pro p JOIN fx_pro_hh h USING (hh);
-- The IPCAL items of a "00" person: one '1250' item of the amount.
INSERT INTO inami.pro03_person (year, shipment, niss, income_year, return_code, file_id, ipcal_code, ipcal_amount)
SELECT 2024, s.shipment, pg_temp.niss(p.born, 100 + p.hh), 2022, s.code, f.file_id,
       CASE WHEN s.code = '00' THEN ARRAY['1250'] ELSE '{}' END, CASE WHEN s.code = '00' THEN ARRAY[s.amount] ELSE '{}' END
FROM fx_pro p CROSS JOIN LATERAL (VALUES (1, p.s1, p.a1), (2, p.s2, p.a2)) AS s(shipment, code, amount)
JOIN inami.flow_file f ON f.source_name = 'test Pro03 shipment ' || s.shipment
WHERE s.code IS NOT NULL;
SET search_path = public, evil;
CALL inami.run_proactive_flow(2024);
RESET search_path;
DROP SCHEMA evil CASCADE;
SELECT results_eq($$SELECT h.hh, d.code, d.household_size, d.household_total, d.ceiling, d.eldest_niss = h.requester
                    FROM inami.proactive_decision d JOIN fx_pro_hh h USING (request_number) ORDER BY h.hh$$,
    $$VALUES (1, 'OK', 4, 36246.37, 36246.38, true), (2, 'NOK', 4, 36246.38, 36246.38, true),
             (3, 'ONHOLD', 1, NULL, 23303.84, true), (4, 'OK', 2, 9000.00, 27618.02, true)$$,
    'Pro_04: F footnote 3 ceiling (2 + 2 persons = 36,246.38), one cent under is OK, equal is NOK, unknown is ONHOLD');
SELECT results_eq($$SELECT status, counts FROM inami.control_run WHERE kind = 'proactive_flow'$$,
                  $$VALUES ('succeeded', '{"OK": 2, "NOK": 1, "ONHOLD": 1}'::jsonb)$$, 'the proactive run is logged');
CALL inami.run_proactive_flow(2024);
SELECT is(count(*), 4::bigint, 'a second proactive run gives 4 codes, not 8') FROM inami.proactive_decision;
-- A Pro_01 whose requester is not the eldest member (F 2.2): eldest_niss still names the
-- eldest, so the mismatch shows; the code does not depend on who requested.
UPDATE inami.pro01_household SET requester_niss = pg_temp.niss('1962-01-01', 101)
WHERE request_number = (SELECT request_number FROM fx_pro_hh WHERE hh = 1);
CALL inami.run_proactive_flow(2024);
SELECT results_eq($$SELECT d.code, d.eldest_niss, p.requester_niss FROM inami.proactive_decision d
                    JOIN inami.pro01_household p USING (year, request_number)
                    WHERE request_number = (SELECT request_number FROM fx_pro_hh WHERE hh = 1)$$,
    $$VALUES ('OK', pg_temp.niss('1960-01-01', 101), pg_temp.niss('1962-01-01', 101))$$,
    'Pro_01 requester born 1962, a member born 1960: eldest_niss names the one born 1960; the code stays OK');
UPDATE inami.pro01_household SET requester_niss = pg_temp.niss('1960-01-01', 101)
WHERE request_number = (SELECT request_number FROM fx_pro_hh WHERE hh = 1);
CALL inami.run_proactive_flow(2024);
-- A NISS with month or day 00 allows a year or a month (R9): eldest_niss names a member
-- only when it was born first whatever the unknown days; none when that cannot be told.
CREATE FUNCTION pg_temp.niss9(nine text) RETURNS text LANGUAGE sql IMMUTABLE
RETURN nine || lpad((97 - nine::bigint % 97)::text, 2, '0');
-- Household 3 (one member, born 1 March 1950) gets a second member, born as the NISS says.
CREATE TEMP TABLE fx_born (nine text, name text);
CREATE TEMP VIEW fx_eldest AS
SELECT coalesce(b.name, CASE d.eldest_niss WHEN pg_temp.niss('1950-03-01', 103) THEN 'born 1 March 1950' END, 'none') AS eldest
FROM inami.proactive_decision d JOIN fx_pro_hh h USING (request_number)
LEFT JOIN fx_born b ON pg_temp.niss9(b.nine) = d.eldest_niss
WHERE h.hh = 3;
INSERT INTO fx_born VALUES ('500000501', 'born "in 1950"'), ('500200501', 'born "in February 1950"'),
    ('500300501', 'born "in March 1950"'), ('490000501', 'born "in 1949"'), ('502300501', 'born "in March 1950" (bis)');
CREATE FUNCTION pg_temp.second_member(nine text) RETURNS void LANGUAGE sql AS $$
    DELETE FROM inami.pro01_member m USING fx_pro_hh h
    WHERE h.hh = 3 AND m.request_number = h.request_number AND m.niss <> h.requester;
    INSERT INTO inami.pro01_member SELECT 2024, h.request_number, pg_temp.niss9(nine) FROM fx_pro_hh h WHERE h.hh = 3 AND nine IS NOT NULL;
$$;
SELECT pg_temp.second_member('500000501');
CALL inami.run_proactive_flow(2024);
SELECT is(eldest, 'none', 'born 1 March 1950 and born "in 1950": who is eldest cannot be told') FROM fx_eldest;
SELECT pg_temp.second_member('500200501');
CALL inami.run_proactive_flow(2024);
SELECT is(eldest, 'born "in February 1950"', 'born "in February 1950" is elder than born 1 March 1950') FROM fx_eldest;
SELECT pg_temp.second_member('500300501');
CALL inami.run_proactive_flow(2024);
SELECT is(eldest, 'born 1 March 1950', 'born 1 March 1950 is not younger than one born "in March 1950" (a shared day: the NISS that dates it first)') FROM fx_eldest;
SELECT pg_temp.second_member('490000501');
CALL inami.run_proactive_flow(2024);
SELECT is(eldest, 'born "in 1949"', 'born "in 1949" is elder than born 1 March 1950') FROM fx_eldest;
SELECT pg_temp.second_member('502300501');
CALL inami.run_proactive_flow(2024);
SELECT is(eldest, 'born 1 March 1950', 'a bis number of "March 1950" (month + 20): the same') FROM fx_eldest;
-- A NISS with wrong check digits (50030100300: 68 would be right) tells no birth date.
SELECT pg_temp.second_member(NULL);
INSERT INTO inami.pro01_member SELECT 2024, h.request_number, '50030100300' FROM fx_pro_hh h WHERE h.hh = 3;
CALL inami.run_proactive_flow(2024);
SELECT is(eldest, 'none', 'a member whose NISS is invalid: who is eldest cannot be told') FROM fx_eldest;
SELECT pg_temp.second_member(NULL);
CALL inami.run_proactive_flow(2024);

-- KEEPADV: the advantage must hold by 31 December X, when the right would end; one that
-- starts later opens a right of its own and does not maintain this one (E 5.3).
INSERT INTO inami.household_event (request_number, event, event_date, detail)
SELECT request_number, 'social_advantage', '2025-01-01', 'test: advantage from 1 January X+1' FROM fx_hh WHERE hh = 2;
SELECT is((SELECT c.reason || ' ' || to_char(c.right_end, 'YYYY-MM-DD') FROM fx_hh h, inami.systematic_candidates(2024, h.request_number) c
           WHERE h.hh = 2 AND c.precedence = 1),
          'STOPSYST 2024-12-31', 'an advantage from 1 January X+1 does not maintain the right: STOPSYST');
INSERT INTO inami.household_event (request_number, event, event_date, detail)
SELECT request_number, 'social_advantage', '2024-12-31', 'test: advantage from 31 December X' FROM fx_hh WHERE hh = 2;
SELECT is((SELECT c.reason || ' ' || to_char(c.right_end, 'YYYY-MM-DD') FROM fx_hh h, inami.systematic_candidates(2024, h.request_number) c
           WHERE h.hh = 2 AND c.precedence = 1),
          'KEEPADV 2025-12-31', 'an advantage holding on 31 December X maintains it: KEEPADV');
DELETE FROM inami.household_event WHERE detail LIKE 'test: advantage from %';

SELECT * FROM finish();

-- What a user reads.
INSERT INTO inami.household_event (request_number, event, event_date) VALUES ('300202499999999999', 'death', '2024-01-01');
CALL inami.run_systematic_control(2025);
CALL inami.run_systematic_control(NULL);
BEGIN;
CALL inami.run_systematic_control(2024);
ROLLBACK;
SELECT step, what, value, rule FROM inami.explain_decision((SELECT request_number FROM fx_hh WHERE hh = 5), 2024) WHERE what <> 'decision';

-- systematic_households reads the tables itself: it checks the caller's privileges as SQL
-- would (table or column SELECT), and refuses rather than bypass row-level security.
CREATE ROLE inami_test_reader;
GRANT USAGE ON SCHEMA inami TO inami_test_reader;
-- (EXECUTE is no level's but the analysts': granted alone, the tables' privileges decide)
GRANT EXECUTE ON FUNCTION inami.systematic_households(int, text) TO inami_test_reader;
GRANT SELECT ON inami.ipcal_rule, inami.return_code_asked_again, inami.syst01_household, inami.syst01_member, inami.syst04_household
                TO inami_test_reader;
GRANT SELECT (control_year, request_number, shipment, niss, return_code) ON inami.syst04_member TO inami_test_reader;
SET ROLE inami_test_reader;
SELECT count(*) FROM inami.systematic_households(2024);
RESET ROLE;
GRANT SELECT (ipcal_code, ipcal_amount, cadastral_income) ON inami.syst04_member TO inami_test_reader;
SET ROLE inami_test_reader;
SELECT count(*) FROM inami.systematic_households(2024);
RESET ROLE;
ALTER TABLE inami.syst04_member ENABLE ROW LEVEL SECURITY;
SET ROLE inami_test_reader;
SELECT count(*) FROM inami.systematic_households(2024);
RESET ROLE;
ALTER TABLE inami.syst04_member DISABLE ROW LEVEL SECURITY;
DROP OWNED BY inami_test_reader;
DROP ROLE inami_test_reader;

-- Leave the shared database as found.
DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision; DELETE FROM inami.household_event;
DELETE FROM inami.flow_file; DELETE FROM inami.control_run; DELETE FROM inami.ipcal_rule WHERE source = 'test row';
