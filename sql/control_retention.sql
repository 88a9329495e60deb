-- R7 (Circ. O.A. 2024/165, 6; 2024/200, 3): what the reimbursements of a year Y rest on is
-- kept until the end of Y+6, and no longer (the permission limits keeping to six years).
-- Year X's data rest the reimbursements of X+1 too when the control prolongs the right
-- (KEEPSYST runs until 31 December X+1), so the year is kept until the end of X+7:
-- purge_expired(as_of) removes it from 1 January X+8 on. A household whose right ended in
-- X goes from 1 January X+7 on. Each purge logs what it removed.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DELETE FROM inami.proactive_outcome; DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision;
DELETE FROM inami.household_event; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;

-- Years 2017 and 2018, in every table. Per year, households whose right ends in the year:
-- A (a composition change in May: STOPFAM) and C (an adult answered 01: STOPSYST, 31
-- December); B, whose right is prolonged (KEEPSYST); D and E, listed after the run (no
-- decision), D with a Syst_05 received that prolongs its right. 2017's run is dated in
-- 2017; 2018's is not (decided after 2018). The ceilings of income years 2015 and 2016 are
-- operator rows here.
INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES
    (2015, 20000.00, 4000.00, 'test: hypothetical circular'), (2016, 20500.00, 4100.00, 'test: hypothetical circular');
INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count)
SELECT k, y, CASE WHEN k IN ('Syst01', 'Pro01') THEN '300' END, CASE WHEN k IN ('Syst04', 'Pro03') THEN y - 2 END,
       CASE WHEN k IN ('Syst04', 'Pro03') THEN 1 END, k || ' ' || y, 1
FROM unnest(ARRAY['Syst01', 'Syst04', 'Pro01', 'Pro03', 'Syst05']) AS k, unnest(ARRAY[2017, 2018]) AS y;
INSERT INTO inami.syst01_household
SELECT f.year, inami.request_number('300', f.year, n), '300', n, f.file_id
FROM inami.flow_file f, unnest(ARRAY['85073003328', '70011000211', '66010101092']) AS n WHERE f.kind = 'Syst01';
INSERT INTO inami.syst01_member SELECT control_year, request_number, requester_niss FROM inami.syst01_household;
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
SELECT h.control_year, h.request_number, 1, h.control_year - 2, h.requester_niss, f.file_id
FROM inami.syst01_household h JOIN inami.flow_file f ON f.kind = 'Syst04' AND f.year = h.control_year;
INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, ipcal_code, ipcal_amount)
SELECT control_year, request_number, 1, requester_niss,
       CASE WHEN requester_niss = '70011000211' THEN '00' ELSE '01' END,
       CASE WHEN requester_niss = '70011000211' THEN '{1250}'::text[] ELSE '{}' END,
       CASE WHEN requester_niss = '70011000211' THEN '{1000.00}'::numeric[] ELSE '{}' END
FROM inami.syst04_household;
INSERT INTO inami.household_event (request_number, event, event_date)
SELECT request_number, 'composition_change', make_date(control_year, 5, 1) FROM inami.syst01_household
WHERE requester_niss = '85073003328';
INSERT INTO inami.pro01_household
SELECT f.year, inami.request_number('300', f.year, '85073003328'), '300', '85073003328', f.file_id
FROM inami.flow_file f WHERE f.kind = 'Pro01';
INSERT INTO inami.pro01_member SELECT year, request_number, requester_niss FROM inami.pro01_household;
INSERT INTO inami.pro03_person (year, shipment, niss, income_year, return_code, file_id, ipcal_code, ipcal_amount)
SELECT f.year, 1, '85073003328', f.year - 2, '00', f.file_id, '{1250}', '{1000.00}' FROM inami.flow_file f WHERE f.kind = 'Pro03';
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
    (2016, '1250', 1, 'test: wages', 'test row'), (2017, '1250', 1, 'test: wages', 'test row');
CALL inami.run_systematic_control(2017);
CALL inami.run_systematic_control(2018);
UPDATE inami.control_run SET started_at = '2017-10-15' WHERE kind = 'systematic_control' AND year = 2017;
INSERT INTO inami.syst01_household
SELECT f.year, inami.request_number('300', f.year, n), '300', n, f.file_id
FROM inami.flow_file f, unnest(ARRAY['71010101102', '88080801401']) AS n WHERE f.kind = 'Syst01';
INSERT INTO inami.syst05_feedback_received (control_year, request_number, oa, reason, right_end, file_id)
SELECT f.year, inami.request_number('300', f.year, n), '300', r, e, f.file_id
FROM inami.flow_file f,
     LATERAL (VALUES ('71010101102', 'KEEPSYST', make_date(f.year + 1, 12, 31)),
                     ('66010101092', 'STOPSYST', make_date(f.year, 12, 31))) AS x(n, r, e)
WHERE f.kind = 'Syst05';
CALL inami.run_proactive_flow(2017);
CALL inami.run_proactive_flow(2018);
INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
SELECT year, request_number, requester_niss, 5, true FROM inami.pro01_household;

CREATE TEMP VIEW held AS
SELECT y, (SELECT count(*) FROM inami.flow_file WHERE year = y) AS files,
       (SELECT count(*) FROM inami.syst01_household WHERE control_year = y) AS syst01,
       (SELECT count(*) FROM inami.syst04_member WHERE control_year = y) AS syst04,
       (SELECT count(*) FROM inami.pro03_ipcal WHERE year = y) AS pro03,
       (SELECT count(*) FROM inami.household_event WHERE control_year = y) AS events,
       (SELECT count(*) FROM inami.control_decision WHERE control_year = y) AS syst05,
       (SELECT count(*) FROM inami.proactive_decision WHERE year = y) AS pro04,
       (SELECT count(*) FROM inami.proactive_outcome WHERE year = y) AS outcomes,
       (SELECT count(*) FROM inami.control_run WHERE year = y) AS runs
FROM unnest(ARRAY[2017, 2018]) AS y;

SELECT plan(17);

-- A function named like a built-in, in a schema the caller's search_path lists (one that
-- another role could write to), never stands in for the built-in inside inami.
CREATE SCHEMA evil;
CREATE FUNCTION evil.cardinality(int[]) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil.cardinality ran'; END $$;
CREATE FUNCTION evil.format(text, text) RETURNS text LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil.format ran'; END $$;
SET search_path = public, evil;
SELECT lives_ok($$INSERT INTO inami.household_event (request_number, event, event_date)
                  VALUES (inami.request_number('300', 2018, '85073003328'), 'death', '2018-06-06')$$,
                'a trigger function (cardinality over int[]) calls the built-in, not evil.cardinality');
SELECT throws_ok($$CALL inami.purge_expired(NULL)$$, '22023', 'as_of must be a date between 1990 and 2300',
                 'a procedure (format over text) calls the built-in, not evil.format');
-- Operators too, even with pg_catalog written after the hostile schema: the procedures,
-- which take no SET clause, pin search_path in each of their transactions, the failure
-- path of a run included.
CREATE FUNCTION evil.eq(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil bigint = ran'; END $$;
CREATE FUNCTION evil.eq(int, int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil int = ran'; END $$;
CREATE FUNCTION evil.ge(date, date) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'evil date >= ran'; END $$;
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq);
CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.eq);
CREATE OPERATOR evil.>= (LEFTARG = date, RIGHTARG = date, FUNCTION = evil.ge);
DELETE FROM inami.im_ceiling WHERE income_year = 2015;
SET search_path = evil, pg_catalog, public;
CALL inami.purge_expired('2000-01-01');
CALL inami.run_systematic_control(2017);
RESET search_path;
SELECT is((SELECT status FROM inami.control_run WHERE kind = 'purge'), 'succeeded',
          'purge_expired under a hostile search_path: pg_catalog''s operators');
SELECT is((SELECT status || ' ' || error_sqlstate FROM inami.control_run WHERE year = 2017 AND status <> 'succeeded'),
          'failed 55000', 'a failed run under a hostile search_path logs its own error, not the operator''s');
INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES (2015, 20000.00, 4000.00, 'test: hypothetical circular');
DELETE FROM inami.control_run WHERE kind = 'purge' OR status = 'failed';
DELETE FROM inami.household_event WHERE event_date = '2018-06-06';
DROP SCHEMA evil CASCADE;

SELECT results_eq($$SELECT h.control_year, h.requester_niss, d.reason, d.right_end FROM inami.control_decision d
                    JOIN inami.syst01_household h USING (control_year, request_number) ORDER BY 1, 2$$,
    $$VALUES (2017, '66010101092', 'STOPSYST', '2017-12-31'::date), (2017, '70011000211', 'KEEPSYST', '2018-12-31'),
             (2017, '85073003328', 'STOPFAM', '2017-09-30'),
             (2018, '66010101092', 'STOPSYST', '2018-12-31'), (2018, '70011000211', 'KEEPSYST', '2019-12-31'),
             (2018, '85073003328', 'STOPFAM', '2018-09-30')$$,
    'each year: rights ended in the year (one on 31 December), a right prolonged into the next');
SELECT results_eq('SELECT * FROM held ORDER BY y',
    $$VALUES (2017, 5::bigint, 5::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint),
             (2018, 5::bigint, 5::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint)$$,
    'years 2017 and 2018 are held in every table');

-- 31 December 2023 = the end of 2017 + 6: nothing of 2017 is removed.
CALL inami.purge_expired('2023-12-31');
SELECT results_eq('SELECT * FROM held ORDER BY y',
    $$VALUES (2017, 5::bigint, 5::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint),
             (2018, 5::bigint, 5::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint)$$,
    'on 31 December 2017 + 6 nothing of 2017 is removed');
SELECT results_eq($$SELECT status, counts->>'years_up_to', (counts->>'flow_file')::int, (counts->>'syst01_household_ended')::int
                    FROM inami.control_run WHERE kind = 'purge'$$,
                  $$VALUES ('succeeded', '2015', 0, 0)$$, 'the purge is logged, having removed nothing');

-- 1 January 2024: of 2017, A, C (right ended on 31 December) and E (no decision) go, with
-- their answers, events and decisions; B (prolonged into 2018), D (its Syst_05 received
-- prolongs it), the files and the proactive flow stay.
CALL inami.purge_expired('2024-01-01');
SELECT results_eq($$SELECT h.requester_niss FROM inami.syst01_household h WHERE h.control_year = 2017 ORDER BY 1$$,
                  $$VALUES ('70011000211'), ('71010101102')$$,
                  'on 1 January 2017 + 7 the households whose right ended in 2017 go; those prolonged into 2018 stay');
SELECT results_eq('SELECT * FROM held ORDER BY y',
    $$VALUES (2017, 5::bigint, 2::bigint, 1::bigint, 1::bigint, 0::bigint, 1::bigint, 1::bigint, 1::bigint, 2::bigint),
             (2018, 5::bigint, 5::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint)$$,
    '... with their answers, events and decisions; 2018 untouched');
SELECT is((SELECT counts - 'as_of' FROM inami.control_run WHERE kind = 'purge' ORDER BY run_id DESC LIMIT 1),
          '{"years_up_to": 2016, "flow_file": 0, "control_run": 0, "pro03_person": 0, "household_event": 0,
            "pro01_household": 0, "syst01_household": 0, "syst04_household": 0, "control_decision": 0,
            "proactive_outcome": 0, "proactive_decision": 0, "ended_in_year": 2017,
            "syst01_household_ended": 3, "syst04_household_ended": 2, "control_decision_ended": 2,
            "household_event_ended": 1, "syst05_feedback_received_ended": 1}'::jsonb,
          'the log says which households of 2017 went');
CALL inami.purge_expired('2024-12-31');
SELECT results_eq('SELECT * FROM held ORDER BY y',
    $$VALUES (2017, 5::bigint, 2::bigint, 1::bigint, 1::bigint, 0::bigint, 1::bigint, 1::bigint, 1::bigint, 2::bigint),
             (2018, 5::bigint, 5::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint)$$,
    'until 31 December 2017 + 7 the rest of 2017 is kept');

-- 1 January 2025: 2017 goes, every table of it. Of 2018, only E (no decision): A and C
-- were decided after 2018, so what was paid in 2019 until then rests on them.
CALL inami.purge_expired('2025-01-01');
SELECT results_eq('SELECT * FROM held ORDER BY y',
    $$VALUES (2017, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::bigint),
             (2018, 5::bigint, 4::bigint, 3::bigint, 1::bigint, 1::bigint, 3::bigint, 1::bigint, 1::bigint, 2::bigint)$$,
    'on 1 January 2017 + 8 everything of 2017 is removed; of 2018 the household without decision, not those decided after 2018');
SELECT is((SELECT counts - 'as_of' FROM inami.control_run WHERE kind = 'purge' ORDER BY run_id DESC LIMIT 1),
          '{"years_up_to": 2017, "flow_file": 5, "control_run": 2, "pro03_person": 1, "household_event": 0,
            "pro01_household": 1, "syst01_household": 2, "syst04_household": 1, "control_decision": 1,
            "proactive_outcome": 1, "proactive_decision": 1, "ended_in_year": 2018,
            "syst01_household_ended": 1, "syst04_household_ended": 0, "control_decision_ended": 0,
            "household_event_ended": 0, "syst05_feedback_received_ended": 0}'::jsonb,
          'the log says what was removed, table by table');
SELECT is(count(*), 4::bigint, 'the purges stay in the log') FROM inami.control_run WHERE kind = 'purge' AND status = 'succeeded';
CALL inami.purge_expired('2025-12-31');
SELECT is((SELECT count(*) FROM inami.flow_file), 5::bigint, 'until 31 December 2025 2018 is kept');
CALL inami.purge_expired('2026-01-01');
SELECT is((SELECT count(*) FROM inami.flow_file), 0::bigint, 'from 1 January 2026 2018 is gone');

SELECT * FROM finish();

-- What a user reads.
CALL inami.purge_expired(NULL);

DELETE FROM inami.control_run; DELETE FROM inami.im_ceiling WHERE income_year IN (2015, 2016);
DELETE FROM inami.ipcal_rule WHERE source = 'test row';
