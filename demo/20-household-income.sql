-- R3: household income and IM verdict, the circular's example (Circ. O.A. 2024/165, 4.3-4.4).
\pset footer off
BEGIN;
-- The IPCAL list is operator data (ships empty): two sample codes, rolled back at the end.
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES
    (2023, '1250', 1, 'demo sample: added', 'demo: sample rows, not the real annex'),
    (2023, '1270', 0.1, 'demo sample: spread over ten years', 'demo: sample rows, not the real annex');
CREATE TEMP TABLE demo_item (member text, code text, amount numeric) ON COMMIT DROP;
INSERT INTO demo_item VALUES ('adult A', '1250', 14000.00), ('adult A', '1270', 10000.00),
                             ('adult B', '1250', 12000.00);
CREATE TEMP TABLE demo_member (member text, return_code text, birth_date date) ON COMMIT DROP;
INSERT INTO demo_member VALUES ('adult A', '00', '1980-03-04'), ('adult B', '00', '1982-11-30'),
                               ('child', '01', '2010-06-15');
\echo 'R3: each member''s income from their IPCAL items (tax year 2023 = income year 2022)'
SELECT m.member, m.return_code, m.birth_date,
       (SELECT inami.ipcal_income(i.code, i.amount, 2023) FROM demo_item i WHERE i.member = m.member) AS income
FROM demo_member m ORDER BY m.member;
\echo 'R3: the household total and the verdict against the ceiling for 3 persons (31,932.20)'
SELECT inami.household_income(return_code, income, birth_date, 2022) AS household_income,
       inami.im_plafond(count(*)::int, 2022) AS ceiling,
       inami.im_verdict(inami.household_income(return_code, income, birth_date, 2022), count(*)::int, 2022) AS verdict
FROM (SELECT m.*, (SELECT inami.ipcal_income(i.code, i.amount, 2023) FROM demo_item i WHERE i.member = m.member) AS income
      FROM demo_member m) AS x;
\echo 'R3: the same household if the child were born on 1 January 2005 (18 on 1 January 2023)'
SELECT inami.household_income(return_code, income, birth_date, 2022) AS household_income,
       inami.im_verdict(inami.household_income(return_code, income, birth_date, 2022), 3, 2022) AS verdict
FROM (VALUES ('00', 15000.00, '1980-03-04'::date), ('00', 12000.00, '1982-11-30'),
             ('01', NULL, '2005-01-01')) AS v(return_code, income, birth_date);
ROLLBACK;
