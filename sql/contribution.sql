-- R8: minimum value of the contribution documents 2024 and the complement (Circ. O.A. 2024/164).
\set VERBOSITY default
SELECT plan(47);

SELECT is(inami.contribution_minimum(2024, 21), 7976.72, '21 and over: 1,994.18 x 4 = 7,976.72 (circular)');
SELECT is(inami.contribution_minimum(2024, 45), 7976.72, '45: the same class');
SELECT is(inami.contribution_minimum(2024, 20), 5982.54, 'under 21: 7,976.72 x 3/4 = 5,982.54 (circular)');
SELECT is(inami.contribution_minimum(2024, 0), 5982.54, 'age 0: the under-21 class');

-- Worked example (project's, following the circular's steps A, B, C):
-- 7,976.72 - 6,000.00 - 7,976.72 x 20 / 240 = 1,311.99 -> 1,312 EUR x 10.85 % = 142.35.
SELECT is(inami.contribution_complement(2024, 30, 6000.00, 20), 142.35, 'worker of 30, wages 6,000.00, 20 assimilated days');
SELECT is(inami.contribution_complement(2024, 30, 6000.00, 20, 'miners'), 116.11, 'the same miner: 1,312 x 8.85 %');
SELECT is(inami.contribution_complement(2024, 19, 5000.00, 0), 106.66, 'under 21: (5,982.54 - 5,000.00) -> 983 x 10.85 % = 106.6555');
SELECT is(inami.contribution_complement(2024, 30, 6000.00, 20, 'public_services'), 96.43, 'the same in public services: 1,312 x 7.35 % = 96.432');
SELECT is(inami.contribution_complement(2024, 30, 7876.72, 0), 10.85, 'a whole euro is not rounded up further: 100.00 -> 100 EUR x 10.85 % = 10.85');
-- Under 10.00 EUR nothing is claimed: 92 x 10.85 % = 9.98; 93 x 10.85 % = 10.09.
SELECT is(inami.contribution_complement(2024, 30, 7885.00, 0), 0.00, '91.72 -> 92 EUR gives 9.98: not claimed');
SELECT is(inami.contribution_complement(2024, 30, 7884.00, 0), 10.09, '92.72 -> 93 EUR gives 10.09: claimed');
SELECT is(inami.contribution_complement(2024, 30, 7976.72, 0), 0.00, 'wages at the minimum: nothing');
SELECT is(inami.contribution_complement(2024, 30, 9000.00, 0), 0.00, 'wages over the minimum: nothing');
SELECT is(inami.contribution_complement(2024, 30, 0, 240), 0.00, '240 assimilated days: nothing');
SELECT is(inami.contribution_complement(2024, 30, 0, 300), 0.00, '300 assimilated days (a six-day week): nothing, not an error');
-- "Si ce montant est inferieur a 10,00 EUR": the product, before rounding to the cent.
SELECT is(inami.contribution_complement(2024, 30, 7841.00, 0, 'public_services'), 0.00,
          '135.72 -> 136 EUR x 7.35 % = 9.996: under 10.00, not claimed (though it rounds to 10.00)');
SELECT is(inami.contribution_complement(2024, 30, 7840.00, 0, 'public_services'), 10.07,
          '136.72 -> 137 EUR x 7.35 % = 10.0695: claimed, rounded to the cent');

-- Sheltered workshops (art. 286, al. 3): flat yearly amounts per age class, not indexed.
SELECT is(inami.contribution_minimum(2024, 21, true), 1993.06, 'sheltered workshop, 21 and over: 1,993.06 (circular)');
SELECT is(inami.contribution_minimum(2024, 20, true), 1606.37, 'sheltered, 20: the 19-20 class, 1,606.37');
SELECT is(inami.contribution_minimum(2024, 19, true), 1606.37, 'sheltered, 19: 1,606.37');
SELECT is(inami.contribution_minimum(2024, 18, true), 1189.90, 'sheltered, 18: the 17-18 class, 1,189.90');
SELECT is(inami.contribution_minimum(2024, 17, true), 1189.90, 'sheltered, 17: 1,189.90');
SELECT is(inami.contribution_minimum(2024, 16, true), 1011.42, 'sheltered, 16: under 17, 1,011.42');
SELECT is(inami.contribution_minimum(2015, 21, true), 1993.06, 'not indexed: the same in any year, even one without a minimum income row');
SELECT is(inami.contribution_complement(2024, 21, 1000.00, 0, 'workers', true), 107.85,
          'sheltered, 21: (1,993.06 - 1,000.00) -> 994 EUR x 10.85 % = 107.849');
SELECT is(inami.contribution_minimum(2024, 21, false), 7976.72, 'sheltered = false: the usual minimum');

SELECT throws_ok('SELECT inami.contribution_minimum(2023, 30)', '55000', NULL, 'a year with no minimum income row');
SELECT throws_ok('SELECT inami.contribution_minimum(2024, -1)', '22023', NULL, 'a negative age');
SELECT throws_ok($$SELECT inami.contribution_complement(2024, 30, 1000, 0, 'farmers')$$, '55000', NULL, 'an unknown category');
SELECT throws_ok('SELECT inami.contribution_complement(2024, 30, -5, 0)', '22023', NULL, 'negative wages');
SELECT throws_ok('SELECT inami.contribution_complement(2024, 30, 0, 367)', '22023', NULL, 'more assimilated days than a year has');
SELECT throws_ok('SELECT inami.contribution_minimum(1989, 30)', '22023', 'year must be between 1990 and 2200', 'a year before the tables take');
SELECT throws_ok('SELECT inami.contribution_minimum(2201, 30, true)', '22023', 'year must be between 1990 and 2200', 'sheltered too');
SELECT throws_ok($$SELECT inami.contribution_complement(0, 30, 0, 0, 'workers', true)$$, '22023',
                 'year must be between 1990 and 2200', 'year 0: the year is checked before any date is made');

-- NaN and the infinities are not amounts (22023), as out-of-range amounts are.
SELECT throws_ok($$SELECT inami.contribution_complement(2024, 30, 'NaN', 20)$$, '22023', 'wages must be a finite amount', 'NaN wages');
SELECT throws_ok($$SELECT inami.contribution_complement(2024, 30, 'Infinity', 20)$$, '22023', 'wages must be a finite amount', 'infinite wages');
SELECT throws_ok($$SELECT inami.contribution_complement(2024, 30, 6000, 'NaN')$$, '22023', 'assimilated_workdays must be a finite amount', 'NaN workdays');
SELECT throws_ok($$SELECT inami.dependent_income_within_limit('NaN', 2024, 2)$$, '22023', 'quarter_income must be a finite amount', 'dependent_income_within_limit: NaN');
SELECT throws_ok($$SELECT inami.dependent_income_within_limit('-Infinity', 2024, 2)$$, '22023', NULL, 'dependent_income_within_limit: -Infinity');

-- A rate, an age class added inside the years the shipped rows vouch for: refused.
SELECT throws_ok($$INSERT INTO inami.contribution_rate VALUES ('workers', '2020-01-01', 20, 10, 10, 'made up', 'made up')$$,
                 '23514', 'a row of inami.contribution_rate would change the contribution rate of workers in 2020 (10.85 %)', 'a workers rate of 2020 is refused');
SELECT throws_like($$INSERT INTO inami.contribution_rate VALUES ('workers', '2023-03-01', 20, 10, 10, 'made up', 'made up')$$,
                   '%workers in 2024 (10.85 \%)', 'a rate from March 2023 is in force on 1 January 2024: it would change 2024''s');
SELECT lives_ok($$INSERT INTO inami.contribution_rate VALUES ('workers', '2024-03-01', 20, 10, 10, 'test', 'test: in force from 2025')$$,
                'a rate in force from 1 January of the year after the shipped ones is added');
SELECT lives_ok($$INSERT INTO inami.contribution_rate VALUES ('workers', '2016-06-01', 20, 10, 10, 'test', 'test: before the shipped rate')$$,
                'a rate before the first shipped one changes no shipped year (the shipped rate of 1 January 2017 follows it)');
SELECT lives_ok($$INSERT INTO inami.contribution_rate VALUES ('farmers', '2020-01-01', 5, 2.5, 2.5, 'test', 'test: a new category')$$,
                'a category the sources do not give is added');
DELETE FROM inami.contribution_rate WHERE NOT shipped;
SELECT throws_like($$INSERT INTO inami.contribution_minimum_factor VALUES (18, 2, 1, 'made up')$$,
                   '%a worker aged 18 in 2024 (5982.54 EUR)', 'a new age class is refused, naming the minimum it would change');
SELECT throws_ok($$INSERT INTO inami.contribution_minimum_sheltered VALUES (25, 100.00, 'made up')$$,
                 '23514', NULL, 'a new sheltered age class is refused');
SELECT is(inami.contribution_complement(2024, 30, 6000.00, 20), 142.35, 'the worked example unchanged');

SELECT * FROM finish();

SELECT inami.contribution_minimum(2023, 30);
SELECT inami.contribution_complement(2024, 30, 1000, 0, 'farmers');
