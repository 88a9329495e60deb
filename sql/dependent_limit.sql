-- R1: the quarterly income limit of a dependent person (Circ. O.A. 2024/253).
\set VERBOSITY default
SELECT plan(55);

-- Every monthly amount the circular prints: 1,762.82 x 1.02^n, rounded to the cent.
SELECT results_eq(
    $$SELECT exponent, monthly_amount FROM inami.dependent_limit_month WHERE exponent >= 12 ORDER BY exponent$$,
    $$VALUES (12, 2235.68), (13, 2280.40), (14, 2326.00), (15, 2372.52), (16, 2419.97),
             (17, 2468.37), (18, 2517.74), (19, 2568.10), (20, 2619.46), (21, 2671.85),
             (22, 2725.28), (23, 2779.79), (24, 2835.39), (25, 2892.09), (26, 2949.93),
             (27, 3008.93), (28, 3069.11)$$,
    'the monthly amounts of steps 12 to 28 are those of the circular');

-- The circular's quarters.
SELECT is(inami.quarterly_dependent_limit(2009, 1), 2148.87, 'Q1 2009 = 2,148.87 (circular)');
SELECT is(inami.quarterly_dependent_limit(2022, 4), 2892.47, 'Q4 2022 = (2,835.39 + 2,892.09 + 2,949.93) / 3 = 2,892.47 (circular)');
SELECT is(inami.quarterly_dependent_limit(2024, 2), 3049.05, 'Q2 2024 = (3,008.93 + 3,069.11 x 2) / 3 = 3,049.05 (circular)');

-- Edges: the first month of a new step, quarters that straddle a step, the last vouched quarter.
SELECT is(inami.quarterly_dependent_limit(2022, 1), 2689.66, 'Q1 2022: step 21 from January, 22 from March: (2,671.85 x 2 + 2,725.28) / 3');
SELECT is(inami.quarterly_dependent_limit(2010, 3), 2163.20, 'Q3 2010: step 11 from September: (2,148.87 x 2 + 2,191.85) / 3 = 2,163.1967 -> 2,163.20');
SELECT is(inami.quarterly_dependent_limit(2024, 1), 3008.93, 'Q1 2024: all three months at step 27');
SELECT is(inami.quarterly_dependent_limit(2024, 3), 3069.11, 'Q3 2024, the last vouched quarter: step 28');
SELECT is(inami.quarterly_dependent_limit(2008 + 1, 1), 2148.87, 'arguments are plain ints: 2008 + 1 is 2009');
SELECT is(scale(inami.quarterly_dependent_limit(2012, 4)), 2, 'limits carry two decimals');

-- The date form picks the quarter holding the day.
SELECT is(inami.quarterly_dependent_limit('2024-04-01'::date), 3049.05, 'the first day of Q2 2024');
SELECT is(inami.quarterly_dependent_limit('2024-06-30'::date), 3049.05, 'the last day of Q2 2024');
SELECT is(inami.quarterly_dependent_limit('2009-01-01'::date), 2148.87, 'the first day covered');
SELECT is(inami.quarterly_dependent_limit('2024-09-30'::date), 3069.11, 'the last day vouched');
SELECT is(inami.quarterly_dependent_limit('2022-12-31'::date), 2892.47, 'the last day of Q4 2022');
-- Every day covered, each quarter's first and last day and the leap days among them, gives
-- its quarter's limit (the day is placed by a table of quarter starts, not by j2date).
SELECT is(count(*) FILTER (WHERE inami.quarterly_dependent_limit(d::date)
                                 IS DISTINCT FROM inami.quarterly_dependent_limit(extract(year FROM d)::int,
                                                                                  extract(quarter FROM d)::int)),
          0::bigint, 'every day from 2009-01-01 to 2024-09-30 in its quarter (' || count(*) || ' days)')
FROM generate_series('2009-01-01'::date, '2024-09-30', '1 day') AS d;

-- Every quarter from 2009 to Q3 2024 against an independent reference: the monthly
-- amount recomputed from the base and the circular's steps (written out here, not read
-- from inami.pivot_index_step), mean of three months, rounded half-up.
SELECT is(count(*), 63::bigint, 'the reference covers 63 quarters')
FROM generate_series('2009-01-01'::date, '2024-07-01', '3 months') AS q;
SELECT is_empty($$
    WITH steps (first_month, n) AS (
        VALUES ('2009-01-01'::date, 10), ('2010-09-01', 11), ('2011-05-01', 12), ('2012-02-01', 13),
               ('2012-12-01', 14), ('2015-07-01', 15), ('2016-06-01', 16), ('2017-06-01', 17),
               ('2018-09-01', 18), ('2020-03-01', 19), ('2021-09-01', 20), ('2022-01-01', 21),
               ('2022-03-01', 22), ('2022-05-01', 23), ('2022-08-01', 24), ('2022-11-01', 25),
               ('2022-12-01', 26), ('2023-11-01', 27), ('2024-05-01', 28)
    ), months AS (
        SELECT m::date AS month,
               round(1762.82 * 1.02 ^ (SELECT max(n) FROM steps WHERE first_month <= m), 2) AS amount
        FROM generate_series('2009-01-01'::date, '2024-09-01', '1 month') AS m
    ), quarters AS (
        SELECT extract(year FROM month)::int AS y, extract(quarter FROM month)::int AS q,
               round(avg(amount), 2) AS expected
        FROM months GROUP BY 1, 2
    )
    SELECT y, q, expected, inami.quarterly_dependent_limit(y, q) FROM quarters
    WHERE inami.quarterly_dependent_limit(y, q) IS DISTINCT FROM expected
$$, 'every quarter 2009 Q1 .. 2024 Q3 matches the reference');

-- Equal to the limit still qualifies; one cent more does not.
SELECT ok(inami.dependent_income_within_limit(3049.05, 2024, 2), 'income equal to the limit qualifies');
SELECT ok(NOT inami.dependent_income_within_limit(3049.06, 2024, 2), 'one cent over the limit does not');
SELECT ok(inami.dependent_income_within_limit(-10.00, 2024, 2), 'a negative income qualifies');

-- NULL in, NULL out.
SELECT is(inami.quarterly_dependent_limit(NULL::int, 1), NULL, 'NULL year');
SELECT is(inami.quarterly_dependent_limit(2024, NULL), NULL, 'NULL quarter');
SELECT is(inami.quarterly_dependent_limit(NULL::date), NULL, 'NULL day');

-- Errors: a specific SQLSTATE, never XX000 or P0001.
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2024, 4)', '55000', NULL, 'Q4 2024 is after the vouched coverage');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(''2024-10-01''::date)', '55000', NULL, 'the day after the coverage');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2008, 4)', '55000', NULL, 'Q4 2008 is before the first step');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(''2008-12-31''::date)', '55000', NULL, 'the day before the first step');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2024, 0)', '22023', NULL, 'quarter 0');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2024, 5)', '22023', NULL, 'quarter 5');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(-5, 1)', '22023', NULL, 'a negative year');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(1989, 4)', '22023', 'year must be between 1990 and 2200',
                 '1989: a year no step can be added for (not 55000)');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2201, 1)', '22023', 'year must be between 1990 and 2200', '2201');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(''1985-06-01''::date)', '22023', 'year must be between 1990 and 2200',
                 'a day of 1985');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(''infinity''::date)', '22023', NULL, 'an infinite day');

-- A later crossing is a new row, nothing else; the next statement sees it.
INSERT INTO inami.pivot_index_step (effective_from, exponent, source)
VALUES ('2024-11-01', 29, 'test: a hypothetical crossing');
INSERT INTO inami.parameter_coverage (series, valid_until, source)
VALUES ('quarterly_dependent_limit', '2024-12-31', 'test: a hypothetical circular');
SELECT is(inami.quarterly_dependent_limit(2024, 4), round((3069.11 + 2 * round(1762.82 * 1.02 ^ 29, 2)) / 3, 2),
          'Q4 2024 once a step and the coverage are added');
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2025, 1)', '55000', NULL, 'Q1 2025 still after the coverage');
DELETE FROM inami.pivot_index_step WHERE NOT shipped;
DELETE FROM inami.parameter_coverage WHERE NOT shipped;
SELECT throws_ok('SELECT inami.quarterly_dependent_limit(2024, 4)', '55000', NULL, 'the operator rows removed, Q4 2024 is refused again');

-- Shipped rows are the circular's figures: they cannot be edited or deleted.
SELECT throws_ok($$UPDATE inami.pivot_index_step SET exponent = 99 WHERE effective_from = '2024-05-01'$$,
                 '42501', NULL, 'a shipped step cannot be edited');
SELECT throws_ok($$DELETE FROM inami.parameter_coverage$$, '42501', NULL, 'the shipped coverage cannot be deleted');
SELECT throws_ok($$INSERT INTO inami.pivot_index_step VALUES ('2024-10-15', 40, 'test')$$,
                 '23514', NULL, 'a step starts on the first of a month');
SELECT throws_ok($$INSERT INTO inami.pivot_index_step VALUES ('infinity', 40, 'test')$$,
                 '23514', NULL, 'a step is a finite day');
SELECT throws_ok($$INSERT INTO inami.parameter_coverage VALUES ('quarterly_dependent_limit', 'infinity', 'test')$$,
                 '23514', NULL, 'the coverage ends on a finite day');
SELECT throws_ok($$INSERT INTO inami.parameter_coverage VALUES ('quarterly_dependent_limit', '2201-01-01', 'test')$$,
                 '23514', NULL, 'within the years the rules take (to 2200)');

-- Volatility and parallel safety.
SELECT is(provolatile::text, 's', 'quarterly_dependent_limit(int, int) is STABLE')
FROM pg_proc WHERE oid = 'inami.quarterly_dependent_limit(int, int)'::regprocedure;
SELECT is(proparallel::text, 's', 'quarterly_dependent_limit(date) is PARALLEL SAFE')
FROM pg_proc WHERE oid = 'inami.quarterly_dependent_limit(date)'::regprocedure;

-- A row added inside the period the shipped rows vouch for (the first shipped step to the
-- shipped coverage's end) would rewrite a published limit: refused, naming the figure.
SELECT throws_ok($$INSERT INTO inami.pivot_index_step VALUES ('2009-06-01', 40, 'made up')$$,
                 '23514', 'a row of inami.pivot_index_step would change the quarterly income limit of a dependent of Q2 2009 (2148.87 EUR)',
                 'a step inside the vouched period is refused, naming the first figure it would change (Q3 2009 would go from 2,148.87 to 3,892.38)');
SELECT throws_like($$INSERT INTO inami.pivot_index_step VALUES ('2024-09-01', 40, 'made up')$$,
                   '%Q3 2024 (3069.11 EUR)', 'up to the last day of the shipped coverage');
SELECT is(inami.quarterly_dependent_limit(2009, 3), 2148.87, 'Q3 2009 unchanged');
SELECT lives_ok($$INSERT INTO inami.pivot_index_step VALUES ('2024-10-01', 40, 'test: after the coverage')$$,
                'a step after the shipped coverage is added');
SELECT throws_ok($$UPDATE inami.pivot_index_step SET effective_from = '2010-01-01' WHERE NOT shipped$$,
                 '23514', NULL, 'an operator row moved into the vouched period is refused too');
SELECT lives_ok($$INSERT INTO inami.pivot_index_step VALUES ('2005-01-01', 5, 'test: before the shipped steps')$$,
                'a step before the first shipped one changes no shipped figure');
DELETE FROM inami.pivot_index_step WHERE NOT shipped;
-- The coverage vouches for a quarter once the sources can have published it: not ahead.
SELECT throws_ok($$INSERT INTO inami.parameter_coverage VALUES ('quarterly_dependent_limit', '2199-12-31', 'made up')$$,
                 '23514', 'a parameter_coverage row cannot vouch for a quarter that has not begun',
                 'a coverage up to 2199 is refused');
SELECT throws_ok(format($$INSERT INTO inami.parameter_coverage VALUES ('quarterly_dependent_limit', %L, 'made up')$$,
                        (date_trunc('quarter', current_date) + interval '3 months')::date),
                 '23514', NULL, 'the first day of the next quarter is refused');
SELECT is((SELECT count(*) FROM inami.parameter_coverage WHERE NOT shipped), 0::bigint, 'no coverage row added');

SELECT * FROM finish();

-- The errors as a user reads them (message, DETAIL, HINT).
SELECT inami.quarterly_dependent_limit(2024, 4);
SELECT inami.quarterly_dependent_limit(2008, 4);
SELECT inami.quarterly_dependent_limit(2024, 5);
