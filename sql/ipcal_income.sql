-- R3: a member's income from their IPCAL items (Circ. O.A. 2024/165 4.2, 4.4).
\set VERBOSITY default
SELECT plan(55);

-- The IPCAL list is operator data that ships empty: these rows are test samples.
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
    (2023, '1250', 1, 'test sample: wages (added)', 'test: sample row, not the real annex'),
    (2023, '1251', 1, 'test sample: benefits (added)', 'test: sample row, not the real annex'),
    (2023, '1260', -1, 'test sample: deduction (subtracted)', 'test: sample row, not the real annex'),
    (2023, '1270', 0.1, 'test sample: spread over ten years', 'test: sample row, not the real annex'),
    (2023, '1280', 0, 'test sample: ignored', 'test: sample row, not the real annex'),
    (2023, '1290', 0.5, 'test sample: half', 'test: sample row, not the real annex'),
    (2023, '1291', 0.0000001, 'test sample: a factor too fine to be exact', 'test: sample row, not the real annex'),
    (2024, '1250', 0.1, 'test sample: another year, another factor', 'test: sample row, not the real annex');

CREATE FUNCTION pg_temp.ii(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE r numeric;
BEGIN
    EXECUTE format('SELECT inami.ipcal_income(c, a, y) FROM (%s) AS v(c, a, y)', q) INTO r;
    RETURN r;
END;
$$;

-- Factors 1, -1, 0.1, 0.
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023)$$), 15000.00, 'factor 1: added');
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1251', 1234.56, 2023)$$), 16234.56, 'two items added');
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1260', 2000.00, 2023)$$), 13000.00, 'factor -1: subtracted');
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1270', 5000.00, 2023)$$), 15500.00, 'factor 0.1: a tenth');
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1280', 99999.99, 2023)$$), 15000.00, 'factor 0: ignored');
SELECT is(pg_temp.ii($$VALUES ('1260', 500.00, 2023)$$), -500.00, 'a member''s income can be negative');
SELECT is(pg_temp.ii($$VALUES ('1250', 100.00, 2024)$$), 10.00, 'the factor of the item''s tax year');
SELECT is(scale(pg_temp.ii($$VALUES ('1250', 15000, 2023)$$)), 2, 'the income carries two decimals');

-- Rounding: once, at the end, half away from zero, on the exact sum.
SELECT is(pg_temp.ii($$VALUES ('1270', 0.05, 2023)$$), 0.01, '0.05 x 0.1 = 0.005 -> 0.01 (half away from zero)');
SELECT is(pg_temp.ii($$VALUES ('1270', -0.05, 2023)$$), -0.01, '-0.05 x 0.1 = -0.005 -> -0.01');
SELECT is(pg_temp.ii($$VALUES ('1270', 0.04, 2023)$$), 0.00, '0.04 x 0.1 = 0.004 -> 0.00');
SELECT is(pg_temp.ii($$VALUES ('1270', 0.04, 2023), ('1270', 0.04, 2023), ('1270', 0.04, 2023)$$), 0.01,
          'at the end: 3 x 0.004 = 0.012 -> 0.01 (per item it would be 0.00)');
SELECT is(pg_temp.ii($$SELECT '1270', 0.01, 2023 FROM generate_series(1, 10)$$), 0.01,
          'ten items of 0.001 make one cent');
SELECT is(pg_temp.ii($$VALUES ('1270', 0.05, 2023), ('1260', 0.01, 2023)$$), -0.01, '0.005 - 0.01 = -0.005 -> -0.01');
SELECT is(pg_temp.ii($$VALUES ('1290', 0.01, 2023)$$), 0.01, 'factor 0.5: 0.005 -> 0.01');
SELECT is(pg_temp.ii($$VALUES ('1270', 1234.57, 2023), ('1250', 0.01, 2023)$$), round(1234.57 * 0.1 + 0.01, 2),
          'the result is round(sum(amount x factor), 2)');

-- NULLs: any NULL argument makes the income unknown; no item gives NULL.
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1250', NULL, 2023)$$), NULL, 'a NULL amount: unknown');
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), (NULL, 1.00, 2023)$$), NULL, 'a NULL code: unknown');
SELECT is(pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1250', 1.00, NULL)$$), NULL, 'a NULL tax year: unknown');
SELECT is(pg_temp.ii($$VALUES (NULL::text, NULL::numeric, NULL::int)$$), NULL, 'a member without items (outer join): NULL');
SELECT is(pg_temp.ii($$SELECT '1250', 1.00, 2023 WHERE false$$), NULL, 'no item: NULL');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''9999'', NULL::numeric, 2023)')$$, '55000', NULL,
                 'a missing code is an error even with a NULL amount');

-- A missing code is an error, never skipped.
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 1.00, 2023), (''9999'', 1.00, 2023)')$$, '55000',
                 'IPCAL code "9999" has no factor for tax year 2023', 'a code missing from the list');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1251'', 1.00, 2024)')$$, '55000',
                 'IPCAL code "1251" has no factor for tax year 2024', 'a code listed for another tax year only');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 1.00, 2030)')$$, '55000', NULL, 'a tax year with no list');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 1.00, 1989)')$$, '22023',
                 'tax year must be between 1990 and 2200', 'a tax year no row can take (1990-2200): out of range, not a row to add');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 1.00, 2201)')$$, '22023',
                 'tax year must be between 1990 and 2200', 'tax year 2201');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''125'', 1.00, 2023)')$$, '22P02', 'invalid IPCAL code "125"', 'a code of 3 digits');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''12a0'', 1.00, 2023)')$$, '22P02', NULL, 'a code with a letter');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1291'', 1.00, 2023)')$$, '55000', NULL, 'a factor with more than six decimals');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 1.001, 2023)')$$, '22003',
                 'IPCAL amount must be a finite amount with at most two decimals', 'an amount with 3 decimals');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1280'', 1.001, 2023)')$$, '22003', NULL, 'an amount with 3 decimals, even ignored');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', ''NaN''::numeric, 2023)')$$, '22023', NULL, 'NaN');

-- The int64-cents limit.
SELECT is(pg_temp.ii($$VALUES ('1250', 92233720368547758.07, 2023)$$), 92233720368547758.07, 'the largest amount');
SELECT is(pg_temp.ii($$VALUES ('1250', 92233720368547758.07, 2023), ('1250', 92233720368547758.07, 2023), ('1260', 92233720368547758.07, 2023)$$),
          92233720368547758.07, 'an exact partial sum beyond the limit is no error when the income fits');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 92233720368547758.07, 2023), (''1250'', 0.01, 2023)')$$,
                 '22003', 'IPCAL income out of range', 'an income beyond the limit is error 22003');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1250'', 92233720368547758.08, 2023)')$$, '22003',
                 'IPCAL amount out of range', 'an amount beyond the limit is out of range');
SELECT is(pg_temp.ii($$VALUES ('1260', 92233720368547758.07, 2023)$$), -92233720368547758.07, 'the most negative income');
SELECT throws_ok($$SELECT pg_temp.ii('VALUES (''1260'', 92233720368547758.07, 2023), (''1260'', 0.01, 2023)')$$,
                 '22003', 'IPCAL income out of range', 'one cent past the negative limit is error 22003 (the limit is symmetric)');

-- The same sum over the items kept in a member's row (inami.syst04_member, pro03_person).
SELECT is(ARRAY[inami.ipcal_items_income('{1250,1260,1270,1280,1290}', '{15000.00,2000.00,5000.00,99999.99,0.01}', 2023),
                pg_temp.ii($$VALUES ('1250', 15000.00, 2023), ('1260', 2000.00, 2023), ('1270', 5000.00, 2023),
                                    ('1280', 99999.99, 2023), ('1290', 0.01, 2023)$$)],
          ARRAY[13500.01, 13500.01],
          'ipcal_items_income and ipcal_income over the same items: 15000 - 2000 + 500 + 0 + 0.005, rounded once: 13500.01');
SELECT is(inami.ipcal_items_income('{}', '{}', 2023), 0.00, 'ipcal_items_income: no item is 0.00 (E 4.3)');
SELECT throws_ok($$SELECT inami.ipcal_items_income('{1251}', '{1.00}', 2024)$$, '55000',
                 'IPCAL code "1251" has no factor for tax year 2024', 'ipcal_items_income: a missing factor is the same error');
SELECT throws_ok($$SELECT inami.ipcal_items_income('{1250,1260}', '{1.00}', 2023)$$, '22023',
                 'IPCAL items need as many amounts as codes', 'ipcal_items_income: codes and amounts in pairs');
-- NULL elements (which the CHECK of a member's row refuses) mean what NULL arguments mean
-- to ipcal_income: the income is unknown; a code given is still checked.
SELECT is(inami.ipcal_items_income(ARRAY[NULL]::text[], ARRAY[1.00], 2023), NULL, 'ipcal_items_income: a NULL code: unknown');
SELECT is(inami.ipcal_items_income('{1250,1260}', ARRAY[1.00, NULL], 2023), NULL, 'ipcal_items_income: a NULL amount: unknown');
SELECT is(ARRAY[inami.ipcal_items_income(ARRAY['1250', NULL], ARRAY[1.00, 2.00], 2023),
                pg_temp.ii($$VALUES ('1250', 1.00, 2023), (NULL, 2.00, 2023)$$)], ARRAY[NULL, NULL]::numeric[],
          'ipcal_items_income and ipcal_income agree on a NULL code');
SELECT throws_ok($$SELECT inami.ipcal_items_income(ARRAY['1251', NULL], ARRAY[1.00, 2.00], 2024)$$, '55000', NULL,
                 'ipcal_items_income: beside a NULL, a code without factor is still an error');
SELECT throws_ok($$SELECT inami.ipcal_items_income('{{1250},{1260}}', '{{1.00},{2.00}}', 2023)$$, '2202E',
                 'IPCAL items must be one-dimensional arrays', 'ipcal_items_income: arrays of two dimensions are refused');

-- Totals are built as numeric.c builds them (inami_cents_to_numeric writes the bytes):
-- byte for byte what PostgreSQL sends for the same value, every magnitude and sign.
SELECT is(count(*) FILTER (WHERE x IS DISTINCT FROM v OR numeric_send(x) <> numeric_send(round(v, 2))), 0::bigint,
          'totals are the bytes numeric itself writes, 0.00 to +/- 92,233,720,368,547,758.07 (' || count(*) || ' amounts)')
FROM (SELECT v, inami.ipcal_items_income(ARRAY[CASE WHEN v < 0 THEN '1260' ELSE '1250' END], ARRAY[abs(v)], 2023) AS x
      FROM (SELECT DISTINCT s * m * 10::numeric ^ e / 100 AS v
            FROM unnest(ARRAY[0, 1, 5, 9, 10, 37, 99, 100, 1001, 1234, 9999, 10000, 10001, 54321, 99999999, 100000001, 922337]) AS m,
                 generate_series(0, 18) AS e, unnest(ARRAY[1, -1]) AS s) AS a
      WHERE abs(v) <= 92233720368547758.07) AS r;

-- The list is read once per query: the next statement sees an edited row.
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
VALUES (2023, '9999', 1, 'test sample: added later', 'test: sample row, not the real annex');
SELECT is(pg_temp.ii($$VALUES ('1250', 1.00, 2023), ('9999', 1.00, 2023)$$), 2.00, 'a code added is seen by the next statement');

-- The source's example as members' items feeding household_income.
CREATE TABLE item (member int, code text, amount numeric);
INSERT INTO item VALUES (1, '1250', 14000.00), (1, '1270', 10000.00), (2, '1250', 12500.00), (2, '1260', 500.00);
SELECT is(inami.household_income(rc, income, bd, 2022), 27000.00, 'items -> members -> household: 27,000.00')
FROM (SELECT p.rc, p.bd, (SELECT inami.ipcal_income(i.code, i.amount, 2022 + 1) FROM item i WHERE i.member = p.member) AS income
      FROM (VALUES (1, '00', '1980-01-01'::date), (2, '00', '1982-01-01'), (3, '01', '2010-01-01')) AS p(member, rc, bd)) AS x;

-- Parallel: partial aggregates with the same answer; a differential check against SQL.
SELECT setseed(0.7);
INSERT INTO item
SELECT m, (ARRAY['1250', '1251', '1260', '1270', '1280', '1290'])[1 + floor(random() * 6)::int],
       round((random() * 20000 - 2000)::numeric, 2)
FROM generate_series(1, 5000) AS m, generate_series(1, 3);
ANALYZE item;
CREATE TABLE serial_answers AS
SELECT (SELECT inami.ipcal_income(code, amount, 2023) FROM item) AS whole,
       (SELECT array_agg(income ORDER BY member) FROM (SELECT member, inami.ipcal_income(code, amount, 2023) AS income FROM item GROUP BY member) s) AS grouped;
SELECT is_empty($$
    SELECT member, inami.ipcal_income(i.code, i.amount, 2023), round(sum(i.amount * r.factor), 2)
    FROM item i JOIN inami.ipcal_rule r ON r.tax_year = 2023 AND r.code = i.code
    GROUP BY member HAVING inami.ipcal_income(i.code, i.amount, 2023) IS DISTINCT FROM round(sum(i.amount * r.factor), 2)
$$, 'every member equals round(sum(amount x factor), 2)');
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
CREATE FUNCTION pg_temp.plan_has(q text, node text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF l ~ node THEN RETURN true; END IF;
    END LOOP;
    RETURN false;
END;
$$;
SELECT ok(pg_temp.plan_has('SELECT inami.ipcal_income(code, amount, 2023) FROM item', 'Partial Aggregate'),
          'the forced parallel plan holds a Partial Aggregate');
SELECT is((SELECT inami.ipcal_income(code, amount, 2023) FROM item), whole, 'parallel equals serial') FROM serial_answers;
SELECT is((SELECT array_agg(income ORDER BY member) FROM (SELECT member, inami.ipcal_income(code, amount, 2023) AS income FROM item GROUP BY member) s),
          grouped, 'grouped by member under a parallel plan equals serial') FROM serial_answers;
RESET ALL;

SELECT * FROM finish();

-- The errors as a user reads them (message, DETAIL, HINT).
SELECT inami.ipcal_income('9999', 1.00, 2030);
SELECT inami.ipcal_income('125', 1.00, 2023);
SELECT inami.ipcal_income('1250', 1.001, 2023);
SELECT inami.ipcal_income('1291', 1.00, 2023);

-- The suites share one database: leave nothing behind.
DROP TABLE item, serial_answers;
DELETE FROM inami.ipcal_rule WHERE source = 'test: sample row, not the real annex';
