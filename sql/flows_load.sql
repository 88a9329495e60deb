-- Data exchanges, reading: load_flow and the read_* functions on the formats of xsd/, every
-- check of the way in, the shipment loaded twice, Syst_04 shipment 2 beside shipment 1.
\set VERBOSITY default
-- The file_id in the messages below must not depend on the suites run before this one.
DO $$ BEGIN PERFORM setval(pg_get_serial_sequence('inami.flow_file', 'file_id'), 1000, false); END $$;
SELECT plan(205);

-- The documents of the tests; mutations are made with replace().
CREATE TEMP TABLE doc (name text PRIMARY KEY, x text NOT NULL);
INSERT INTO doc VALUES
('syst01', $$<?xml version="1.0" encoding="UTF-8"?>
<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">
  <!-- three households -->
  <Household requestNumber="300202485073003328">
    <Requester niss="85073003328"/>
    <Member niss="85073003328"/>
    <Member niss="01010100522"/>
  </Household>
  <Household requestNumber="300202490010100123">
    <Requester niss="90010100123"/>
    <Member niss="90010100123"/>
    <Member niss="92020200538"/>
    <Member niss="15060700772"/>
  </Household>
  <Household requestNumber="300202470030300736">
    <Requester niss="70030300736"/>
    <Member niss="70030300736"/>
  </Household>
</Syst01>$$),
('syst04_1', $$<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1">
  <Household requestNumber="300202485073003328">
    <Requester niss="85073003328"/>
    <HouseholdTotal>27000.00</HouseholdTotal>
    <Member niss="85073003328" returnCode="00">
      <TaxSheet>0123456789</TaxSheet>
      <Ipcal code="1250" amount="15000.00"/>
      <Ipcal code="1460" amount="-12.5"/>
      <CadastralIncome>0.00</CadastralIncome>
      <PersonalTotal>14987.50</PersonalTotal>
    </Member>
    <Member niss="01010100522" returnCode="00">
      <Ipcal code="1250" amount="12012.50"/>
    </Member>
  </Household>
  <Household requestNumber="300202490010100123">
    <Requester niss="90010100123"/>
    <Member niss="90010100123" returnCode="00"><Ipcal code="1250" amount="20000"/></Member>
    <Member niss="92020200538" returnCode="03"/>
    <Member niss="15060700772" returnCode="00"/>
  </Household>
</Syst04>$$),
('syst04_2', $$<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="2">
  <Household requestNumber="300202490010100123">
    <Requester niss="90010100123"/>
    <HouseholdTotal>26500.10</HouseholdTotal>
    <Member niss="90010100123" returnCode="00"><Ipcal code="1250" amount="20000"/></Member>
    <Member niss="92020200538" returnCode="00"><Ipcal code="1250" amount="6500.1"/></Member>
    <Member niss="15060700772" returnCode="00"/>
  </Household>
  <Household requestNumber="300202470030300736">
    <Requester niss="70030300736"/>
    <Member niss="70030300736" returnCode="11"/>
  </Household>
</Syst04>$$),
('syst05', $$<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">
  <Feedback requestNumber="300202485073003328" reason="KEEPSYST" rightEnd="2025-12-31"/>
  <Feedback requestNumber="300202490010100123" reason="STOPSYST" rightEnd="2024-12-31"/>
</Syst05>$$),
('pro01', $$<Pro01 xmlns="urn:be:inami:flows:1" year="2024" oa="300">
  <Household requestNumber="300202470030300736">
    <Requester niss="70030300736"/>
    <Member niss="70030300736"/>
    <Member niss="03040500661"/>
  </Household>
</Pro01>$$),
('pro03', $$<Pro03 xmlns="urn:be:inami:flows:1" year="2024" incomeYear="2022" shipment="1">
  <Person niss="70030300736" returnCode="00"><Ipcal code="1250" amount="9000.99"/><Ipcal code="1250" amount="1"/></Person>
  <Person niss="03040500661" returnCode="04"/>
</Pro03>$$),
('pro04', $$<Pro04 xmlns="urn:be:inami:flows:1" year="2024" shipment="1">
  <Result requestNumber="300202470030300736" code="ONHOLD"/>
</Pro04>$$);

CREATE FUNCTION pg_temp.d(n text) RETURNS text LANGUAGE sql AS $$ SELECT x FROM doc WHERE name = n $$;

-- The readers load nothing and say what is in the documents.
SELECT is((SELECT count(*) FROM inami.read_syst01(pg_temp.d('syst01'))), 6::bigint, 'read_syst01: one row per member');
SELECT results_eq($$SELECT request_number, requester_niss, niss, line FROM inami.read_syst01(pg_temp.d('syst01')) WHERE request_number LIKE '%85073003328'$$,
                  $$VALUES ('300202485073003328', '85073003328', '85073003328', 6), ('300202485073003328', '85073003328', '01010100522', 7)$$,
                  'read_syst01: the members with their lines');
SELECT results_eq($$SELECT niss, return_code, household_total, tax_sheet, cadastral_income, personal_total, item_no, ipcal_code, ipcal_amount
                    FROM inami.read_syst04(pg_temp.d('syst04_1')) WHERE request_number = '300202485073003328'$$,
                  $$VALUES ('85073003328', '00', 27000.00, '0123456789', 0.00, 14987.50, 1, '1250', 15000.00),
                           ('85073003328', '00', 27000.00, '0123456789', 0.00, 14987.50, 2, '1460', -12.50),
                           ('01010100522', '00', 27000.00, NULL, NULL, NULL, 1, '1250', 12012.50)$$,
                  'read_syst04: one row per member and IPCAL item, amounts exact');
SELECT results_eq($$SELECT niss, return_code, item_no, ipcal_code FROM inami.read_syst04(pg_temp.d('syst04_1')) WHERE request_number = '300202490010100123'$$,
                  $$VALUES ('90010100123', '00', 1, '1250'), ('92020200538', '03', NULL, NULL), ('15060700772', '00', NULL, NULL)$$,
                  'read_syst04: a member without items gives one row, items NULL');
SELECT results_eq($$SELECT DISTINCT control_year, income_year, shipment FROM inami.read_syst04(pg_temp.d('syst04_2'))$$,
                  $$VALUES (2024, 2022, 2)$$, 'read_syst04: the header columns');
SELECT results_eq($$SELECT request_number, reason, right_end FROM inami.read_syst05(pg_temp.d('syst05'))$$,
                  $$VALUES ('300202485073003328', 'KEEPSYST', '2025-12-31'::date), ('300202490010100123', 'STOPSYST', '2024-12-31'::date)$$,
                  'read_syst05: reason and end of the right');
SELECT results_eq($$SELECT year, oa, niss FROM inami.read_pro01(pg_temp.d('pro01'))$$,
                  $$VALUES (2024, '300', '70030300736'), (2024, '300', '03040500661')$$, 'read_pro01');
SELECT results_eq($$SELECT niss, return_code, item_no, ipcal_amount FROM inami.read_pro03(pg_temp.d('pro03'))$$,
                  $$VALUES ('70030300736', '00', 1, 9000.99), ('70030300736', '00', 2, 1.00), ('03040500661', '04', NULL, NULL)$$,
                  'read_pro03: one row per person and item');
SELECT results_eq($$SELECT year, shipment, request_number, code FROM inami.read_pro04(pg_temp.d('pro04'))$$,
                  $$VALUES (2024, 1, '300202470030300736', 'ONHOLD')$$, 'read_pro04');
SELECT is((SELECT count(*) FROM inami.flow_file), 0::bigint, 'the readers loaded nothing');
SELECT throws_ok($$SELECT * FROM inami.read_syst04(pg_temp.d('syst01'))$$, '2200N', 'document is a Syst01, not a Syst04',
                 'a reader refuses another kind');
SELECT is((SELECT count(*) FROM inami.read_syst01(NULL)), 0::bigint, 'read_syst01 is STRICT: NULL in, no rows');
SELECT is((SELECT count(*) FROM inami.read_syst01('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>')),
          0::bigint, 'an empty Syst01 reads as no rows');

-- A Syst_04 none of whose households a loaded Syst_01 of its control year lists (before its
-- Syst_01, or of another year) is refused, nothing loaded. (Some unlisted households among
-- listed ones load, with a NOTICE: the CIN filter, E 2.3; see control_scenario.)
SELECT throws_ok($$SELECT inami.load_flow(pg_temp.d('syst04_1'))$$, '23503', 'Syst04 answers no household that a Syst01 of year 2024 lists',
                 'a Syst04 answering no loaded Syst01 household');
SELECT is((SELECT count(*) FROM inami.flow_file), 0::bigint, 'nothing loaded');
SELECT is((SELECT count(*) FROM inami.syst04_member), 0::bigint, 'no member loaded');

-- Loading, in the order of the control year.
SELECT is(inami.load_flow(pg_temp.d('syst01')), 3::bigint, 'Syst01: three households loaded');
SELECT is((SELECT count(*) FROM inami.syst01_member), 6::bigint, 'Syst01: six members');
SELECT results_eq($$SELECT kind, year, oa, income_year, shipment, source_name, record_count FROM inami.flow_file$$,
                  $$VALUES ('Syst01', 2024, '300', NULL::int, NULL::int, 'load_flow', 3::bigint)$$,
                  'Syst01: one flow_file row saying what was loaded');
SELECT is(inami.load_flow(pg_temp.d('syst04_1')), 2::bigint, 'Syst04 shipment 1: two households');
SELECT is(inami.load_flow(pg_temp.d('syst04_2')), 2::bigint, 'Syst04 shipment 2: two households');
SELECT results_eq($$SELECT request_number, shipment, household_total FROM inami.syst04_household ORDER BY 1, 2$$,
                  $$VALUES ('300202470030300736', 2, NULL::numeric), ('300202485073003328', 1, 27000.00),
                           ('300202490010100123', 1, NULL), ('300202490010100123', 2, 26500.10)$$,
                  'both shipments are kept');
SELECT results_eq($$SELECT request_number, shipment FROM inami.syst04_answer ORDER BY 1$$,
                  $$VALUES ('300202470030300736', 2), ('300202485073003328', 1), ('300202490010100123', 2)$$,
                  'syst04_answer: the latest shipment of each household counts');
SELECT results_eq($$SELECT niss, item_no, code, amount FROM inami.syst04_ipcal WHERE shipment = 1 ORDER BY niss, item_no$$,
                  $$VALUES ('01010100522', 1, '1250', 12012.50), ('85073003328', 1, '1250', 15000.00),
                           ('85073003328', 2, '1460', -12.50), ('90010100123', 1, '1250', 20000.00)$$,
                  'IPCAL items in document order, amounts exact (12.5 is 12.50, 20000 is 20000.00)');
SELECT results_eq($$SELECT tax_sheet, cadastral_income, personal_total FROM inami.syst04_member WHERE niss = '85073003328'$$,
                  $$VALUES ('0123456789', 0.00, 14987.50)$$, 'the optional member values');
SELECT results_eq($$SELECT return_code FROM inami.syst04_member WHERE request_number = '300202470030300736'$$,
                  $$VALUES ('11')$$, 'a return code not yet processed');
SELECT is(inami.load_flow(pg_temp.d('syst05')), 2::bigint, 'Syst05: two feedbacks');
SELECT results_eq($$SELECT request_number, oa, reason, right_end FROM inami.syst05_feedback_received ORDER BY 1$$,
                  $$VALUES ('300202485073003328', '300', 'KEEPSYST', '2025-12-31'::date), ('300202490010100123', '300', 'STOPSYST', '2024-12-31'::date)$$,
                  'Syst05 as received');
SELECT throws_ok($$SELECT inami.load_flow(pg_temp.d('pro03'))$$, '23503', 'Pro03 of year 2024 answers no loaded Pro01',
                 'a Pro03 before any Pro01 of its year');
SELECT is(inami.load_flow(pg_temp.d('pro01')), 1::bigint, 'Pro01: one household');
SELECT is(inami.load_flow(pg_temp.d('pro03')), 2::bigint, 'Pro03: two persons');
SELECT results_eq($$SELECT niss, item_no, amount FROM inami.pro03_ipcal ORDER BY 1, 2$$,
                  $$VALUES ('70030300736', 1, 9000.99), ('70030300736', 2, 1.00)$$, 'Pro03 items');
SELECT is(inami.load_flow(pg_temp.d('pro04')), 1::bigint, 'Pro04: one result');
SELECT results_eq($$SELECT year, shipment, request_number, code FROM inami.pro04_result_received$$,
                  $$VALUES (2024, 1, '300202470030300736', 'ONHOLD')$$, 'Pro04 as received');
SELECT throws_ok($$SELECT inami.load_flow(replace(pg_temp.d('pro04'), '300202470030300736', '300202485073003328'))$$,
                 '23505', NULL, 'Pro04 for the same shipment again is refused');
SELECT results_eq($$SELECT kind, record_count FROM inami.flow_file ORDER BY file_id$$,
                  $$VALUES ('Syst01', 3::bigint), ('Syst04', 2), ('Syst04', 2), ('Syst05', 2), ('Pro01', 1), ('Pro03', 2), ('Pro04', 1)$$,
                  'one flow_file row per load');

-- The same shipment twice: refused, nothing doubled; replaced by deleting its file first.
SELECT throws_ok($$SELECT inami.load_flow(pg_temp.d('syst04_1'))$$, '23505', 'this Syst04 shipment is already loaded',
                 'Syst04 shipment 1 again is refused');
SELECT throws_ok($$SELECT inami.load_flow(pg_temp.d('syst01'))$$, '23505', 'this Syst01 shipment is already loaded',
                 'Syst01 again is refused');
SELECT is((SELECT count(*) FROM inami.syst04_household), 4::bigint, 'nothing doubled');
SELECT lives_ok($$DELETE FROM inami.flow_file WHERE kind = 'Syst04' AND shipment = 1$$, 'deleting the file of shipment 1 deletes what it loaded');
SELECT is((SELECT count(*) FROM inami.syst04_ipcal WHERE shipment = 1), 0::bigint, 'its items are gone');
SELECT is(inami.load_flow(pg_temp.d('syst04_1')), 2::bigint, 'then it loads again (a replacement)');
SELECT is((SELECT count(*) FROM inami.syst04_household), 4::bigint, 'and the households are there once');

-- A received Syst_05 or Pro_04 belongs to its household: deleting the Syst_01 or Pro_01
-- file that listed the household deletes what was received for it, no orphan is left.
CREATE FUNCTION pg_temp.pro04_left_after_pro01_deleted() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM inami.flow_file WHERE kind = 'Pro01';
    SELECT count(*) INTO n FROM inami.pro04_result_received;
    RAISE EXCEPTION USING MESSAGE = n::text;  -- and undo the deletion
EXCEPTION WHEN raise_exception THEN
    RETURN SQLERRM::bigint;
END;
$$;
SELECT is(pg_temp.pro04_left_after_pro01_deleted(), 0::bigint, 'deleting the Pro01 file deletes the Pro04 results of its households');
DELETE FROM inami.flow_file WHERE kind = 'Syst01';
SELECT is((SELECT count(*) FROM inami.syst05_feedback_received), 0::bigint, 'deleting the Syst01 file deletes the Syst05 feedback of its households');
SELECT throws_ok($$INSERT INTO inami.syst05_feedback_received VALUES (2024, '300202485073003328', '300', 'KEEPSYST', '2025-12-31',
                                                                       (SELECT file_id FROM inami.flow_file WHERE kind = 'Syst05'))$$,
                 '23503', NULL, 'a feedback for a household no Syst01 lists cannot be written by hand either');

-- The checks of the way in: each a clear error, nothing loaded (the counts do not move).
CREATE TEMP TABLE before AS SELECT (SELECT count(*) FROM inami.flow_file) AS files,
    (SELECT count(*) FROM inami.syst01_member) AS s1, (SELECT count(*) FROM inami.syst04_ipcal) AS s4;
-- Loaded files of the kinds under test are removed first (a loaded shipment is refused
-- before any check); Pro01 stays, Pro03 needs it.
DELETE FROM inami.flow_file WHERE kind <> 'Pro01';
CREATE TEMP TABLE bad (test text, doc text, sqlstate text, message text);
INSERT INTO bad VALUES
('NISS check digits', replace(pg_temp.d('syst01'), '<Member niss="01010100522"/>', '<Member niss="01010100523"/>'), '22P02', 'invalid NISS'),
('NISS of 10 digits', replace(pg_temp.d('syst01'), '<Member niss="01010100522"/>', '<Member niss="0101010052"/>'), '22P02', 'invalid NISS'),
('requester NISS check digits', replace(pg_temp.d('syst01'), '<Requester niss="70030300736"/>', '<Requester niss="70030300737"/>'), '22P02', 'invalid NISS'),
('request number of 17 digits', replace(pg_temp.d('syst01'), '300202470030300736', '30020247003030073'), '22P02', 'invalid request number'),
('request number with letters', replace(pg_temp.d('syst01'), '"300202470030300736"', '"30020247003030073x"'), '22P02', 'invalid request number'),
('request number of another year', replace(pg_temp.d('syst01'), '"300202470030300736"', '"300202370030300736"'), '22023', 'request number of another year'),
('request number of another OA', replace(pg_temp.d('syst01'), '"300202470030300736"', '"301202470030300736"'), '22023', 'request number of another OA'),
('request number not the requester''s', replace(pg_temp.d('syst01'), '<Requester niss="70030300736"/>', '<Requester niss="85073003328"/>'), '22023', 'request number does not end with the requester''s NISS'),
('requester not among the members', replace(pg_temp.d('syst01'), '<Member niss="70030300736"/>', '<Member niss="03040500661"/>'), '22023', 'requester not listed among the members'),
('household without requester', replace(pg_temp.d('syst01'), '<Requester niss="70030300736"/>', ''), '2200N', 'household without a requester'),
('two requesters', replace(pg_temp.d('syst01'), '<Requester niss="70030300736"/>', '<Requester niss="70030300736"/><Requester niss="70030300736"/>'), '2200N', 'second requester'),
('member twice', replace(pg_temp.d('syst01'), '<Member niss="70030300736"/>', '<Member niss="70030300736"/><Member niss="70030300736"/>'), '23505', 'member listed twice'),
('the same household twice', replace(pg_temp.d('syst01'), '</Syst01>', '<Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>'), '23505', 'the same household twice in a file'),
('missing controlYear', replace(pg_temp.d('syst01'), 'controlYear="2024" ', ''), '2200N', 'missing attribute'),
('missing oa', replace(pg_temp.d('syst01'), ' oa="300"', ''), '2200N', 'missing attribute'),
('OA of two digits', replace(pg_temp.d('syst01'), 'oa="300"', 'oa="30"'), '22P02', 'invalid OA code'),
('control year out of range', replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="1024"'), '22P02', 'invalid attribute value'),
('missing requestNumber', replace(pg_temp.d('syst01'), 'Household requestNumber="300202470030300736"', 'Household'), '2200N', 'missing attribute'),
('missing niss', replace(pg_temp.d('syst01'), '<Member niss="70030300736"/>', '<Member/>'), '2200N', 'missing attribute'),
('household without members', replace(pg_temp.d('syst01'), '<Member niss="70030300736"/>', ''), '2200N', 'household without members'),
('incomeYear not controlYear - 2', replace(pg_temp.d('syst04_1'), 'incomeYear="2022"', 'incomeYear="2023"'), '22023', 'incomeYear must be the year minus 2'),
('shipment 0', replace(pg_temp.d('syst04_1'), 'shipment="1"', 'shipment="0"'), '22P02', 'invalid attribute value'),
('missing shipment', replace(pg_temp.d('syst04_1'), ' shipment="1"', ''), '2200N', 'missing attribute'),
('amount with a comma', replace(pg_temp.d('syst04_1'), '15000.00', '15000,00'), '22P02', 'invalid amount'),
('amount with three decimals', replace(pg_temp.d('syst04_1'), '15000.00', '15000.001'), '22P02', 'invalid amount'),
('amount with an exponent', replace(pg_temp.d('syst04_1'), '15000.00', '1.5E4'), '22P02', 'invalid amount'),
('amount with a plus', replace(pg_temp.d('syst04_1'), '15000.00', '+15000.00'), '22P02', 'invalid amount'),
('amount ending with a dot', replace(pg_temp.d('syst04_1'), '15000.00', '15000.'), '22P02', 'invalid amount'),
('amount with a thousands separator', replace(pg_temp.d('syst04_1'), '15000.00', '15 000.00'), '22P02', 'invalid amount'),
('amount of 16 digits', replace(pg_temp.d('syst04_1'), '15000.00', '1234567890123456'), '22003', 'amount out of range'),
('empty amount', replace(pg_temp.d('syst04_1'), '<CadastralIncome>0.00</CadastralIncome>', '<CadastralIncome> </CadastralIncome>'), '22P02', 'empty value'),
('empty element', replace(pg_temp.d('syst04_1'), '<CadastralIncome>0.00</CadastralIncome>', '<CadastralIncome/>'), '22P02', 'empty value'),
('bad household total', replace(pg_temp.d('syst04_1'), '27000.00', '27000.0.0'), '22P02', 'invalid amount'),
('household total twice', replace(pg_temp.d('syst04_1'), '<HouseholdTotal>27000.00</HouseholdTotal>', '<HouseholdTotal>27000.00</HouseholdTotal><HouseholdTotal>1</HouseholdTotal>'), '2200N', 'second HouseholdTotal'),
('household total with an unknown member', replace(replace(pg_temp.d('syst04_1'), '<Member niss="01010100522" returnCode="00">', '<Member niss="01010100522" returnCode="03">'), '<Ipcal code="1250" amount="12012.50"/>', ''), '22023', 'household total with a member whose income is not known'),
('return code of one digit', replace(pg_temp.d('syst04_1'), 'returnCode="03"', 'returnCode="3"'), '22P02', 'invalid return code'),
('return code with a letter', replace(pg_temp.d('syst04_1'), 'returnCode="03"', 'returnCode="0A"'), '22P02', 'invalid return code'),
('IPCAL item with return code 03', replace(pg_temp.d('syst04_1'), '<Member niss="92020200538" returnCode="03"/>', '<Member niss="92020200538" returnCode="03"><Ipcal code="1250" amount="1.00"/></Member>'), '22023', 'IPCAL item with a return code other than 00'),
('IPCAL code of three digits', replace(pg_temp.d('syst04_1'), 'code="1460"', 'code="146"'), '22P02', 'invalid IPCAL code'),
('IPCAL without amount', replace(pg_temp.d('syst04_1'), '<Ipcal code="1460" amount="-12.5"/>', '<Ipcal code="1460"/>'), '2200N', 'missing attribute'),
('tax sheet with a space', replace(pg_temp.d('syst04_1'), '0123456789', '0123 456789'), '22P02', 'invalid tax sheet number'),
('member element twice', replace(pg_temp.d('syst04_1'), '<CadastralIncome>0.00</CadastralIncome>', '<CadastralIncome>0.00</CadastralIncome><CadastralIncome>0.00</CadastralIncome>'), '2200N', 'element given twice'),
('Syst04 requester not among the members', replace(pg_temp.d('syst04_2'), '<Member niss="70030300736" returnCode="11"/>', '<Member niss="03040500661" returnCode="11"/>'), '22023', 'requester not listed among the members'),
('Syst05 rightEnd not a date', replace(pg_temp.d('syst05'), '2025-12-31', '2025-02-30'), '22007', 'invalid date'),
('Syst05 rightEnd not ISO', replace(pg_temp.d('syst05'), '2025-12-31', '31/12/2025'), '22007', 'invalid date'),
('Syst05 without rightEnd', replace(pg_temp.d('syst05'), ' rightEnd="2025-12-31"', ''), '2200N', 'missing attribute'),
('member elements out of order', replace(replace(pg_temp.d('syst04_1'), '<CadastralIncome>0.00</CadastralIncome>', ''), '<PersonalTotal>14987.50</PersonalTotal>', '<PersonalTotal>14987.50</PersonalTotal><CadastralIncome>0.00</CadastralIncome>'), '2200N', 'element out of order'),
('requester after a member', replace(replace(pg_temp.d('syst01'), '<Requester niss="70030300736"/>', ''), '<Member niss="70030300736"/>', '<Member niss="70030300736"/><Requester niss="70030300736"/>'), '2200N', 'element out of order'),
('household total after the members', replace(replace(pg_temp.d('syst04_2'), '<HouseholdTotal>26500.10</HouseholdTotal>', ''), '<Member niss="15060700772" returnCode="00"/>', '<Member niss="15060700772" returnCode="00"/><HouseholdTotal>26500.10</HouseholdTotal>'), '2200N', 'element out of order'),
('Syst05 unknown reason', replace(pg_temp.d('syst05'), 'STOPSYST', 'STOP'), '22P02', 'invalid feedback reason'),
('Syst05 request number with a bad NISS', replace(pg_temp.d('syst05'), '300202490010100123', '300202490010100124'), '22P02', 'invalid NISS in the request number'),
('Pro04 unknown code', replace(pg_temp.d('pro04'), 'ONHOLD', 'MAYBE'), '22P02', 'invalid result code'),
('Pro03 person NISS', replace(pg_temp.d('pro03'), '03040500661', '03040500662'), '22P02', 'invalid NISS'),
('Pro03 IPCAL with return code 04', replace(pg_temp.d('pro03'), '<Person niss="03040500661" returnCode="04"/>', '<Person niss="03040500661" returnCode="04"><Ipcal code="1250" amount="1"/></Person>'), '22023', 'IPCAL item with a return code other than 00'),
('Pro01 request number of another OA', replace(pg_temp.d('pro01'), 'oa="300"', 'oa="301"'), '22023', 'request number of another OA');

-- Each through load_flow and through its reader.
SELECT throws_ok(format('SELECT inami.load_flow(%L)', doc), sqlstate, message, 'load_flow: ' || test) FROM bad ORDER BY test;
SELECT throws_ok(format('SELECT * FROM inami.read_%s(%L)', lower(substring(doc from '<(Syst0[145]|Pro0[134]) ')), doc),
                 sqlstate, message, 'read_*: ' || test) FROM bad ORDER BY test;
SELECT is((SELECT count(*) FROM inami.flow_file), 1::bigint, 'after every refused document, only the Pro01 file is there');
SELECT is((SELECT count(*) FROM inami.syst01_household) + (SELECT count(*) FROM inami.syst04_household)
          + (SELECT count(*) FROM inami.syst05_feedback_received), 0::bigint, 'and no row of any refused document');

-- The checks against the database, made per batch of 5,000 records: every household a
-- Syst05 or Pro04 answers is loaded, and no household is loaded already, by another file
-- or by an earlier batch of the same file.
SELECT throws_ok($$SELECT inami.load_flow(pg_temp.d('syst05'))$$, '23503',
                 'Syst05 answers a household that no Syst01 of year 2024 lists', 'a Syst05 of a household no Syst01 lists');
SELECT throws_ok($$SELECT inami.load_flow(replace(pg_temp.d('pro04'), '300202470030300736', '300202485073003328'))$$, '23503',
                 'Pro04 answers a household that no Pro01 of year 2024 lists', 'a Pro04 of a household no Pro01 lists');
-- 5,001 households of valid NISS (born in 1970, check digits 97 - n mod 97).
CREATE TEMP TABLE big AS
SELECT i, n || lpad((97 - n::bigint % 97)::text, 2, '0') AS niss
FROM generate_series(1, 5001) i,
     LATERAL (SELECT to_char(date '1970-01-01' + i % 300, 'YYMMDD') || lpad((i / 300 + 1)::text, 3, '0') AS n) s;
CREATE FUNCTION pg_temp.big_household(k int) RETURNS text LANGUAGE sql AS $$
    SELECT format('<Household requestNumber="3002024%s"><Requester niss="%s"/><Member niss="%s"/></Household>', niss, niss, niss)
    FROM big WHERE i = k $$;
INSERT INTO doc SELECT 'syst01_big', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">'
    || string_agg(pg_temp.big_household(i), '' ORDER BY i) || '</Syst01>' FROM big;
SELECT throws_ok($$SELECT inami.load_flow(replace(pg_temp.d('syst01_big'), '</Syst01>', pg_temp.big_household(1) || '</Syst01>'))$$,
                 '23505', 'the same household twice in a file', 'the same household in two batches of one file (records 1 and 5,002)');
SELECT is((SELECT count(*) FROM inami.syst01_household), 0::bigint, 'nothing of that file is loaded');
-- Lines past 65,535 (libxml2 keeps a node's line in 16 bits): the parser's own line, at
-- most a few hundred bytes past the record. Household k begins on line 2 + 14 (k - 1).
DO $$
DECLARE
    doc text := '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || E'\n'
        || (SELECT string_agg(pg_temp.big_household(i) || repeat(E'\n', 14), '' ORDER BY i) FROM big) || '</Syst01>';
    detail text;
BEGIN
    doc := replace(doc, format('<Member niss="%s"/>', (SELECT niss FROM big WHERE i = 5000)), '<Member niss="85073003327"/>');
    PERFORM count(*) FROM inami.read_syst01(doc);
EXCEPTION WHEN invalid_text_representation THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    CREATE TEMP TABLE late_line AS SELECT (regexp_match(detail, 'Line (\d+)'))[1]::int AS line;
END $$;
SELECT ok((SELECT line BETWEEN 69988 AND 69988 + 100 FROM late_line),
          'an error on line 69,988 names a line near it (not 65,535)');

-- A trigger on a table being loaded may load another document: the loads nest.
CREATE FUNCTION pg_temp.load_pro01_2025() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.niss = (SELECT niss FROM big WHERE i = 2) THEN
        PERFORM inami.load_flow(replace(replace(pg_temp.d('pro01'), 'year="2024"', 'year="2025"'), '3002024', '3002025'));
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER load_pro01_2025 BEFORE INSERT ON inami.syst01_member
    FOR EACH ROW EXECUTE FUNCTION pg_temp.load_pro01_2025();
SELECT is(inami.load_flow(pg_temp.d('syst01_big')), 5001::bigint, 'without the repeat, its 5,001 households load, in two batches');
SELECT is((SELECT count(*) FROM inami.syst01_member), 5001::bigint, 'with their members');
SELECT results_eq($$SELECT kind, year, record_count FROM inami.flow_file WHERE year = 2025$$,
                  $$VALUES ('Pro01', 2025, 1::bigint)$$, 'and the Pro01 a trigger loaded in the middle of them');
DROP TRIGGER load_pro01_2025 ON inami.syst01_member;
DELETE FROM inami.flow_file WHERE year = 2025;
-- A Syst04 household is checked by the primary key alone: a repeat in a later batch.
CREATE FUNCTION pg_temp.big_answer(k int) RETURNS text LANGUAGE sql AS $$
    SELECT format('<Household requestNumber="3002024%s"><Requester niss="%s"/><Member niss="%s" returnCode="03"/></Household>', niss, niss, niss)
    FROM big WHERE i = k $$;
SELECT throws_ok(format('SELECT inami.load_flow(%L)',
                        '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1">'
                        || (SELECT string_agg(pg_temp.big_answer(i), '' ORDER BY i) FROM big) || pg_temp.big_answer(3) || '</Syst04>'),
                 '23505', 'the same household twice in Syst04 shipment 1 of control year 2024',
                 'a Syst04 household repeated in a later batch of the file');
SELECT is((SELECT count(*) FROM inami.syst04_household), 0::bigint, 'nothing of that Syst04 is loaded');
SELECT is(inami.load_flow(format('<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Feedback requestNumber="3002024%s" reason="KEEPSYST" rightEnd="2025-12-31"/></Syst05>',
                                 (SELECT niss FROM big WHERE i = 5001))), 1::bigint, 'a Syst05 of the household of the second batch');
SELECT throws_ok(format($$SELECT inami.load_flow('<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="301"><Feedback requestNumber="3002024%s" reason="STOPSYST" rightEnd="2024-12-31"/></Syst05>')$$,
                        (SELECT niss FROM big WHERE i = 5001)),
                 '23505', format('household 3002024%s of year 2024 is already loaded', (SELECT niss FROM big WHERE i = 5001)),
                 'the same feedback in a file of another OA: already loaded');
DELETE FROM inami.flow_file WHERE kind IN ('Syst01', 'Syst05');

-- Privileges and volatility.
SELECT ok(NOT has_function_privilege('public', 'inami.load_flow_file(text)', 'EXECUTE'), 'load_flow_file is not for PUBLIC');
SELECT ok(has_function_privilege('pg_read_server_files', 'inami.load_flow_file(text)', 'EXECUTE'), 'load_flow_file is for pg_read_server_files');
SELECT is((SELECT count(*) FROM pg_proc WHERE proname LIKE 'read\_%' AND pronamespace = 'inami'::regnamespace
           AND provolatile = 'i' AND proparallel = 's' AND proisstrict), 6::bigint, 'the six readers are IMMUTABLE, PARALLEL SAFE, STRICT');
SELECT is((SELECT count(*) FROM pg_proc WHERE pronamespace = 'inami'::regnamespace AND prosecdef), 0::bigint, 'no SECURITY DEFINER');

-- The progress setting, inami.flow_progress_every: an integer the library registers, 0 for
-- no NOTICE; the prefix inami is reserved, so a misspelt setting is an error, not a placeholder.
SELECT results_eq($$SELECT vartype, min_val, max_val, boot_val, context FROM pg_settings WHERE name = 'inami.flow_progress_every'$$,
                  $$VALUES ('integer', '0', '2147483647', '100000', 'user')$$,
                  'inami.flow_progress_every: an integer, 0 and up, 100,000 by default, for any user');
SELECT is(current_setting('inami.flow_progress_every'), '100000', 'a NOTICE every 100,000 records unless set');
SELECT throws_ok('SET inami.flow_progress_every = -5', '22023',
                 '-5 is outside the valid range for parameter "inami.flow_progress_every" (0 .. 2147483647)',
                 'a negative interval is refused');
SELECT throws_ok($$SET inami.flow_progress_every = 'often'$$, '22023',
                 'invalid value for parameter "inami.flow_progress_every": "often"', 'so is a word');
SELECT throws_ok('SET inami.flow_progres_every = 5', '42602', 'invalid configuration parameter name "inami.flow_progres_every"',
                 'a misspelt inami setting is refused');
SELECT lives_ok('SET inami.flow_progress_every = 0', '0 (no NOTICE) is taken');
SELECT is(current_setting('inami.flow_progress_every'), '0', 'and kept');
RESET inami.flow_progress_every;

-- Foreign keys: a loaded row's key to a row the load wrote itself (its inami.flow_file row,
-- a member's household) is not checked row by row, since it cannot fail: no household is
-- locked for its members (a per-row check locks the row it finds: FOR KEY SHARE sets xmax).
-- A trigger of the user on a loaded table sends the rows through COPY's own path, every
-- trigger and check with them; outside the loader every foreign key is checked as always.
SELECT is(inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2028"'), '3002024', '3002028')),
          3::bigint, 'a Syst01 of 2028 loads');
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2028 AND xmax <> '0'), 0::bigint,
          'the loader locks no household for its members: their foreign key is not checked row by row');
CREATE TABLE public.loaded_rows (niss text);
CREATE FUNCTION public.note_loaded_row() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN INSERT INTO public.loaded_rows VALUES (NEW.niss); RETURN NULL; END $$;
CREATE TRIGGER note_loaded_row AFTER INSERT ON inami.syst01_member FOR EACH ROW EXECUTE FUNCTION public.note_loaded_row();
SELECT is(inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2029"'), '3002024', '3002029')),
          3::bigint, 'with a trigger of the user on syst01_member, a Syst01 of 2029 loads');
SELECT is((SELECT count(*) FROM public.loaded_rows), 6::bigint, 'the user''s trigger fired for each of the six members');
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2029 AND xmax <> '0'), 3::bigint,
          'and every member''s foreign key was checked row by row (each household locked)');
SELECT throws_ok($$INSERT INTO inami.syst01_member VALUES (2030, '300203090010100123', '90010100123')$$, '23503', NULL,
                 'a plain INSERT of a member without its household is refused by the foreign key');
SELECT throws_ok($$INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
                   VALUES (2028, '300202890010100123', 1, 2026, '90010100123', -1)$$, '23503', NULL,
                 'a plain INSERT of a Syst04 household without its file is refused by the foreign key');
-- A CHECK of a loaded table holds on the loader's rows (here one that only the table knows).
ALTER TABLE inami.syst01_member ADD CONSTRAINT not_this_member CHECK (niss <> '92020200538') NOT VALID;
DROP TRIGGER note_loaded_row ON inami.syst01_member;
SELECT throws_ok($$SELECT inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2030"'), '3002024', '3002030'))$$,
                 '23514', 'new row for relation "syst01_member" violates check constraint "not_this_member"',
                 'a CHECK of a loaded table refuses the loader''s row');
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2030), 0::bigint, 'and nothing of the file stays');
ALTER TABLE inami.syst01_member DROP CONSTRAINT not_this_member;
DROP FUNCTION public.note_loaded_row();
DROP TABLE public.loaded_rows;
-- A trigger of the user on the household table (here one that drops every household): the
-- members' foreign key is checked row by row again, and the load fails rather than leave
-- members without their household.
CREATE FUNCTION public.drop_household() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
CREATE TRIGGER drop_household BEFORE INSERT ON inami.syst01_household FOR EACH ROW EXECUTE FUNCTION public.drop_household();
SELECT throws_ok($$SELECT inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2031"'), '3002024', '3002031'))$$,
                 '23503', NULL, 'a user''s trigger drops the households: the members'' foreign key refuses the members');
DROP TRIGGER drop_household ON inami.syst01_household;
DROP FUNCTION public.drop_household();
-- A loaded table that a DBA made a partition of another: COPY's own path, which checks the
-- partition's constraint, every foreign key checked row by row.
CREATE TABLE public.members_by_year (LIKE inami.syst01_member) PARTITION BY LIST (control_year);
ALTER TABLE public.members_by_year ATTACH PARTITION inami.syst01_member DEFAULT;
SELECT is(inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2033"'), '3002024', '3002033')),
          3::bigint, 'with syst01_member a partition, a Syst01 of 2033 loads');
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2033 AND xmax <> '0'), 3::bigint,
          'and every member''s foreign key was checked row by row (each household locked)');
ALTER TABLE public.members_by_year DETACH PARTITION inami.syst01_member;
DROP TABLE public.members_by_year;
DELETE FROM inami.flow_file WHERE year = 2033;
-- Columns a DBA changed. A column added with a default gets it on the loader's rows, as
-- COPY gives it; a column of another type (a smaller integer, a domain) gets the loader's
-- value through its text and the type's input function, as COPY would, checks included.
ALTER TABLE inami.syst01_member ADD COLUMN noted_by name DEFAULT current_user;
SELECT is(inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2034"'), '3002024', '3002034')),
          3::bigint, 'with a column added with a default, a Syst01 of 2034 loads');
SELECT is((SELECT count(*) FROM inami.syst01_member WHERE control_year = 2034 AND noted_by = current_user), 6::bigint,
          'and each of its six members has the column''s default');
ALTER TABLE inami.syst01_member DROP COLUMN noted_by;
ALTER TABLE inami.syst05_feedback_received ALTER COLUMN control_year TYPE smallint;
SELECT is(inami.load_flow(replace(replace(pg_temp.d('syst05'), 'controlYear="2024"', 'controlYear="2034"'), '3002024', '3002034')),
          2::bigint, 'with its control year a smallint, a Syst05 of 2034 loads');
SELECT results_eq($$SELECT control_year, pg_typeof(control_year)::text, reason, right_end FROM inami.syst05_feedback_received
                    WHERE control_year = 2034 ORDER BY request_number$$,
                  $$SELECT 2034::smallint, 'smallint', reason, right_end FROM inami.read_syst05(pg_temp.d('syst05')) ORDER BY request_number$$,
                  'and its rows hold the file''s values');
ALTER TABLE inami.syst05_feedback_received ALTER COLUMN control_year TYPE int;
CREATE DOMAIN public.requester AS text CHECK (VALUE <> '03040500661');
ALTER TABLE inami.syst01_household ALTER COLUMN requester_niss TYPE public.requester;
SELECT throws_ok($$SELECT inami.load_flow(replace(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2035"'), '3002024', '3002035'), '</Syst01>',
                   '<Household requestNumber="300203503040500661"><Requester niss="03040500661"/><Member niss="03040500661"/></Household></Syst01>'))$$,
                 '23514', 'value for domain requester violates check constraint "requester_check"',
                 'a domain of a loaded column refuses the loader''s value');
SELECT is((SELECT count(*) FROM inami.syst01_household WHERE control_year = 2035), 0::bigint, 'and nothing of the file stays');
ALTER TABLE inami.syst01_household ALTER COLUMN requester_niss TYPE text;
DROP DOMAIN public.requester;
-- A trigger that changes a column the load has yet to fill: the load stops.
CREATE DOMAIN public.any_sheet AS text;
CREATE FUNCTION public.change_members() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN ALTER TABLE inami.syst04_member ALTER COLUMN tax_sheet TYPE public.any_sheet; RETURN NEW; END $$;
CREATE TRIGGER change_members BEFORE INSERT ON inami.syst04_household FOR EACH ROW EXECUTE FUNCTION public.change_members();
SELECT throws_ok($$SELECT inami.load_flow(replace(replace(replace(pg_temp.d('syst04_1'), 'controlYear="2024" incomeYear="2022"', 'controlYear="2034" incomeYear="2032"'),
                                                 '3002024', '3002034'), 'shipment="1"', 'shipment="3"'))$$,
                 '55000', 'column "tax_sheet" of syst04_member changed during the load',
                 'a column changed by a trigger in the middle of a load stops it');
SELECT is((SELECT count(*) FROM inami.syst04_household WHERE control_year = 2034), 0::bigint, 'and nothing of the file stays');
DROP TRIGGER change_members ON inami.syst04_household;
DROP FUNCTION public.change_members();
SELECT is((SELECT atttypid::regtype::text FROM pg_attribute WHERE attrelid = 'inami.syst04_member'::regclass AND attname = 'tax_sheet'),
          'text', 'and the column is as it was');
DROP DOMAIN public.any_sheet;
-- An amount into a numeric with a typmod.
ALTER TABLE inami.syst04_member ALTER COLUMN personal_total TYPE numeric(12, 2);
SELECT is(inami.load_flow(replace(replace(pg_temp.d('syst04_1'), 'controlYear="2024" incomeYear="2022"', 'controlYear="2034" incomeYear="2032"'), '3002024', '3002034')),
          2::bigint, 'with personal_total a numeric(12, 2), a Syst04 of 2034 loads');
SELECT results_eq($$SELECT niss, personal_total, tax_sheet FROM inami.syst04_member WHERE control_year = 2034 ORDER BY niss$$,
                  $$SELECT DISTINCT niss, personal_total, tax_sheet FROM inami.read_syst04(pg_temp.d('syst04_1')) ORDER BY niss$$,
                  'and its members hold the file''s amounts');
ALTER TABLE inami.syst04_member ALTER COLUMN personal_total TYPE numeric;
DELETE FROM inami.flow_file WHERE year = 2034;
-- A foreign key of the DBA's to other columns of the household (a member must be a
-- requester) is not one the load's own rows answer: checked row by row.
ALTER TABLE inami.syst01_household ADD CONSTRAINT requester_once UNIQUE (control_year, requester_niss);
ALTER TABLE inami.syst01_member ADD CONSTRAINT member_is_requester FOREIGN KEY (control_year, niss)
    REFERENCES inami.syst01_household (control_year, requester_niss) NOT VALID;
SELECT throws_ok($$SELECT inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2032"'), '3002024', '3002032'))$$,
                 '23503', NULL, 'a foreign key of the DBA''s to other columns of the household is checked');
ALTER TABLE inami.syst01_member DROP CONSTRAINT member_is_requester;
ALTER TABLE inami.syst01_household DROP CONSTRAINT requester_once;
DELETE FROM inami.flow_file WHERE year IN (2028, 2029);

SELECT * FROM finish();

-- The errors as a user reads them (message, DETAIL, HINT).
SELECT inami.load_flow(pg_temp.d('syst04_1'));
SELECT inami.load_flow(replace(pg_temp.d('syst01'), '<Member niss="01010100522"/>', '<Member niss="01010100523"/>'));
SELECT inami.load_flow(replace(pg_temp.d('syst01'), '"300202470030300736"', '"301202470030300736"'));
SELECT inami.load_flow(replace(pg_temp.d('syst01'), '</Syst01>', '<Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>'));
SELECT inami.load_flow(replace(pg_temp.d('syst04_1'), '15000.00', '15000,00'));
SELECT inami.load_flow(replace(pg_temp.d('syst04_1'), '<Member niss="92020200538" returnCode="03"/>', '<Member niss="92020200538" returnCode="03"><Ipcal code="1250" amount="1.00"/></Member>'));
SELECT setval(pg_get_serial_sequence('inami.flow_file', 'file_id'), 1000000) IS NOT NULL AS ids_from_1000001;  -- file_id in the message below does not depend on earlier suites
SELECT inami.load_flow(pg_temp.d('syst01'));
SELECT inami.load_flow(pg_temp.d('syst01'));
-- A row that a CHECK of the table refuses: the CONTEXT names the row's line in the document.
ALTER TABLE inami.syst01_member ADD CONSTRAINT not_this_member CHECK (niss <> '92020200538') NOT VALID;
SELECT inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2036"'), '3002024', '3002036'));
ALTER TABLE inami.syst01_member DROP CONSTRAINT not_this_member;
-- The progress of a load as a user reads it: a NOTICE every inami.flow_progress_every
-- records (2 here: one NOTICE for three households), none with 0. Rolled back.
BEGIN;
SET LOCAL inami.flow_progress_every = 2;
SELECT inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2026"'), '3002024', '3002026'));
SET LOCAL inami.flow_progress_every = 0;
SELECT inami.load_flow(replace(replace(pg_temp.d('syst01'), 'controlYear="2024"', 'controlYear="2027"'), '3002024', '3002027'));
ROLLBACK;
