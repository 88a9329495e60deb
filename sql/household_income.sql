-- R3: the income of an IM household and its verdict (Circ. O.A. 2024/165 4.2-4.4).
\set VERBOSITY default
SELECT plan(91);

-- The members of the tests: (household, return code, income, birth date, income year).
-- Plain tables, not temporary ones: parallel workers cannot read temporary tables.
CREATE TABLE m (h int, rc text, inc numeric, bd date, y int);
CREATE FUNCTION pg_temp.hi(q text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE r numeric;
BEGIN
    EXECUTE format('SELECT inami.household_income(rc, inc, bd, y) FROM (%s) AS v(rc, inc, bd, y)', q) INTO r;
    RETURN r;
END;
$$;

-- The source's example: control 2024, income 2022, two adults "00" and a child born in 2010 "01".
SELECT is(inami.household_income(rc, inc, bd, 2022), 27000.00, 'source example: 15,000.00 + 12,000.00 + child "01" born 2010 = 27,000.00')
FROM (VALUES ('00', 15000.00, '1980-03-04'::date), ('00', 12000.00, '1982-11-30'), ('01', NULL, '2010-06-15')) AS v(rc, inc, bd);
SELECT is(inami.im_plafond(3, 2022), 31932.20, 'the ceiling for 3 persons in 2022 is 31,932.20');
SELECT is(inami.im_verdict(inami.household_income(rc, inc, bd, 2022), 3, 2022), 'OK', 'source example: 27,000.00 < 31,932.20 -> OK')
FROM (VALUES ('00', 15000.00, '1980-03-04'::date), ('00', 12000.00, '1982-11-30'), ('01', NULL, '2010-06-15')) AS v(rc, inc, bd);
SELECT is(scale(inami.household_income(rc, inc, bd, 2022)), 2, 'the total carries two decimals')
FROM (VALUES ('00', 15000::numeric, '1980-03-04'::date)) AS v(rc, inc, bd);

-- The ceiling: equal is NOK, one cent under is OK.
SELECT is(inami.im_verdict(31932.20, 3, 2022), 'NOK', 'a total equal to the ceiling -> NOK');
SELECT is(inami.im_verdict(31932.19, 3, 2022), 'OK', 'one cent under the ceiling -> OK');
SELECT throws_ok($$SELECT inami.im_verdict('NaN', 3, 2022)$$, '22023', NULL, 'a NaN total is no amount');
SELECT is(inami.im_verdict(31932.21, 3, 2022), 'NOK', 'one cent over the ceiling -> NOK');
SELECT is(inami.im_verdict(inami.household_income(rc, inc, bd, 2022), 3, 2022), 'NOK', 'members adding up to exactly the ceiling -> NOK')
FROM (VALUES ('00', 20000.00, '1980-03-04'::date), ('00', 11932.20, NULL), ('04', NULL, '2012-01-01')) AS v(rc, inc, bd);
SELECT is(inami.im_verdict(inami.household_income(rc, inc, bd, 2022), 3, 2022), 'OK', 'members adding up to one cent under -> OK')
FROM (VALUES ('00', 20000.00, '1980-03-04'::date), ('00', 11932.19, NULL), ('04', NULL, '2012-01-01')) AS v(rc, inc, bd);
SELECT is(inami.im_verdict(0.00, 1, 2022), 'OK', 'a zero income -> OK');
SELECT is(inami.im_verdict(-5.00, 1, 2022), 'OK', 'a negative income given to im_verdict is under the ceiling');
-- The three verdicts are made once per query and returned as kept: kept across rows (a
-- sort, an array), each is still its row's own.
SELECT is(array_agg(v ORDER BY t NULLS LAST, v), ARRAY['OK', 'OK', 'NOK', 'NOK', 'ONHOLD'],
          'verdicts kept by a sort and an array are each row''s own')
FROM (SELECT t, inami.im_verdict(t, 3, 2022) AS v
      FROM (VALUES (31932.19), (NULL), (40000.00), (0.00), (31932.20)) AS x(t)) s;

-- Under 18 on 1 January of the tax year (2023 for income 2022).
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('01', NULL, '2005-01-01', 2022)$$), NULL,
          'born 1 Jan 2005: 18 on 1 Jan 2023, not under 18: code 01 makes the total unknown');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('01', NULL, '2005-01-02', 2022)$$), 100.00,
          'born 2 Jan 2005: under 18 on 1 Jan 2023: code 01 counts 0.00');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('01', NULL, '2004-12-31', 2022)$$), NULL,
          'born 31 Dec 2004: adult');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2023), ('01', NULL, '2006-01-01', 2023)$$), NULL,
          'income year 2023: born 1 Jan 2006 is 18 on 1 Jan 2024');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2023), ('01', NULL, '2006-01-02', 2023)$$), 100.00,
          'income year 2023: born 2 Jan 2006 is under 18');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('99', NULL, '2023-06-01', 2022)$$), 100.00,
          'born during the tax year: under 18');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '2005-01-01'::date, 2022), ('00', 50.00, '2010-01-01', 2022)$$), 150.00,
          'code 00 counts the income at any age');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('01', 999.99, '2010-01-01', 2022)$$), 100.00,
          'a minor with another code counts 0.00 whatever income column it carries');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('01', 999.999, '2010-01-01', 2022)$$), 100.00,
          'the income column of a member whose code is not 00 is not read');

-- Every return code other than 00: unknown for an adult, 0.00 for a minor.
SELECT results_eq($$
    SELECT c, pg_temp.hi(format('VALUES (''00'', 10.00, ''1970-01-01''::date, 2022), (%L, 5.00, ''1970-01-01'', 2022)', c)),
              pg_temp.hi(format('VALUES (''00'', 10.00, ''1970-01-01''::date, 2022), (%L, 5.00, ''2010-01-01'', 2022)', c))
    FROM unnest(ARRAY['01', '03', '04', '10', '11', '99']) AS c ORDER BY c
$$, $$VALUES ('01', NULL::numeric, 10.00), ('03', NULL, 10.00), ('04', NULL, 10.00), ('10', NULL, 10.00),
             ('11', NULL, 10.00), ('99', NULL, 10.00)$$,
    'codes 01 03 04 10 11 99: an adult makes the total unknown, a minor counts 0.00');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('0', 5.00, '1980-01-01', 2022)$$), NULL,
          'only "00" is the known code: "0" is another code');
SELECT is(pg_temp.hi($$VALUES ('01', 5.00, '2010-01-01'::date, 2022), ('03', NULL, '2012-01-01', 2022)$$), 0.00,
          'a household of minors with no answer: 0.00');

-- Negative totals become 0.00; negative members still count.
SELECT is(pg_temp.hi($$VALUES ('00', -15000.00, '1980-01-01'::date, 2022)$$), 0.00, 'a negative total becomes 0.00');
SELECT is(pg_temp.hi($$VALUES ('00', -0.01, '1980-01-01'::date, 2022)$$), 0.00, '-0.01 becomes 0.00');
SELECT is(pg_temp.hi($$VALUES ('00', -500.00, '1980-01-01'::date, 2022), ('00', 800.00, NULL, 2022)$$), 300.00,
          'a negative member is netted before the floor');
SELECT is(pg_temp.hi($$VALUES ('00', -500.00, '1980-01-01'::date, 2022), ('00', 500.00, NULL, 2022)$$), 0.00, 'a zero total');
SELECT is(pg_temp.hi($$VALUES ('00', -500.00, '1980-01-01'::date, 2022), ('10', NULL, '1970-01-01', 2022)$$), NULL,
          'a negative partial sum with an unknown member is unknown, not 0.00');

-- NULLs in each argument.
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('00', NULL, '1980-01-01', 2022)$$), NULL,
          '"00" with a NULL income: unknown');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('00', NULL, '2010-01-01', 2022)$$), NULL,
          '"00" with a NULL income is unknown even for a minor (a broken answer is not replaced)');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('00', 50.00, NULL, 2022)$$), 150.00,
          '"00" with a NULL birth date counts (the age does not matter)');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('01', NULL, NULL, 2022)$$), NULL,
          'another code with a NULL birth date: unknown');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), (NULL, 50.00, '1980-01-01', 2022)$$), NULL,
          'a NULL return code (no answer) for an adult: unknown');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), (NULL, 50.00, '2010-01-01', 2022)$$), 100.00,
          'a NULL return code for a minor: 0.00, as any code other than 00');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, 2022), ('00', 50.00, '1980-01-01', NULL)$$), NULL,
          'a NULL income year: that member is unknown');
SELECT is(pg_temp.hi($$VALUES ('00', 100.00, '1980-01-01'::date, NULL::int)$$), NULL, 'a single member with a NULL income year: unknown');
SELECT is(pg_temp.hi($$VALUES (NULL::text, NULL::numeric, NULL::date, NULL::int)$$), NULL, 'a member with every argument NULL: unknown');

-- Empty groups.
SELECT is(pg_temp.hi($$SELECT '00', 1.00, '1980-01-01'::date, 2022 WHERE false$$), NULL, 'no member: NULL');
SELECT is_empty($$SELECT h, inami.household_income(rc, inc, bd, y) FROM m GROUP BY h$$, 'GROUP BY over no rows: no household');

-- A household of 12.
SELECT is(inami.household_income(rc, inc, bd, 2022), 70759.81, 'a household of 12: 4 earners, 8 minors')
FROM (SELECT CASE WHEN i <= 4 THEN '00' ELSE (ARRAY['01', '03', '04', '10', '11', '99', '01', '03'])[i - 4] END,
             CASE WHEN i <= 4 THEN 17689.95 + (i = 1)::int * 0.01 ELSE NULL END,
             CASE WHEN i <= 4 THEN '1975-01-01'::date ELSE make_date(2005 + i, 1, 2) END
      FROM generate_series(1, 12) AS i) AS v(rc, inc, bd);
SELECT is(inami.im_plafond(12, 2022), 70759.82, 'the ceiling of 12 persons: 23,303.84 + 11 x 4,314.18');
SELECT is(inami.im_verdict(70759.81, 12, 2022), 'OK', 'a household of 12 one cent under its ceiling -> OK');
SELECT is(inami.im_verdict(70759.82, 12, 2022), 'NOK', 'a household of 12 at its ceiling -> NOK');

-- Amounts at the int64-cents limit: exact, order-independent, and a clear error beyond.
SELECT is(pg_temp.hi($$VALUES ('00', 92233720368547758.07, NULL::date, 2022)$$), 92233720368547758.07, 'the largest amount');
SELECT is(pg_temp.hi($$VALUES ('00', 92233720368547758.07, NULL::date, 2022), ('00', 0.01, NULL, 2022), ('00', -0.01, NULL, 2022)$$),
          92233720368547758.07, 'a partial sum beyond the limit is no error when the total fits (any row order)');
SELECT is(pg_temp.hi($$VALUES ('00', -92233720368547758.07, NULL::date, 2022), ('00', -92233720368547758.07, NULL, 2022)$$),
          0.00, 'a total below the int64 limit is negative: 0.00');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 92233720368547758.07, NULL::date, 2022), (''00'', 0.01, NULL, 2022)')$$,
                 '22003', 'household income out of range', 'a total beyond the limit is error 22003');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 92233720368547758.08, NULL::date, 2022)')$$,
                 '22003', 'income out of range', 'an amount beyond the limit is error 22003, out of range');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', -92233720368547758.08, NULL::date, 2022)')$$,
                 '22003', 'income out of range', 'one cent past the negative limit too (the limit is symmetric)');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 1e30, NULL::date, 2022)')$$,
                 '22003', 'income out of range', 'a whole number beyond the limit is out of range, not a matter of decimals');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 10.001, NULL::date, 2022)')$$,
                 '22003', 'income must be a finite amount with at most two decimals', 'an amount with 3 decimals is an error');
SELECT is(pg_temp.hi($$VALUES ('00', 10.0100, NULL::date, 2022)$$), 10.01, 'trailing zero decimals are fine');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', ''NaN''::numeric, NULL::date, 2022)')$$, '22023', NULL, 'NaN is an error');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', ''Infinity''::numeric, NULL::date, 2022)')$$, '22023', NULL, 'infinity is an error');
-- The amount decoder reads numeric's base-10000 digits: every magnitude and digit layout
-- (digits before and after the point, zero digits trimmed, signs) gives its exact value.
-- A negative amount is read beside the largest one, so that the total shows it exactly.
SELECT is(count(*) FILTER (WHERE x IS DISTINCT FROM CASE WHEN v < 0 THEN 92233720368547758.07 + v ELSE v END), 0::bigint,
          'amounts of every magnitude and sign, 0.01 to 92,233,720,368,547,758.07, read exactly (' || count(*) || ' amounts)')
FROM (SELECT v, inami.household_income('00', w, NULL, 2022) AS x
      FROM (SELECT DISTINCT s * m * 10::numeric ^ e / 100 AS v
            FROM unnest(ARRAY[1, 5, 9, 10, 37, 99, 100, 1001, 1234, 9999, 10000, 10001, 54321, 99999999, 100000001, 922337]) AS m,
                 generate_series(0, 18) AS e, unnest(ARRAY[1, -1]) AS s) AS a,
           unnest(CASE WHEN v < 0 THEN ARRAY[v, 92233720368547758.07] ELSE ARRAY[v] END) AS w
      WHERE abs(v) <= 92233720368547758.07
      GROUP BY v) AS r;
SELECT is(count(*) FILTER (WHERE x IS DISTINCT FROM 0.00), 0::bigint, 'zero in any scale is 0.00')
FROM (SELECT inami.household_income('00', v, NULL, 2022) AS x
      FROM unnest(ARRAY[0, 0.0, 0.00, 0.000000, -0.00]::numeric[]) AS v GROUP BY v::text) AS r;
CREATE FUNCTION pg_temp.refused(v numeric) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM inami.household_income('00', v, NULL, 2022);
    RETURN 'accepted';
EXCEPTION WHEN numeric_value_out_of_range THEN
    RETURN 'refused';
END;
$$;
SELECT is(array_agg(v ORDER BY v) FILTER (WHERE pg_temp.refused(v) <> 'refused'), NULL,
          'a third decimal anywhere, or beyond the int64 cents, is refused')
FROM unnest(ARRAY[0.001, 0.009, 0.011, 0.0001, 0.00000001, 1.005, 10000.001, 12345678.0010, 99999999.991,
                  -0.001, -1.005, 92233720368547758.08, -92233720368547758.08, 92233720368547758.071,
                  99999999999999999.99, 100000000000000000.00, 100000000000000000000, 1e40, -1e40, 1e-40,
                  -- 2^64 cents and beyond, which a 64-bit sum of the digits would wrap to small amounts
                  184467440737095516.16, 184467440737095516.17, -184467440737095516.17, 999999999999999999.99]::numeric[]) AS v;

-- Other errors.
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 1.00, NULL::date, 2022), (''00'', 2.00, NULL, 2021)')$$,
                 '22023', 'household members have different income years', 'two income years in one group');
SELECT is(pg_temp.hi($$VALUES ('00', 1.00, NULL::date, 2022), ('00', 2.00, NULL, NULL)$$), NULL,
          'a NULL income year beside 2022 is an unknown member, not a second year');
-- Income years: 1990-2200, like the parameter tables, whatever the return code.
SELECT is(pg_temp.hi($$VALUES ('00', 1.00, NULL::date, 1990), ('01', NULL, '1973-01-01', 1990)$$), NULL,
          'income year 1990, the first taken: "01" born 1 January 1973 is 18 on 1 January 1991, unknown');
SELECT is(pg_temp.hi($$VALUES ('00', 1.00, NULL::date, 2200), ('01', NULL, '2183-01-02', 2200)$$), 1.00,
          'income year 2200, the last taken: "01" born 2 January 2183 is under 18 on 1 January 2201, 0.00');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 1.00, NULL::date, 1989)')$$,
                 '22023', 'income year must be between 1990 and 2200', 'income year 1989, even for a "00" member');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''01'', NULL::numeric, ''2190-01-01''::date, 2201)')$$,
                 '22023', 'income year must be between 1990 and 2200', 'income year 2201');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''00'', 1.00, NULL::date, 2022), (''00'', 1.00, NULL, 100000)')$$,
                 '22023', 'household members have different income years', 'an out-of-range year beside 2022: two years');
SELECT throws_ok($$SELECT pg_temp.hi('VALUES (''01'', NULL::numeric, ''infinity''::date, 2022)')$$,
                 '22023', NULL, 'an infinite birth date');
SELECT throws_ok('SELECT inami.im_verdict(1.00, 0, 2022)', '22023', NULL, 'im_verdict: household size 0');
SELECT throws_ok('SELECT inami.im_verdict(1.00, 3, 2023)', '55000', NULL, 'im_verdict: no ceiling for 2023');
SELECT throws_ok('SELECT inami.im_verdict(NULL, 3, 2023)', '55000', NULL, 'im_verdict: ONHOLD still needs a ceiling row for the year');
SELECT throws_ok('SELECT inami.im_verdict(1.001, 3, 2022)', '22003', NULL, 'im_verdict: an income with 3 decimals');

-- im_verdict and NULLs.
SELECT is(inami.im_verdict(NULL, 3, 2022), 'ONHOLD', 'unknown income -> ONHOLD');
SELECT is(inami.im_verdict(NULL, NULL, NULL), 'ONHOLD', 'unknown income with no size or year -> ONHOLD');
SELECT is(inami.im_verdict(1.00, NULL, 2022), NULL, 'a known income and no size: NULL (no ceiling to judge against)');
SELECT is(inami.im_verdict(1.00, 3, NULL), NULL, 'a known income and no year: NULL');

-- Declarations: parallel safe, combine and serialise functions, volatility.
SELECT is_empty($$
    SELECT a.aggfnoid FROM pg_aggregate a
    WHERE a.aggfnoid IN ('inami.household_income(text, numeric, date, int)'::regprocedure,
                         'inami.ipcal_income(text, numeric, int)'::regprocedure)
      AND (a.aggcombinefn = 0 OR a.aggserialfn = 0 OR a.aggdeserialfn = 0
           OR (SELECT proparallel FROM pg_proc WHERE oid = a.aggfnoid) <> 's')
$$, 'both aggregates are PARALLEL SAFE with combine, serialise and deserialise functions');
SELECT is(format('%s %s %s', provolatile, proisstrict, proparallel), 's f s', 'im_verdict is STABLE, not STRICT, PARALLEL SAFE')
FROM pg_proc WHERE oid = 'inami.im_verdict(numeric, int, int)'::regprocedure;

-- A randomized differential test against an independent plain-SQL reference of R3.
SELECT setseed(0.42);
INSERT INTO m
SELECT h, rc, inc, bd, 2022
FROM (SELECT h, generate_series(1, 1 + (random() * 5)::int) AS k FROM generate_series(1, 3000) AS h) AS s,
     LATERAL (SELECT (ARRAY['00', '00', '00', '00', '00', '01', '03', '04', '10', '11', '99', NULL])[1 + floor(random() * 12)::int] AS rc,
                     CASE WHEN random() < 0.05 THEN NULL
                          ELSE round((random() * 60000 - 10000)::numeric, 2) END AS inc,
                     CASE WHEN random() < 0.05 THEN NULL
                          WHEN random() < 0.3 THEN '2005-01-01'::date + (floor(random() * 5)::int - 2)
                          ELSE '1940-01-01'::date + floor(random() * 30000)::int END AS bd,
                     k) AS v;
-- a few hundred households of minors only, so that the under-18 rule often decides
INSERT INTO m
SELECT 3000 + h, (ARRAY['00', '01', '03', '04', '10', '11', '99', NULL])[1 + floor(random() * 8)::int],
       round((random() * 2000 - 1000)::numeric, 2),
       '2004-12-30'::date + floor(random() * 6000)::int, 2022
FROM generate_series(1, 500) AS h, generate_series(1, 3) AS k;
SELECT ok((SELECT count(DISTINCT h) FROM m) = 3500 AND (SELECT count(*) FROM m) > 12000, 'the random set has 3,500 households');
CREATE TEMP VIEW reference AS
SELECT h, CASE WHEN bool_or(unknown) THEN NULL ELSE greatest(sum(counted), 0.00) END AS total
FROM (SELECT h,
             CASE WHEN rc = '00' THEN inc ELSE 0 END AS counted,
             CASE WHEN y IS NULL THEN true
                  WHEN rc = '00' THEN inc IS NULL
                  ELSE bd IS NULL OR extract(year FROM age(make_date(y + 1, 1, 1), bd)) >= 18 END AS unknown
      FROM m) AS x
GROUP BY h;
CREATE TEMP VIEW computed AS
SELECT h, inami.household_income(rc, inc, bd, y) AS total FROM m GROUP BY h;
SELECT is_empty($$SELECT * FROM reference r FULL JOIN computed c USING (h) WHERE r.total IS DISTINCT FROM c.total$$,
                'every random household matches the reference');
SELECT ok((SELECT count(*) FILTER (WHERE total IS NULL) BETWEEN 500 AND 3000
              AND count(*) FILTER (WHERE total = 0) > 100
              AND count(*) FILTER (WHERE total > 0) > 300 FROM reference),
          'the random set holds unknown, zero and positive totals');

-- Parallel: a forced parallel plan splits the aggregate, with the same answers.
CREATE FUNCTION pg_temp.plan_has(q text, node text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        IF l ~ node THEN RETURN true; END IF;
    END LOOP;
    RETURN false;
END;
$$;
ANALYZE m;
CREATE TEMP TABLE serial_answers AS
SELECT (SELECT inami.household_income(rc, inc, bd, y) FROM m WHERE inc IS NOT NULL AND (rc = '00' OR bd > '2005-01-01')) AS whole,
       (SELECT inami.household_income(rc, inc, bd, y) FROM m) AS with_unknown,
       (SELECT array_agg(total ORDER BY h) FROM computed) AS grouped;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SELECT ok(pg_temp.plan_has($$SELECT inami.household_income(rc, inc, bd, y) FROM m WHERE inc IS NOT NULL AND (rc = '00' OR bd > '2005-01-01')$$,
                           'Partial Aggregate'), 'the plan holds a Partial Aggregate');
SELECT ok(pg_temp.plan_has($$SELECT inami.household_income(rc, inc, bd, y) FROM m WHERE inc IS NOT NULL AND (rc = '00' OR bd > '2005-01-01')$$,
                           'Gather'), 'the plan gathers parallel workers');
SELECT is((SELECT inami.household_income(rc, inc, bd, y) FROM m WHERE inc IS NOT NULL AND (rc = '00' OR bd > '2005-01-01')), whole,
          'parallel equals serial: the known members of all households as one')
FROM serial_answers;
SELECT ok(whole > 1000000, 'that total is large enough to mean something') FROM serial_answers;
SELECT is((SELECT inami.household_income(rc, inc, bd, y) FROM m), with_unknown, 'parallel equals serial with unknown members: NULL')
FROM serial_answers;
SET enable_hashagg = off;
SELECT is((SELECT array_agg(total ORDER BY h) FROM computed), grouped, 'grouped answers under a parallel plan (Gather below the grouping) equal serial ones')
FROM serial_answers;
RESET enable_hashagg;
SELECT throws_ok($$SELECT inami.household_income(rc, inc, bd, CASE WHEN h = 3500 THEN 2021 ELSE y END) FROM m$$,
                 '22023', NULL, 'mixed years found across parallel workers are an error');
RESET parallel_leader_participation;

-- Partition-wise aggregation over a hash-partitioned table.
CREATE TABLE mp (h int, rc text, inc numeric, bd date, y int) PARTITION BY HASH (h);
CREATE TABLE mp0 PARTITION OF mp FOR VALUES WITH (MODULUS 3, REMAINDER 0);
CREATE TABLE mp1 PARTITION OF mp FOR VALUES WITH (MODULUS 3, REMAINDER 1);
CREATE TABLE mp2 PARTITION OF mp FOR VALUES WITH (MODULUS 3, REMAINDER 2);
INSERT INTO mp SELECT * FROM m;
ANALYZE mp;
SET enable_partitionwise_aggregate = on;
SELECT ok(pg_temp.plan_has($$SELECT h, inami.household_income(rc, inc, bd, y) FROM mp GROUP BY h$$, 'on mp2'),
          'the partition-wise plan aggregates each partition');
SELECT is_empty($$SELECT * FROM (SELECT h, inami.household_income(rc, inc, bd, y) AS total FROM mp GROUP BY h) p
                  FULL JOIN reference r USING (h) WHERE p.total IS DISTINCT FROM r.total$$,
                'partition-wise GROUP BY household gives the reference''s answers');
SELECT ok(pg_temp.plan_has($$SELECT rc, inami.household_income(NULL, inc, bd, y) FROM mp GROUP BY rc$$, 'Partial'),
          'grouping by something else than the partition key: partial aggregates per partition');
SELECT results_eq($$SELECT rc, inami.household_income('00', inc, bd, y) FROM mp WHERE inc IS NOT NULL GROUP BY rc ORDER BY rc$$,
                  $$SELECT rc, greatest(sum(inc), 0.00) FROM m WHERE inc IS NOT NULL GROUP BY rc ORDER BY rc$$,
                  'partial partition-wise aggregates combine to the right sums');
RESET ALL;

SELECT * FROM finish();

-- The errors as a user reads them (message, DETAIL, HINT).
SELECT inami.household_income(rc, inc, NULL, y) FROM (VALUES ('00', 1.00, 2022), ('00', 2.00, 2021)) AS v(rc, inc, y);
SELECT inami.household_income('00', 10.001, NULL, 2022);
SELECT inami.household_income('00', inc, NULL, 2022) FROM (VALUES (92233720368547758.07), (0.01)) AS v(inc);
SELECT inami.im_verdict(NULL, 3, 2023);

-- The suites share one database: leave nothing behind.
DROP VIEW reference, computed;
DROP TABLE m, mp;
