-- R6 MAF: from the persons at an address to the refunds of the year (the example of doc/maf.md).
-- Runs in one transaction rolled back at the end: the demo leaves nothing behind.
\pset footer off
BEGIN;
CREATE TEMP TABLE person (address text, niss text, birth_date date, has_im boolean, im_basis text,
                          temporary_protection boolean, host_family boolean, spouse_niss text,
                          dependent_of text);
INSERT INTO person VALUES
  ('Rue Haute 12', '68041210125', NULL, false, NULL, false, true, '70093010246', NULL),
  ('Rue Haute 12', '70093010246', NULL, false, NULL, false, true, '68041210125', NULL),
  ('Rue Haute 12', '90021720129', NULL, true, 'temporary_protection', true, NULL, NULL, NULL),
  ('Rue Haute 12', '14060320372', NULL, true, 'temporary_protection', true, NULL, NULL, '90021720129'),
  ('Rue Haute 12', '23032120586', NULL, true, 'temporary_protection', false, false, NULL, '90021720129'),
  -- C example 4: father and son, each with the IM on their own basis
  ('Rue Basse 3', '60012000085', NULL, true, 'benefit', false, NULL, NULL, NULL),
  ('Rue Basse 3', '90050500029', NULL, true, 'income_survey', false, NULL, NULL, NULL);

\echo 'MAF households on 1 January 2024 (a host family with TP persons; C example 4)'
CREATE TEMP TABLE member AS
SELECT a.address, m.*
FROM (SELECT address, inami.maf_household(2024, niss, birth_date, has_im, im_basis,
                                          temporary_protection, host_family, spouse_niss,
                                          dependent_of) AS members
      FROM person GROUP BY address) AS a
CROSS JOIN LATERAL unnest(a.members) AS m;
SELECT * FROM member ORDER BY address, maf_household_no, niss;

\echo 'Ceilings (the income brackets are operator data: two sample rows, not published figures)'
INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES
  (2024, 0.00, 250.00, 'sample: lowest bracket', 'sample: not a published figure'),
  (2024, 30000.00, 1000.00, 'sample: a higher bracket', 'sample: not a published figure');
SELECT inami.maf_ceiling(2024, 42000.00, false) AS income_maf_only,
       inami.maf_ceiling(2024, NULL, true) AS maf_social_only,
       inami.maf_ceiling(2024, 12000.00, true) AS maf_social_and_lower_bracket;

\echo 'The MAF counter of the TP household (MAF social, 450 EUR): what each contribution pays back'
CREATE TEMP TABLE contribution (id int, niss text, day date, amount numeric);
INSERT INTO contribution VALUES
  (1, '90021720129', '2024-01-15', 180.00), (2, '14060320372', '2024-02-03', 120.00),
  (3, '23032120586', '2024-03-10', 95.40),  (4, '90021720129', '2024-04-22', 80.00),
  (5, '14060320372', '2024-05-05', 35.25),  (6, '90021720129', '2024-06-30', -20.00),
  (7, '23032120586', '2024-07-14', 12.00);
WITH ceiling AS (
  SELECT address, maf_household_no, inami.maf_ceiling(2024, NULL, true) AS ceiling
  FROM member WHERE is_maf_social GROUP BY 1, 2
)
SELECT c.id, c.day, c.amount,
       inami.maf_refund(c.amount, h.ceiling)
           OVER (PARTITION BY m.address, m.maf_household_no ORDER BY c.day, c.id) AS refund,
       sum(c.amount) OVER (PARTITION BY m.address, m.maf_household_no ORDER BY c.day, c.id) AS paid_so_far
FROM contribution c
JOIN member m USING (niss)
JOIN ceiling h USING (address, maf_household_no)
ORDER BY c.day, c.id;
SELECT inami.maf_refunded(c.amount, 450.00) AS refunded_in_2024 FROM contribution c;

\echo 'A missing attribute that decides the answer is an error, not a guess'
SAVEPOINT before_error;
\set ON_ERROR_STOP off
SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, NULL, NULL, NULL)
FROM (VALUES ('90021720129', true), ('68041210125', false)) AS v(niss, tp);
\set ON_ERROR_STOP on
ROLLBACK TO SAVEPOINT before_error;
ROLLBACK;
