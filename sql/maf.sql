-- R6: MAF households, ceilings and the counter (Circ. O.A. 2024/160 "C", 2024/245 "D").
\set VERBOSITY default
SELECT plan(103);

-- Test persons: one address per example, NISS built from the birth date and a serial.
CREATE FUNCTION pg_temp.niss(d date, s int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT nine || lpad((97 - ((CASE WHEN d >= '2000-01-01' THEN 2000000000 ELSE 0 END
                                + nine::bigint) % 97))::text, 2, '0')
    FROM (SELECT to_char(d, 'YYMMDD') || lpad(s::text, 3, '0') AS nine) AS x
$$;
CREATE TEMP TABLE person (
    example text NOT NULL,
    who text NOT NULL,
    birth date NOT NULL,
    has_im boolean,
    im_basis text,
    tp boolean,
    host boolean,
    spouse text,            -- who, at the same address
    dependent_of text,      -- who, at the same address
    serial serial
);
CREATE TEMP VIEW person_niss AS
SELECT p.*, pg_temp.niss(p.birth, p.serial) AS niss FROM person p;
-- Every example's address through maf_household (year 2024), back to who.
CREATE TEMP VIEW maf AS
SELECT s.example, p.who, m.maf_household_no AS hh, m.tp_only_household AS tp_only,
       m.is_maf_social AS social, m.reason
FROM (SELECT n.example,
             inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host,
                                 sp.niss, dp.niss) AS h
      FROM person_niss n
      LEFT JOIN person_niss sp ON sp.example = n.example AND sp.who = n.spouse
      LEFT JOIN person_niss dp ON dp.example = n.example AND dp.who = n.dependent_of
      GROUP BY n.example) AS s
CROSS JOIN LATERAL unnest(s.h) AS m
JOIN person_niss p ON p.example = s.example AND p.niss = m.niss;

INSERT INTO person (example, who, birth, has_im, im_basis, tp, host, spouse, dependent_of) VALUES
-- C example 1: a pensioner, the spouse (titulaire) and their son (titulaire); IM for the
-- pensioner and the spouse only.
('C1', 'pensioner', '1950-02-10', true, 'income_survey', false, NULL, 'spouse', NULL),
('C1', 'spouse', '1952-06-01', true, 'income_survey', false, NULL, 'pensioner', NULL),
('C1', 'son', '1985-09-09', false, NULL, false, NULL, NULL, NULL),
-- C example 2: an unemployed father with the IM and his son, titulaire without IM.
('C2', 'father', '1965-03-03', true, 'benefit', false, NULL, NULL, NULL),
('C2', 'son', '1995-04-04', false, NULL, false, NULL, NULL, NULL),
-- C example 3: an unemployed father and his son, his dependent: both have the IM.
('C3', 'father', '1965-03-03', true, 'benefit', false, NULL, NULL, NULL),
('C3', 'son', '2001-04-04', true, 'benefit', false, NULL, NULL, 'father'),
-- C example 4: a father and a son each with invalidity benefits and the IM on their own
-- basis, without the other's income.
('C4', 'father', '1960-01-20', true, 'benefit', false, NULL, NULL, NULL),
('C4', 'son', '1990-05-05', true, 'income_survey', false, NULL, NULL, NULL),
-- C art. 37novies: IM only on an integration allowance with the partner abatement applied.
('C37novies', 'disabled', '1970-07-07', true, 'integration_allowance_abated', false, NULL, 'partner', NULL),
('C37novies', 'partner', '1971-08-08', false, NULL, false, NULL, 'disabled', NULL),
('C37novies', 'child', '2005-09-09', true, 'benefit', false, NULL, NULL, NULL),
-- ... and the integration allowance without the abatement: counted.
('C37novies_not_abated', 'disabled', '1970-07-07', true, 'integration_allowance', false, NULL, NULL, NULL),
('C37novies_not_abated', 'partner', '1971-08-08', false, NULL, false, NULL, NULL, NULL),

-- D example 1: one TP person living alone, with the IM.
('D1', 'tp', '1980-01-15', true, 'temporary_protection', true, NULL, NULL, NULL),
-- D example 2: two TP titulaires living together, both with the IM.
('D2', 'tp_a', '1980-01-15', true, 'temporary_protection', true, NULL, NULL, NULL),
('D2', 'tp_b', '1983-02-16', true, 'temporary_protection', true, NULL, NULL, NULL),
-- D example 3: two married TP titulaires living together, both with the IM.
('D3', 'tp_a', '1980-01-15', true, 'temporary_protection', true, NULL, 'tp_b', NULL),
('D3', 'tp_b', '1983-02-16', true, 'temporary_protection', true, NULL, 'tp_a', NULL),
-- D example 4: a TP person dependent of another TP person, both with the IM.
('D4', 'tp_titulaire', '1980-01-15', true, 'temporary_protection', true, NULL, NULL, NULL),
('D4', 'tp_dependent', '1950-02-16', true, 'temporary_protection', true, NULL, NULL, 'tp_titulaire'),
-- D example 5: a TP titulaire with the IM and a dependent without TP (the household keeps the IM).
('D5', 'tp_titulaire', '1980-01-15', true, 'income_survey', true, false, NULL, NULL),
('D5', 'dependent', '1979-03-17', true, 'income_survey', false, false, NULL, 'tp_titulaire'),
-- D example 6: a TP person dependent of a person without TP who has the IM.
('D6', 'titulaire', '1975-04-18', true, 'benefit', false, false, NULL, NULL),
('D6', 'tp_dependent', '1981-05-19', true, 'benefit', true, NULL, NULL, 'titulaire'),
-- ... the same when the titulaire is recorded as a host family.
('D6_host', 'titulaire', '1975-04-18', true, 'benefit', false, true, NULL, NULL),
('D6_host', 'tp_dependent', '1981-05-19', true, 'benefit', true, NULL, NULL, 'titulaire'),
-- D example 7: a TP person dependent of a person without TP and without IM.
('D7', 'titulaire', '1975-04-18', false, NULL, false, false, NULL, NULL),
('D7', 'tp_dependent', '1981-05-19', false, NULL, true, NULL, NULL, 'titulaire'),
-- D, TP persons only with their children under 16 without TP: one MAF household.
('D_tp_and_children', 'mother', '1985-01-01', true, 'temporary_protection', true, NULL, NULL, NULL),
('D_tp_and_children', 'child_tp', '2012-06-06', true, 'temporary_protection', true, NULL, NULL, 'mother'),
('D_tp_and_children', 'child_born_here', '2023-03-03', true, 'temporary_protection', false, false, NULL, 'mother'),
-- D, a mother and her children under TP: the mother resident, the children her dependents.
('D_mother_children', 'mother', '1985-01-01', true, 'temporary_protection', true, NULL, NULL, NULL),
('D_mother_children', 'child_1', '2012-06-06', true, 'temporary_protection', true, NULL, NULL, 'mother'),
('D_mother_children', 'child_2', '2015-07-07', true, 'temporary_protection', true, NULL, NULL, 'mother'),
-- D, TP persons hosted by a host family at its address: two MAF households.
('D_host_family', 'host_father', '1970-01-01', false, NULL, false, true, 'host_mother', NULL),
('D_host_family', 'host_mother', '1972-02-02', false, NULL, false, true, 'host_father', NULL),
('D_host_family', 'host_child', '2010-03-03', false, NULL, false, true, NULL, 'host_mother'),
('D_host_family', 'tp_wife_of_host_son', '1998-04-04', true, 'temporary_protection', true, NULL, 'host_son', NULL),
('D_host_family', 'host_son', '1996-05-05', false, NULL, false, true, NULL, NULL),
('D_host_family', 'tp_dependent_of_host', '1940-06-06', true, 'temporary_protection', true, NULL, NULL, 'host_father'),
('D_host_family', 'tp_mother', '1984-07-07', true, 'temporary_protection', true, NULL, NULL, NULL),
('D_host_family', 'tp_child', '2014-08-08', true, 'temporary_protection', true, NULL, NULL, 'tp_mother'),
('D_host_family', 'child_no_tp', '2020-09-09', true, 'temporary_protection', false, false, NULL, 'tp_mother'),
('D_host_family', 'child_no_tp_of_host', '2021-10-10', false, NULL, false, false, NULL, 'host_mother'),
-- D, changes of household composition (the normal rules apply): a TP titulaire with the
-- IM married to a titulaire without TP who comes to live with them ...
('D_change_spouse_moves_in', 'tp_titulaire', '1980-01-15', true, 'temporary_protection', true, NULL, 'spouse', NULL),
('D_change_spouse_moves_in', 'spouse', '1978-11-11', false, NULL, false, false, 'tp_titulaire', NULL),
-- ... who marries a person without TP registered as their dependent ...
('D_change_spouse_dependent', 'tp_titulaire', '1980-01-15', true, 'temporary_protection', true, NULL, 'spouse', NULL),
('D_change_spouse_dependent', 'spouse', '1978-11-11', true, 'temporary_protection', false, false, 'tp_titulaire', 'tp_titulaire'),
-- ... who marries a person without TP who stays titulaire ...
('D_change_spouse_titulaire', 'tp_titulaire', '1980-01-15', true, 'temporary_protection', true, NULL, 'spouse', NULL),
('D_change_spouse_titulaire', 'spouse', '1978-11-11', false, NULL, false, false, 'tp_titulaire', NULL),
-- ... who registers an unrelated adult without TP as a cohabitant dependent.
('D_change_cohabitant', 'tp_titulaire', '1980-01-15', true, 'temporary_protection', true, NULL, NULL, NULL),
('D_change_cohabitant', 'cohabitant', '1960-12-12', true, 'temporary_protection', false, false, NULL, 'tp_titulaire'),

-- Edges: a person alone without IM.
('alone', 'person', '1990-01-01', false, NULL, false, NULL, NULL, NULL),
-- A child without TP turning 16 on 1 January 2024 at an address of TP persons.
('turns_16', 'tp_mother', '1985-01-01', true, 'temporary_protection', true, NULL, NULL, NULL),
('turns_16', 'child', '2008-01-01', false, NULL, false, false, NULL, 'tp_mother'),
('turns_16_next_day', 'tp_mother', '1985-01-01', true, 'temporary_protection', true, NULL, NULL, NULL),
('turns_16_next_day', 'child', '2008-01-02', false, NULL, false, false, NULL, 'tp_mother'),
-- Two TP families at one host address.
('two_tp_families', 'host', '1960-01-01', false, NULL, false, true, NULL, NULL),
('two_tp_families', 'tp_a_mother', '1985-02-02', true, 'temporary_protection', true, NULL, NULL, NULL),
('two_tp_families', 'tp_a_child', '2015-03-03', true, 'temporary_protection', true, NULL, NULL, 'tp_a_mother'),
('two_tp_families', 'tp_b_father', '1982-04-04', true, 'temporary_protection', true, NULL, 'tp_b_mother', NULL),
('two_tp_families', 'tp_b_mother', '1983-05-05', true, 'temporary_protection', true, NULL, 'tp_b_father', NULL),
('two_tp_families', 'tp_b_baby', '2022-06-06', true, 'temporary_protection', false, false, NULL, 'tp_b_mother'),
-- A TP mother married into the host family, her TP child and her child without TP, both
-- her dependents (the sources are silent: the child without TP follows her, the TP child
-- is "another TP person").
('married_in_with_children', 'host', '1960-01-01', false, NULL, false, true, 'tp_mother', NULL),
('married_in_with_children', 'tp_mother', '1985-02-02', true, 'temporary_protection', true, NULL, NULL, NULL),
('married_in_with_children', 'tp_child', '2015-03-03', true, 'temporary_protection', true, NULL, NULL, 'tp_mother'),
('married_in_with_children', 'child_no_tp', '2019-04-04', true, 'temporary_protection', false, false, NULL, 'tp_mother'),
-- Host family whose only guest is a TP person married into it.
('host_only_married', 'host', '1960-01-01', false, NULL, false, true, NULL, NULL),
('host_only_married', 'tp_wife', '1965-02-02', false, NULL, true, NULL, 'host', NULL),
-- A child without TP, dependent of another who is a dependent of the host (its NISS comes
-- first), and no hosted TP person: the chain leads to the host family.
('chain_to_host', 'host', '1960-01-01', false, NULL, false, true, NULL, NULL),
('chain_to_host', 'tp_wife', '1965-02-02', false, NULL, true, NULL, 'host', NULL),
('chain_to_host', 'child_a', '2012-01-01', false, NULL, false, false, NULL, 'child_b'),
('chain_to_host', 'child_b', '2013-01-01', false, NULL, false, false, NULL, 'host'),
-- A child without TP, dependent of another child without TP who is a TP mother's.
('chain_to_hosted', 'host', '1960-01-01', false, NULL, false, true, NULL, NULL),
('chain_to_hosted', 'tp_mother', '1985-02-02', true, 'temporary_protection', true, NULL, NULL, NULL),
('chain_to_hosted', 'child_b', '2012-01-01', true, 'temporary_protection', false, false, NULL, 'tp_mother'),
('chain_to_hosted', 'child_a', '2013-01-01', true, 'temporary_protection', false, false, NULL, 'child_b');

-- C example 1
SELECT results_eq($$SELECT who, hh, social FROM maf WHERE example = 'C1' ORDER BY who$$,
    $$VALUES ('pensioner', 1, true), ('son', 1, false), ('spouse', 1, true)$$,
    'C example 1: one MAF household; the pensioner and the spouse form the MAF social household, the son (titulaire without IM) does not');
-- C example 2
SELECT results_eq($$SELECT who, hh, social FROM maf WHERE example = 'C2' ORDER BY who$$,
    $$VALUES ('father', 1, true), ('son', 1, false)$$,
    'C example 2: the father alone forms the MAF social household');
-- C example 3
SELECT results_eq($$SELECT who, hh, social FROM maf WHERE example = 'C3' ORDER BY who$$,
    $$VALUES ('father', 1, true), ('son', 1, true)$$,
    'C example 3: the father and his dependent son, both with the IM, form one MAF social household');
-- C example 4
SELECT results_eq($$SELECT count(DISTINCT hh), bool_and(social), count(*) FROM maf WHERE example = 'C4'$$,
    $$VALUES (1::bigint, true, 2::bigint)$$,
    'C example 4: father and son with the IM on different bases form ONE MAF social household');
SELECT is(inami.maf_ceiling(2024, NULL, true), 450.00,
    'C art. 37octies: the MAF social ceiling of 2024 is 450 EUR');
-- C art. 37novies
SELECT results_eq($$SELECT who, hh, social FROM maf WHERE example = 'C37novies' ORDER BY who$$,
    $$VALUES ('child', 1, true), ('disabled', 1, false), ('partner', 1, false)$$,
    'C art. 37novies: IM resting only on an integration allowance with the partner abatement is left out of MAF social; the other IM beneficiary stays in');
SELECT results_eq($$SELECT who, social FROM maf WHERE example = 'C37novies_not_abated' ORDER BY who$$,
    $$VALUES ('disabled', true), ('partner', false)$$,
    'C art. 37novies: an integration allowance without the partner abatement counts');

-- D example 1
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D1'$$,
    $$VALUES ('tp', 1, true, true)$$,
    'D example 1: a TP person alone with the IM is one MAF household, in MAF social');
SELECT is(inami.maf_ceiling(2024, NULL, (SELECT bool_and(social) FROM maf WHERE example = 'D1')), 450.00,
    'D example 1: the TP person''s household is MAF social, no income asked: 450 EUR');
-- D example 2
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D2' ORDER BY who$$,
    $$VALUES ('tp_a', 1, true, true), ('tp_b', 1, true, true)$$,
    'D example 2: two TP titulaires living together form 1 MAF household, MAF social only');
-- D example 3
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D3' ORDER BY who$$,
    $$VALUES ('tp_a', 1, true, true), ('tp_b', 1, true, true)$$,
    'D example 3: two married TP titulaires form 1 MAF household, MAF social only');
-- D example 4
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D4' ORDER BY who$$,
    $$VALUES ('tp_dependent', 1, true, true), ('tp_titulaire', 1, true, true)$$,
    'D example 4: a TP person dependent of another TP person: 1 MAF household, MAF social only');
-- D example 5
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D5' ORDER BY who$$,
    $$VALUES ('dependent', 1, false, true), ('tp_titulaire', 1, false, true)$$,
    'D example 5: a TP titulaire with a dependent without TP: 1 MAF household (not TP-only), MAF social when the household keeps the IM');
-- Income MAF brackets are operator data; test rows (not the real figures).
INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES
    (2024, 0.00, 250.00, 'test: lowest bracket', 'test: hypothetical brackets'),
    (2024, 20000.00, 500.00, 'test: second bracket', 'test: hypothetical brackets'),
    (2024, 30000.00, 1000.00, 'test: third bracket', 'test: hypothetical brackets');
SELECT is(inami.maf_ceiling(2024, 15000.00, true), 250.00,
    'D example 5: MAF social and an income bracket of 250 EUR: "MAF 250" applies (the lower)');
SELECT is(inami.maf_ceiling(2024, 25000.00, true), 450.00,
    'D example 5: MAF social and a higher income bracket: MAF social (450) applies');
-- D example 6
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D6' ORDER BY who$$,
    $$VALUES ('titulaire', 1, false, true), ('tp_dependent', 1, false, true)$$,
    'D example 6: a TP person dependent of a person without TP with the IM: 1 MAF household, MAF social');
SELECT results_eq($$SELECT who, hh, social, reason FROM maf WHERE example = 'D6_host' ORDER BY who$$,
    $$VALUES ('titulaire', 1, true, 'host family'), ('tp_dependent', 1, true, 'TP, dependent of a host-family member')$$,
    'D example 6: the same with the titulaire recorded as a host family: still 1 MAF household');
SELECT is(inami.maf_ceiling(2024, 0.00, true), 250.00,
    'D example 6: income survey at 0 (no income presumed) and MAF social: MAF 250');
-- D example 7
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D7' ORDER BY who$$,
    $$VALUES ('titulaire', 1, false, false), ('tp_dependent', 1, false, false)$$,
    'D example 7: a TP person dependent of a person without TP nor IM: 1 MAF household, no MAF social');
SELECT is(inami.maf_ceiling(2024, 35000.00, false), 1000.00,
    'D example 7: income MAF applies: the bracket''s ceiling');

-- D, the MAF rules
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'D_tp_and_children' ORDER BY who$$,
    $$VALUES ('child_born_here', 1, true), ('child_tp', 1, true), ('mother', 1, true)$$,
    'D: TP persons and their children under 16 without TP at one address: one MAF household, TP-only');
SELECT results_eq($$SELECT who, hh, tp_only, social FROM maf WHERE example = 'D_mother_children' ORDER BY who$$,
    $$VALUES ('child_1', 1, true, true), ('child_2', 1, true, true), ('mother', 1, true, true)$$,
    'D mother-and-children example: the mother resident, the children her dependents: one MAF household');
SELECT is(inami.tp_registration_start('2022-05-03'), '2022-04-01'::date,
    'D registration example: protection on 3 May 2022, the mother''s registration, and her child''s as dependent, take effect on 1 April 2022');
SELECT results_eq($$SELECT who, hh, tp_only, reason FROM maf WHERE example = 'D_host_family' ORDER BY hh, who$$,
    $$VALUES ('child_no_tp_of_host', 1, false, 'child under 16 without TP, dependent of a host-family member'),
             ('host_child', 1, false, 'host family'),
             ('host_father', 1, false, 'host family'),
             ('host_mother', 1, false, 'host family'),
             ('host_son', 1, false, 'host family'),
             ('tp_dependent_of_host', 1, false, 'TP, dependent of a host-family member'),
             ('tp_wife_of_host_son', 1, false, 'TP, married to a host-family member'),
             ('child_no_tp', 2, true, 'child under 16 without TP, dependent of a TP person'),
             ('tp_child', 2, true, 'TP, hosted'),
             ('tp_mother', 2, true, 'TP, hosted')$$,
    'D host family: two MAF households; the host family with the TP persons married to or dependents of a member, and the children under 16 without TP who are dependents of a member; then the other TP persons with their children');
SELECT results_eq($$SELECT who, social FROM maf WHERE example = 'D_host_family' AND hh = 2 ORDER BY who$$,
    $$VALUES ('child_no_tp', true), ('tp_child', true), ('tp_mother', true)$$,
    'D host family: the IM beneficiaries of the second MAF household form its MAF social household');
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'D_change_spouse_moves_in' ORDER BY who$$,
    $$VALUES ('spouse', 1, false), ('tp_titulaire', 1, false)$$,
    'D change example 1: the spouse without TP comes to live with the TP titulaire: one MAF household under the normal rules');
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'D_change_spouse_dependent' ORDER BY who$$,
    $$VALUES ('spouse', 1, false), ('tp_titulaire', 1, false)$$,
    'D change example 2: the TP titulaire marries a person without TP registered as their dependent: one MAF household');
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'D_change_spouse_titulaire' ORDER BY who$$,
    $$VALUES ('spouse', 1, false), ('tp_titulaire', 1, false)$$,
    'D change example 3: the TP titulaire marries a person without TP who stays titulaire: one MAF household');
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'D_change_cohabitant' ORDER BY who$$,
    $$VALUES ('cohabitant', 1, false), ('tp_titulaire', 1, false)$$,
    'D change example 4: an unrelated adult without TP registered as cohabitant dependent: one MAF household');
SELECT is(inami.maf_ceiling(2024, NULL, true), 450.00,
    'D MAF 2024 rule 1: a TP household arrived in 2023 gets the MAF social ceiling without asking the income, with the IM or without');
-- Without the IM such a household still gets "le même plafond que celui applicable au MAF
-- social": the error for a missing income says so.
CREATE FUNCTION pg_temp.hint_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE h text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN null_value_not_allowed THEN
    GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
    RETURN h;
END;
$$;
SELECT matches(pg_temp.hint_of('SELECT inami.maf_ceiling(2024, NULL, false)'), 'arrived in 2023.*maf_social true',
    'D MAF 2024 rule 1: no income and no MAF social points a TP household arrived in 2023 to maf_social true');
SELECT is(inami.maf_ceiling(2024, 0.00, false), 250.00,
    'D MAF 2024 rule 2: income not known to SPF Finances presumed nil: the lowest bracket');

-- Edges
SELECT results_eq($$SELECT who, hh, tp_only, social, reason FROM maf WHERE example = 'alone'$$,
    $$VALUES ('person', 1, false, false, 'address: one MAF household')$$,
    'a person alone without IM is a MAF household of one, no MAF social');
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'turns_16' ORDER BY who$$,
    $$VALUES ('child', 1, false), ('tp_mother', 1, false)$$,
    'a child without TP turning 16 on 1 January: no longer under 16, the address is one MAF household but not TP-only');
SELECT results_eq($$SELECT who, hh, tp_only FROM maf WHERE example = 'turns_16_next_day' ORDER BY who$$,
    $$VALUES ('child', 1, true), ('tp_mother', 1, true)$$,
    'a child turning 16 on 2 January is still under 16 on 1 January: TP-only');
SELECT results_eq($$SELECT hh, count(*), bool_and(tp_only), string_agg(who, ',' ORDER BY who) FROM maf WHERE example = 'two_tp_families' GROUP BY hh ORDER BY hh$$,
    $$VALUES (1, 1::bigint, false, 'host'), (2, 5::bigint, true, 'tp_a_child,tp_a_mother,tp_b_baby,tp_b_father,tp_b_mother')$$,
    'two TP families at one host address: still two MAF households, both families in the second');
SELECT results_eq($$SELECT who, hh, reason FROM maf WHERE example = 'married_in_with_children' ORDER BY hh, who$$,
    $$VALUES ('child_no_tp', 1, 'child under 16 without TP, dependent of a TP person'),
             ('host', 1, 'host family'),
             ('tp_mother', 1, 'TP, married to a host-family member'),
             ('tp_child', 2, 'TP, hosted')$$,
    'silent sources: a child without TP follows the TP parent it is a dependent of; a TP child of a TP person married in stays in the second household');
SELECT results_eq($$SELECT who, hh, reason FROM maf WHERE example = 'chain_to_host' ORDER BY hh, who$$,
    $$VALUES ('child_a', 1, 'child under 16 without TP, dependent of a host-family member'),
             ('child_b', 1, 'child under 16 without TP, dependent of a host-family member'),
             ('host', 1, 'host family'),
             ('tp_wife', 1, 'TP, married to a host-family member')$$,
    'a child dependent of a child dependent of the host: the host family, whatever the order of their NISS');
SELECT results_eq($$SELECT who, hh, reason FROM maf WHERE example = 'chain_to_hosted' ORDER BY hh, who$$,
    $$VALUES ('host', 1, 'host family'),
             ('child_a', 2, 'child under 16 without TP of the hosted TP persons'),
             ('child_b', 2, 'child under 16 without TP, dependent of a TP person'),
             ('tp_mother', 2, 'TP, hosted')$$,
    'a child dependent of a TP mother''s child without TP: the second household, not "dependent of a TP person"');
SELECT results_eq($$SELECT who, hh FROM maf WHERE example = 'host_only_married' ORDER BY who$$,
    $$VALUES ('host', 1), ('tp_wife', 1)$$,
    'a host family whose only TP guest is married into it: one MAF household (no empty second one)');

-- The order of the persons does not change the answer; NISS order within each household.
SELECT is_empty($$
    SELECT example FROM (
        SELECT n.example,
               inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host, sp.niss, dp.niss) AS a,
               inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host, sp.niss, dp.niss ORDER BY random()) AS b,
               inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host, sp.niss, dp.niss ORDER BY n.niss DESC) AS c
        FROM person_niss n
        LEFT JOIN person_niss sp ON sp.example = n.example AND sp.who = n.spouse
        LEFT JOIN person_niss dp ON dp.example = n.example AND dp.who = n.dependent_of
        GROUP BY n.example) AS s
    WHERE a IS DISTINCT FROM b OR a IS DISTINCT FROM c
$$, 'the order of the persons does not change the answer');
-- As a window function: the window node, like the aggregate node, tells the final
-- function its result type (inami.maf_member[]), which it takes its row type from.
SELECT is_empty($$
    SELECT w.example FROM (
        SELECT n.example,
               inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host, sp.niss, dp.niss)
                   OVER (PARTITION BY n.example) AS h
        FROM person_niss n
        LEFT JOIN person_niss sp ON sp.example = n.example AND sp.who = n.spouse
        LEFT JOIN person_niss dp ON dp.example = n.example AND dp.who = n.dependent_of) AS w
    JOIN (SELECT n.example,
                 inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host, sp.niss, dp.niss) AS h
          FROM person_niss n
          LEFT JOIN person_niss sp ON sp.example = n.example AND sp.who = n.spouse
          LEFT JOIN person_niss dp ON dp.example = n.example AND dp.who = n.dependent_of
          GROUP BY n.example) AS g ON g.example = w.example
    WHERE w.h IS DISTINCT FROM g.h
$$, 'as a window function, the same answer');
SELECT is_empty($$
    SELECT example FROM (
        SELECT example, array_agg(m.maf_household_no) AS hh, array_agg(m.niss) AS niss
        FROM (SELECT n.example, inami.maf_household(2024, n.niss, NULL, n.has_im, n.im_basis, n.tp, n.host, NULL, NULL) AS h
              FROM person_niss n GROUP BY n.example) s, unnest(s.h) m GROUP BY example) t
    WHERE hh <> (SELECT array_agg(x ORDER BY x) FROM unnest(hh) x)
$$, 'members come ordered by household');
SELECT is((SELECT count(*) FROM maf), (SELECT count(*) FROM person),
    'every person appears once in the answer');

-- The birth date argument, when given, wins over the NISS; a NISS with an unknown date needs it.
SELECT results_eq($$
    SELECT m.maf_household_no, m.tp_only_household FROM unnest((
        SELECT inami.maf_household(2024, niss, birth, true, 'temporary_protection', tp, host, NULL, NULL)
        FROM (VALUES ('85073003328', NULL::date, true, NULL::boolean),
                     ('00000012371', '2015-01-01'::date, false, false)) AS v(niss, birth, tp, host))) AS m$$,
    $$VALUES (1, true), (1, true)$$,
    'a NISS without birth date with birth_date given: a child under 16');
SELECT throws_ok($$SELECT inami.maf_household(2024, niss, NULL, true, 'temporary_protection', tp, host, NULL, NULL)
        FROM (VALUES ('85073003328', true, NULL::boolean), ('00000012371', false, false)) AS v(niss, tp, host)$$,
    '22004', NULL, 'a NISS without birth date and no birth_date, where age decides: an error, not a guess');
SELECT isnt(inami.maf_household(2024, niss, NULL, false, NULL, false, NULL, NULL, NULL), NULL,
    'a NISS without birth date where age does not matter is fine')
FROM (VALUES ('00000012371')) AS v(niss);

-- NULLs
SELECT is(inami.maf_household(2024, niss, NULL, false, NULL, false, NULL, NULL, NULL), NULL,
    'no person: NULL') FROM (VALUES ('85073003328')) AS v(niss) WHERE false;
SELECT throws_ok($$SELECT inami.maf_household(2024, NULL, NULL, false, NULL, false, NULL, NULL, NULL)$$,
    '22004', NULL, 'a NULL NISS is an error');
SELECT throws_ok($$SELECT inami.maf_household(NULL, '85073003328', NULL, false, NULL, false, NULL, NULL, NULL)$$,
    '22004', NULL, 'a NULL year is an error');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', NULL, NULL, NULL, false, NULL, NULL, NULL)$$,
    '22004', NULL, 'a NULL has_im is an error (it decides MAF social)');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', NULL, true, NULL, false, NULL, NULL, NULL)$$,
    '22004', NULL, 'an IM beneficiary with a NULL im_basis is an error (art. 37novies decides on it)');
SELECT isnt(inami.maf_household(2024, '85073003328', NULL, false, NULL, false, NULL, NULL, NULL), NULL,
    'no IM and a NULL im_basis is fine');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', NULL, false, NULL, NULL, NULL, NULL, NULL)$$,
    '22004', NULL, 'a NULL temporary_protection is an error');
SELECT throws_ok($$SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, NULL, NULL, NULL)
        FROM (VALUES ('85073003328', true), ('05010100113', false)) AS v(niss, tp)$$,
    '22004', NULL, 'a NULL host_family for a person without TP at an address with TP persons is an error');
SELECT results_eq($$SELECT (m).maf_household_no FROM (SELECT unnest(inami.maf_household(2024, niss, NULL, false, NULL, false, NULL, NULL, NULL)) AS m
        FROM (VALUES ('85073003328'), ('05010100113')) AS v(niss)) s$$,
    $$VALUES (1), (1)$$, 'host_family may be NULL at an address without TP persons');

-- Errors
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', NULL, false, NULL, true, true, NULL, NULL)$$,
    '22023', NULL, 'a TP person cannot be of the host family');
SELECT throws_ok($$SELECT inami.maf_household(2024, niss, NULL, false, NULL, false, NULL, NULL, NULL)
        FROM (VALUES ('85073003328'), ('85073003328')) AS v(niss)$$,
    '22023', NULL, 'the same NISS twice at one address');
SELECT throws_ok($$SELECT inami.maf_household(y, niss, NULL, false, NULL, false, NULL, NULL, NULL)
        FROM (VALUES (2024, '85073003328'), (2023, '05010100113')) AS v(y, niss)$$,
    '22023', NULL, 'two years in one group');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', NULL, true, 'pension', false, NULL, NULL, NULL)$$,
    '22P02', NULL, 'an unknown IM basis');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003327', NULL, false, NULL, false, NULL, NULL, NULL)$$,
    '22P02', NULL, 'an invalid NISS');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', NULL, false, NULL, false, NULL, '1234', NULL)$$,
    '22P02', NULL, 'an invalid spouse NISS');
SELECT throws_ok($$SELECT inami.maf_household(2024, '85073003328', '2024-03-01', false, NULL, false, NULL, NULL, NULL)$$,
    '22023', NULL, 'a person born after 1 January of the year');
SELECT throws_ok($$SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, host, NULL, NULL)
        FROM (VALUES ('60010100172', false, true), ('85073003328', true, NULL), ('05010100113', false, false)) AS v(niss, tp, host)$$,
    '22023', NULL, 'at a host address, a person of 16 or more without TP outside the host family');
SELECT throws_ok($$SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, host, sp, NULL)
        FROM (VALUES ('60010100172', false, true, NULL), ('85073003328', true, NULL, '60010100172'), ('15010100129', false, false, NULL)) AS v(niss, tp, host, sp)$$,
    '22023', NULL, 'a child without TP nor anyone to follow at a host address');

SELECT throws_ok($$SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, host, NULL, dep)
        FROM (VALUES ('85073003328', true, NULL::boolean, NULL), ('60010100172', false, true, '85073003328')) AS v(niss, tp, host, dep)$$,
    '22023', NULL, 'D example 5 told wrong: a host-family member who is the dependent of a TP person');

-- Parallel: the aggregate has a combine, serialize and deserialize function.
SELECT is((SELECT aggcombinefn::text || ' ' || aggserialfn::text || ' ' || aggdeserialfn::text
           FROM pg_aggregate WHERE aggfnoid = 'inami.maf_household(int, text, date, boolean, text, boolean, boolean, text, text)'::regprocedure),
          'inami._maf_household_combine inami._maf_household_serialize inami._maf_household_deserialize',
          'maf_household has combine, serialize and deserialize functions');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE oid = 'inami.maf_household(int, text, date, boolean, text, boolean, boolean, text, text)'::regprocedure),
          's', 'maf_household is PARALLEL SAFE');

-- Ceilings
SELECT results_eq($$SELECT year, ceiling, shipped, source ~ 'Circ\. O\.A\. 2024/160' FROM inami.maf_social_ceiling$$,
    $$VALUES (2024, 450.00, true, true)$$, 'the MAF social ceiling ships as one row with its source');
SELECT is((SELECT count(*) FROM inami.maf_income_bracket WHERE shipped), 0::bigint,
    'the income brackets ship empty (operator data)');
SELECT is(inami.maf_ceiling(2024, 19999.99, false), 250.00, 'income just below the second bracket');
SELECT is(inami.maf_ceiling(2024, 20000.00, false), 500.00, 'income equal to income_from opens the bracket');
SELECT is(inami.maf_ceiling(2024, 20000.00, true), 450.00, 'MAF social lower than the bracket');
SELECT is(inami.maf_ceiling(NULL, 1.00, true), NULL, 'a NULL year gives NULL');
SELECT throws_ok($$SELECT inami.maf_ceiling(2024, 1.00, NULL)$$, '22004', NULL, 'a NULL maf_social is an error');
SELECT throws_ok($$SELECT inami.maf_ceiling(2024, NULL, false)$$, '22004', NULL,
    'no income and no MAF social is an error');
SELECT throws_ok($$SELECT inami.maf_ceiling(2024, -1.00, false)$$, '22023', NULL, 'a negative income');
SELECT throws_ok($$SELECT inami.maf_ceiling(1989, 1.00, false)$$, '22023', 'MAF year must be between 1990 and 2200',
                 'a year no row can be added for (not 55000)');
SELECT throws_ok($$SELECT inami.maf_ceiling(2025, 1000.00, false)$$, '55000', NULL, 'a year without brackets');
SELECT throws_ok($$SELECT inami.maf_ceiling(2023, NULL, true)$$, '55000', NULL, 'a year without MAF social ceiling');
DELETE FROM inami.maf_income_bracket WHERE year = 2024 AND income_from = 0;
SELECT throws_ok($$SELECT inami.maf_ceiling(2024, 100.00, false)$$, '55000', NULL, 'an income below the first bracket');
INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source)
VALUES (2024, 0.00, 250.00, 'test: lowest bracket', 'test: hypothetical brackets');
SELECT throws_ok($$UPDATE inami.maf_social_ceiling SET ceiling = 500$$, '42501', NULL,
    'the shipped MAF social ceiling cannot be edited');
SELECT throws_ok($$INSERT INTO inami.maf_income_bracket VALUES (2024, 100.001, 250, 'x', 'x')$$, '23514', NULL,
    'brackets are in cents');

-- The counter: a household's contributions ordered by date, ceiling 450.
CREATE TEMP TABLE contribution (household int, id int, day date, amount numeric);
INSERT INTO contribution VALUES
    -- straddles: 300 + 100 = 400, then 60.50 crosses 450: 10.50 back, then all of 10.00
    (1, 1, '2024-01-10', 300.00), (1, 2, '2024-02-10', 100.00), (1, 3, '2024-03-10', 60.50), (1, 4, '2024-04-10', 10.00),
    -- lands exactly on the ceiling, then one cent beyond
    (2, 1, '2024-01-10', 300.00), (2, 2, '2024-02-10', 150.00), (2, 3, '2024-03-10', 0.01), (2, 4, '2024-04-10', 20.00),
    -- one contribution beyond the ceiling at once
    (3, 1, '2024-05-05', 500.00),
    -- corrections: 460 (10 back), -20.50 (10 taken back), +30.50 (20 back), -100 (20 taken back), NULL
    (4, 1, '2024-01-10', 460.00), (4, 2, '2024-02-10', -20.50), (4, 3, '2024-03-10', 30.50),
    (4, 4, '2024-04-10', -100.00), (4, 5, '2024-05-10', NULL), (4, 6, '2024-06-10', 90.00);
    -- ... then +90 brings the total back to 460: 10 back again
SELECT results_eq($$SELECT inami.maf_refund(amount, 450) OVER (PARTITION BY household ORDER BY day, id) FROM contribution WHERE household = 1 ORDER BY id$$,
    $$VALUES (0.00), (0.00), (10.50), (10.00)$$, 'counter: a contribution straddling the ceiling gives back the part beyond it');
SELECT results_eq($$SELECT inami.maf_refund(amount, 450) OVER (PARTITION BY household ORDER BY day, id) FROM contribution WHERE household = 2 ORDER BY id$$,
    $$VALUES (0.00), (0.00), (0.01), (20.00)$$, 'counter: landing exactly on the ceiling gives nothing back; the next cent is');
SELECT results_eq($$SELECT inami.maf_refund(amount, 450) OVER (PARTITION BY household ORDER BY day, id) FROM contribution WHERE household = 3$$,
    $$VALUES (50.00)$$, 'counter: one contribution beyond the ceiling at once');
SELECT results_eq($$SELECT inami.maf_refund(amount, 450) OVER (PARTITION BY household ORDER BY day, id) FROM contribution WHERE household = 4 ORDER BY id$$,
    $$VALUES (10.00), (-10.00), (20.00), (-20.00), (NULL::numeric), (10.00)$$,
    'counter: corrections take back what was refunded too much; a NULL amount has a NULL refund');
SELECT results_eq($$SELECT household, inami.maf_refunded(amount, 450) FROM contribution GROUP BY household ORDER BY household$$,
    $$VALUES (1, 20.50), (2, 20.01), (3, 50.00), (4, 10.00)$$, 'maf_refunded: the year''s total, max(0, sum - ceiling)');
SELECT is(scale(inami.maf_refund(amount, 450) OVER ()), 2, 'refunds carry two decimals') FROM contribution LIMIT 1;
SELECT is(inami.maf_refunded(amount, 0), 500.00, 'a ceiling of 0 gives everything back') FROM contribution WHERE household = 3;
SELECT is(inami.maf_refunded(amount, 450), NULL, 'no contribution: NULL') FROM contribution WHERE false;
SELECT is(inami.maf_refund(amount, 450 ORDER BY id), 10.00,
    'as a plain aggregate with ORDER BY: the refund of the last contribution') FROM contribution WHERE household = 1;
-- Against a reference: over any prefix, the refunds add up to max(0, sum - ceiling).
SELECT is_empty($$
    WITH c AS (SELECT i / 7 AS hh, i AS id, round((random() * 300 - 60)::numeric, 2) AS amount
               FROM generate_series(1, 7000) AS i),
    r AS (SELECT hh, id, amount,
                 inami.maf_refund(amount, 450) OVER w AS refund,
                 sum(amount) OVER w AS paid
          FROM c WINDOW w AS (PARTITION BY hh ORDER BY id))
    SELECT hh, id FROM (SELECT hh, id, paid, sum(refund) OVER (PARTITION BY hh ORDER BY id) AS refunded FROM r) x
    WHERE refunded <> greatest(paid - 450, 0)
$$, 'over every prefix of 1,000 random households the refunds add up to max(0, paid - 450)');
SELECT throws_ok($$SELECT inami.maf_refund(amount, c) OVER (ORDER BY id) FROM (VALUES (1, 10.00, 450), (2, 10.00, 250)) AS v(id, amount, c)$$,
    '22023', NULL, 'counter: the ceiling cannot change within a household');
SELECT throws_ok($$SELECT inami.maf_refunded(10.00, NULL)$$, '22004', NULL, 'counter: a NULL ceiling is an error');
SELECT throws_ok($$SELECT inami.maf_refunded(10.00, -1)$$, '22023', NULL, 'counter: a negative ceiling');
SELECT throws_ok($$SELECT inami.maf_refunded(10.001, 450)$$, '22003', NULL, 'counter: an amount below the cent');
SELECT throws_ok($$SELECT inami.maf_refunded(a, 450) FROM (VALUES (92233720368547758.07), (0.01)) AS v(a)$$,
    '22003', NULL, 'counter: overflow is an error');
SELECT is((SELECT aggcombinefn::text FROM pg_aggregate WHERE aggfnoid = 'inami.maf_refunded(numeric, numeric)'::regprocedure),
    'inami._maf_counter_combine', 'the counter has a combine function');

SELECT throws_ok($$SELECT inami.maf_ceiling(2024, 'NaN', false)$$, '22023', 'household_income must be a finite amount', 'maf_ceiling: a NaN income');
SELECT throws_ok($$SELECT inami.maf_ceiling(2024, 'Infinity', true)$$, '22023', NULL, 'maf_ceiling: an infinite income');
SELECT throws_ok($$SELECT inami.maf_refunded(a, 450) FROM (VALUES (10.00), ('NaN')) v(a)$$, '22023', NULL, 'maf_refunded: a NaN amount');
SELECT throws_ok($$SELECT inami.maf_refund(a, 450) OVER (ORDER BY a) FROM (VALUES (10.00), ('-Infinity')) v(a)$$, '22023', NULL, 'maf_refund: an infinite amount');

SELECT * FROM finish();

-- The errors as a user reads them (message, DETAIL, HINT).
SELECT inami.maf_household(2024, '85073003328', NULL, true, NULL, false, NULL, NULL, NULL);
SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, NULL, NULL, NULL)
FROM (VALUES ('85073003328', true), ('05010100113', false)) AS v(niss, tp);
SELECT inami.maf_household(2024, niss, NULL, false, NULL, tp, host, NULL, NULL)
FROM (VALUES ('60010100172', false, true), ('85073003328', true, NULL), ('05010100113', false, false)) AS v(niss, tp, host);
SELECT inami.maf_household(2024, '85073003328', NULL, true, 'pension', false, NULL, NULL, NULL);
SELECT inami.maf_ceiling(2025, 1000.00, false);
SELECT inami.maf_ceiling(2023, NULL, true);
SELECT inami.maf_refund(amount, c) OVER (ORDER BY id) FROM (VALUES (1, 10.00, 450), (2, 10.00, 250)) AS v(id, amount, c);
