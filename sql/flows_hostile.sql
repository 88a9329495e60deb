-- Data exchanges, reading: hostile and malformed documents. Each is a clear error with its
-- SQLSTATE (never XX000), loads nothing, leaves the server up; through load_flow and
-- through the readers. (Bad UTF-8 and truncated files through load_flow_file: TAP
-- test 201.)
\set VERBOSITY default
SELECT plan(112);

-- n members of valid, distinct NISS (born 30 July 1985), none the requester's.
CREATE FUNCTION pg_temp.members(n int) RETURNS text LANGUAGE sql AS $$
SELECT string_agg(format('<Member niss="%s%s"/>', b, lpad((97 - b::bigint % 97)::text, 2, '0')), '' ORDER BY i)
FROM generate_series(1, n) AS i, LATERAL (SELECT '850730' || (100 + i)::text AS b) AS x $$;

CREATE TEMP TABLE hostile (test text, doc text, sqlstate text, message text);
INSERT INTO hostile VALUES
('billion laughs', $$<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="&lol9;"/></Syst01>$$,
 '2200M', 'DOCTYPE is not allowed in an exchange file'),
('external entity (file)', $$<!DOCTYPE Syst01 [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">&xxe;</Syst01>$$,
 '2200M', 'DOCTYPE is not allowed in an exchange file'),
('external DTD over the network', $$<!DOCTYPE Syst01 SYSTEM "http://127.0.0.1:9/evil.dtd">
<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>$$,
 '2200M', 'DOCTYPE is not allowed in an exchange file'),
('parameter entities', $$<!DOCTYPE x [<!ENTITY % pe SYSTEM "file:///etc/passwd"> %pe;]><Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>$$,
 '2200M', NULL),
('undeclared entity', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">&xxe;</Syst01>$$,
 '2200M', 'exchange file is not well-formed XML'),
('XInclude', $$<Syst01 xmlns="urn:be:inami:flows:1" xmlns:xi="http://www.w3.org/2001/XInclude" controlYear="2024" oa="300"><xi:include href="file:///etc/passwd" parse="text"/></Syst01>$$,
 '2200N', 'wrong namespace'),
('truncated', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="850$$,
 '2200M', 'exchange file is not well-formed XML'),
('truncated after a record', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household>$$,
 '2200M', NULL),
('mismatched tags', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"></Member></Syst01>$$,
 '2200M', 'exchange file is not well-formed XML'),
('empty document', '', '2200M', NULL),
('not XML', 'hello', '2200M', 'exchange file is not well-formed XML'),
('two roots', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/><Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>$$,
 '2200M', 'exchange file is not well-formed XML'),
('no namespace', $$<Syst01 controlYear="2024" oa="300"/>$$, '2200N', 'wrong namespace'),
('another namespace', $$<Syst01 xmlns="urn:be:inami:flows:2" controlYear="2024" oa="300"/>$$, '2200N', 'wrong namespace'),
('a child in another namespace', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household xmlns="urn:evil" requestNumber="300202485073003328"/></Syst01>$$,
 '2200N', 'wrong namespace'),
('unknown root', $$<Syst02 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>$$, '2200N', 'unknown root element'),
('unknown element', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/><Pet name="Rex"/></Household></Syst01>$$,
 '2200N', 'unknown element'),
('unknown record element', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Person niss="85073003328"/></Syst01>$$,
 '2200N', 'unknown element'),
('unknown attribute', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300" evil="1"/>$$, '2200N', 'unknown attribute'),
('text where none belongs', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">surprise</Syst01>$$, '2200N', 'unexpected text'),
('an element inside a value', $$<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><HouseholdTotal><b>1</b></HouseholdTotal></Household></Syst04>$$,
 '2200N', 'unexpected element'),
('100,000-deep nesting', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || repeat('<Household requestNumber="300202485073003328">', 100000),
 '2200N', NULL),
('100,000-deep nesting as root', repeat('<a>', 100000), '2200N', NULL),
('deep nesting of known elements', '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Member niss="85073003328" returnCode="00"><Ipcal code="1250" amount="1"><Ipcal code="1250" amount="1">' || repeat('<Ipcal>', 1000),
 '2200N', 'elements nested too deep'),
('an attribute of 300 bytes', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="' || repeat('3', 300) || '"/></Syst01>',
 '2200N', 'attribute value too long'),
('an attribute of 5 MB', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="' || repeat('3', 5000000) || '"/></Syst01>',
 '2200N', 'tag too long'),
('a text of 100 bytes', '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><HouseholdTotal>' || repeat('1', 100) || '</HouseholdTotal></Household></Syst04>',
 '2200N', 'value too long'),
('a text of 5 MB', '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><HouseholdTotal>' || repeat('1', 5000000) || '</HouseholdTotal></Household></Syst04>',
 '2200N', 'text too long'),
('an element name of 100,000 characters', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><' || repeat('H', 100000) || '/></Syst01>',
 '2200N', 'tag too long'),
-- libxml2 2.9 checks the attributes of a start tag against each other, all in one read
-- where nothing serves an interrupt: 200,000 of them kept a backend for minutes. The
-- reader refuses a tag of more than 4096 bytes before libxml2 parses it.
('200,000 attributes', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300" ' || (SELECT string_agg(format('a%s="x"', i), ' ') FROM generate_series(1, 200000) AS i) || '/>',
 '2200N', 'tag too long'),
('200,000 attributes on a record', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328" ' || (SELECT string_agg(format('a%s="x"', i), ' ') FROM generate_series(1, 200000) AS i) || '/></Syst01>',
 '2200N', 'tag too long'),
('a CDATA section of 5,000 bytes', '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><HouseholdTotal><![CDATA[' || repeat('1', 5000) || ']]></HouseholdTotal></Household></Syst04>',
 '2200N', 'tag too long'),
('5,000 spaces between two records', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || repeat(' ', 5000) || '</Syst01>',
 '2200N', 'text too long'),
-- libxml2 keeps comments and PIs outside PostgreSQL's accounting: 1 MiB of them in all.
('2 MB of comments before the root', repeat('<!-- ' || repeat('c', 1000) || ' -->', 2000) || '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>',
 '54000', 'too many bytes of comments and processing instructions'),
('2 MB of comments inside the root', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || repeat('<!-- ' || repeat('c', 1000) || ' -->', 2000) || '</Syst01>',
 '54000', 'too many bytes of comments and processing instructions'),
('2 MB of processing instructions', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || repeat('<?pi ' || repeat('p', 1000) || '?>', 2000) || '</Syst01>',
 '54000', 'too many bytes of comments and processing instructions'),
('one comment of 2 MB', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><!--' || repeat('c', 2000000) || '--></Syst01>',
 '54000', 'too many bytes of comments and processing instructions'),
-- A validator (attributeFormDefault="unqualified") sees one amount: f:amount is not it.
('an amount in the flows namespace beside the plain one', '<Syst04 xmlns="urn:be:inami:flows:1" xmlns:f="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328" returnCode="00"><Ipcal code="1460" amount="10.00" f:amount="99999.00"/></Member></Household></Syst04>',
 '2200N', 'qualified attribute'),
('the plain amount after the one in the flows namespace', '<Syst04 xmlns="urn:be:inami:flows:1" xmlns:f="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328" returnCode="00"><Ipcal code="1460" f:amount="99999.00" amount="10.00"/></Member></Household></Syst04>',
 '2200N', 'qualified attribute'),
('a prefixed NISS alone', '<Syst01 xmlns="urn:be:inami:flows:1" xmlns:f="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester f:niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>',
 '2200N', 'qualified attribute'),
('an attribute in another namespace', '<Syst01 xmlns="urn:be:inami:flows:1" xmlns:o="urn:other" controlYear="2024" oa="300"><Household requestNumber="300202485073003328" o:x="1"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>',
 '2200N', 'qualified attribute'),
('an empty document', '', '2200M', 'exchange file has no root element: the file is empty'),
('the same member 100 times', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/>' || repeat('<Member niss="85073003328"/>', 100) || '</Household></Syst01>',
 '23505', 'member listed twice'),
-- The limits, one over the edge (the edge itself passes them: below).
('a household of 65 members', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/>' || pg_temp.members(64) || '</Household></Syst01>',
 '54000', 'too many members'),
('a member with 513 IPCAL items', '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328" returnCode="00">' || repeat('<Ipcal code="1250" amount="1"/>', 513) || '</Member></Household></Syst04>',
 '54000', 'too many IPCAL items'),
('an attribute of 257 bytes', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="' || repeat('3', 257) || '"/></Syst01>',
 '2200N', 'attribute value too long'),
('a text of 65 bytes', '<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><HouseholdTotal>' || repeat('1', 65) || '</HouseholdTotal></Household></Syst04>',
 '2200N', 'value too long'),
('content after the root', $$<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"/>trailing$$, '2200M', NULL),
('a processing instruction and comments are fine, a CDATA value too', $$<?xml-stylesheet href="x"?><!-- c --><Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><!-- c --><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household><?pi x?></Syst01>$$,
 NULL, NULL);

-- Through load_flow; the last row loads (it is well-formed), then is removed.
SELECT throws_ok(format('SELECT inami.load_flow(%L)', doc), sqlstate, message, 'load_flow: ' || test)
FROM hostile WHERE sqlstate IS NOT NULL ORDER BY test;
SELECT throws_ok(format('SELECT * FROM inami.read_syst01(%L)', doc), sqlstate, message, 'read_syst01: ' || test)
FROM hostile WHERE sqlstate IS NOT NULL AND doc NOT LIKE '%<Syst04%' ORDER BY test;
SELECT throws_ok(format('SELECT * FROM inami.read_syst04(%L)', doc), sqlstate, message, 'read_syst04: ' || test)
FROM hostile WHERE sqlstate IS NOT NULL AND doc LIKE '%<Syst04%' ORDER BY test;
-- The edges themselves pass the limits: 64 members, 512 items, an attribute of 256 bytes
-- and a text of 64 bytes go on to the checks of their values.
SELECT is((SELECT count(*) FROM inami.read_syst01('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/>' || pg_temp.members(63) || '</Household></Syst01>')),
          64::bigint, 'a household of 64 members is read');
SELECT is((SELECT count(*) FROM inami.read_syst04('<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><Member niss="85073003328" returnCode="00">' || repeat('<Ipcal code="1250" amount="1"/>', 512) || '</Member></Household></Syst04>')),
          512::bigint, 'a member with 512 IPCAL items is read');
SELECT throws_ok($$SELECT * FROM inami.read_syst01('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><Household requestNumber="' || repeat('3', 256) || '"/></Syst01>')$$,
                 '22P02', 'invalid request number', 'an attribute of 256 bytes is not too long: its value is checked');
SELECT throws_ok($$SELECT * FROM inami.read_syst04('<Syst04 xmlns="urn:be:inami:flows:1" controlYear="2024" incomeYear="2022" shipment="1"><Household requestNumber="300202485073003328"><Requester niss="85073003328"/><HouseholdTotal>' || repeat('1', 64) || '</HouseholdTotal></Household></Syst04>')$$,
                 '22003', 'amount out of range', 'a text of 64 bytes is not too long: its value is checked');
-- A tag of 4096 bytes (xsi:schemaLocation padded) and 1 MiB of comments in all pass.
SELECT is((SELECT count(*) FROM inami.read_syst01(t || repeat(' ', 4096 - length(t) - 2) || '/>')), 0::bigint,
          'a root tag of 4096 bytes is read')
FROM (SELECT '<Syst01 xmlns="urn:be:inami:flows:1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:be:inami:flows:1 syst01.xsd" controlYear="2024" oa="300"'::text AS t) AS x;
SELECT is((SELECT count(*) FROM inami.read_syst01('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || repeat('<!--' || repeat('c', 1017) || '-->', 1024) || '</Syst01>')),
          0::bigint, '1 MiB of comments in all is read');
SELECT throws_ok($$SELECT * FROM inami.read_syst01('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300">' || repeat('<!--' || repeat('c', 1017) || '-->', 1024) || '<!---->' || '</Syst01>')$$,
                 '54000', 'too many bytes of comments and processing instructions', 'one comment more is refused');
SELECT is((SELECT count(*) FROM inami.read_syst01('<Syst01 xmlns="urn:be:inami:flows:1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:be:inami:flows:1 syst01.xsd" controlYear="2024" oa="300"/>')),
          0::bigint, 'xsi:schemaLocation is read past');
-- libxml2's message cut at a byte count ended in half a character: a LATIN1 client got
-- 22021 instead of the error. Two names of 2-byte characters, one shifted by a byte, put
-- the cut on either byte.
SET client_encoding = 'LATIN1';
SELECT throws_ok(format('SELECT * FROM inami.read_syst01(%L)', '<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="300"><' || p || repeat(U&'\00E9', 300) || '></Syst01>'),
                 '2200M', 'exchange file is not well-formed XML', 'a LATIN1 client reads the error of a message cut ' || w)
FROM (VALUES ('', 'on an even byte'), ('a', 'on an odd byte')) AS v(p, w);
RESET client_encoding;
SELECT is((SELECT count(*) FROM inami.flow_file), 0::bigint, 'nothing loaded by any hostile document');
SELECT is(inami.load_flow(doc), 1::bigint, 'comments, processing instructions: read past')
FROM hostile WHERE test LIKE 'a processing instruction%';
SELECT is((SELECT count(*) FROM inami.read_syst01(doc)), 1::bigint, 'and through the reader')
FROM hostile WHERE test LIKE 'a processing instruction%';

-- A hostile search_path: a schema of the caller's, put before pg_catalog, defines "=" for
-- bigint and int. The loaders' queries run under "pg_catalog, pg_temp" (params.c), never
-- its operators: each load works, the operators never ran (each counts its calls in a
-- sequence, which no rollback undoes, then raises), the caller's search_path is kept.
-- pgTAP's own functions compare integers with "=", so they run once it is RESET. The
-- Syst05 answers a Syst01 loaded first, under the usual search_path, so that each of the
-- two loads meets the operators on its own (Syst05: its batch check).
SELECT inami.load_flow('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="302"><Household requestNumber="302202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>') AS syst01_loaded;
CREATE SCHEMA inami_hostile;
CREATE SEQUENCE inami_hostile.ran;
CREATE FUNCTION inami_hostile.eq8(bigint, bigint) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.nextval('inami_hostile.ran');
    RAISE EXCEPTION 'the hostile = (bigint, bigint) ran';
END $$;
CREATE FUNCTION inami_hostile.eq4(int, int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.nextval('inami_hostile.ran');
    RAISE EXCEPTION 'the hostile = (int, int) ran';
END $$;
CREATE OPERATOR inami_hostile.= (FUNCTION = inami_hostile.eq8, LEFTARG = bigint, RIGHTARG = bigint);
CREATE OPERATOR inami_hostile.= (FUNCTION = inami_hostile.eq4, LEFTARG = int, RIGHTARG = int);
SET search_path = inami_hostile, pg_catalog, public;
SELECT inami.load_flow('<Syst01 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="301"><Household requestNumber="301202485073003328"><Requester niss="85073003328"/><Member niss="85073003328"/></Household></Syst01>') AS syst01_loaded;
SELECT inami.load_flow('<Syst05 xmlns="urn:be:inami:flows:1" controlYear="2024" oa="302"><Feedback requestNumber="302202485073003328" reason="KEEPSYST" rightEnd="2025-12-31"/></Syst05>') AS syst05_loaded;
SHOW search_path;
RESET search_path;
SELECT results_eq($$SELECT kind, oa, record_count FROM inami.flow_file WHERE oa IN ('301', '302') ORDER BY file_id$$,
                  $$VALUES ('Syst01', '302', 1::bigint), ('Syst01', '301', 1::bigint), ('Syst05', '302', 1::bigint)$$,
                  'a hostile "=" first in search_path: a Syst01 and a Syst05 load');
SELECT is((SELECT is_called FROM inami_hostile.ran), false, 'the hostile operators never ran');
DELETE FROM inami.flow_file WHERE oa IN ('301', '302');
SET client_min_messages = warning;
DROP SCHEMA inami_hostile CASCADE;
RESET client_min_messages;

SELECT is(inami.version() IS NOT NULL, true, 'the server is up');

SELECT * FROM finish();

-- The errors as a user reads them.
DELETE FROM inami.flow_file;
SELECT inami.load_flow(doc) FROM hostile WHERE test = 'billion laughs';
SELECT inami.load_flow(doc) FROM hostile WHERE test = 'truncated';
SELECT inami.load_flow(doc) FROM hostile WHERE test = 'another namespace';
SELECT inami.load_flow(doc) FROM hostile WHERE test = 'unknown element';
SELECT inami.load_flow(doc) FROM hostile WHERE test = 'an attribute of 300 bytes';
SELECT inami.load_flow(doc) FROM hostile WHERE test = '100,000-deep nesting';
