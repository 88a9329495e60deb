-- G (Circ. O.A. 2024/250): the outcomes of contacting the OK households of the proactive
-- flow and the report's tables 1, 2 and 3, on a hand-made population.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET client_min_messages = warning;
DELETE FROM inami.proactive_outcome; DELETE FROM inami.control_decision; DELETE FROM inami.proactive_decision;
DELETE FROM inami.household_event; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;

CREATE FUNCTION pg_temp.niss(born date, seq int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT nine || lpad((97 - ((CASE WHEN born >= '2000-01-01' THEN '2' ELSE '' END || nine)::bigint % 97))::text, 2, '0')
    FROM (SELECT to_char(born, 'YYMMDD') || lpad(seq::text, 3, '0') AS nine) s
$$;

-- Households A..I of the 2024 proactive flow: h, its Pro_04 code, its persons (position,
-- birth date). The codes are stored as a run would store them.
CREATE TEMP TABLE fx (h text, code text, pos int, born date);
INSERT INTO fx VALUES
    ('A', 'OK', 1, '1970-01-01'), ('A', 'OK', 2, '1972-01-01'), ('A', 'OK', 3, '2010-01-01'),
    ('B', 'OK', 1, '1960-02-01'), ('B', 'OK', 2, '1961-02-01'),
    ('C', 'OK', 1, '1975-03-01'), ('C', 'OK', 2, '1976-03-01'), ('C', 'OK', 3, '2012-03-01'), ('C', 'OK', 4, '2014-03-01'),
    ('D', 'OK', 1, '1980-04-01'), ('D', 'OK', 2, '1981-04-01'),
    ('E', 'OK', 1, '1990-05-01'),
    ('F', 'OK', 1, '1950-06-01'), ('F', 'OK', 2, '1952-06-01'),
    ('G', 'OK', 1, '1945-07-01'), ('G', 'OK', 2, '1946-07-01'),
    ('H', 'NOK', 1, '1965-08-01'),
    ('I', 'OK', 1, '1966-09-01'), ('I', 'OK', 2, '1967-09-01');
CREATE TEMP VIEW fx_p AS
SELECT f.*, pg_temp.niss(f.born, ascii(f.h)) AS niss,
       inami.request_number('300', 2024, pg_temp.niss(first_value(f.born) OVER (PARTITION BY f.h ORDER BY f.pos), ascii(f.h))) AS request_number
FROM fx f;
INSERT INTO inami.flow_file (kind, year, oa, source_name, record_count) VALUES ('Pro01', 2024, '300', 'test Pro01', 9);
INSERT INTO inami.pro01_household SELECT DISTINCT 2024, p.request_number, '300', substr(p.request_number, 8), f.file_id
FROM fx_p p, inami.flow_file f;
INSERT INTO inami.pro01_member SELECT 2024, p.request_number, p.niss FROM fx_p p;
INSERT INTO inami.control_run (kind, year, ended_at, status) VALUES ('proactive_flow', 2024, clock_timestamp(), 'succeeded');
INSERT INTO inami.proactive_decision (year, request_number, code, run_id)
SELECT DISTINCT 2024, p.request_number, p.code, (SELECT max(run_id) FROM inami.control_run) FROM fx_p p;

SELECT plan(16);

-- The outcomes. A: right opened on a DSH (5). B: no response (4). C: no response (4), but
-- its third person, a child with an automatic right (orphan), opened it (6): C carries
-- categories 4 and 6. D: composition changed, not contacted (1). E: the OA knew of higher
-- income, not contacted (2). F: the DSH showed the ceiling exceeded (3); the dependent
-- spouse has a social advantage (6, as a person only). G: the titulaire has a social
-- advantage (6, household and persons). H is NOK (no contact). I: nothing recorded yet.
INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted, dependent, automatic_child)
SELECT 2024, p.request_number, p.niss, o.category, o.contacted, o.dependent, o.automatic_child
FROM fx_p p JOIN (VALUES
    ('A', 1, 5, true, false, false), ('A', 2, 5, true, true, false), ('A', 3, 5, true, true, false),
    ('B', 1, 4, true, false, false), ('B', 2, 4, true, false, false),
    ('C', 1, 4, true, false, false), ('C', 2, 4, true, true, false), ('C', 3, 6, true, true, true), ('C', 4, 4, true, true, false),
    ('D', 1, 1, false, false, false), ('D', 2, 1, false, false, false),
    ('E', 1, 2, false, false, false),
    ('F', 1, 3, true, false, false), ('F', 2, 6, true, true, false),
    ('G', 1, 6, true, false, false), ('G', 2, 6, true, true, false)
) AS o(h, pos, category, contacted, dependent, automatic_child) USING (h, pos);

SELECT is(count(*), 16::bigint, 'sixteen persons recorded') FROM inami.proactive_outcome;

-- Refusals.
SELECT throws_ok($$INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
                   SELECT 2024, request_number, niss, 4, true FROM fx_p WHERE h = 'H'$$,
                 '23514', 'household "' || (SELECT request_number FROM fx_p WHERE h = 'H') || '" of 2024 is not an OK household of the proactive flow',
                 'an outcome for a NOK household is refused');
SELECT throws_ok($$INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
                   SELECT 2024, request_number, niss, 5, true FROM fx_p WHERE h = 'I' AND pos = 1
                   UNION ALL SELECT 2024, request_number, niss, 4, true FROM fx_p WHERE h = 'I' AND pos = 2$$,
                 '23514', NULL, 'two categories in one household, outside the exception, are refused');
SELECT throws_ok($$UPDATE inami.proactive_outcome SET automatic_child = true WHERE category = 4$$,
                 '23514', NULL, 'a child with an automatic right is in category 6');
SELECT throws_ok($$UPDATE inami.proactive_outcome SET contacted = true WHERE category = 1$$,
                 '23514', NULL, 'categories 1 and 2 are households the OA did not contact');
SELECT throws_ok($$INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
                   SELECT 2024, request_number, '85073003328', 4, true FROM fx_p WHERE h = 'I' AND pos = 1$$,
                 '23503', NULL, 'a person who is not a Pro_01 member of the household is refused');

-- Table 1, by hand:
--   OK households: A B C D E F G I = 8; their persons 3+2+4+2+1+2+2+2 = 18.
--   Actually contacted: A B C F G = 5; their persons 3+2+4+2+2 = 13.
--   Of them, opened the right (a household category 5 or 6): A (5), C (6 by the orphan),
--   G (6) = 3 (F's 6 is its dependent's, not the household's); persons in 5 or 6:
--   A 3 + C 1 + F 1 + G 2 = 7.
SELECT results_eq($$SELECT label, households, persons FROM inami.proactive_statistics(2024) WHERE report_table = 1$$,
    $$VALUES ('OK households (Pro_04)', 8::bigint, 18::bigint), ('households actually contacted', 5, 13),
             ('of which opened the right (categories 5 and 6)', 3, 7)$$,
    'table 1: OK, contacted, opened');
-- Table 2 (households), by hand: 1: D; 2: E; 3: F; 4: B, C; 5: A; 6: C, G.
-- 7 households with outcomes, 8 entries: C carries two categories (G 3).
SELECT results_eq($$SELECT category, households FROM inami.proactive_statistics(2024) WHERE report_table = 2$$,
    $$VALUES (1, 1::bigint), (2, 1), (3, 1), (4, 2), (5, 1), (6, 2)$$, 'table 2: households per category');
-- Table 3 (persons), by hand: 1: D 2; 2: E 1; 3: F's titulaire 1; 4: B 2 + C 3 = 5;
-- 5: A 3; 6: C's orphan + F's dependent + G 2 = 4. Total 16, each person once.
SELECT results_eq($$SELECT category, persons FROM inami.proactive_statistics(2024) WHERE report_table = 3$$,
    $$VALUES (1, 2::bigint), (2, 1), (3, 1), (4, 5), (5, 3), (6, 4)$$, 'table 3: persons per category');
SELECT is(sum(persons), 16::numeric, 'table 3 counts every recorded person once')
FROM inami.proactive_statistics(2024) WHERE report_table = 3;
SELECT is(label, 'Droit automatique', 'the categories carry G''s names')
FROM inami.proactive_statistics(2024) WHERE report_table = 2 AND category = 6;
SELECT is(count(*), 15::bigint, 'an empty year still gives the three tables') FROM inami.proactive_statistics(2023);
UPDATE inami.proactive_outcome SET category = 3 WHERE request_number = (SELECT request_number FROM fx_p WHERE h = 'B' LIMIT 1);
SELECT results_eq($$SELECT category, households FROM inami.proactive_statistics(2024) WHERE report_table = 2 AND category IN (3, 4)$$,
    $$VALUES (3, 2::bigint), (4, 1)$$, 'one UPDATE moves a whole household to another category');

-- The outcomes were recorded because the household was OK: a run (or anyone) changing its
-- code is refused while they are there; a household without outcomes may change.
SELECT throws_ok($$UPDATE inami.proactive_decision SET code = 'NOK' WHERE request_number = (SELECT request_number FROM fx_p WHERE h = 'A' LIMIT 1)$$,
                 '23514', NULL, 'an OK household with outcomes keeps its code');
SELECT lives_ok($$UPDATE inami.proactive_decision SET code = 'NOK' WHERE request_number = (SELECT request_number FROM fx_p WHERE h = 'I' LIMIT 1)$$,
                'an OK household without outcomes may become NOK');
SELECT throws_ok($$INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
                   SELECT 2024, request_number, niss, 4, true FROM fx_p WHERE h = 'I' AND pos = 1$$,
                 '23514', NULL, 'and then takes no outcome');
UPDATE inami.proactive_decision SET code = 'OK' WHERE request_number = (SELECT request_number FROM fx_p WHERE h = 'I' LIMIT 1);

SELECT * FROM finish();

-- What a user reads.
INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
SELECT 2024, request_number, niss, 4, true FROM fx_p WHERE h = 'H';
UPDATE inami.proactive_outcome SET category = 5 WHERE niss = (SELECT niss FROM fx_p WHERE h = 'B' AND pos = 2);
SELECT * FROM inami.proactive_statistics(2024);

DELETE FROM inami.proactive_outcome; DELETE FROM inami.proactive_decision; DELETE FROM inami.flow_file; DELETE FROM inami.control_run;
