-- Step 40: a whole control year. Runs the systematic control (R4) for the year of the
-- loaded Syst_01 households (step 30 loads the sample files), with a few household events,
-- prints the counts per reason from the run log and explains one household step by step.
-- Without loaded files it first inserts a small illustrative year 2024 itself.
\pset footer off
SET client_min_messages = warning;
SELECT count(*) = 0 AS no_flows FROM inami.syst01_household \gset
\if :no_flows
\echo 'No Syst_01 loaded: inserting a small illustrative control year 2024 (five households, two Syst_04 shipments)'
CREATE FUNCTION pg_temp.niss(born date, seq int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT nine || lpad((97 - ((CASE WHEN born >= '2000-01-01' THEN '2' ELSE '' END || nine)::bigint % 97))::text, 2, '0')
    FROM (SELECT to_char(born, 'YYMMDD') || lpad(seq::text, 3, '0') AS nine) s
$$;
CREATE TEMP TABLE demo_member (hh int, pos int, born date, code text, amount numeric);
INSERT INTO demo_member VALUES
    (1, 1, '1985-07-30', '00', 15000.00), (1, 2, '1987-02-11', '00', 12000.00), (1, 3, '2010-05-05', '01', NULL),
    (2, 1, '1970-01-10', '00', 30000.00),
    (3, 1, '1975-01-01', '00', 20000.00), (3, 2, '1976-01-01', '00', 20000.00),
    (4, 1, '1960-03-03', '11', NULL),
    (5, 1, '1955-11-11', '00', 50000.00);
INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
    ('Syst01', 2024, '300', NULL, NULL, 'demo: illustrative Syst01', 5),
    ('Syst04', 2024, NULL, 2022, 1, 'demo: illustrative Syst04 shipment 1', 5);
INSERT INTO inami.syst01_household
SELECT 2024, inami.request_number('300', 2024, pg_temp.niss(born, hh)), '300', pg_temp.niss(born, hh),
       (SELECT file_id FROM inami.flow_file WHERE kind = 'Syst01' AND year = 2024 ORDER BY file_id LIMIT 1)
FROM demo_member WHERE pos = 1;
INSERT INTO inami.syst01_member
SELECT 2024, inami.request_number('300', 2024, pg_temp.niss(r.born, r.hh)), pg_temp.niss(m.born, m.hh)
FROM demo_member m JOIN demo_member r ON r.hh = m.hh AND r.pos = 1;
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
SELECT control_year, request_number, 1, 2022, requester_niss,
       (SELECT file_id FROM inami.flow_file WHERE kind = 'Syst04' AND year = 2024 ORDER BY file_id LIMIT 1)
FROM inami.syst01_household WHERE control_year = 2024;
INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code)
SELECT 2024, inami.request_number('300', 2024, pg_temp.niss(r.born, r.hh)), 1, pg_temp.niss(m.born, m.hh), m.code
FROM demo_member m JOIN demo_member r ON r.hh = m.hh AND r.pos = 1;
INSERT INTO inami.syst04_ipcal (control_year, request_number, shipment, niss, item_no, code, amount)
SELECT 2024, inami.request_number('300', 2024, pg_temp.niss(r.born, r.hh)), 1, pg_temp.niss(m.born, m.hh), 1, '1250', m.amount
FROM demo_member m JOIN demo_member r ON r.hh = m.hh AND r.pos = 1 WHERE m.code = '00';
-- The October shipment answers household 4, left open in August (code 11).
INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count)
VALUES ('Syst04', 2024, NULL, 2022, 2, 'demo: illustrative Syst04 shipment 2', 1);
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
SELECT 2024, request_number, 2, 2022, requester_niss, (SELECT max(file_id) FROM inami.flow_file)
FROM inami.syst01_household WHERE requester_niss = pg_temp.niss('1960-03-03', 4);
INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code)
SELECT 2024, request_number, 2, requester_niss, '00' FROM inami.syst04_household WHERE shipment = 2;
INSERT INTO inami.syst04_ipcal (control_year, request_number, shipment, niss, item_no, code, amount)
SELECT 2024, request_number, 2, requester_niss, 1, '1250', 9000.00 FROM inami.syst04_household WHERE shipment = 2;
\endif

SELECT max(control_year) AS year FROM inami.syst01_household \gset
\echo 'Systematic control of' :year

-- What the run needs besides the flows: the IPCAL list of the tax year and the ceiling of
-- the income year. The demo adds clearly labelled sample rows where the operator has none.
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
SELECT DISTINCT h.income_year + 1, i.code, 1, 'demo: counted as is', 'demo: sample row, not the official IPCAL list'
FROM inami.syst04_ipcal i JOIN inami.syst04_household h USING (control_year, request_number, shipment)
WHERE i.control_year = :year
ON CONFLICT DO NOTHING;
INSERT INTO inami.im_ceiling (income_year, base, per_member, source)
SELECT :year - 2, base, per_member, 'demo: the 2022 figures reused, not a published ceiling'
FROM inami.im_ceiling WHERE income_year = 2022
ON CONFLICT DO NOTHING;

-- Some events the OA knows of (only if none are recorded): a composition change in the
-- second quarter (E 5.3, example 1), a new DSH in November (KEEPDSH), a child's arrival.
SELECT count(*) = 0 AS no_events FROM inami.household_event WHERE control_year = :year \gset
\if :no_events
INSERT INTO inami.household_event (control_year, request_number, event, event_date, detail)
SELECT :year, h.request_number, e.event, make_date(:year, e.m, e.d), e.detail
FROM (SELECT request_number, row_number() OVER (ORDER BY request_number) AS n
      FROM inami.syst01_household WHERE control_year = :year) h
JOIN (VALUES (1, 'composition_change', 5, 10, 'demo: the spouse left in May'),
             (3, 'new_dsh', 11, 15, 'demo: a complete new DSH'),
             (2, 'child_under16_arrival', 6, 1, 'demo: a newborn, first registration')) AS e(n, event, m, d, detail)
  USING (n);
\endif

-- E 4.2, 4.4: the own home's cadastral income comes apart in Syst_04; the OA deducts the
-- exempt amounts and records the part it counts (until then such a decision is
-- provisional). The demo counts what exceeds a made-up exemption of 1,000.00: an
-- operator's figure for the demo, not a published amount.
INSERT INTO inami.household_event (control_year, request_number, event, event_date, amount, basis, detail)
SELECT :year, h.request_number, 'cadastral_income', make_date(:year, 11, 1), greatest(h.cadastral_income - 1000.00, 0),
       h.cadastral_income, 'demo: cadastral income beyond a made-up exemption of 1,000.00'
FROM inami.systematic_households(:year) h
WHERE h.cadastral_income <> 0
ON CONFLICT (control_year, request_number) WHERE event = 'cadastral_income'
DO UPDATE SET amount = excluded.amount, basis = excluded.basis, event_date = excluded.event_date,
              recorded_at = now();

CALL inami.run_systematic_control(:year);

\echo 'The run log: counts per reason'
SELECT r.run_id, r.status, c.key AS reason, c.value AS households
FROM inami.control_run r, jsonb_each(r.counts) AS c
WHERE r.run_id = (SELECT max(run_id) FROM inami.control_run WHERE kind = 'systematic_control')
ORDER BY c.key;

\echo 'Why: one household explained (one with an event when there is one)'
SELECT d.request_number AS explained FROM inami.control_decision d
WHERE d.control_year = :year ORDER BY d.events IS NULL, d.request_number LIMIT 1 \gset
SELECT step, what, value, rule FROM inami.explain_decision(:'explained', :year) ORDER BY step;
