-- R3, R4 and the exchanges end to end: a control year loaded from documents in the
-- published format (xsd/), decided, and its Syst_05 written, on the cases of Circ. O.A.
-- 2024/165 that the flows themselves carry:
--   E 4.3   a child the SCA lacks is answered "00" with 0 EUR (no IPCAL item);
--   R9      a NISS whose month and day are 00 still settles "under 18" when the year does;
--   E 4.1   the October shipment answers what August left open, member by member;
--   E 2.4   the requester's NISS changed: Syst_04 answers under the new one, the request
--           number keeps the old one;
--   E 2.3   the CIN filter sends an answer for a household another OA listed.
-- Control 2024, income year 2022, tax year 2023; ceilings 1 person 23,303.84, 2 persons
-- 27,618.02, 3 persons 31,932.20.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = notice;

-- The suites share one database: start from empty flow and run tables.
SET client_min_messages = warning;
DELETE FROM inami.proactive_outcome; DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision;
DELETE FROM inami.household_event; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;
DELETE FROM inami.ipcal_rule WHERE tax_year = 2023;
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
    (2023, '1250', 1, 'test: wages', 'test row'),
    (2023, '1460', -1, 'test: deduction', 'test row');
SET client_min_messages = notice;

SELECT plan(66);

-- H1  R3's example: 15,000 + 12,000 + a child born 2010 with code 01 -> 27,000.00, OK.
-- H2  single, 30,000.00 -> over.
-- H3  a child born 2015 answered "00" without IPCAL item (E 4.3) -> 10,000.00, OK.
-- H4  a child whose NISS gives only the year 2010, code 01 -> under 18 -> 10,000.00, OK.
-- H5  a member whose NISS gives only the year 2005, code 01: 18 on 1 Jan 2023 if born on
--     1 January, 17 otherwise -> unknown.
-- H6  August: member 2 not yet processed (03); October repeats the requester and member 2
--     only, not member 3 answered in August -> 10,000 + 8,000 + 4,000 = 22,000.00.
-- H7  the requester's NISS changed (bis 60230300763 -> 60030300720) before the Syst_04.
-- H9  an adult answered "00" without IPCAL item -> 0.00.
-- H10 never answered -> unknown.
-- H11 a member whose NISS gives only the year 2004, code 01: 18 or more -> unknown.
-- H12 two members' NISS changed (bis -> national register): the answers under the new
--     NISS go to the left-out members of the same birth date (E 2.4) -> 19,000.00.
-- H13 twins' NISS changed: two left out, two new NISS, one birth date: no pairing -> unknown.
-- H8  (OA 400's household, in the Syst_04 only) 5,000 + 3,000 -> 8,000.00 once adopted.
SELECT is(inami.load_flow($$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">
  <Household requestNumber="300202485073000160"><Requester niss="85073000160"/>
    <Member niss="85073000160"/><Member niss="87021100155"/><Member niss="10050500126"/></Household>
  <Household requestNumber="300202470011000211"><Requester niss="70011000211"/>
    <Member niss="70011000211"/></Household>
  <Household requestNumber="300202479021400386"><Requester niss="79021400386"/>
    <Member niss="79021400386"/><Member niss="15060700376"/></Household>
  <Household requestNumber="300202480080800437"><Requester niss="80080800437"/>
    <Member niss="80080800437"/><Member niss="10000000441"/></Household>
  <Household requestNumber="300202481090900534"><Requester niss="81090900534"/>
    <Member niss="81090900534"/><Member niss="05000000532"/></Household>
  <Household requestNumber="300202475020200668"><Requester niss="75020200668"/>
    <Member niss="75020200668"/><Member niss="76020200689"/><Member niss="77030300687"/></Household>
  <Household requestNumber="300202460230300763"><Requester niss="60230300763"/>
    <Member niss="60230300763"/><Member niss="62040400739"/></Household>
  <Household requestNumber="300202477041700959"><Requester niss="77041700959"/>
    <Member niss="77041700959"/></Household>
  <Household requestNumber="300202466010101092"><Requester niss="66010101092"/>
    <Member niss="66010101092"/></Household>
  <Household requestNumber="300202471010101102"><Requester niss="71010101102"/>
    <Member niss="71010101102"/><Member niss="04000001105"/></Household>
  <Household requestNumber="300202470050501282"><Requester niss="70050501282"/>
    <Member niss="70050501282"/><Member niss="72240401293"/><Member niss="75260601213"/></Household>
  <Household requestNumber="300202488080801401"><Requester niss="88080801401"/>
    <Member niss="88080801401"/><Member niss="90210100166"/><Member niss="90210100265"/></Household>
</Syst01>$$), 12::bigint, 'Syst01: twelve households');

SELECT is(inami.load_flow($$<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1">
  <Household requestNumber="300202485073000160"><Requester niss="85073000160"/>
    <Member niss="85073000160" returnCode="00"><Ipcal code="1250" amount="15000.00"/></Member>
    <Member niss="87021100155" returnCode="00"><Ipcal code="1250" amount="12500.00"/><Ipcal code="1460" amount="500"/></Member>
    <Member niss="10050500126" returnCode="01"/></Household>
  <Household requestNumber="300202470011000211"><Requester niss="70011000211"/>
    <Member niss="70011000211" returnCode="00"><Ipcal code="1250" amount="30000.00"/></Member></Household>
  <Household requestNumber="300202479021400386"><Requester niss="79021400386"/>
    <HouseholdTotal>10000.00</HouseholdTotal>
    <Member niss="79021400386" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="15060700376" returnCode="00"><PersonalTotal>0.00</PersonalTotal></Member></Household>
  <Household requestNumber="300202480080800437"><Requester niss="80080800437"/>
    <Member niss="80080800437" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="10000000441" returnCode="01"/></Household>
  <Household requestNumber="300202481090900534"><Requester niss="81090900534"/>
    <Member niss="81090900534" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="05000000532" returnCode="01"/></Household>
  <Household requestNumber="300202475020200668"><Requester niss="75020200668"/>
    <Member niss="75020200668" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="76020200689" returnCode="03"/>
    <Member niss="77030300687" returnCode="00"><Ipcal code="1250" amount="4000.00"/></Member></Household>
  <Household requestNumber="300202460230300763"><Requester niss="60030300720"/>
    <Member niss="60030300720" returnCode="00"><Ipcal code="1250" amount="12000.00"/></Member>
    <Member niss="62040400739" returnCode="00"><Ipcal code="1250" amount="6000.00"/></Member></Household>
  <Household requestNumber="300202477041700959"><Requester niss="77041700959"/>
    <Member niss="77041700959" returnCode="00"/></Household>
  <Household requestNumber="300202471010101102"><Requester niss="71010101102"/>
    <Member niss="71010101102" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="04000001105" returnCode="01"/></Household>
  <Household requestNumber="300202470050501282"><Requester niss="70050501282"/>
    <Member niss="70050501282" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="75060601366" returnCode="00"><Ipcal code="1250" amount="4000.00"/></Member>
    <Member niss="72040401349" returnCode="00"><Ipcal code="1250" amount="5000.00"/></Member></Household>
  <Household requestNumber="300202488080801401"><Requester niss="88080801401"/>
    <Member niss="88080801401" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="90010100321" returnCode="00"><Ipcal code="1250" amount="1000.00"/></Member>
    <Member niss="90010100420" returnCode="00"><Ipcal code="1250" amount="1000.00"/></Member></Household>
  <Household requestNumber="400202488011300802"><Requester niss="88011300802"/>
    <Member niss="88011300802" returnCode="00"><Ipcal code="1250" amount="5000.00"/></Member>
    <Member niss="90011300844" returnCode="00"><Ipcal code="1250" amount="3000.00"/></Member></Household>
</Syst04>$$), 12::bigint, 'Syst04 shipment 1: twelve households, one of them listed by another OA (NOTICE)');

-- E 4.1, 4.3: before the second shipment, H6's member answered 03 (not yet processed,
-- asked again in September) and H10, which no answer lists yet, are decided provisionally:
-- not written in a Syst_05. H5 and H11 (an adult answered 01) are final.
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT request_number, reason, verdict FROM inami.control_decision WHERE provisional ORDER BY 1$$,
                  $$VALUES ('300202466010101092', 'STOPSYST', 'ONHOLD'), ('300202475020200668', 'STOPSYST', 'ONHOLD')$$,
                  'before shipment 2: the household with a 03 answer and the one not answered yet are provisional, only they');
SELECT is((SELECT counts->'provisional' FROM inami.control_run ORDER BY run_id DESC LIMIT 1), '2'::jsonb,
          'the run log counts the provisional decisions');
SELECT throws_ok($$SELECT inami.syst05_document(2024, '300')$$, '55000',
                 '2 decisions of control year 2024 for OA 300 are provisional',
                 'syst05_document refuses to write a provisional decision');
-- asked_again (the C pass) against the members (the SQL form): unknown only through
-- members answered in shipment 1 with a code asked again, every other member known.
SELECT results_eq(
    $$SELECT request_number, asked_again FROM inami.systematic_households(2024) ORDER BY 1$$,
    $$SELECT m.request_number,
             count(*) FILTER (WHERE u.unknown AND m.shipment = 1 AND m.return_code IN (SELECT return_code FROM inami.return_code_asked_again)) > 0
             AND count(*) FILTER (WHERE u.unknown AND m.shipment = 1 AND m.return_code IN (SELECT return_code FROM inami.return_code_asked_again))
                 = count(*) FILTER (WHERE u.unknown)
      FROM inami.systematic_members(2024) m
      CROSS JOIN LATERAL (SELECT NOT coalesce(CASE WHEN m.return_code = '00' THEN m.income IS NOT NULL ELSE m.under18 END, false)
                                 AS unknown) u
      GROUP BY m.request_number ORDER BY 1$$,
    'asked_again: the C pass equals the members grouped by household');
-- A 03 beside an adult answered 01 (not asked again): the income stays unknown whatever
-- shipment 2 says, so the decision is final.
UPDATE inami.syst04_member SET return_code = '01', ipcal_code = '{}', ipcal_amount = '{}' WHERE niss = '77030300687';
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202475020200668') WHERE precedence = 1),
          'STOPSYST ONHOLD false', 'a 03 beside an adult answered 01: unknown whatever comes, final');
UPDATE inami.syst04_member SET return_code = '00', ipcal_code = '{1250}', ipcal_amount = '{4000.00}' WHERE niss = '77030300687';
-- A child under 18 answered 03 counts 0.00 anyway (R3): H1 stays known, final; with a
-- cadastral income not assessed it is provisional for that only (explain says so, and
-- not that an answer is awaited).
UPDATE inami.syst04_member SET return_code = '03' WHERE niss = '10050500126';
UPDATE inami.syst04_member SET cadastral_income = 1500.00 WHERE niss = '85073000160';
SELECT is((SELECT asked_again FROM inami.systematic_households(2024, '300202485073000160')), false,
          'a child under 18 answered 03: the income is known, nothing is asked again');
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202485073000160', 2024) WHERE what = 'provisional'$$,
                  $$VALUES ('the Syst_04 sent a cadastral income of 1500.00 that the OA has not assessed (on that amount): inami.syst05_document does not write this decision before a cadastral_income event gives the part counted')$$,
                  'explain_decision: provisional for the cadastral income only, not for the child''s 03');
-- An adult answered 03 beside a child answered 04 (under 18: known) and a cadastral income:
-- the income is unknown, so explain gives the 03 as the reason to wait, not the child's
-- 04, and not the cadastral income (it decides only under the ceiling).
UPDATE inami.syst04_member SET return_code = '03', ipcal_code = '{}', ipcal_amount = '{}' WHERE niss = '85073000160';
UPDATE inami.syst04_member SET return_code = '04' WHERE niss = '10050500126';
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202485073000160', 2024) WHERE what = 'provisional'$$,
                  $$VALUES ('a member answered in shipment 1 with 03, which the SCA asks again: the second shipment may change this decision, and inami.syst05_document does not write it before then')$$,
                  'explain_decision: the adult''s 03 only, not the child''s 04 nor the cadastral income of an unknown total');
UPDATE inami.syst04_member SET return_code = '00', ipcal_code = '{1250}', ipcal_amount = '{15000.00}' WHERE niss = '85073000160';
UPDATE inami.syst04_member SET return_code = '01' WHERE niss = '10050500126';
UPDATE inami.syst04_member SET cadastral_income = NULL WHERE niss = '85073000160';
-- The SCA may send no October answer for this OA: an October file without households says
-- so, and what no answer lists is then final (unknown).
SELECT is(inami.load_flow($$<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="2"></Syst04>$$),
          0::bigint, 'an empty October file loads');
SELECT is((SELECT reason || ' ' || provisional FROM inami.systematic_candidates(2024, '300202466010101092') WHERE precedence = 1),
          'STOPSYST false', 'after it, a household no answer lists is final');
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202466010101092', 2024) WHERE what = 'provisional'$$,
                  $$VALUES ('a later Syst_04 shipment has been loaded since: CALL inami.run_systematic_control(2024) decides the household again')$$,
                  'explain_decision: a provisional decision made before the later shipment says to run the control again');
-- Decided again after the later shipment, provisional for its cadastral income alone:
-- explain says so, and not that a shipment came since.
UPDATE inami.syst04_member SET cadastral_income = 1500.00 WHERE niss = '85073000160';
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202485073000160', 2024) WHERE what = 'provisional'$$,
                  $$VALUES ('the Syst_04 sent a cadastral income of 1500.00 that the OA has not assessed (on that amount): inami.syst05_document does not write this decision before a cadastral_income event gives the part counted')$$,
                  'explain_decision: decided after the later shipment, provisional for the cadastral income alone');
UPDATE inami.syst04_member SET cadastral_income = NULL WHERE niss = '85073000160';
DELETE FROM inami.flow_file WHERE kind = 'Syst04' AND shipment = 2;
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202475020200668', 2024) WHERE what = 'provisional'$$,
                  $$VALUES ('a member answered in shipment 1 with 03, which the SCA asks again: the second shipment may change this decision, and inami.syst05_document does not write it before then')$$,
                  'explain_decision says why the decision is provisional');
-- An event that ends the right by 31 December X settles it whatever the income; one that
-- ends it later does not (the income's 31 December X would come first).
INSERT INTO inami.household_event (request_number, event, event_date, detail)
VALUES ('300202475020200668', 'composition_change', '2024-05-10', 'test: change in Q2');
SELECT is((SELECT reason || ' ' || to_char(right_end, 'YYYY-MM-DD') || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202475020200668') WHERE precedence = 1),
          'STOPFAM 2024-09-30 false', 'a change in Q2 ends the right on 30 September X: not provisional');
UPDATE inami.household_event SET event_date = '2024-11-05' WHERE detail = 'test: change in Q2';
SELECT is((SELECT reason || ' ' || to_char(right_end, 'YYYY-MM-DD') || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202475020200668') WHERE precedence = 1),
          'STOPSYST 2024-12-31 true', 'a change in Q4 ends it after 31 December X: the income decides, provisionally');
DELETE FROM inami.household_event WHERE detail = 'test: change in Q2';
-- A household no answer lists yet that moved: STOPOA, but provisional until the next
-- shipment says whether its data came here (then this OA sends its feedback, E 5.2).
INSERT INTO inami.household_event (request_number, event, event_date, detail)
VALUES ('300202466010101092', 'oa_change', '2025-01-15', 'test: a move, no answer yet'),
       ('300202475020200668', 'oa_change', '2025-01-15', 'test: a move, no answer yet');
SELECT is((SELECT reason || ' ' || to_char(right_end, 'YYYY-MM-DD') || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202466010101092') WHERE precedence = 1),
          'STOPOA 2025-01-14 true', 'moved, no answer yet: STOPOA, provisional (who sends it is not known yet)');
SELECT is((SELECT reason || ' ' || to_char(right_end, 'YYYY-MM-DD') || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202475020200668') WHERE precedence = 1),
          'STOPOA 2025-01-14 false', 'moved, answered here in August (a 03 asked again): STOPOA, final, sent from here');
DELETE FROM inami.household_event WHERE detail = 'test: a move, no answer yet';

SELECT is(inami.load_flow($$<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="2">
  <Household requestNumber="300202475020200668"><Requester niss="75020200668"/>
    <Member niss="75020200668" returnCode="00"><Ipcal code="1250" amount="10000.00"/></Member>
    <Member niss="76020200689" returnCode="00"><Ipcal code="1250" amount="8000.00"/></Member></Household>
</Syst04>$$), 1::bigint, 'Syst04 shipment 2: the member August left open');

SELECT results_eq($$SELECT request_number, shipment FROM inami.syst04_unlisted$$,
                  $$VALUES ('400202488011300802', 1)$$, 'syst04_unlisted: the household OA 400 listed');
SELECT throws_ok($$SELECT inami.adopt_unlisted_households(2024, '30')$$, '22P02', 'OA code must be 3 digits',
                 'adopt_unlisted_households: an OA code of 2 digits is refused');
SELECT is(inami.adopt_unlisted_households(2024, '300'), 1::bigint, 'adopt_unlisted_households: OA 300 decides it');
SELECT is(inami.adopt_unlisted_households(2024, '300'), 0::bigint, 'adopting again adopts nothing');
SELECT throws_ok($$SELECT inami.adopt_unlisted_households(NULL, '300')$$, '22023', 'control year must be between 1990 and 2200',
                 'adopt_unlisted_households: a NULL control year is an error, not 0');
SELECT is_empty($$SELECT * FROM inami.syst04_unlisted$$, 'nothing left unlisted');

-- R3 per household, edge by edge.
SELECT results_eq(
    $$SELECT request_number, household_size, shipment, household_total FROM inami.systematic_households(2024) ORDER BY 1$$,
    $$VALUES ('300202460230300763', 2, 1, 18000.00), ('300202466010101092', 1, NULL, NULL),
             ('300202470011000211', 1, 1, 30000.00), ('300202470050501282', 3, 1, 19000.00), ('300202471010101102', 2, 1, NULL::numeric),
             ('300202475020200668', 3, 2, 22000.00), ('300202477041700959', 1, 1, 0.00),
             ('300202479021400386', 2, 1, 10000.00), ('300202480080800437', 2, 1, 10000.00),
             ('300202481090900534', 2, 1, NULL), ('300202485073000160', 3, 1, 27000.00),
             ('300202488080801401', 3, 1, NULL), ('400202488011300802', 2, 1, 8000.00)$$,
    'systematic_households: under 18 by year, 00 without items, October per member, new NISS, adopted household');
-- CadastralIncome in both shipments: the members' latest answers count (H6: 111.00 of
-- August superseded by October's answer without one, October's 700.00, August's 111.00 of
-- the member October does not repeat: 811.00), also under a requester's new NISS (H7).
UPDATE inami.syst04_member SET cadastral_income = 111.00 WHERE niss IN ('76020200689', '77030300687') AND shipment = 1;
UPDATE inami.syst04_member SET cadastral_income = 700.00 WHERE niss = '75020200668' AND shipment = 2;
UPDATE inami.syst04_member SET cadastral_income = 50.00 WHERE niss = '60030300720';
SELECT results_eq(
    $$SELECT request_number, oa, household_size, income_year, shipment, sent_total, household_total, cadastral_income
      FROM inami.systematic_households(2024) ORDER BY request_number$$,
    $$SELECT m.request_number, min(m.oa), count(*)::int, min(m.income_year), max(m.shipment), min(m.sent_total),
             inami.household_income(m.return_code, m.income, m.rule_birth_date, m.income_year), sum(m.cadastral_income)
      FROM inami.systematic_members(2024) m GROUP BY m.request_number ORDER BY m.request_number$$,
    'the C pass equals systematic_members grouped by household');
SELECT results_eq($$SELECT request_number, cadastral_income FROM inami.systematic_households(2024)
                    WHERE cadastral_income IS NOT NULL ORDER BY 1$$,
                  $$VALUES ('300202460230300763', 50.00), ('300202475020200668', 811.00)$$,
                  'the cadastral income of the members'' latest answers, under a new NISS too');
UPDATE inami.syst04_member SET cadastral_income = NULL WHERE cadastral_income IS NOT NULL;
SELECT results_eq(
    $$SELECT niss, shipment, return_code, income, birth_date, rule_birth_date, under18
      FROM inami.systematic_members(2024) WHERE request_number IN ('300202480080800437', '300202481090900534',
            '300202475020200668', '300202460230300763', '300202479021400386') ORDER BY niss$$,
    $$VALUES ('05000000532', 1, '01', NULL::numeric, NULL::date, NULL::date, NULL::boolean),
             ('10000000441', 1, '01', NULL, NULL, '2010-01-01', true),
             ('15060700376', 1, '00', 0.00, '2015-06-07', '2015-06-07', true),
             ('60230300763', 1, '00', 12000.00, '1960-03-03', '1960-03-03', false),
             ('62040400739', 1, '00', 6000.00, '1962-04-04', '1962-04-04', false),
             ('75020200668', 2, '00', 10000.00, '1975-02-02', '1975-02-02', false),
             ('76020200689', 2, '00', 8000.00, '1976-02-02', '1976-02-02', false),
             ('77030300687', 1, '00', 4000.00, '1977-03-03', '1977-03-03', false),
             ('79021400386', 1, '00', 10000.00, '1979-02-14', '1979-02-14', false),
             ('80080800437', 1, '00', 10000.00, '1980-08-08', '1980-08-08', false),
             ('81090900534', 1, '00', 10000.00, '1981-09-09', '1981-09-09', false)$$,
    'systematic_members: each member''s latest answer, under the NISS Syst01 lists, and the birth date R3 uses');
SELECT results_eq(
    $$SELECT request_number, niss, shipment, return_code, income FROM inami.systematic_members(2024)
      WHERE request_number IN ('300202470050501282', '300202488080801401') ORDER BY 1, 2$$,
    $$VALUES ('300202470050501282', '70050501282', 1, '00', 10000.00), ('300202470050501282', '72240401293', 1, '00', 5000.00),
             ('300202470050501282', '75260601213', 1, '00', 4000.00),
             ('300202488080801401', '88080801401', 1, '00', 10000.00), ('300202488080801401', '90210100166', NULL, NULL, NULL),
             ('300202488080801401', '90210100265', NULL, NULL, NULL)$$,
    'a member''s new NISS (E 2.4): paired by birth date when that is unambiguous, left unanswered otherwise');

-- The control and its feedback.
CALL inami.run_systematic_control(2024);
SELECT results_eq(
    $$SELECT f.request_number, f.reason, f.right_end
      FROM inami.read_syst05(inami.syst05_document(2024, '300')::text) f ORDER BY 1$$,
    $$VALUES ('300202460230300763', 'KEEPSYST', '2025-12-31'::date), ('300202466010101092', 'STOPSYST', '2024-12-31'),
             ('300202470011000211', 'STOPSYST', '2024-12-31'), ('300202470050501282', 'KEEPSYST', '2025-12-31'), ('300202471010101102', 'STOPSYST', '2024-12-31'),
             ('300202475020200668', 'KEEPSYST', '2025-12-31'), ('300202477041700959', 'KEEPSYST', '2025-12-31'),
             ('300202479021400386', 'KEEPSYST', '2025-12-31'), ('300202480080800437', 'KEEPSYST', '2025-12-31'),
             ('300202481090900534', 'STOPSYST', '2024-12-31'), ('300202485073000160', 'KEEPSYST', '2025-12-31'),
             ('300202488080801401', 'STOPSYST', '2024-12-31'), ('400202488011300802', 'KEEPSYST', '2025-12-31')$$,
    'Syst05 of OA 300: every household listed or adopted, with the same request number');
SELECT results_eq($$SELECT status, counts FROM inami.control_run ORDER BY run_id DESC LIMIT 1$$,
                  $$VALUES ('succeeded', '{"KEEPSYST": 8, "STOPSYST": 5}'::jsonb)$$,
                  'the run log: after shipment 2, no decision is provisional');
-- Once a later shipment is loaded, a 03, 04, 10 or 11 of shipment 1 that it does not
-- answer again is final: the income is unknown (E 4.3).
UPDATE inami.syst04_member SET return_code = '10' WHERE niss = '05000000532';
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202481090900534') WHERE precedence = 1),
          'STOPSYST ONHOLD false', 'after shipment 2, a 10 of shipment 1 not answered again: unknown, final');
UPDATE inami.syst04_member SET return_code = '01' WHERE niss = '05000000532';
SELECT results_eq(
    $$SELECT what, value FROM inami.explain_decision('300202475020200668', 2024) WHERE what LIKE 'member %' ORDER BY step$$,
    $$VALUES ('member 75020200668', 'born 1975-02-02, return code 00, income 10000.00'),
             ('member 76020200689', 'born 1976-02-02, return code 00, income 8000.00'),
             ('member 77030300687', 'born 1977-03-03, return code 00, income 4000.00')$$,
    'explain_decision: the October answer completes the August one');

-- E 4.2, 4.4: the own home's cadastral income comes apart; the OA deducts the exempt
-- amounts and counts the rest (a cadastral_income event). Until then the decision is
-- provisional. H1: 27,000.00 for 3 persons, ceiling 31,932.20.
UPDATE inami.syst04_member SET cadastral_income = 1500.00 WHERE niss = '85073000160';
SELECT results_eq($$SELECT household_total, cadastral_income FROM inami.systematic_households(2024, '300202485073000160')$$,
                  $$VALUES (27000.00, 1500.00)$$, 'systematic_households: the cadastral income sent, apart from the total');
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT reason, provisional, cadastral_income FROM inami.control_decision WHERE request_number = '300202485073000160'$$,
                  $$VALUES ('KEEPSYST', true, NULL::numeric)$$, 'a cadastral income not assessed: the decision is provisional');
SELECT throws_ok($$SELECT inami.syst05_document(2024, '300')$$, '55000',
                 '1 decision of control year 2024 for OA 300 is provisional',
                 'syst05_document refuses it until the OA assesses the cadastral income');
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date, basis) VALUES ('300202485073000160', 'cadastral_income', '2024-09-01', 1500.00)$$,
                 '23514', NULL, 'a cadastral_income event needs the amount counted');
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date, amount, basis) VALUES ('300202485073000160', 'cadastral_income', '2024-09-01', -1.00, 1500.00)$$,
                 '23514', NULL, 'the amount counted is not negative');
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date, amount) VALUES ('300202485073000160', 'cadastral_income', '2024-09-01', 100.00)$$,
                 '23514', NULL, 'a cadastral_income event says which amount sent it assessed (basis)');
-- Over the ceiling already (H2, 30,000.00 alone): the part counted (0 or more) cannot bring
-- it under, so a cadastral income not assessed leaves the decision final.
UPDATE inami.syst04_member SET cadastral_income = 500.00 WHERE niss = '70011000211';
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202470011000211') WHERE precedence = 1),
          'STOPSYST NOK false', 'over the ceiling, a cadastral income not assessed changes nothing: final');
UPDATE inami.syst04_member SET cadastral_income = NULL WHERE niss = '70011000211';
INSERT INTO inami.household_event (request_number, event, event_date, amount, basis, detail)
VALUES ('300202485073000160', 'cadastral_income', '2024-09-01', 4932.19, 1500.00, 'test: own home, part counted after the exemptions');
SELECT throws_ok($$INSERT INTO inami.household_event (request_number, event, event_date, amount, basis) VALUES ('300202485073000160', 'cadastral_income', '2024-09-02', 1.00, 1500.00)$$,
                 '23505', NULL, 'one assessment per household: a second is refused (update the first)');
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional || ' ' || cadastral_income
           FROM inami.systematic_candidates(2024, '300202485073000160') WHERE precedence = 1),
          'KEEPSYST OK false 4932.19', '27,000.00 + 4,932.19 = 31,932.19: one cent under the ceiling, OK');
UPDATE inami.household_event SET amount = 4932.20 WHERE detail = 'test: own home, part counted after the exemptions';
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional
           FROM inami.systematic_candidates(2024, '300202485073000160') WHERE precedence = 1),
          'STOPSYST NOK false', '27,000.00 + 4,932.20 = 31,932.20: equal to the ceiling, NOK');
CALL inami.run_systematic_control(2024);
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202485073000160', 2024) WHERE what = 'cadastral income'$$,
                  $$VALUES ('sent: 1500.00; counted by the OA: 4932.20; income for the verdict 31932.20')$$,
                  'explain_decision: the cadastral income sent and the part counted');
SELECT is((SELECT count(*) FROM inami.read_syst05(inami.syst05_document(2024, '300')::text) f
           WHERE f.request_number = '300202485073000160' AND f.reason = 'STOPSYST'), 1::bigint,
          'assessed, the decision is written');
-- An assessment changed after the run: explain says the decision counted the old one.
UPDATE inami.household_event SET amount = 4000.00, recorded_at = now() WHERE detail = 'test: own home, part counted after the exemptions';
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202485073000160', 2024) WHERE what = 'cadastral income'$$,
                  $$VALUES ('sent: 1500.00; counted by the OA: 4000.00; income for the verdict 31932.20; the decision counted 4932.20: the assessment or the amount sent changed since, CALL inami.run_systematic_control(2024) decides again')$$,
                  'explain_decision: an assessment changed after the decision');
-- Assessment and amount sent both gone since the decision: the step still says what it counted.
UPDATE inami.syst04_member SET cadastral_income = NULL WHERE niss = '85073000160';
UPDATE inami.household_event SET event = 'death', amount = NULL, basis = NULL, event_date = '2026-06-01'
WHERE detail = 'test: own home, part counted after the exemptions';
SELECT results_eq($$SELECT value FROM inami.explain_decision('300202485073000160', 2024) WHERE what = 'cadastral income'$$,
                  $$VALUES ('sent: none; counted by the OA: not assessed yet (no cadastral_income event); income for the verdict 31932.20; the decision counted 4932.20: the assessment or the amount sent changed since, CALL inami.run_systematic_control(2024) decides again')$$,
                  'explain_decision: an assessment and an amount sent both gone since the decision');
UPDATE inami.household_event SET event = 'cadastral_income', amount = 4932.20, basis = 1500.00, event_date = '2024-09-01'
WHERE detail = 'test: own home, part counted after the exemptions';
UPDATE inami.syst04_member SET cadastral_income = 1500.00 WHERE niss = '85073000160';
-- A later shipment sending another amount: the assessment no longer counts (provisional
-- again) until the OA assesses the new amount.
UPDATE inami.syst04_member SET cadastral_income = 9000.00 WHERE niss = '85073000160';
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional || ' ' || coalesce(cadastral_income::text, 'none')
           FROM inami.systematic_candidates(2024, '300202485073000160') WHERE precedence = 1),
          'KEEPSYST OK true none', 'another amount sent: the assessment made on 1,500.00 no longer counts, provisional');
UPDATE inami.household_event SET amount = 4000.00, basis = 9000.00 WHERE detail = 'test: own home, part counted after the exemptions';
SELECT is((SELECT reason || ' ' || verdict || ' ' || provisional || ' ' || cadastral_income
           FROM inami.systematic_candidates(2024, '300202485073000160') WHERE precedence = 1),
          'KEEPSYST OK false 4000.00', 'assessed again on 9,000.00: 27,000.00 + 4,000.00 = 31,000.00, OK, final');
DELETE FROM inami.household_event WHERE detail = 'test: own home, part counted after the exemptions';
UPDATE inami.syst04_member SET cadastral_income = NULL WHERE niss = '85073000160';
CALL inami.run_systematic_control(2024);

-- The proactive flow computes R3 the same way (F 2.2): a "00" without items is 0.00, a
-- child whose NISS gives only the year 2010 is under 18.
SELECT is(inami.load_flow($$<Pro01 xmlns="urn:be:inami:flows:1" year="2024" oa="300">
  <Household requestNumber="300202482050501243"><Requester niss="82050501243"/>
    <Member niss="82050501243"/><Member niss="10000000441"/></Household>
</Pro01>$$), 1::bigint, 'Pro01 loads');
SELECT is(inami.load_flow($$<Pro03 xmlns="urn:be:inami:flows:1" year="2024" incomeYear="2022" shipment="1">
  <Person niss="82050501243" returnCode="00"/>
  <Person niss="10000000441" returnCode="01"/>
</Pro03>$$), 2::bigint, 'Pro03 loads');
CALL inami.run_proactive_flow(2024);
SELECT results_eq($$SELECT request_number, code, household_size, household_total FROM inami.proactive_decision$$,
                  $$VALUES ('300202482050501243', 'OK', 2, 0.00)$$,
                  'Pro04: "00" without items is 0.00, a child born in 2010 (month and day 00) under 18: OK');

-- The control year must match across files: a Syst04 of 2025 answers no Syst01 loaded.
SELECT throws_ok($$SELECT inami.load_flow('<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2025" incomeYear="2023" shipment="1">
  <Household requestNumber="300202585073000160"><Requester niss="85073000160"/>
    <Member niss="85073000160" returnCode="01"/></Household></Syst04>')$$,
    '23503', 'Syst04 answers no household that a Syst01 of year 2025 lists', 'a Syst04 of another control year is refused');

-- Loading checks that stay: the request number must still be a NISS, the requester a member.
SELECT throws_ok($$SELECT inami.load_flow('<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="3">
  <Household requestNumber="300202460230300764"><Requester niss="60030300720"/>
    <Member niss="60030300720" returnCode="01"/></Household></Syst04>')$$,
    '22P02', 'invalid NISS in the request number', 'Syst04: a requester''s new NISS, but no NISS in the request number');
SELECT throws_ok($$SELECT inami.load_flow('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="301">
  <Household requestNumber="301202460030300720"><Requester niss="60230300763"/>
    <Member niss="60230300763"/></Household></Syst01>')$$,
    '22023', 'request number does not end with the requester''s NISS', 'Syst01: the request number ends with the requester''s NISS');

-- A member's IPCAL items are two arrays in its row, checked (inami.ipcal_items_valid).
SELECT results_eq($$SELECT niss, item_no, code, amount FROM inami.syst04_ipcal WHERE request_number = '300202485073000160'
                    ORDER BY niss, item_no$$,
                  $$VALUES ('85073000160', 1, '1250', 15000.00), ('87021100155', 1, '1250', 12500.00),
                           ('87021100155', 2, '1460', 500.00)$$, 'syst04_ipcal: one row per item, in document order');
SELECT throws_ok($$UPDATE inami.syst04_member SET ipcal_amount = '{1.00}' WHERE niss = '87021100155'$$,
                 '23514', NULL, 'items: as many amounts as codes');
SELECT throws_ok($$UPDATE inami.syst04_member SET ipcal_code = '{125,1460}' WHERE niss = '87021100155'$$,
                 '23514', NULL, 'items: codes of four digits');
SELECT throws_ok($$UPDATE inami.syst04_member SET ipcal_amount = '{1.001,2}' WHERE niss = '87021100155'$$,
                 '23514', NULL, 'items: amounts in whole cents');
SELECT throws_ok($$UPDATE inami.syst04_member SET ipcal_code = '{1250,NULL}' WHERE niss = '87021100155'$$,
                 '23514', NULL, 'items: no NULL');
SELECT throws_ok($$UPDATE inami.syst04_member SET ipcal_code = '{1250}', ipcal_amount = '{1}' WHERE niss = '10050500126'$$,
                 '23514', NULL, 'items only with return code 00 (E 4.2)');
SELECT ok(inami.ipcal_items_valid('{}', '{}') AND NOT inami.ipcal_items_valid('{{1250}}', '{{1}}'),
          'ipcal_items_valid: empty is valid, two dimensions are not');

-- Deleting the Syst04 file deletes the household it brought, and its decision.
DELETE FROM inami.flow_file WHERE kind = 'Syst04' AND shipment = 1;
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE request_number LIKE '400%'), 0::bigint,
          'deleting the Syst04 file deletes the adopted household');
SELECT is((SELECT count(*) FROM inami.control_decision WHERE request_number LIKE '400%'), 0::bigint, '... and its decision');

SELECT * FROM finish();

SET client_min_messages = warning;
DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision; DELETE FROM inami.flow_file;
DELETE FROM inami.control_run; DELETE FROM inami.ipcal_rule WHERE tax_year = 2023;
