-- The writers: syst01_document, syst05_document, pro01_document, pro04_document.
-- Exact documents for small fixtures, order, empty cases, escaping, errors.
\set VERBOSITY default
SET client_min_messages = warning;
SELECT plan(51);

-- The whole suite runs in one transaction, rolled back at the end: the suites share a
-- database, and other suites load files into the same tables. It starts from empty tables
-- (DELETE, rolled back too) and never names a file_id or run_id (the sequences run on).
BEGIN;
DELETE FROM inami.control_decision;
DELETE FROM inami.proactive_decision;
DELETE FROM inami.control_run;
DELETE FROM inami.flow_file;

-- Fixture, inserted out of order on purpose: households of OA 300 and 306 for 2024,
-- one of 2023; members in no particular order.
INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES
    ('Syst01', 2024, '300', 'fixture', 3),
    ('Pro01', 2024, '300', 'fixture', 2),
    ('Syst01', 2023, '300', 'fixture', 1);
INSERT INTO inami.syst01_household
SELECT v.*, f.file_id FROM (VALUES
    (2024, '300202485073003328', '300', '85073003328'),
    (2024, '306202490010100123', '306', '90010100123'),
    (2024, '300202465112420037', '300', '65112420037'),
    (2023, '300202385073003328', '300', '85073003328')) AS v(y, rn, oa, niss)
JOIN inami.flow_file f ON f.kind = 'Syst01' AND f.year = v.y;
INSERT INTO inami.syst01_member VALUES
    (2024, '300202485073003328', '87021512307'), (2024, '300202485073003328', '85073003328'),
    (2024, '300202485073003328', '15070701175'), (2024, '300202485073003328', '12030104533'),
    (2024, '300202465112420037', '65112420037'), (2024, '306202490010100123', '90010100123'),
    (2023, '300202385073003328', '85073003328');
INSERT INTO inami.control_run (kind, year) VALUES ('systematic_control', 2024), ('proactive_flow', 2024);
-- 306202490010100123 moved to OA 300, which received its incomes and sends its feedback.
INSERT INTO inami.control_decision
SELECT v.*, r.run_id FROM (VALUES
    (2024, '306202490010100123', '300', 'STOPOA', DATE '2024-12-31'),
    (2024, '300202485073003328', '300', 'STOPFAM', DATE '2024-09-30'),
    (2024, '300202465112420037', '300', 'KEEPSYST', DATE '2025-12-31')) AS v
CROSS JOIN inami.control_run r WHERE r.kind = 'systematic_control';
INSERT INTO inami.pro01_household
SELECT v.*, f.file_id FROM (VALUES
    (2024, '300202478051032182', '300', '78051032182'),
    (2024, '300202465112420037', '300', '65112420037'),
    (2024, '306202490010100123', '306', '90010100123')) AS v
CROSS JOIN inami.flow_file f WHERE f.kind = 'Pro01';
INSERT INTO inami.pro01_member VALUES
    (2024, '300202478051032182', '90010100123'), (2024, '300202478051032182', '78051032182'),
    (2024, '300202465112420037', '65112420037'), (2024, '306202490010100123', '90010100123');
INSERT INTO inami.proactive_decision
SELECT v.*, r.run_id FROM (VALUES
    (2024, '306202490010100123', 'NOK'),
    (2024, '300202478051032182', 'OK'),
    (2024, '300202465112420037', 'ONHOLD')) AS v
CROSS JOIN inami.control_run r WHERE r.kind = 'proactive_flow';

-- Syst01: households in request-number order, members in NISS order, the requester among them.
SELECT is(inami.syst01_document(2024, '300')::text,
'<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">
  <Household requestNumber="300202465112420037">
    <Requester niss="65112420037"/>
    <Member niss="65112420037"/>
  </Household>
  <Household requestNumber="300202485073003328">
    <Requester niss="85073003328"/>
    <Member niss="12030104533"/>
    <Member niss="15070701175"/>
    <Member niss="85073003328"/>
    <Member niss="87021512307"/>
  </Household>
</Syst01>', 'syst01_document(2024, ''300''): the exact document');
SELECT is(inami.syst01_document(2024, '306')::text,
'<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="306">
  <Household requestNumber="306202490010100123">
    <Requester niss="90010100123"/>
    <Member niss="90010100123"/>
  </Household>
</Syst01>', 'syst01_document(2024, ''306''): only the households OA 306 sent');
SELECT is(inami.syst01_document(2023, '300')::text,
'<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2023" oa="300">
  <Household requestNumber="300202385073003328">
    <Requester niss="85073003328"/>
    <Member niss="85073003328"/>
  </Household>
</Syst01>', 'syst01_document(2023, ''300''): only that control year');
SELECT is(inami.syst01_document(2024, '999')::text,
          '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="999"/>',
          'nothing to write is not an error: the empty root');
SELECT is(inami.syst01_document(2025, '300')::text,
          '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2025" oa="300"/>',
          'a year with nothing loaded: the empty root');
SELECT ok(xml_is_well_formed_document(inami.syst01_document(2024, '300')::text),
          'the Syst01 document is well-formed');
SELECT is(xpath('count(/f:Syst01/f:Household/f:Member)', inami.syst01_document(2024, '300'),
                ARRAY[ARRAY['f', 'urn:be:inami:flows:1']])::text, '{5}',
          'the elements are in the flows'' namespace (xpath finds the 5 members)');

-- The order does not depend on the insertion order nor on the database collation.
SELECT is((xpath('/f:Syst01/f:Household/@requestNumber', inami.syst01_document(2024, '300'),
                 ARRAY[ARRAY['f', 'urn:be:inami:flows:1']]))::text[],
          ARRAY['300202465112420037', '300202485073003328'],
          'households in request-number order');

-- Pro01: the same households format, attribute year.
SELECT is(inami.pro01_document(2024, '300')::text,
'<Pro01 xmlns="urn:be:inami:flows:1" year="2024" oa="300">
  <Household requestNumber="300202465112420037">
    <Requester niss="65112420037"/>
    <Member niss="65112420037"/>
  </Household>
  <Household requestNumber="300202478051032182">
    <Requester niss="78051032182"/>
    <Member niss="78051032182"/>
    <Member niss="90010100123"/>
  </Household>
</Pro01>', 'pro01_document(2024, ''300''): the exact document');
SELECT is(inami.pro01_document(2024, '101')::text,
          '<Pro01 xmlns="urn:be:inami:flows:1" year="2024" oa="101"/>',
          'pro01_document with nothing to write: the empty root');

-- Syst05: one Feedback per decision of the OA that sends it (control_decision.oa).
SELECT is(inami.syst05_document(2024, '300')::text,
'<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">
  <Feedback requestNumber="300202465112420037" reason="KEEPSYST" rightEnd="2025-12-31"/>
  <Feedback requestNumber="300202485073003328" reason="STOPFAM" rightEnd="2024-09-30"/>
  <Feedback requestNumber="306202490010100123" reason="STOPOA" rightEnd="2024-12-31"/>
</Syst05>', 'syst05_document(2024, ''300''): the exact document, the moved household too');
SELECT is(inami.syst05_document(2024, '306')::text,
          '<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="306"/>',
          'syst05_document(2024, ''306''): OA 306 decided nothing: the empty root');
SET datestyle = 'SQL, DMY';
SELECT alike(inami.syst05_document(2024, '300')::text, '%rightEnd="2025-12-31"%',
            'rightEnd is ISO 8601 whatever the DateStyle');
RESET datestyle;

-- Pro04: the codes of the households whose request number starts with the OA;
-- shipment = the latest Pro_03 shipment loaded for the year, 1 when none.
SELECT is(inami.pro04_document(2024, '300')::text,
'<Pro04 xmlns="urn:be:inami:flows:1" year="2024" shipment="1">
  <Result requestNumber="300202465112420037" code="ONHOLD"/>
  <Result requestNumber="300202478051032182" code="OK"/>
</Pro04>', 'pro04_document(2024, ''300''): the exact document, shipment 1 (no Pro_03 loaded)');
SELECT is(inami.pro04_document(2024, '306')::text,
'<Pro04 xmlns="urn:be:inami:flows:1" year="2024" shipment="1">
  <Result requestNumber="306202490010100123" code="NOK"/>
</Pro04>', 'pro04_document(2024, ''306''): OA = first three digits of the request number');
INSERT INTO inami.flow_file (kind, year, income_year, shipment, source_name, record_count) VALUES
    ('Pro03', 2024, 2022, 1, 'fixture', 1), ('Pro03', 2024, 2022, 2, 'fixture', 1),
    ('Pro03', 2025, 2023, 1, 'fixture', 1);
INSERT INTO inami.pro03_person
SELECT 2024, 1, '90010100123', 2022, '10', file_id FROM inami.flow_file WHERE kind = 'Pro03' AND year = 2024 AND shipment = 1;
SELECT alike(inami.pro04_document(2024, '300')::text, '%year="2024" shipment="1"%',
            'after the first Pro_03 shipment: shipment 1');
INSERT INTO inami.pro03_person
SELECT year, shipment, '90010100123', income_year, '00', file_id FROM inami.flow_file
WHERE kind = 'Pro03' AND (year, shipment) IN ((2024, 2), (2025, 1));
SELECT alike(inami.pro04_document(2024, '300')::text, '%year="2024" shipment="2"%',
            'after the second Pro_03 shipment: shipment 2');
SELECT is(inami.pro04_document(2025, '300')::text,
          '<Pro04 xmlns="urn:be:inami:flows:1" year="2025" shipment="1"/>',
          'pro04_document of a year without codes: the empty root, its own shipment');

-- Escaping: the CHECK constraints keep markup out of these tables; drop them for a
-- moment to see what the writer makes of hostile text.
SAVEPOINT hostile;
ALTER TABLE inami.syst01_household DROP CONSTRAINT syst01_household_request_number_check;
ALTER TABLE inami.syst01_household DROP CONSTRAINT syst01_household_requester_niss_check;
ALTER TABLE inami.syst01_member DROP CONSTRAINT syst01_member_niss_check;
INSERT INTO inami.syst01_household
SELECT 2024, '<x a="1">&amp;''', '301', '"/><Evil/>', file_id FROM inami.flow_file WHERE kind = 'Syst01' AND year = 2024;
INSERT INTO inami.syst01_member VALUES (2024, '<x a="1">&amp;''', '"/><Evil/>'),
                                       (2024, '<x a="1">&amp;''', ']]><!--'),
                                       (2024, '<x a="1">&amp;''', E'tab\there');
SELECT is(inami.syst01_document(2024, '301')::text,
'<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="301">
  <Household requestNumber="&lt;x a=&quot;1&quot;&gt;&amp;amp;''">
    <Requester niss="&quot;/&gt;&lt;Evil/&gt;"/>
    <Member niss="&quot;/&gt;&lt;Evil/&gt;"/>
    <Member niss="]]&gt;&lt;!--"/>
    <Member niss="tab&#9;here"/>
  </Household>
</Syst01>', 'markup in the data is escaped, never interpreted');
SELECT ok(xml_is_well_formed_document(inami.syst01_document(2024, '301')::text),
          'the document with hostile data is still well-formed');
SELECT is(xpath('count(//f:Evil)', inami.syst01_document(2024, '301'),
                ARRAY[ARRAY['f', 'urn:be:inami:flows:1']])::text, '{0}',
          'no element was injected');
SELECT is((xpath('/f:Syst01/f:Household/@requestNumber', inami.syst01_document(2024, '301'),
                 ARRAY[ARRAY['f', 'urn:be:inami:flows:1']]))[1]::text,
          '&lt;x a="1"&gt;&amp;amp;''',
          'the attribute reads back as the stored text (xpath escapes < > & on output)');
ROLLBACK TO SAVEPOINT hostile;

-- Errors: bad arguments.
SELECT throws_ok($$SELECT inami.syst01_document(2024, '30')$$, '22P02', 'OA code must be 3 digits',
                 'an OA of 2 digits');
SELECT throws_ok($$SELECT inami.syst01_document(2024, '3000')$$, '22P02', NULL, 'an OA of 4 digits');
SELECT throws_ok($$SELECT inami.syst05_document(2024, '30a')$$, '22P02', NULL, 'an OA with a letter');
SELECT throws_ok($$SELECT inami.pro01_document(2024, ' 300')$$, '22P02', NULL, 'an OA with a space');
SELECT throws_ok($$SELECT inami.pro04_document(2024, '')$$, '22P02', NULL, 'an empty OA');
SELECT throws_ok($$SELECT inami.pro04_document(2024, '٣٠٠')$$, '22P02', NULL, 'an OA in Arabic-Indic digits');
SELECT throws_ok($$SELECT inami.syst01_document(1989, '300')$$, '22023',
                 'control year must be between 1990 and 2200', 'a control year before 1990');
SELECT throws_ok($$SELECT inami.syst05_document(2201, '300')$$, '22023', NULL, 'a control year after 2200');
SELECT throws_ok($$SELECT inami.pro01_document(24, '300')$$, '22023', NULL, 'a two-digit year');
SELECT throws_ok($$SELECT inami.pro04_document(-2024, '300')$$, '22023', NULL, 'a negative year');

-- NULL in, NULL out.
SELECT is(inami.syst01_document(NULL, '300')::text, NULL, 'syst01_document: NULL year');
SELECT is(inami.syst05_document(2024, NULL)::text, NULL, 'syst05_document: NULL OA');
SELECT is(inami.pro01_document(NULL, NULL)::text, NULL, 'pro01_document: NULLs');
SELECT is(inami.pro04_document(2024, NULL)::text, NULL, 'pro04_document: NULL OA');

-- Rows the format cannot carry are errors naming the row to fix, never an invalid document.
SAVEPOINT broken;
DELETE FROM inami.syst01_member WHERE request_number = '300202465112420037';
SELECT throws_ok($$SELECT inami.syst01_document(2024, '300')$$, '55000',
                 'household "300202465112420037" has no member to write in the Syst01 document',
                 'a household without members');
ROLLBACK TO SAVEPOINT broken;
SAVEPOINT broken;
DELETE FROM inami.pro01_member WHERE niss = '78051032182';
SELECT throws_ok($$SELECT inami.pro01_document(2024, '300')$$, '55000',
                 'the requester of household "300202478051032182" is not among its members',
                 'a requester missing from the members');
ROLLBACK TO SAVEPOINT broken;
SAVEPOINT broken;
UPDATE inami.control_decision SET right_end = NULL WHERE reason = 'STOPOA';
SELECT throws_ok($$SELECT inami.syst05_document(2024, '300')$$, '55000',
                 'the decision on household "306202490010100123" has no end of right',
                 'a decision without right_end');
SELECT is(inami.syst05_document(2024, '306')::text,
          '<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="306"/>',
          'another OA''s document is not affected');
ROLLBACK TO SAVEPOINT broken;
SAVEPOINT broken;
UPDATE inami.control_decision SET right_end = 'infinity' WHERE reason = 'STOPOA';
SELECT throws_ok($$SELECT inami.syst05_document(2024, '300')$$, '22008', NULL,
                 'an infinite right_end is no ISO date');
ROLLBACK TO SAVEPOINT broken;
SAVEPOINT broken;
UPDATE inami.control_decision SET right_end = '10000-01-01' WHERE reason = 'STOPOA';
SELECT throws_ok($$SELECT inami.syst05_document(2024, '300')$$, '22008', NULL,
                 'a five-digit year is no YYYY-MM-DD date');
ROLLBACK TO SAVEPOINT broken;

-- After an error the next call works (nothing of libxml2 left behind).
SELECT is(inami.syst05_document(2024, '300')::text IS NOT NULL, true, 'a call after the errors works');

-- Volatility, strictness, parallel safety.
SELECT is(array_agg(DISTINCT provolatile::text), ARRAY['s'], 'the writers are STABLE (they read tables)')
FROM pg_proc WHERE oid IN ('inami.syst01_document(int, text)'::regprocedure, 'inami.syst05_document(int, text)'::regprocedure,
                           'inami.pro01_document(int, text)'::regprocedure, 'inami.pro04_document(int, text)'::regprocedure);
SELECT is(array_agg(DISTINCT proparallel::text), ARRAY['s'], 'the writers are PARALLEL SAFE')
FROM pg_proc WHERE oid IN ('inami.syst01_document(int, text)'::regprocedure, 'inami.syst05_document(int, text)'::regprocedure,
                           'inami.pro01_document(int, text)'::regprocedure, 'inami.pro04_document(int, text)'::regprocedure);
SELECT ok(bool_and(proisstrict) AND NOT bool_or(prosecdef), 'the writers are STRICT, not SECURITY DEFINER')
FROM pg_proc WHERE oid IN ('inami.syst01_document(int, text)'::regprocedure, 'inami.syst05_document(int, text)'::regprocedure,
                           'inami.pro01_document(int, text)'::regprocedure, 'inami.pro04_document(int, text)'::regprocedure);
SELECT is(pg_get_function_result('inami.pro04_document(int, text)'::regprocedure), 'xml', 'the writers return xml');

-- Larger: 3,000 households of 3 members each (more than one cursor batch).
INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Syst01', 2030, '500', 'fixture', 3000);
INSERT INTO inami.syst01_household
SELECT 2030, '5002030' || lpad(i::text, 11, '0'), '500', lpad(i::text, 11, '0'), f.file_id
FROM generate_series(1, 3000) i, inami.flow_file f WHERE f.kind = 'Syst01' AND f.year = 2030;
INSERT INTO inami.syst01_member
SELECT 2030, '5002030' || lpad(i::text, 11, '0'), lpad((i + k)::text, 11, '0')
FROM generate_series(1, 3000) i, generate_series(0, 2) k;
SELECT is(xpath('count(/f:Syst01/f:Household)', inami.syst01_document(2030, '500'),
                ARRAY[ARRAY['f', 'urn:be:inami:flows:1']])::text, '{3000}', '3,000 households across cursor batches');
SELECT is(xpath('count(/f:Syst01/f:Household/f:Member)', inami.syst01_document(2030, '500'),
                ARRAY[ARRAY['f', 'urn:be:inami:flows:1']])::text, '{9000}', 'with their 9,000 members');
SELECT is((xpath('/f:Syst01/f:Household[1001]/@requestNumber', inami.syst01_document(2030, '500'),
                 ARRAY[ARRAY['f', 'urn:be:inami:flows:1']]))[1]::text, '500203000000001001',
          'the 1,001st household is the first of the second batch, in order');
-- 199 bytes a household (49 + 36 + 3 x 33 + 15 with indent and newlines), 66 + 9 for the root.
SELECT is(length(inami.syst01_document(2030, '500')::text), 3000 * 199 + 66 + 9,
          'the document has the expected size (no row lost or doubled at batch edges)');

SELECT * FROM finish();

-- The errors as a user reads them (message, DETAIL, HINT).
SAVEPOINT broken;
SELECT inami.syst01_document(2024, '30');
ROLLBACK TO SAVEPOINT broken;
SELECT inami.syst05_document(2201, '300');
ROLLBACK TO SAVEPOINT broken;
SAVEPOINT broken;
DELETE FROM inami.syst01_member WHERE niss = '85073003328';
SELECT inami.syst01_document(2024, '300');
ROLLBACK TO SAVEPOINT broken;
SAVEPOINT broken;
UPDATE inami.control_decision SET right_end = NULL WHERE reason = 'STOPOA';
SELECT inami.syst05_document(2024, '300');
ROLLBACK TO SAVEPOINT broken;
ROLLBACK;
