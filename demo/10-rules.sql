-- The simple rules: R1 quarterly dependent limit, R2 IM ceiling, R8 contributions, R9 NISS.
\pset footer off
\echo 'R1: quarterly income limit of a dependent person (Circ. O.A. 2024/253)'
SELECT q AS quarter, inami.quarterly_dependent_limit(2024, q) AS limit_eur
FROM generate_series(1, 3) AS q;
\echo 'R2: IM income ceiling, income year 2022, by household size'
SELECT s AS household_size, inami.im_plafond(s, 2022) AS ceiling_eur
FROM generate_series(1, 5) AS s;
\echo 'R8: minimum value of the contribution documents 2024, and a complement'
SELECT inami.contribution_minimum(2024, 30) AS minimum_21_and_over,
       inami.contribution_minimum(2024, 19) AS minimum_under_21,
       inami.contribution_complement(2024, 30, 6000.00, 20) AS complement_eur;
\echo 'R9 and R4: NISS and request number'
SELECT niss, inami.niss_is_valid(niss) AS valid,
       CASE WHEN inami.niss_is_valid(niss) THEN inami.niss_birth_date(niss) END AS birth_date,
       CASE WHEN inami.niss_is_valid(niss) THEN inami.request_number('300', 2024, niss) END AS request_number
FROM (VALUES ('85073003328'), ('05010100113'), ('85273003371'), ('85073003327')) AS v(niss);
