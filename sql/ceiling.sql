-- R2: the IM income ceiling (Circ. O.A. 2024/165 4.2; 2024/200 footnote 3).
\set VERBOSITY default
SELECT plan(30);

SELECT is(inami.im_plafond(4, 2022), 36246.38, '2 titulaires + 2 dependents in 2022: 36,246.38 (Circ. 2024/200, footnote 3)');
SELECT is(inami.im_plafond(1, 2022), 23303.84, 'a household of one: the base');
SELECT is(inami.im_plafond(2, 2022), 27618.02, 'two persons: base + 4,314.18');
SELECT is(inami.im_plafond(3, 2022), 31932.20, 'three persons: 31,932.20 (R3 example)');
SELECT is(inami.im_plafond(12, 2022), 70759.82, 'twelve persons: base + 11 x 4,314.18');
SELECT is(scale(inami.im_plafond(1, 2022)), 2, 'ceilings carry two decimals');
SELECT is(inami.im_plafond(NULL, 2022), NULL, 'NULL size');
SELECT is(inami.im_plafond(1, NULL), NULL, 'NULL year');

SELECT throws_ok('SELECT inami.im_plafond(0, 2022)', '22023', NULL, 'household size 0');
SELECT throws_ok('SELECT inami.im_plafond(-3, 2022)', '22023', NULL, 'a negative household size');
SELECT throws_ok('SELECT inami.im_plafond(1, 2023)', '55000', NULL, 'an income year with no row');
SELECT throws_ok('SELECT inami.im_plafond(1, 1989)', '22023', 'income year must be between 1990 and 2200',
                 'an income year no row can be added for (not 55000)');
SELECT throws_ok('SELECT inami.im_verdict(NULL, 1, 2201)', '22023', 'income year must be between 1990 and 2200', 'im_verdict too');

-- The ceilings of sizes 1 to 16 are made once per query and returned as kept (not copied
-- per row): results kept across rows (an array, a sort, a window, DISTINCT) are still each
-- row's own, and larger sizes are made per row.
SELECT is(array_agg(inami.im_plafond(s, 2022) ORDER BY s), array_agg(c.base + c.per_member * (s - 1) ORDER BY s),
          'sizes 1 to 40 in one query: base + per_member x (size - 1), kept or not')
FROM generate_series(1, 40) AS s, inami.im_ceiling c WHERE c.income_year = 2022;
SELECT results_eq($$SELECT s, x, lag(x) OVER (ORDER BY s)
                    FROM (SELECT s, inami.im_plafond(1 + s % 5, 2022) AS x FROM generate_series(1, 20) AS s) q
                    ORDER BY x DESC, s$$,
                  $$SELECT s, x, lag(x) OVER (ORDER BY s)
                    FROM (SELECT s, c.base + c.per_member * (s % 5) AS x
                          FROM generate_series(1, 20) AS s, inami.im_ceiling c WHERE c.income_year = 2022) q
                    ORDER BY x DESC, s$$,
                  'ceilings kept by a sort and a window are each row''s own');
SELECT is(count(DISTINCT inami.im_plafond(1 + s % 5, 2022)), 5::bigint, 'five sizes, five distinct ceilings')
FROM generate_series(1, 100) AS s;
-- A cursor fetched one row at a time, each fetch in its own subtransaction: the cache is
-- read again at every fetch (its memory reset), and every row is still the one the same
-- query gives at once (a window keeps the row before, a sort and a join theirs).
CREATE FUNCTION pg_temp.fetched_apart(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    r record;
    fetched text[] := '{}';
BEGIN
    OPEN c NO SCROLL FOR EXECUTE q;
    LOOP
        BEGIN
            FETCH c INTO r;
        EXCEPTION WHEN division_by_zero THEN NULL;
        END;
        EXIT WHEN NOT FOUND;
        fetched := fetched || r::text;
    END LOOP;
    RETURN fetched;
END;
$$;
CREATE FUNCTION pg_temp.fetched_at_once(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    fetched text[];
BEGIN
    EXECUTE 'SELECT array_agg(t::text) FROM (' || q || ') t' INTO fetched;
    RETURN fetched;
END;
$$;
SELECT is(pg_temp.fetched_apart(q), pg_temp.fetched_at_once(q), 'fetched in savepoints: ' || what)
FROM (VALUES
    ('a window', $q$SELECT s, lag(inami.im_plafond(1 + s % 5, 2022)) OVER (ORDER BY s), inami.im_plafond(1 + s % 5, 2022),
                      inami.quarterly_dependent_limit(2009 + s % 10, 1 + s % 4), inami.im_verdict(30000.00, 1 + s % 5, 2022)
               FROM generate_series(1, 30) AS s ORDER BY s$q$),
    ('a sort', $q$SELECT inami.im_plafond(1 + s % 7, 2022) AS v, inami.quarterly_dependent_limit('2009-01-01'::date + s * 40)
             FROM generate_series(1, 60) AS s ORDER BY 1, 2$q$),
    ('a join on the ceilings', $q$SELECT a.s, b.s FROM generate_series(1, 16) AS a(s)
                      JOIN generate_series(1, 16) AS b(s) ON inami.im_plafond(a.s, 2022) = inami.im_plafond(17 - b.s, 2022)
                      ORDER BY a.s$q$)) AS v(what, q);

-- Other years are rows the operator adds; the next statement sees them.
INSERT INTO inami.im_ceiling (income_year, base, per_member, source)
VALUES (2023, 25000.00, 4600.00, 'test: hypothetical circular');
SELECT is(inami.im_plafond(3, 2023), 34200.00, 'an operator row for 2023');
SELECT is(sum(inami.im_plafond(s, y)), 36246.38 + 38800.00, 'one query over two years')
FROM (VALUES (4, 2022), (4, 2023)) AS v(s, y);
DELETE FROM inami.im_ceiling WHERE income_year = 2023;
SELECT throws_ok('SELECT inami.im_plafond(1, 2023)', '55000', NULL, 'gone again once the row is deleted');

SELECT throws_ok($$INSERT INTO inami.im_ceiling VALUES (2030, 1000.005, 1, 'test')$$, '23514', NULL,
                 'a ceiling has at most two decimals');
SELECT throws_ok($$UPDATE inami.im_ceiling SET base = 1 WHERE income_year = 2022$$, '42501', NULL,
                 'the shipped 2022 row cannot be edited');
-- pg_dump keeps only the rows not shipped: no row may be marked shipped by hand, and the
-- shipped rows cannot be truncated away.
SELECT throws_ok($$INSERT INTO inami.im_ceiling VALUES (2030, 24000.00, 4400.00, 'test: operator row', true)$$,
                 '42501', 'only the extension ships parameter rows', 'a row cannot be inserted as shipped');
INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES (2030, 24000.00, 4400.00, 'test: operator row');
SELECT throws_ok($$UPDATE inami.im_ceiling SET shipped = true WHERE income_year = 2030$$,
                 '42501', 'only the extension ships parameter rows', 'an operator row cannot be marked shipped');
SELECT lives_ok($$UPDATE inami.im_ceiling SET base = 24100.00 WHERE income_year = 2030$$, 'an operator row can be edited');
SELECT is(inami.im_plafond(1, 2030), 24100.00, 'and the edit is seen');
DELETE FROM inami.im_ceiling WHERE income_year = 2030;
SELECT throws_ok($$TRUNCATE inami.im_ceiling$$, '42501',
                 'cannot truncate a parameter table holding rows shipped with the extension', 'a table with shipped rows cannot be truncated');
SELECT lives_ok($$TRUNCATE inami.maf_income_bracket$$, 'a parameter table without shipped rows can be truncated');

SELECT * FROM finish();

-- The errors as a user reads them.
SELECT inami.im_plafond(1, 2023);
SELECT inami.im_plafond(0, 2022);
