-- inami 0.1.0: the install script of release 0.1.0, kept as it shipped: a database made
-- with it reaches the current version through ALTER EXTENSION inami UPDATE. Do not edit.
\echo Use "CREATE EXTENSION inami" to load this file. \quit

-- Its sections:
--   1. Parameters: dated rows, each with its source (rules R1, R2, R3, R8)
--   2. Rules as functions: R1, R2, R8, R9
--   3. Household income for the IM: R3 aggregates
--   4. Data exchanges: loaded flows, readers, loaders, writers
--   5. Control runs: Syst_05, Pro_04, events, run log, statistics, retention
--   6. MAF: households, ceilings, counter (R6)

------------------------------------------------------------------------------------------
-- 1. Parameters
--
-- Every legal amount is a row with the source it comes from. Rows the extension ships are
-- marked shipped = true: pg_dump leaves them to CREATE EXTENSION, and dumps every row an
-- operator adds (pg_extension_config_dump with the filter WHERE NOT shipped). Shipped
-- rows are the sources' own figures: they cannot be edited or deleted, only superseded.
------------------------------------------------------------------------------------------

-- The CHECK of the codes and numbers the tables keep as text (NISS, request number, OA,
-- return code, IPCAL code): exactly n ASCII digits. In C: a regular expression cost a
-- tenth of a file's load.
CREATE FUNCTION inami.is_digits(value text, n int) RETURNS boolean
AS 'MODULE_PATHNAME', 'inami_is_digits'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE LEAKPROOF;
COMMENT ON FUNCTION inami.is_digits(text, int) IS
'True when value is exactly n ASCII digits (0-9): the CHECK of NISS (11), request numbers (18), OA codes (3), return codes (2) and IPCAL codes (4).';

CREATE FUNCTION inami.protect_shipped_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.shipped THEN
        RAISE EXCEPTION 'cannot % a parameter row shipped with the extension', lower(TG_OP)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The row of %I.%I is the published figure of %s.',
                                  TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.source),
                  HINT = 'Shipped rows are fixed by the sources; add a row for a new period instead.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    -- pg_dump keeps only the rows not shipped: a row marked shipped by hand would be lost.
    IF NEW.shipped THEN
        RAISE EXCEPTION 'only the extension ships parameter rows'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('A row of %I.%I given shipped = true (source: %s).',
                                  TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.source),
                  HINT = 'Leave shipped false (the default): the rows you add are yours, kept by pg_dump with your data.';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami.protect_shipped_row() IS
'Trigger: refuses to update or delete a parameter row shipped with the extension, and to mark a row shipped (pg_dump keeps only the rows not shipped).';

CREATE FUNCTION inami.protect_shipped_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    shipped bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %I.%I WHERE shipped', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO shipped;
    IF shipped > 0 THEN
        RAISE EXCEPTION 'cannot truncate a parameter table holding rows shipped with the extension'
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('%I.%I holds %s shipped rows.', TG_TABLE_SCHEMA, TG_TABLE_NAME, shipped),
                  HINT = format('Delete your own rows instead: DELETE FROM %I.%I WHERE NOT shipped;', TG_TABLE_SCHEMA, TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END;
$$;
COMMENT ON FUNCTION inami.protect_shipped_truncate() IS
'Trigger: refuses TRUNCATE of a parameter table that holds rows shipped with the extension.';

-- What every parameter table gets: the operator's rows dumped, the shipped ones protected.
-- Used by this script only (pg_extension_config_dump works only inside CREATE EXTENSION);
-- dropped at its end.
CREATE PROCEDURE inami.setup_parameter_tables(VARIADIC tables text[])
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY tables
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(format('inami.%I', t), 'WHERE NOT shipped');
        EXECUTE format('CREATE TRIGGER protect_shipped BEFORE INSERT OR UPDATE OR DELETE ON inami.%I '
                       'FOR EACH ROW EXECUTE FUNCTION inami.protect_shipped_row()', t);
        EXECUTE format('CREATE TRIGGER protect_shipped_truncate BEFORE TRUNCATE ON inami.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION inami.protect_shipped_truncate()', t);
    END LOOP;
END;
$$;

-- R1: the pivot-index crossings of the dependent person's quarterly income limit.
CREATE TABLE inami.pivot_index_step (
    effective_from date PRIMARY KEY
        CHECK (effective_from = date_trunc('month', effective_from::timestamp)::date)
        CHECK (effective_from BETWEEN '1990-01-01' AND '2200-12-31'),
    exponent int NOT NULL UNIQUE CHECK (exponent >= 0),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.pivot_index_step IS
'R1: pivot-index crossings. From the first month effective_from on, the monthly limit is base_amount x step_factor^exponent (inami.dependent_limit_base).';
COMMENT ON COLUMN inami.pivot_index_step.effective_from IS 'First day of the first month in force.';
COMMENT ON COLUMN inami.pivot_index_step.exponent IS 'Number of pivot-index crossings n since the base.';
COMMENT ON COLUMN inami.pivot_index_step.source IS 'Circular and section that publish the step.';
COMMENT ON COLUMN inami.pivot_index_step.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R1: the base amount and index from which the steps are computed.
CREATE TABLE inami.dependent_limit_base (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    base_amount numeric NOT NULL CHECK (base_amount > 0 AND base_amount = round(base_amount, 2)),
    base_index numeric NOT NULL CHECK (base_index > 0),
    step_factor numeric NOT NULL CHECK (step_factor > 1),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.dependent_limit_base IS
'R1: the monthly amount at the base pivot index and the factor of one pivot-index crossing (one row).';
COMMENT ON COLUMN inami.dependent_limit_base.singleton IS 'Always true: the table holds one row.';
COMMENT ON COLUMN inami.dependent_limit_base.base_amount IS 'Monthly amount in EUR at the base index.';
COMMENT ON COLUMN inami.dependent_limit_base.base_index IS 'Pivot index of the base amount (base 1996).';
COMMENT ON COLUMN inami.dependent_limit_base.step_factor IS 'Factor of one pivot-index crossing.';
COMMENT ON COLUMN inami.dependent_limit_base.source IS 'Circular and section that publish the base.';
COMMENT ON COLUMN inami.dependent_limit_base.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- Up to when each dated series is vouched for by the sources.
CREATE TABLE inami.parameter_coverage (
    series text NOT NULL CHECK (series IN ('quarterly_dependent_limit')),
    -- a finite day of the years the rules take (the functions keep a slot per quarter)
    valid_until date NOT NULL CHECK (valid_until BETWEEN '1990-01-01' AND '2200-12-31'),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false,
    PRIMARY KEY (series, valid_until)
);
COMMENT ON TABLE inami.parameter_coverage IS
'Up to which day a dated parameter series is vouched for: the latest valid_until of the series. A date after it is an error, never a guess: after adding the newer rows, add a row with the new valid_until and its source.';
COMMENT ON COLUMN inami.parameter_coverage.series IS 'The series: quarterly_dependent_limit (inami.pivot_index_step).';
COMMENT ON COLUMN inami.parameter_coverage.valid_until IS 'Last day the series is known to be complete for, according to source.';
COMMENT ON COLUMN inami.parameter_coverage.source IS 'The source that vouches for the series up to valid_until.';
COMMENT ON COLUMN inami.parameter_coverage.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R2: the IM income ceiling per income year.
CREATE TABLE inami.im_ceiling (
    income_year int PRIMARY KEY CHECK (income_year BETWEEN 1990 AND 2200),
    base numeric NOT NULL CHECK (base > 0 AND base = round(base, 2)),
    per_member numeric NOT NULL CHECK (per_member >= 0 AND per_member = round(per_member, 2)),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.im_ceiling IS
'R2: IM income ceiling of an income year: base + per_member x (household size - 1).';
COMMENT ON COLUMN inami.im_ceiling.income_year IS 'Income year (control year - 2).';
COMMENT ON COLUMN inami.im_ceiling.base IS 'Ceiling in EUR for a household of one.';
COMMENT ON COLUMN inami.im_ceiling.per_member IS 'Amount in EUR added per extra household member.';
COMMENT ON COLUMN inami.im_ceiling.source IS 'Circular and section that publish the ceiling.';
COMMENT ON COLUMN inami.im_ceiling.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R3: the yearly IPCAL list (operator data: the annex is not published).
CREATE TABLE inami.ipcal_rule (
    tax_year int NOT NULL CHECK (tax_year BETWEEN 1990 AND 2200),
    code text NOT NULL CHECK (inami.is_digits(code, 4)),
    factor numeric NOT NULL CHECK (factor BETWEEN -1 AND 1),
    label text NOT NULL CHECK (btrim(label) <> ''),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false,
    PRIMARY KEY (tax_year, code)
);
COMMENT ON TABLE inami.ipcal_rule IS
'R3: how an IPCAL code counts in a member''s income for a tax year (1 added, -1 subtracted, 0.1 spread over ten years, 0 ignored). The yearly list is an annex the sources do not publish: the operator fills it. Ships empty.';
COMMENT ON COLUMN inami.ipcal_rule.tax_year IS 'Tax year (exercice d''imposition) = income year + 1.';
COMMENT ON COLUMN inami.ipcal_rule.code IS 'IPCAL code, four digits.';
COMMENT ON COLUMN inami.ipcal_rule.factor IS 'Factor applied to the amount reported under the code.';
COMMENT ON COLUMN inami.ipcal_rule.label IS 'What the code reports.';
COMMENT ON COLUMN inami.ipcal_rule.source IS 'The yearly IPCAL list the row comes from.';
COMMENT ON COLUMN inami.ipcal_rule.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R3, R4: the return codes of an income present but not yet processed, asked again.
CREATE TABLE inami.return_code_asked_again (
    return_code text PRIMARY KEY CHECK (inami.is_digits(return_code, 2)),
    label text NOT NULL CHECK (btrim(label) <> ''),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.return_code_asked_again IS
'R3, R4: return codes meaning the income is at the SPF Finances but not yet processed. The SCA asks again in September and answers in the second Syst_04 shipment; only then, still without "00", is the income unknown (Circ. O.A. 2024/165, 4.3). Until a later shipment is loaded, a decision resting on such an answer is provisional.';
COMMENT ON COLUMN inami.return_code_asked_again.return_code IS 'Two-digit return code of a Syst_04 member.';
COMMENT ON COLUMN inami.return_code_asked_again.label IS 'What the code says.';
COMMENT ON COLUMN inami.return_code_asked_again.source IS 'Circular and section that list the code.';
COMMENT ON COLUMN inami.return_code_asked_again.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R8: the guaranteed average minimum monthly income that sets a year's minimum value.
CREATE TABLE inami.contribution_minimum_income (
    year int PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
    monthly_income numeric NOT NULL CHECK (monthly_income > 0 AND monthly_income = round(monthly_income, 2)),
    in_force_since date NOT NULL,
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.contribution_minimum_income IS
'R8: the guaranteed average minimum monthly income (CCT 43) that sets the minimum value of the contribution documents of a year.';
COMMENT ON COLUMN inami.contribution_minimum_income.year IS 'Calendar year of the contribution documents.';
COMMENT ON COLUMN inami.contribution_minimum_income.monthly_income IS 'Guaranteed average minimum monthly income in EUR.';
COMMENT ON COLUMN inami.contribution_minimum_income.in_force_since IS 'Day the amount took effect.';
COMMENT ON COLUMN inami.contribution_minimum_income.source IS 'Circular and section that publish the amount.';
COMMENT ON COLUMN inami.contribution_minimum_income.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R8: the minimum value per age class, as multiples of the minimum monthly income.
CREATE TABLE inami.contribution_minimum_factor (
    min_age int PRIMARY KEY CHECK (min_age >= 0),
    months numeric NOT NULL CHECK (months > 0),
    share numeric NOT NULL CHECK (share > 0 AND share <= 1),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.contribution_minimum_factor IS
'R8: minimum value = round(round(monthly income x months, 2) x share, 2) for workers aged min_age up to the next row''s min_age.';
COMMENT ON COLUMN inami.contribution_minimum_factor.min_age IS 'Lowest age of the class (age at the start of the year or at (re)registration).';
COMMENT ON COLUMN inami.contribution_minimum_factor.months IS 'Multiple of the minimum monthly income.';
COMMENT ON COLUMN inami.contribution_minimum_factor.share IS 'Share of that multiple the class must reach.';
COMMENT ON COLUMN inami.contribution_minimum_factor.source IS 'Circular and section that publish the rule.';
COMMENT ON COLUMN inami.contribution_minimum_factor.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R8: the flat yearly remuneration of disabled workers in sheltered workshops, per age class.
CREATE TABLE inami.contribution_minimum_sheltered (
    min_age int PRIMARY KEY CHECK (min_age >= 0),
    amount numeric NOT NULL CHECK (amount > 0 AND amount = round(amount, 2)),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.contribution_minimum_sheltered IS
'R8: for disabled persons at work in sheltered workshops (ateliers protégés), the yearly remuneration taken into account is a flat amount per age class, not indexed: it stands for the minimum value, for workers aged min_age up to the next row''s min_age.';
COMMENT ON COLUMN inami.contribution_minimum_sheltered.min_age IS 'Lowest age of the class.';
COMMENT ON COLUMN inami.contribution_minimum_sheltered.amount IS 'Flat yearly remuneration in EUR.';
COMMENT ON COLUMN inami.contribution_minimum_sheltered.source IS 'Circular and section that publish the amount.';
COMMENT ON COLUMN inami.contribution_minimum_sheltered.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R8: the health care and benefits contribution rates per category of worker.
CREATE TABLE inami.contribution_rate (
    category text NOT NULL CHECK (category ~ '^[a-z_]+$'),
    effective_from date NOT NULL,
    rate numeric NOT NULL CHECK (rate > 0 AND rate < 100),
    employer_rate numeric NOT NULL CHECK (employer_rate >= 0),
    worker_rate numeric NOT NULL CHECK (worker_rate >= 0),
    label text NOT NULL CHECK (btrim(label) <> ''),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false,
    PRIMARY KEY (category, effective_from),
    CHECK (rate = employer_rate + worker_rate)
);
COMMENT ON TABLE inami.contribution_rate IS
'R8: global contribution rate in percent (employer + worker shares) for health care and benefits, per category of worker.';
COMMENT ON COLUMN inami.contribution_rate.category IS 'Category key: workers, miners or public_services.';
COMMENT ON COLUMN inami.contribution_rate.effective_from IS 'Day the rate took effect.';
COMMENT ON COLUMN inami.contribution_rate.rate IS 'Global rate in percent.';
COMMENT ON COLUMN inami.contribution_rate.employer_rate IS 'Employer''s share in percent.';
COMMENT ON COLUMN inami.contribution_rate.worker_rate IS 'Worker''s share in percent.';
COMMENT ON COLUMN inami.contribution_rate.label IS 'The category as the circular names it.';
COMMENT ON COLUMN inami.contribution_rate.source IS 'Circular and section that publish the rate.';
COMMENT ON COLUMN inami.contribution_rate.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- The rows the sources give.
INSERT INTO inami.dependent_limit_base VALUES
    (true, 1762.82, 103.14, 1.02,
     'Circ. O.A. 2024/253 (5 Sep 2024), I. Personnes à charge - plafond trimestriel', true);

INSERT INTO inami.pivot_index_step (effective_from, exponent, source, shipped)
SELECT d::date, n, 'Circ. O.A. 2024/253 (5 Sep 2024), I. Personnes à charge - plafond trimestriel', true
FROM (VALUES ('2009-01-01', 10), ('2010-09-01', 11), ('2011-05-01', 12), ('2012-02-01', 13),
             ('2012-12-01', 14), ('2015-07-01', 15), ('2016-06-01', 16), ('2017-06-01', 17),
             ('2018-09-01', 18), ('2020-03-01', 19), ('2021-09-01', 20), ('2022-01-01', 21),
             ('2022-03-01', 22), ('2022-05-01', 23), ('2022-08-01', 24), ('2022-11-01', 25),
             ('2022-12-01', 26), ('2023-11-01', 27), ('2024-05-01', 28)) AS s(d, n);

INSERT INTO inami.parameter_coverage VALUES
    ('quarterly_dependent_limit', '2024-09-30',
     'Circ. O.A. 2024/253 (5 Sep 2024): quarterly values up to the third quarter of 2024', true);

INSERT INTO inami.im_ceiling VALUES
    (2022, 23303.84, 4314.18,
     'Circ. O.A. 2024/165, 4.2 (average of the 2022 ceilings, art. 21 A.R. 15.01.2014); Circ. O.A. 2024/200, footnote 3', true);

INSERT INTO inami.return_code_asked_again
SELECT c, 'income available but not yet processed: asked again in September',
       'Circ. O.A. 2024/165, 4.3 and footnote 11 (return codes 03, 04, 10 and 11)', true
FROM unnest(ARRAY['03', '04', '10', '11']) AS c;

INSERT INTO inami.contribution_minimum_income VALUES
    (2024, 1994.18, '2023-11-01', 'Circ. O.A. 2024/164 (28 May 2024), II. Valeur minimale des documents de cotisation 2024', true);

INSERT INTO inami.contribution_minimum_factor VALUES
    (0, 4, 0.75, 'Circ. O.A. 2024/164, II: under 21, 3/4 of the value for 21 and over (art. 286 A.R. 03.07.1996)', true),
    (21, 4, 1, 'Circ. O.A. 2024/164, II: 21 and over, four times the minimum monthly income (art. 286 A.R. 03.07.1996)', true);

INSERT INTO inami.contribution_minimum_sheltered
SELECT a, amount, 'Circ. O.A. 2024/164, II (art. 286, al. 3 A.R. 03.07.1996): sheltered workshops, ' || class
                  || ', flat amount not indexed', true
FROM (VALUES (0, 1011.42, 'under 17'), (17, 1189.90, '17 and 18'), (19, 1606.37, '19 and 20'),
             (21, 1993.06, '21 and over')) AS v(a, amount, class);

INSERT INTO inami.contribution_rate VALUES
    ('workers', '2017-01-01', 10.85, 6.15, 4.70, 'Ouvriers et employés',
     'Circ. O.A. 2024/164, II: rates in force on 1 January 2017', true),
    ('miners', '2017-01-01', 8.85, 5.15, 3.70, 'Mineurs',
     'Circ. O.A. 2024/164, II: rates in force on 1 January 2017', true),
    ('public_services', '2017-01-01', 7.35, 3.80, 3.55, 'Services publics (health care only)',
     'Circ. O.A. 2024/164, II: rates in force on 1 January 2017', true);

CALL inami.setup_parameter_tables('pivot_index_step', 'dependent_limit_base', 'parameter_coverage',
                                  'im_ceiling', 'ipcal_rule', 'return_code_asked_again', 'contribution_minimum_income',
                                  'contribution_minimum_factor', 'contribution_minimum_sheltered', 'contribution_rate');

-- R1: the monthly amount of every step, as the C cache reads it.
CREATE VIEW inami.dependent_limit_month AS
SELECT s.effective_from,
       (lead(s.effective_from) OVER (ORDER BY s.effective_from) - 1) AS effective_until,
       s.exponent,
       round(b.base_amount * b.step_factor ^ s.exponent, 2) AS monthly_amount,
       s.source
FROM inami.pivot_index_step s CROSS JOIN inami.dependent_limit_base b;
COMMENT ON VIEW inami.dependent_limit_month IS
'R1: the monthly income limit of a dependent from each pivot-index crossing on, rounded half-up to the cent.';

------------------------------------------------------------------------------------------
-- 2. Rules as functions: R1, R2, R8, R9
------------------------------------------------------------------------------------------

CREATE FUNCTION inami.version() RETURNS text
AS 'MODULE_PATHNAME', 'inami_version'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.version() IS 'The version of the inami shared library.';

CREATE FUNCTION inami.quarterly_dependent_limit(year int, quarter int) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_quarterly_dependent_limit'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.quarterly_dependent_limit(int, int) IS
'R1: the gross income limit in EUR of a dependent person for a calendar quarter (income GREATER than it disqualifies); the mean of the three monthly amounts, rounded half-up to the cent.';

CREATE FUNCTION inami.quarterly_dependent_limit(day date) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_quarterly_dependent_limit_date'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.quarterly_dependent_limit(date) IS
'R1: the quarterly income limit of a dependent person for the quarter holding day.';

CREATE FUNCTION inami.dependent_income_within_limit(quarter_income numeric, year int, quarter int)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN quarter_income <= inami.quarterly_dependent_limit(year, quarter);
COMMENT ON FUNCTION inami.dependent_income_within_limit(numeric, int, int) IS
'R1: true when a gross quarterly income still allows being a dependent (equal to the limit qualifies; greater does not).';

CREATE FUNCTION inami.im_plafond(household_size int, income_year int) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_im_plafond'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.im_plafond(int, int) IS
'R2: the IM income ceiling in EUR of a household of household_size persons for an income year.';

CREATE FUNCTION inami.niss_is_valid(niss text) RETURNS boolean
AS 'MODULE_PATHNAME', 'inami_niss_is_valid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.niss_is_valid(text) IS
'R9: true when niss is 11 digits with a valid birth-date part and check digits (births from 2000 on with the 2 prefix).';

CREATE FUNCTION inami.niss_birth_date(niss text) RETURNS date
AS 'MODULE_PATHNAME', 'inami_niss_birth_date'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.niss_birth_date(text) IS
'R9: the birth date a valid NISS carries (bis numbers too); NULL when its month or day is 00 (unknown). An invalid NISS is an error.';

CREATE FUNCTION inami.niss_birth_date_for_age(niss text, age int, on_day date) RETURNS date
AS 'MODULE_PATHNAME', 'inami_niss_birth_date_for_age'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.niss_birth_date_for_age(text, int, date) IS
'R3, R9: a birth date that says right whether the person of a valid NISS is under age on on_day: the NISS''s own; when its month or day is 00 (unknown), the first possible day if every possible day gives the same answer (born "in 2010" is under 18 on 1 January 2023), NULL when they differ. An invalid NISS is an error.';

CREATE FUNCTION inami.niss_birth_range(niss text) RETURNS daterange
AS 'MODULE_PATHNAME', 'inami_niss_birth_range'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.niss_birth_range(text) IS
'R9: the days a valid NISS allows as birth date: [the day, the next day) when it gives the date, the month or the year when its day or month is 00 (bis numbers too). An invalid NISS is an error.';

CREATE FUNCTION inami.request_number(oa text, year int, niss text) RETURNS text
AS 'MODULE_PATHNAME', 'inami_request_number'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.request_number(text, int, text) IS
'R4: the request number of a household: OA code (3 digits) + year of transmission (4) + requester NISS (11).';

-- The years every table takes (their CHECKs), for the PL/pgSQL functions (C uses the same).
CREATE FUNCTION inami.check_year(year int, what text) RETURNS void
AS 'MODULE_PATHNAME', 'inami_check_year_sql'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.check_year(int, text) IS
'An error (22023) naming what ("year" when NULL) unless year is between 1990 and 2200, the years the parameter and exchange tables take; a NULL year passes. Used by the functions that take a year.';

CREATE FUNCTION inami.contribution_minimum(year int, age int, sheltered boolean DEFAULT false) RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    income inami.contribution_minimum_income;
    f inami.contribution_minimum_factor;
    flat numeric;
BEGIN
    PERFORM inami.check_year(year, 'year');
    IF age < 0 THEN
        RAISE EXCEPTION 'age must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The age given is %s.', age),
                  HINT = 'Give the age at the start of the year, or at (re)registration.';
    END IF;
    IF sheltered THEN
        -- Art. 286, al. 3: a flat yearly remuneration per age class, the same every year.
        SELECT m.amount INTO flat FROM inami.contribution_minimum_sheltered m
        WHERE m.min_age <= $2 ORDER BY m.min_age DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no sheltered-workshop remuneration for age %', $2
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.contribution_minimum_sheltered has no row with min_age <= %s.', $2),
                      HINT = 'Add the age class to inami.contribution_minimum_sheltered.';
        END IF;
        RETURN flat;
    END IF;
    SELECT * INTO income FROM inami.contribution_minimum_income m WHERE m.year = $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no guaranteed minimum monthly income for year %', $1
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('inami.contribution_minimum_income has no row for year %s.', $1),
                  HINT = 'Add the row from the yearly circular: INSERT INTO inami.contribution_minimum_income (year, monthly_income, in_force_since, source) VALUES (...).';
    END IF;
    SELECT * INTO f FROM inami.contribution_minimum_factor m
    WHERE m.min_age <= $2 ORDER BY m.min_age DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no minimum value rule for age %', $2
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('inami.contribution_minimum_factor has no row with min_age <= %s.', $2),
                  HINT = 'Add the age class to inami.contribution_minimum_factor.';
    END IF;
    RETURN round(round(income.monthly_income * f.months, 2) * f.share, 2);
END;
$$;
COMMENT ON FUNCTION inami.contribution_minimum(int, int, boolean) IS
'R8: the minimum value in EUR that the contribution documents of a year must reach for a worker of the given age (at the start of the year or at (re)registration); for a disabled worker in a sheltered workshop (sheltered), the flat remuneration of the age class (inami.contribution_minimum_sheltered).';

CREATE FUNCTION inami.contribution_complement(year int, age int, wages numeric,
                                              assimilated_workdays numeric,
                                              category text DEFAULT 'workers',
                                              sheltered boolean DEFAULT false)
RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    minimum numeric := inami.contribution_minimum(year, age, sheltered);
    r numeric;
    shortfall numeric;
    complement numeric;
BEGIN
    -- B takes the workdays of the assimilated periods over 240 (I): more than 240 (a
    -- six-day week) leaves nothing to claim, at most the days of a year.
    IF wages < 0 OR assimilated_workdays < 0 OR assimilated_workdays > 366 THEN
        RAISE EXCEPTION 'wages and assimilated workdays must be within their range'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('wages = %s, assimilated_workdays = %s.', wages, assimilated_workdays),
                  HINT = 'Give wages >= 0 as on the contribution documents and 0 to 366 workdays of assimilated periods.';
    END IF;
    SELECT c.rate INTO r FROM inami.contribution_rate c
    WHERE c.category = $5 AND c.effective_from <= make_date($1, 1, 1)
    ORDER BY c.effective_from DESC LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no contribution rate for category "%" in %', $5, $1
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = format('inami.contribution_rate has no row for category %L in force on 1 January %s.', $5, $1),
                  HINT = 'Use a category of inami.contribution_rate (workers, miners, public_services) or add its rate.';
    END IF;
    -- A: minimum - wages; B: - minimum x workdays / 240; C: rounded up to the euro, x rate.
    shortfall := ceil(minimum - wages - minimum * assimilated_workdays / 240);
    IF shortfall <= 0 THEN
        RETURN 0.00;
    END IF;
    -- Under 10.00 EUR nothing is claimed (I: "ce montant", the product, before rounding:
    -- 136 x 7.35 % = 9.996 is nothing, though it rounds to 10.00).
    complement := shortfall * r / 100;
    RETURN CASE WHEN complement < 10.00 THEN 0.00 ELSE round(complement, 2) END;
END;
$$;
COMMENT ON FUNCTION inami.contribution_complement(int, int, numeric, numeric, text, boolean) IS
'R8: the contribution complement in EUR: (minimum - wages - minimum x assimilated workdays / 240) rounded up to the euro, times the category''s rate, rounded to the cent; 0.00 when that product is under 10.00 EUR (before rounding). sheltered: the minimum is the flat remuneration of a sheltered workshop''s age class.';

------------------------------------------------------------------------------------------
-- 3. Household income for the IM: R3 aggregates
--
-- Exact in cents (int128 sums of int64 cents, IPCAL factors in millionths), fixed-size
-- states serialised for parallel workers, the IPCAL list read once per query.
------------------------------------------------------------------------------------------

-- R3: one member's income from their IPCAL items.
CREATE FUNCTION inami.ipcal_income_trans(internal, text, numeric, int) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_ipcal_income_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_income_trans(internal, text, numeric, int) IS
'Transition function of inami.ipcal_income: adds amount x the factor of inami.ipcal_rule (read once per query).';

CREATE FUNCTION inami.ipcal_income_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_ipcal_income_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_income_combine(internal, internal) IS
'Combine function of inami.ipcal_income (parallel workers, partitions).';

CREATE FUNCTION inami.ipcal_income_serial(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_ipcal_income_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_income_serial(internal) IS
'Serialisation function of inami.ipcal_income: the state as 17 bytes.';

CREATE FUNCTION inami.ipcal_income_deserial(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_ipcal_income_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_income_deserial(bytea, internal) IS
'Deserialisation function of inami.ipcal_income.';

CREATE FUNCTION inami.ipcal_income_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_ipcal_income_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_income_final(internal) IS
'Final function of inami.ipcal_income: the exact sum rounded once to the cent, NULL when unknown.';

CREATE AGGREGATE inami.ipcal_income(code text, amount numeric, tax_year int) (
    SFUNC = inami.ipcal_income_trans,
    STYPE = internal,
    SSPACE = 32,
    FINALFUNC = inami.ipcal_income_final,
    COMBINEFUNC = inami.ipcal_income_combine,
    SERIALFUNC = inami.ipcal_income_serial,
    DESERIALFUNC = inami.ipcal_income_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.ipcal_income(text, numeric, int) IS
'R3: a member''s income, the sum of amount x the factor inami.ipcal_rule gives the code for the tax year, computed exactly and rounded once to the cent (half away from zero). A code missing from the list is an error (55000); a NULL argument makes the income unknown (NULL); no row gives NULL.';

-- R3: the income of one household from its members.
CREATE FUNCTION inami.household_income_trans(internal, text, numeric, date, int) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_household_income_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.household_income_trans(internal, text, numeric, date, int) IS
'Transition function of inami.household_income: one member.';

CREATE FUNCTION inami.household_income_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_household_income_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.household_income_combine(internal, internal) IS
'Combine function of inami.household_income (parallel workers, partitions).';

CREATE FUNCTION inami.household_income_serial(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_household_income_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.household_income_serial(internal) IS
'Serialisation function of inami.household_income: the state as 21 bytes.';

CREATE FUNCTION inami.household_income_deserial(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_household_income_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.household_income_deserial(bytea, internal) IS
'Deserialisation function of inami.household_income.';

CREATE FUNCTION inami.household_income_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_household_income_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.household_income_final(internal) IS
'Final function of inami.household_income: the total, NULL when unknown, 0.00 when negative.';

CREATE AGGREGATE inami.household_income(return_code text, income numeric, birth_date date, income_year int) (
    SFUNC = inami.household_income_trans,
    STYPE = internal,
    SSPACE = 32,
    FINALFUNC = inami.household_income_final,
    COMBINEFUNC = inami.household_income_combine,
    SERIALFUNC = inami.household_income_serial,
    DESERIALFUNC = inami.household_income_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.household_income(text, numeric, date, int) IS
'R3: a household''s income over its members: return code ''00'' counts the income; any other code (or NULL) counts 0.00 only for a member under 18 on 1 January of the tax year (income_year + 1). Otherwise, or with a ''00'' and a NULL income, a NULL birth date where it matters, or a NULL income_year, the total is unknown (NULL). Negative total -> 0.00; no member -> NULL; two income years in one group -> error.';

CREATE FUNCTION inami.im_verdict(household_income numeric, household_size int, income_year int)
RETURNS text
AS 'MODULE_PATHNAME', 'inami_im_verdict'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.im_verdict(numeric, int, int) IS
'R3: OK when the household income is under the ceiling of inami.im_plafond(household_size, income_year), NOK at or over it, ONHOLD when the income is NULL (unknown). NULL when the size or the year is NULL and the income is known.';

-- (end of section 3)

------------------------------------------------------------------------------------------
-- 4. Data exchanges: loaded flows, readers, loaders, writers
------------------------------------------------------------------------------------------

-- What the loaders fill and the control runs read. Every loaded row keeps the file it came
-- from (inami.flow_file); deleting a file's row deletes what it loaded.

CREATE TABLE inami.flow_file (
    file_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('Syst01', 'Syst04', 'Syst05', 'Pro01', 'Pro03', 'Pro04')),
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    oa text CHECK (inami.is_digits(oa, 3)),
    income_year int CHECK (income_year BETWEEN 1990 AND 2200),
    shipment int CHECK (shipment BETWEEN 1 AND 9),
    source_name text NOT NULL CHECK (btrim(source_name) <> ''),
    loaded_at timestamptz NOT NULL DEFAULT now(),
    loaded_by name NOT NULL DEFAULT current_user,
    record_count bigint NOT NULL CHECK (record_count >= 0)
);
COMMENT ON TABLE inami.flow_file IS
'One row per exchange file loaded: its kind (root element), year, OA, income year, shipment, where it came from and when.';
COMMENT ON COLUMN inami.flow_file.file_id IS 'Identifies the load; the loaded rows point to it.';
COMMENT ON COLUMN inami.flow_file.kind IS 'Root element of the document: Syst01, Syst04, Syst05, Pro01, Pro03 or Pro04.';
COMMENT ON COLUMN inami.flow_file.year IS 'controlYear (Syst) or year (Pro) of the document.';
COMMENT ON COLUMN inami.flow_file.oa IS 'OA code of the document, when it carries one (Syst01, Syst05, Pro01).';
COMMENT ON COLUMN inami.flow_file.income_year IS 'incomeYear of the document (Syst04, Pro03).';
COMMENT ON COLUMN inami.flow_file.shipment IS 'Shipment number (Syst04, Pro03, Pro04): 1 in August, 2 in October.';
COMMENT ON COLUMN inami.flow_file.source_name IS 'Server path given to load_flow_file, or ''load_flow'' for a document given as text.';
COMMENT ON COLUMN inami.flow_file.loaded_at IS 'When the load committed its transaction (transaction start).';
COMMENT ON COLUMN inami.flow_file.loaded_by IS 'Role that loaded the file.';
COMMENT ON COLUMN inami.flow_file.record_count IS 'Households (Syst01, Syst04, Pro01), feedbacks, persons (Pro03) or results (Pro04) loaded.';

-- Syst_01 (OA -> SCA): households under systematic control, with every member.
CREATE TABLE inami.syst01_household (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    requester_niss text NOT NULL CHECK (inami.is_digits(requester_niss, 11)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number)
);
COMMENT ON TABLE inami.syst01_household IS
'Syst_01: a household whose IM rests on a DSH, sent for the systematic control of control_year.';
COMMENT ON COLUMN inami.syst01_household.control_year IS 'Year of the control (controlYear).';
COMMENT ON COLUMN inami.syst01_household.request_number IS 'OA (3) + year of transmission (4) + requester NISS (11); never changes across Syst_01/04/05.';
COMMENT ON COLUMN inami.syst01_household.oa IS 'OA that sent the household.';
COMMENT ON COLUMN inami.syst01_household.requester_niss IS 'NISS of the requester (also listed among the members).';
COMMENT ON COLUMN inami.syst01_household.file_id IS 'The file it was loaded from.';

CREATE TABLE inami.syst01_member (
    control_year int NOT NULL,
    request_number text NOT NULL,
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    PRIMARY KEY (control_year, request_number, niss),
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.syst01_member IS 'Syst_01: every member of a household, the requester too.';
COMMENT ON COLUMN inami.syst01_member.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst01_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.syst01_member.niss IS 'NISS of the member.';

-- Syst_04 (SCA -> OA): incomes per household and member, in one or two shipments.
CREATE TABLE inami.syst04_household (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    income_year int NOT NULL CHECK (income_year BETWEEN 1990 AND 2200),
    requester_niss text NOT NULL CHECK (inami.is_digits(requester_niss, 11)),
    household_total numeric CHECK (household_total = round(household_total, 2)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number, shipment)
);
COMMENT ON TABLE inami.syst04_household IS
'Syst_04: the answer for one household in one shipment. A household may be answered in shipment 1 and again in shipment 2; inami.syst04_answer says which counts.';
COMMENT ON COLUMN inami.syst04_household.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst04_household.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.syst04_household.shipment IS 'Shipment number: 1 (August), 2 (October).';
COMMENT ON COLUMN inami.syst04_household.income_year IS 'Income year of the incomes (control year - 2).';
COMMENT ON COLUMN inami.syst04_household.requester_niss IS 'NISS of the requester.';
COMMENT ON COLUMN inami.syst04_household.household_total IS 'HouseholdTotal as sent by the SCA: only when every member is known; NULL otherwise.';
COMMENT ON COLUMN inami.syst04_household.file_id IS 'The file it was loaded from.';

-- R3: the IPCAL items of one answer as two arrays (codes of 4 digits, amounts with at most
-- two decimals, as many of each, no NULL), checked in C: the CHECK of syst04_member.
CREATE FUNCTION inami.ipcal_items_valid(codes text[], amounts numeric[]) RETURNS boolean
AS 'MODULE_PATHNAME', 'inami_ipcal_items_valid'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_items_valid(text[], numeric[]) IS
'R3: true when codes and amounts are IPCAL items: one-dimensional, as many codes as amounts, no NULL, codes of 4 digits, finite amounts with at most two decimals.';

CREATE FUNCTION inami.ipcal_items_income(codes text[], amounts numeric[], tax_year int) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_ipcal_items_income'
LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.ipcal_items_income(text[], numeric[], int) IS
'R3: a member''s income from the IPCAL items of its row (inami.syst04_member, inami.pro03_person): what inami.ipcal_income gives over the same items, 0.00 without any. A code missing from inami.ipcal_rule for the tax year is an error.';

-- A member's IPCAL items live in its row, in document order: they are part of its answer
-- (loaded, read and deleted with it), and a row per item cost a foreign-key check and an
-- index entry per item, most of what loading a Syst_04 cost.
CREATE TABLE inami.syst04_member (
    control_year int NOT NULL,
    request_number text NOT NULL,
    shipment int NOT NULL,
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    return_code text NOT NULL CHECK (inami.is_digits(return_code, 2)),
    tax_sheet text CHECK (btrim(tax_sheet) <> ''),
    cadastral_income numeric CHECK (cadastral_income = round(cadastral_income, 2)),
    personal_total numeric CHECK (personal_total = round(personal_total, 2)),
    ipcal_code text[] NOT NULL DEFAULT '{}',
    ipcal_amount numeric[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (control_year, request_number, shipment, niss),
    FOREIGN KEY (control_year, request_number, shipment) REFERENCES inami.syst04_household ON DELETE CASCADE,
    CHECK (inami.ipcal_items_valid(ipcal_code, ipcal_amount)),
    -- E 4.2: IPCAL codes follow return code 00 only
    CHECK (return_code = '00' OR cardinality(ipcal_code) = 0)
);
COMMENT ON TABLE inami.syst04_member IS 'Syst_04: one member of an answered household, with its IPCAL items (inami.syst04_ipcal shows one row per item).';
COMMENT ON COLUMN inami.syst04_member.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst04_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.syst04_member.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.syst04_member.niss IS 'NISS of the member.';
COMMENT ON COLUMN inami.syst04_member.return_code IS 'Tax administration return code: 00 income known (IPCAL items follow); any other, not known (03, 04, 10, 11: not yet processed).';
COMMENT ON COLUMN inami.syst04_member.tax_sheet IS 'Tax sheet number, when sent.';
COMMENT ON COLUMN inami.syst04_member.cadastral_income IS 'Cadastral income of the own home, when sent.';
COMMENT ON COLUMN inami.syst04_member.personal_total IS 'Personal total as sent, when sent.';
COMMENT ON COLUMN inami.syst04_member.ipcal_code IS 'IPCAL codes of the member''s items, in document order (see inami.ipcal_rule); empty without items.';
COMMENT ON COLUMN inami.syst04_member.ipcal_amount IS 'Amounts in EUR of the same items, possibly negative.';

CREATE VIEW inami.syst04_ipcal AS
SELECT m.control_year, m.request_number, m.shipment, m.niss, u.item_no::int AS item_no, u.code, u.amount
FROM inami.syst04_member m
CROSS JOIN LATERAL unnest(m.ipcal_code, m.ipcal_amount) WITH ORDINALITY AS u(code, amount, item_no);
COMMENT ON VIEW inami.syst04_ipcal IS 'Syst_04: one row per IPCAL item of a member with return code 00, in document order (item_no 1, 2, ...), from inami.syst04_member.';

CREATE VIEW inami.syst04_answer AS
SELECT DISTINCT ON (control_year, request_number) *
FROM inami.syst04_household
ORDER BY control_year, request_number, shipment DESC;
COMMENT ON VIEW inami.syst04_answer IS
'Syst_04: the latest answer of each household (shipment 2 answers what shipment 1 left open): its income year and HouseholdTotal. For each member, the latest answer that lists the member counts (inami.systematic_members), so an October shipment that repeats only the members August left open completes the August answer.';

-- E 2.3: the CIN filter sends a Syst_04 answer to the requester's current OA, which may not
-- be the OA that listed the household in its Syst_01.
CREATE VIEW inami.syst04_unlisted AS
SELECT a.*
FROM inami.syst04_answer a
WHERE NOT EXISTS (SELECT FROM inami.syst01_household s
                  WHERE s.control_year = a.control_year AND s.request_number = a.request_number);
COMMENT ON VIEW inami.syst04_unlisted IS
'Syst_04: the latest answer of each household that no loaded Syst_01 lists: another OA sent the request, and the CIN filter sent the answer here, the requester''s OA now (Circ. O.A. 2024/165, 2.3). The control decides them once they are listed: inami.adopt_unlisted_households.';

-- E 2.3, 5.2: the OA that receives the fiscal data sends the feedback, with the same request
-- number, also for a household another OA listed: list such households as this OA's.
CREATE FUNCTION inami.adopt_unlisted_households(control_year int, oa text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    IF $2 IS NULL OR NOT inami.is_digits($2, 3) THEN
        RAISE EXCEPTION 'OA code must be 3 digits' USING ERRCODE = '22P02',
            DETAIL = format('The value given is %L.', $2),
            HINT = 'Give the code of the OA that received the Syst04, for example ''300''.';
    END IF;
    IF $1 IS NULL OR $1 NOT BETWEEN 1990 AND 2200 THEN
        RAISE EXCEPTION 'control year must be between 1990 and 2200' USING ERRCODE = '22023',
            DETAIL = format('The control year given is %s.', coalesce($1::text, 'NULL')),
            HINT = 'Give the control year of the Syst04 shipments, for example 2024.';
    END IF;
    -- Listed as in a Syst_01: the requester under the request number's NISS, to which a
    -- newer NISS in the answers is matched (E 2.4); the members of every shipment. The
    -- Syst04 file is the household's source: deleting it deletes the household again.
    WITH adopted AS (
        INSERT INTO inami.syst01_household (control_year, request_number, oa, requester_niss, file_id)
        SELECT u.control_year, u.request_number, $2, substr(u.request_number, 8), u.file_id
        FROM inami.syst04_unlisted u
        WHERE u.control_year = $1
        -- listed meanwhile by a Syst_01 load or another adoption: left as it is
        ON CONFLICT ON CONSTRAINT syst01_household_pkey DO NOTHING
        RETURNING syst01_household.request_number
    ), members AS (
        INSERT INTO inami.syst01_member (control_year, request_number, niss)
        SELECT DISTINCT $1, m.request_number,
               CASE WHEN m.niss = h.requester_niss THEN substr(m.request_number, 8) ELSE m.niss END
        FROM adopted a
        JOIN inami.syst04_member m ON m.control_year = $1 AND m.request_number = a.request_number
        JOIN inami.syst04_household h
          ON h.control_year = m.control_year AND h.request_number = m.request_number AND h.shipment = m.shipment
        RETURNING 1
    )
    SELECT count(*) INTO n FROM adopted;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION inami.adopt_unlisted_households(int, text) IS
'Circ. O.A. 2024/165, 2.3 and 5.2: the OA that receives the fiscal data sends the feedback, with the same request number, also for households another OA listed. Lists every household of inami.syst04_unlisted of control_year as one of oa''s (members: those of its Syst_04 answers), so that the control decides it and syst05_document(control_year, oa) reports it. Returns how many. Deleting the Syst04 file deletes them again.';

-- Pro_01 (OA -> SCA): households with at least one member without IM on 1 January.
CREATE TABLE inami.pro01_household (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    requester_niss text NOT NULL CHECK (inami.is_digits(requester_niss, 11)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (year, request_number)
);
COMMENT ON TABLE inami.pro01_household IS 'Pro_01: a household of the proactive flow of year; the requester is its eldest member.';
COMMENT ON COLUMN inami.pro01_household.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro01_household.request_number IS 'OA (3) + year (4) + requester NISS (11).';
COMMENT ON COLUMN inami.pro01_household.oa IS 'OA that sent the household.';
COMMENT ON COLUMN inami.pro01_household.requester_niss IS 'NISS of the requester (the eldest member).';
COMMENT ON COLUMN inami.pro01_household.file_id IS 'The file it was loaded from.';

CREATE TABLE inami.pro01_member (
    year int NOT NULL,
    request_number text NOT NULL,
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    PRIMARY KEY (year, request_number, niss),
    FOREIGN KEY (year, request_number) REFERENCES inami.pro01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.pro01_member IS 'Pro_01: every member of a household, the requester too.';
COMMENT ON COLUMN inami.pro01_member.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro01_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.pro01_member.niss IS 'NISS of the member.';

-- Pro_03 (tax administration -> SCA): incomes per person.
CREATE TABLE inami.pro03_person (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    income_year int NOT NULL CHECK (income_year BETWEEN 1990 AND 2200),
    return_code text NOT NULL CHECK (inami.is_digits(return_code, 2)),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    ipcal_code text[] NOT NULL DEFAULT '{}',
    ipcal_amount numeric[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (year, shipment, niss),
    -- the person's IPCAL items, in its row as in inami.syst04_member
    CHECK (inami.ipcal_items_valid(ipcal_code, ipcal_amount)),
    CHECK (return_code = '00' OR cardinality(ipcal_code) = 0)
);
COMMENT ON TABLE inami.pro03_person IS 'Pro_03: the income answer for one person in one shipment, with its IPCAL items (inami.pro03_ipcal shows one row per item); the latest shipment of a person counts (inami.pro03_answer).';
COMMENT ON COLUMN inami.pro03_person.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro03_person.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.pro03_person.niss IS 'NISS of the person.';
COMMENT ON COLUMN inami.pro03_person.income_year IS 'Income year (year - 2).';
COMMENT ON COLUMN inami.pro03_person.return_code IS 'Tax administration return code, as in Syst_04.';
COMMENT ON COLUMN inami.pro03_person.file_id IS 'The file it was loaded from.';
COMMENT ON COLUMN inami.pro03_person.ipcal_code IS 'IPCAL codes of the person''s items, in document order; empty without items.';
COMMENT ON COLUMN inami.pro03_person.ipcal_amount IS 'Amounts in EUR of the same items, possibly negative.';

CREATE VIEW inami.pro03_ipcal AS
SELECT p.year, p.shipment, p.niss, u.item_no::int AS item_no, u.code, u.amount
FROM inami.pro03_person p
CROSS JOIN LATERAL unnest(p.ipcal_code, p.ipcal_amount) WITH ORDINALITY AS u(code, amount, item_no);
COMMENT ON VIEW inami.pro03_ipcal IS 'Pro_03: one row per IPCAL item of a person with return code 00, in document order, from inami.pro03_person.';

CREATE VIEW inami.pro03_answer AS
SELECT DISTINCT ON (year, niss) *
FROM inami.pro03_person
ORDER BY year, niss, shipment DESC;
COMMENT ON VIEW inami.pro03_answer IS 'Pro_03: the answer that counts for each person: the one of its latest shipment.';

-- One call per statement: each call updates pg_extension.
DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['inami.flow_file', 'inami.flow_file_file_id_seq',
                             'inami.syst01_household', 'inami.syst01_member',
                             'inami.syst04_household', 'inami.syst04_member',
                             'inami.pro01_household', 'inami.pro01_member',
                             'inami.pro03_person']::regclass[]
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END;
$$;

-- 4a. Reading: the streamed reader, loaders load_flow / load_flow_file, read_* functions

-- A shipment loads once: a second load of the same kind, year, OA and shipment is refused
-- (23505, with the DELETE that replaces it), also when two sessions load it at once.
CREATE UNIQUE INDEX flow_file_one_shipment ON inami.flow_file
    (kind, year, coalesce(oa, ''), coalesce(shipment, 0));

-- Syst_05 (OA -> SCA) as received: the feedback of an OA on a Syst_01 household.
CREATE TABLE inami.syst05_feedback_received (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    reason text NOT NULL CHECK (reason IN ('KEEPSYST', 'STOPSYST', 'STOPFAM', 'STOPOA', 'STOPDEATH',
                                           'STOPFISC', 'KEEPADV', 'KEEPDSH')),
    right_end date,
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number),
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.syst05_feedback_received IS
'Syst_05 as loaded by load_flow / load_flow_file: the feedback sent for a Syst_01 household (one per household and control year).';
COMMENT ON COLUMN inami.syst05_feedback_received.control_year IS 'Year of the control (controlYear).';
COMMENT ON COLUMN inami.syst05_feedback_received.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.syst05_feedback_received.oa IS 'OA that sent the feedback.';
COMMENT ON COLUMN inami.syst05_feedback_received.reason IS 'Reason code: KEEPSYST, STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC, KEEPADV or KEEPDSH.';
COMMENT ON COLUMN inami.syst05_feedback_received.right_end IS 'rightEnd: last day of the right, when sent.';
COMMENT ON COLUMN inami.syst05_feedback_received.file_id IS 'The file it was loaded from.';

-- Pro_04 (SCA -> OA) as received: the code of a Pro_01 household.
CREATE TABLE inami.pro04_result_received (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    code text NOT NULL CHECK (code IN ('OK', 'NOK', 'ONHOLD')),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (year, shipment, request_number),
    FOREIGN KEY (year, request_number) REFERENCES inami.pro01_household ON DELETE CASCADE
);
CREATE INDEX ON inami.pro04_result_received (year, request_number);
COMMENT ON TABLE inami.pro04_result_received IS
'Pro_04 as loaded by load_flow / load_flow_file: the result for a Pro_01 household in one shipment; the latest shipment counts.';
COMMENT ON COLUMN inami.pro04_result_received.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro04_result_received.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.pro04_result_received.request_number IS 'The household, as in Pro_01.';
COMMENT ON COLUMN inami.pro04_result_received.code IS 'OK (right granted), NOK (refused) or ONHOLD (incomes not all known).';
COMMENT ON COLUMN inami.pro04_result_received.file_id IS 'The file it was loaded from.';

SELECT pg_catalog.pg_extension_config_dump('inami.syst05_feedback_received', '');
SELECT pg_catalog.pg_extension_config_dump('inami.pro04_result_received', '');

CREATE FUNCTION inami.load_flow(doc text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_load_flow'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION inami.load_flow(text) IS
'Loads one exchange document (Syst01, Syst04, Syst05, Pro01, Pro03 or Pro04: the root element says which) into the inami tables, streamed and checked on the way; returns the households, persons or results loaded. All or nothing; a shipment already loaded is refused.';

CREATE FUNCTION inami.load_flow_file(path text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_load_flow_file'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION inami.load_flow_file(text) IS
'load_flow from a file on the server, read in chunks (any size, memory flat). Superusers and members of pg_read_server_files only.';
REVOKE EXECUTE ON FUNCTION inami.load_flow_file(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION inami.load_flow_file(text) TO pg_read_server_files;

CREATE FUNCTION inami.read_syst01(doc text,
    OUT control_year int, OUT oa text, OUT request_number text, OUT requester_niss text,
    OUT niss text, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_syst01'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_syst01(text) IS
'Reads a Syst01 document without loading it: one row per member (line: where the member is), checked as load_flow does, except against the tables.';

CREATE FUNCTION inami.read_pro01(doc text,
    OUT year int, OUT oa text, OUT request_number text, OUT requester_niss text,
    OUT niss text, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_pro01'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_pro01(text) IS
'Reads a Pro01 document without loading it: one row per member.';

CREATE FUNCTION inami.read_syst04(doc text,
    OUT control_year int, OUT income_year int, OUT shipment int, OUT request_number text,
    OUT requester_niss text, OUT household_total numeric, OUT niss text, OUT return_code text,
    OUT tax_sheet text, OUT cadastral_income numeric, OUT personal_total numeric,
    OUT item_no int, OUT ipcal_code text, OUT ipcal_amount numeric, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_syst04'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_syst04(text) IS
'Reads a Syst04 document without loading it: one row per member and IPCAL item (a member without items: one row, item columns NULL).';

CREATE FUNCTION inami.read_pro03(doc text,
    OUT year int, OUT income_year int, OUT shipment int, OUT niss text, OUT return_code text,
    OUT item_no int, OUT ipcal_code text, OUT ipcal_amount numeric, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_pro03'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_pro03(text) IS
'Reads a Pro03 document without loading it: one row per person and IPCAL item.';

CREATE FUNCTION inami.read_syst05(doc text,
    OUT control_year int, OUT oa text, OUT request_number text, OUT reason text,
    OUT right_end date, OUT line int) RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_syst05'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_syst05(text) IS
'Reads a Syst05 document without loading it: one row per feedback.';

CREATE FUNCTION inami.read_pro04(doc text,
    OUT year int, OUT shipment int, OUT request_number text, OUT code text, OUT line int)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'inami_read_pro04'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.read_pro04(text) IS
'Reads a Pro04 document without loading it: one row per result.';

-- (end of section 4a)

-- 4b. Writing: syst01_document, syst05_document, pro01_document, pro04_document

-- Each returns one document of api.md as xml, valid against xsd/<kind>.xsd: households
-- (or decisions) in request-number order, members in NISS order. Nothing to write gives
-- the empty root, valid too. STABLE: they read tables.

CREATE FUNCTION inami.syst01_document(control_year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_syst01_document';
COMMENT ON FUNCTION inami.syst01_document(int, text) IS
'Syst_01 document of one OA for one control year, from inami.syst01_household and syst01_member (valid against xsd/syst01.xsd).';

CREATE FUNCTION inami.syst05_document(control_year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_syst05_document';
COMMENT ON FUNCTION inami.syst05_document(int, text) IS
'Syst_05 feedback document of one OA (inami.control_decision.oa, the OA that received the incomes) for one control year (valid against xsd/syst05.xsd).';

CREATE FUNCTION inami.pro01_document(year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_pro01_document';
COMMENT ON FUNCTION inami.pro01_document(int, text) IS
'Pro_01 document of one OA for one year, from inami.pro01_household and pro01_member (valid against xsd/pro01.xsd).';

CREATE FUNCTION inami.pro04_document(year int, oa text) RETURNS xml
    LANGUAGE c STABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'inami_pro04_document';
COMMENT ON FUNCTION inami.pro04_document(int, text) IS
'Pro_04 document for one year: the codes of inami.proactive_decision whose request number starts with oa (the OA that sent the household in Pro_01); shipment = the latest Pro_03 shipment loaded for the year, 1 if none (valid against xsd/pro04.xsd).';

-- (end of section 4b)

-- (end of section 4)

------------------------------------------------------------------------------------------
-- 5. Control runs: Syst_05, Pro_04, events, run log, statistics, retention
------------------------------------------------------------------------------------------

-- What the control runs write and the writers (syst05_document, pro04_document) read.

CREATE TABLE inami.control_run (
    run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('systematic_control', 'proactive_flow', 'purge')),
    year int CHECK (year BETWEEN 1990 AND 2200),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    ended_at timestamptz CHECK (ended_at >= started_at),
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    counts jsonb,
    error_sqlstate text CHECK (error_sqlstate ~ '^[0-9A-Z]{5}$'),
    error_message text,
    CHECK ((status = 'running') = (ended_at IS NULL)),
    CHECK ((status = 'failed') = (error_sqlstate IS NOT NULL))
);
COMMENT ON TABLE inami.control_run IS
'The run log: one row per control run, written before its work starts and completed when it ends, failures included.';
COMMENT ON COLUMN inami.control_run.run_id IS 'Identifies the run; decisions point to the run that made them.';
COMMENT ON COLUMN inami.control_run.kind IS 'systematic_control, proactive_flow or purge.';
COMMENT ON COLUMN inami.control_run.year IS 'Control year (systematic), year (proactive); NULL for a purge.';
COMMENT ON COLUMN inami.control_run.started_at IS 'When the run started.';
COMMENT ON COLUMN inami.control_run.ended_at IS 'When the run ended; NULL while running.';
COMMENT ON COLUMN inami.control_run.status IS 'running, succeeded or failed.';
COMMENT ON COLUMN inami.control_run.counts IS 'Counts per reason or code (or per table purged), as a JSON object.';
COMMENT ON COLUMN inami.control_run.error_sqlstate IS 'SQLSTATE of the error that failed the run.';
COMMENT ON COLUMN inami.control_run.error_message IS 'Message (with detail and hint) of the error that failed the run.';

-- Syst_05: the decision for every Syst_01 household of a control year.
CREATE TABLE inami.control_decision (
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    oa text NOT NULL CHECK (inami.is_digits(oa, 3)),
    reason text NOT NULL CHECK (reason IN ('KEEPSYST', 'STOPSYST', 'STOPFAM', 'STOPOA', 'STOPDEATH',
                                           'STOPFISC', 'KEEPADV', 'KEEPDSH')),
    right_end date,
    run_id bigint NOT NULL REFERENCES inami.control_run,
    PRIMARY KEY (control_year, request_number),
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.control_decision IS
'Syst_05: the decision on one Syst_01 household (R4): the reason reported and the end of the right; what it was made from is kept beside it.';
COMMENT ON COLUMN inami.control_decision.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.control_decision.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.control_decision.oa IS 'OA that sends the feedback.';
COMMENT ON COLUMN inami.control_decision.reason IS 'Reason code: KEEPSYST, STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC, KEEPADV or KEEPDSH.';
COMMENT ON COLUMN inami.control_decision.right_end IS 'Last day of the right (rightEnd of Syst_05).';
COMMENT ON COLUMN inami.control_decision.run_id IS 'The run that made the decision as it stands: a later run that reaches the same decision leaves the row alone.';

-- Pro_04: the code of every Pro_01 household of a year.
CREATE TABLE inami.proactive_decision (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    code text NOT NULL CHECK (code IN ('OK', 'NOK', 'ONHOLD')),
    run_id bigint NOT NULL REFERENCES inami.control_run,
    PRIMARY KEY (year, request_number),
    FOREIGN KEY (year, request_number) REFERENCES inami.pro01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.proactive_decision IS
'Pro_04: the code of one Pro_01 household (R5): OK (income under the ceiling), NOK, or ONHOLD (income unknown).';
COMMENT ON COLUMN inami.proactive_decision.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.proactive_decision.request_number IS 'The household, as in Pro_01.';
COMMENT ON COLUMN inami.proactive_decision.code IS 'OK, NOK or ONHOLD.';
COMMENT ON COLUMN inami.proactive_decision.run_id IS 'The run that computed the code.';

DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['inami.control_run', 'inami.control_run_run_id_seq',
                             'inami.control_decision', 'inami.proactive_decision']::regclass[]
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END;
$$;

-- 5a. What a decision was made from (R4, R5): kept beside each decision so that
-- inami.explain_decision can answer "why". Nullable: rows written by other means (tests of
-- the writers, older runs) stay valid.
ALTER TABLE inami.control_decision
    ADD COLUMN household_size int CHECK (household_size >= 1),
    ADD COLUMN income_year int CHECK (income_year BETWEEN 1990 AND 2200),
    ADD COLUMN shipment int CHECK (shipment BETWEEN 1 AND 9),
    ADD COLUMN sent_total numeric CHECK (sent_total = round(sent_total, 2)),
    ADD COLUMN household_total numeric CHECK (household_total >= 0 AND household_total = round(household_total, 2)),
    ADD COLUMN extra_income numeric CHECK (extra_income = round(extra_income, 2)),
    ADD COLUMN ceiling numeric CHECK (ceiling > 0),
    ADD COLUMN ceiling_source text CHECK (btrim(ceiling_source) <> ''),
    ADD COLUMN verdict text CHECK (verdict IN ('OK', 'NOK', 'ONHOLD')),
    ADD COLUMN events bigint[],
    ADD COLUMN candidates jsonb CHECK (jsonb_typeof(candidates) = 'array'),
    ADD COLUMN sends_feedback boolean NOT NULL DEFAULT true,
    ADD COLUMN provisional boolean NOT NULL DEFAULT false,
    ADD COLUMN cadastral_income numeric CHECK (cadastral_income >= 0 AND cadastral_income = round(cadastral_income, 2));
COMMENT ON COLUMN inami.control_decision.household_size IS 'Household size used for the ceiling: the number of Syst_01 members (the requester once).';
COMMENT ON COLUMN inami.control_decision.income_year IS 'Income year of the incomes (of the Syst_04 answer; control year - 2 without one).';
COMMENT ON COLUMN inami.control_decision.shipment IS 'Syst_04 shipment whose answer counted (the latest); NULL when no shipment answered the household.';
COMMENT ON COLUMN inami.control_decision.sent_total IS 'HouseholdTotal as the SCA sent it in that shipment, for comparison; not used for the decision.';
COMMENT ON COLUMN inami.control_decision.household_total IS 'Household income computed by R3 (inami.household_income over the members); NULL when unknown.';
COMMENT ON COLUMN inami.control_decision.extra_income IS 'Sum of the amounts of the extra_fiscal_data events (foreign income, alimony...: E 4.4) added by the OA; NULL without such amounts.';
COMMENT ON COLUMN inami.control_decision.ceiling IS 'IM ceiling (inami.im_plafond) for household_size and income_year.';
COMMENT ON COLUMN inami.control_decision.ceiling_source IS 'Source of the inami.im_ceiling row of income_year.';
COMMENT ON COLUMN inami.control_decision.verdict IS 'R3 verdict of the Syst_04 incomes: OK, NOK or ONHOLD (unknown or no answer).';
COMMENT ON COLUMN inami.control_decision.events IS 'event_id of every inami.household_event row the decision considered.';
COMMENT ON COLUMN inami.control_decision.sends_feedback IS 'Whether this OA reports the decision in its Syst_05 (inami.syst05_document): false for a household that moved to another OA (an oa_change before 1 May X+1) and that no Syst_04 answered here, whatever the reason reported: the CIN filter sent its fiscal data to the new OA, which sends the feedback (Circ. O.A. 2024/165, 2.3, 5.2).';
COMMENT ON COLUMN inami.control_decision.provisional IS 'True while the income that decides can still change: before a later Syst_04 shipment is loaded, the household has no answer yet or is unknown only through members answered in shipment 1 with a code of inami.return_code_asked_again (Circ. O.A. 2024/165, 4.1, 4.3); or, the income under the ceiling, the Syst_04 sent a cadastral income that no cadastral_income event assessed (on that amount sent, 4.4). inami.syst05_document refuses to write a provisional decision.';
COMMENT ON COLUMN inami.control_decision.cadastral_income IS 'The part of the own home''s cadastral income the OA counts (the amount of its cadastral_income event, while made on the CadastralIncome sent now, E 4.4), added to household_total for the verdict; NULL without a valid assessment.';
COMMENT ON COLUMN inami.control_decision.candidates IS 'Every candidate reason with its end of right (JSON array of {reason, right_end, from: "income" or "event N"}), in the order of precedence: the first is the one reported. inami.explain_decision gives the rule behind each.';

ALTER TABLE inami.proactive_decision
    ADD COLUMN household_size int CHECK (household_size >= 1),
    ADD COLUMN income_year int CHECK (income_year BETWEEN 1990 AND 2200),
    ADD COLUMN household_total numeric CHECK (household_total >= 0 AND household_total = round(household_total, 2)),
    ADD COLUMN ceiling numeric CHECK (ceiling > 0),
    ADD COLUMN eldest_niss text CHECK (inami.is_digits(eldest_niss, 11));
COMMENT ON COLUMN inami.proactive_decision.household_size IS 'Number of Pro_01 members (the ceiling''s household size, F 2.2).';
COMMENT ON COLUMN inami.proactive_decision.income_year IS 'Income year (year - 2, or that of the Pro_03 answers).';
COMMENT ON COLUMN inami.proactive_decision.household_total IS 'Household income by R3 from the latest Pro_03 answers; NULL when unknown.';
COMMENT ON COLUMN inami.proactive_decision.ceiling IS 'IM ceiling for household_size and income_year.';
COMMENT ON COLUMN inami.proactive_decision.eldest_niss IS 'The eldest member by NISS birth date (F 2.2: the requester is the eldest); compare with the Pro_01 requester. NULL when the NISS cannot tell (a month or day 00 that allows a day before another member''s last possible one, or an invalid NISS); on a day two members may share, the one whose NISS allows no later day, then the smaller NISS.';

-- R4: what the OA knows of a household besides the flows.
CREATE TABLE inami.household_event (
    event_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    control_year int NOT NULL CHECK (control_year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    event text NOT NULL CHECK (event IN ('composition_change', 'child_under16_arrival', 'death', 'oa_change',
                                         'extra_fiscal_data', 'social_advantage', 'new_dsh', 'cadastral_income')),
    event_date date NOT NULL CHECK (event_date BETWEEN '1990-01-01' AND '2200-12-31'),
    detail text CHECK (btrim(detail) <> ''),
    amount numeric CHECK (amount = round(amount, 2)),
    basis numeric CHECK (basis = round(basis, 2)),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CHECK (amount IS NULL OR event IN ('extra_fiscal_data', 'cadastral_income')),
    CHECK (basis IS NULL OR event = 'cadastral_income'),
    CHECK (event <> 'cadastral_income' OR coalesce(amount >= 0 AND basis IS NOT NULL, false)),
    -- Also orders pg_dump: a household's events are restored after the household.
    FOREIGN KEY (control_year, request_number) REFERENCES inami.syst01_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.household_event IS
'R4: what the OA knows of a Syst_01 household (E 5.3). composition_change -> STOPFAM (end of the quarter after the change); child_under16_arrival -> no end (a dependent child under 16 first registered in the national register, or who obtained temporary protection: the child gets the right too, art. 35 A.R. 15.01.2014, D); death -> STOPDEATH (the death that ends the household''s right; a death that only changes the composition is a composition_change); oa_change -> STOPOA; extra_fiscal_data -> STOPFISC; social_advantage -> KEEPADV (an advantage holding by 31 December X; one starting later opens a right of its own); new_dsh -> KEEPDSH (dated 1 October X - 31 March X+1); cadastral_income -> the part of the own home''s cadastral income the OA counts after the exemptions (E 4.4), added to the income. An unknown request number is refused; deleting the Syst_01 household (its file) deletes its events, like its decision.';
COMMENT ON COLUMN inami.household_event.event_id IS 'Identifies the event; decisions list the events they used.';
COMMENT ON COLUMN inami.household_event.control_year IS 'Control year of the Syst_01 household; filled from inami.syst01_household when omitted.';
COMMENT ON COLUMN inami.household_event.request_number IS 'The household, as in Syst_01.';
COMMENT ON COLUMN inami.household_event.event IS 'composition_change, child_under16_arrival, death, oa_change, extra_fiscal_data, social_advantage, new_dsh or cadastral_income.';
COMMENT ON COLUMN inami.household_event.event_date IS 'When it happened: the change, the death, the first day at the other OA, the day the OA learned the fiscal data, the start of the advantage, the day the new DSH was complete.';
COMMENT ON COLUMN inami.household_event.detail IS 'Free text: what happened, which member, the document.';
COMMENT ON COLUMN inami.household_event.amount IS 'extra_fiscal_data: yearly amount in EUR the OA adds to the household income of the income year (E 4.4); NULL when the OA records that the data end the right without an amount. cadastral_income (required, 0 or more): the part of the own home''s cadastral income (Syst_04 CadastralIncome) the OA counts after deducting the exempt amounts (E 4.4); 0.00 when nothing is left. Other events: NULL.';
COMMENT ON COLUMN inami.household_event.basis IS 'cadastral_income only (required): the CadastralIncome sent that the assessment was made on (the sum over the household''s latest answers, inami.systematic_households.cadastral_income; 0.00 when none was sent). When a later shipment sends another amount, the assessment no longer counts and the decision is provisional until the OA assesses again (UPDATE the event).';
COMMENT ON COLUMN inami.household_event.recorded_at IS 'When the event was recorded.';
-- A household's events: for the runs and explain_decision, and for ON DELETE CASCADE, which
-- would otherwise scan every event once per deleted household (deleting a Syst_01 file of
-- a million households).
CREATE INDEX household_event_household ON inami.household_event (control_year, request_number);
-- One assessment of the cadastral income per household: a new one replaces it (ON CONFLICT).
CREATE UNIQUE INDEX household_event_cadastral ON inami.household_event (control_year, request_number)
    WHERE event = 'cadastral_income';

CREATE FUNCTION inami.household_event_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    years int[];
BEGIN
    IF NEW.control_year IS NULL THEN
        SELECT array_agg(h.control_year ORDER BY h.control_year) INTO years
        FROM inami.syst01_household h WHERE h.request_number = NEW.request_number;
        IF cardinality(years) > 1 THEN
            RAISE EXCEPTION 'request number "%" is in several control years', NEW.request_number
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = format('inami.syst01_household has it for control years %s.', array_to_string(years, ', ')),
                      HINT = 'Give control_year with the event.';
        END IF;
        NEW.control_year := years[1];
    END IF;
    IF NEW.control_year IS NULL OR NOT EXISTS (
        SELECT 1 FROM inami.syst01_household h
        WHERE h.control_year = NEW.control_year AND h.request_number = NEW.request_number) THEN
        RAISE EXCEPTION 'unknown request number "%"', NEW.request_number
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('inami.syst01_household has no household %s%s.', NEW.request_number,
                                  CASE WHEN NEW.control_year IS NULL THEN ' in any control year'
                                       ELSE ' for control year ' || NEW.control_year END),
                  HINT = 'Load the Syst_01 file of the household first (inami.syst01_household), or correct the request number (OA + year + requester NISS).';
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami.household_event_check() IS
'Trigger: fills household_event.control_year from Syst_01 and refuses an event of an unknown household.';
CREATE TRIGGER household_event_check BEFORE INSERT OR UPDATE ON inami.household_event
FOR EACH ROW EXECUTE FUNCTION inami.household_event_check();

-- G (circ. 2024/250): the outcome of contacting an OK household, per person.
CREATE TABLE inami.proactive_outcome (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (inami.is_digits(request_number, 18)),
    niss text NOT NULL CHECK (inami.is_digits(niss, 11)),
    category int NOT NULL CHECK (category BETWEEN 1 AND 6),
    contacted boolean NOT NULL,
    dependent boolean NOT NULL DEFAULT false,
    automatic_child boolean NOT NULL DEFAULT false,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    note text CHECK (btrim(note) <> ''),
    PRIMARY KEY (year, request_number, niss),
    FOREIGN KEY (year, request_number, niss) REFERENCES inami.pro01_member ON DELETE CASCADE,
    FOREIGN KEY (year, request_number) REFERENCES inami.proactive_decision ON DELETE CASCADE,
    CHECK (NOT automatic_child OR category = 6),
    CHECK (category NOT IN (1, 2) OR NOT contacted)
);
COMMENT ON TABLE inami.proactive_outcome IS
'G (circ. O.A. 2024/250): what came of an OK household of the proactive flow, per person, in one of the six categories: 1 composition change, 2 information at the OA (not contacted: other data show the ceiling reached, or moved to another OA), 3 ceiling exceeded in the DSH, 4 no response, 5 right opened on a DSH, 6 automatic right on a social advantage. All persons of a household share one category, except a child with an automatic right (automatic_child, category 6) and a dependent with a social advantage (category 6, counted as a person only). inami.proactive_statistics(year) reports tables 1, 2 and 3.';
COMMENT ON COLUMN inami.proactive_outcome.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.proactive_outcome.request_number IS 'The Pro_01 household (its Pro_04 code must be OK).';
COMMENT ON COLUMN inami.proactive_outcome.niss IS 'The person, a Pro_01 member of the household.';
COMMENT ON COLUMN inami.proactive_outcome.category IS 'G 4: 1 MODIFICATION COMPOSITION DE MENAGE, 2 INFORMATION A L''O.A., 3 DEPASSEMENT PLAFOND DSH, 4 NON-REPONSE DE L''ASSURE, 5 DROIT DSH, 6 DROIT AUTOMATIQUE.';
COMMENT ON COLUMN inami.proactive_outcome.contacted IS 'True when the OA actually contacted the household (G 3, table 1); never for categories 1 and 2.';
COMMENT ON COLUMN inami.proactive_outcome.dependent IS 'The person is a dependent (personne a charge): in category 6 they count as a person, not for the household (G 4.2).';
COMMENT ON COLUMN inami.proactive_outcome.automatic_child IS 'A child with an automatic right (orphan, increased family allowances): may be in category 6 while the others are not, and then the household carries two categories (G 3).';
COMMENT ON COLUMN inami.proactive_outcome.recorded_at IS 'When the outcome was recorded.';
COMMENT ON COLUMN inami.proactive_outcome.note IS 'Free text.';

CREATE FUNCTION inami.proactive_outcome_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    code text;
    other record;
BEGIN
    -- The household's decision row written (to itself): a run changing its code, or another
    -- session writing the outcome of another person of the household, waits for this one,
    -- and under REPEATABLE READ fails rather than decide from a snapshot it has outdated.
    UPDATE inami.proactive_decision d SET run_id = d.run_id
    WHERE d.year = NEW.year AND d.request_number = NEW.request_number
    RETURNING d.code INTO code;
    IF code IS DISTINCT FROM 'OK' THEN
        RAISE EXCEPTION 'household "%" of % is not an OK household of the proactive flow', NEW.request_number, NEW.year
            USING ERRCODE = 'check_violation',
                  DETAIL = format('Its Pro_04 code is %s.', coalesce(code, 'not computed')),
                  HINT = 'Only households with code OK are contacted (F 2.3, G 3): run CALL inami.run_proactive_flow(year) first, or check the request number.';
    END IF;
    -- G 3: all members share one category, except the two kinds of category-6 persons.
    IF NOT (NEW.automatic_child OR (NEW.dependent AND NEW.category = 6)) THEN
        SELECT o.niss, o.category, o.contacted INTO other FROM inami.proactive_outcome o
        WHERE o.year = NEW.year AND o.request_number = NEW.request_number AND o.niss <> NEW.niss
          AND NOT (o.automatic_child OR (o.dependent AND o.category = 6))
          AND (o.category <> NEW.category OR o.contacted <> NEW.contacted)
        LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'every person of household "%" must have the same category and contact', NEW.request_number
                USING ERRCODE = 'check_violation',
                      DETAIL = format('%s has category %s (contacted %s); %s is given category %s (contacted %s).',
                                      other.niss, other.category, other.contacted, NEW.niss, NEW.category, NEW.contacted),
                      HINT = 'G 3: only a child with an automatic right (automatic_child) or a dependent with a social advantage (dependent, category 6) may differ; update the household''s rows in one statement (or SET CONSTRAINTS inami.proactive_outcome_household DEFERRED).';
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami.proactive_outcome_check() IS
'Trigger: refuses an outcome for a household that is not OK, and a household whose persons disagree on the category outside G''s exception.';

CREATE FUNCTION inami.proactive_decision_keep_ok() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    outcomes bigint;
BEGIN
    IF OLD.code = 'OK' AND NEW.code IS DISTINCT FROM 'OK' THEN
        SELECT count(*) INTO outcomes FROM inami.proactive_outcome o
        WHERE o.year = OLD.year AND o.request_number = OLD.request_number;
        IF outcomes > 0 THEN
            RAISE EXCEPTION 'household "%" of % has recorded outcomes: its code cannot change from OK to %',
                            OLD.request_number, OLD.year, NEW.code
                USING ERRCODE = 'check_violation',
                      DETAIL = format('%s outcome rows in inami.proactive_outcome were recorded while it was OK.', outcomes),
                      HINT = format('A later answer changed its verdict: check the household, delete its outcomes (DELETE FROM inami.proactive_outcome WHERE year = %s AND request_number = %L) and run again.',
                                    OLD.year, OLD.request_number);
        END IF;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami.proactive_decision_keep_ok() IS
'Trigger: refuses to change the code of an OK household that has outcomes (they were recorded because it was OK, G 3).';
CREATE TRIGGER proactive_decision_keep_ok BEFORE UPDATE OF code ON inami.proactive_decision
FOR EACH ROW EXECUTE FUNCTION inami.proactive_decision_keep_ok();
-- After the statement's rows are all in, so one UPDATE can move a whole household.
CREATE CONSTRAINT TRIGGER proactive_outcome_household AFTER INSERT OR UPDATE ON inami.proactive_outcome
DEFERRABLE INITIALLY IMMEDIATE
FOR EACH ROW EXECUTE FUNCTION inami.proactive_outcome_check();

DO $$
DECLARE
    t regclass;
BEGIN
    FOREACH t IN ARRAY ARRAY['inami.household_event', 'inami.household_event_event_id_seq',
                             'inami.proactive_outcome']::regclass[]
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(t, '');
    END LOOP;
END;
$$;

-- 5b. The systematic control (R4) and the proactive flow (R5), set-based.

-- R3 per member of the Syst_01 households of a control year (one household when given).
CREATE FUNCTION inami.systematic_members(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, sent_total numeric, niss text, shipment int, income_year int,
               return_code text, income numeric, birth_date date, under18 boolean, rule_birth_date date,
               cadastral_income numeric)
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
    WITH hh AS (
        SELECT h.request_number, h.oa, a.household_total AS sent_total,
               coalesce(a.income_year, $1 - 2) AS income_year
        FROM inami.syst01_household h
        LEFT JOIN inami.syst04_answer a ON a.control_year = h.control_year AND a.request_number = h.request_number
        WHERE h.control_year = $1 AND ($2 IS NULL OR h.request_number = $2)
    ), answer_rows AS (
        -- Every Syst_04 answer of a member; a requester whose NISS changed is answered under
        -- the new NISS, the request number keeps the old one, Syst_01's (E 2.2, 2.4).
        SELECT sm.request_number, x.niss, sm.shipment, sm.return_code, sm.ipcal_code, sm.ipcal_amount,
               sm.cadastral_income, left(x.niss, 2) || lpad((substr(x.niss, 3, 2)::int % 20)::text, 2, '0') || substr(x.niss, 5, 2) AS birth_key
        FROM inami.syst04_member sm
        JOIN inami.syst04_household a
          ON a.control_year = sm.control_year AND a.request_number = sm.request_number AND a.shipment = sm.shipment
        CROSS JOIN LATERAL (SELECT CASE WHEN sm.niss = a.requester_niss THEN substr(sm.request_number, 8)
                                        ELSE sm.niss END AS niss) x
        WHERE sm.control_year = $1 AND ($2 IS NULL OR sm.request_number = $2)
    ), left_out AS (
        -- Syst_01 members no answer lists ...
        SELECT m.request_number, m.niss, count(*) OVER (PARTITION BY m.request_number) AS n,
               left(m.niss, 2) || lpad((substr(m.niss, 3, 2)::int % 20)::text, 2, '0') || substr(m.niss, 5, 2) AS birth_key
        FROM hh JOIN inami.syst01_member m ON m.control_year = $1 AND m.request_number = hh.request_number
        WHERE NOT EXISTS (SELECT FROM answer_rows r WHERE r.request_number = m.request_number AND r.niss = m.niss)
    ), unlisted AS (
        -- ... and answers under a NISS Syst_01 does not list for the household
        SELECT u.request_number, u.niss, u.birth_key, count(*) OVER (PARTITION BY u.request_number) AS n
        FROM (SELECT DISTINCT r.request_number, r.niss, r.birth_key FROM answer_rows r
              WHERE NOT EXISTS (SELECT FROM inami.syst01_member m
                                WHERE m.control_year = $1 AND m.request_number = r.request_number AND m.niss = r.niss)) u
    ), renamed AS (
        -- E 2.4, footnote 6: the SCA answers under the newest NISS. Such an answer is the
        -- member's no answer lists when there is one of each, otherwise the one left-out
        -- member with the same birth date in the NISS, when there is exactly one of each.
        SELECT u.request_number, u.niss AS answered, l.niss AS listed
        FROM unlisted u JOIN left_out l ON l.request_number = u.request_number
        WHERE (u.n = 1 AND l.n = 1)
           OR (l.birth_key = u.birth_key
               AND (SELECT count(*) FROM left_out l2
                    WHERE l2.request_number = l.request_number AND l2.birth_key = l.birth_key) = 1
               AND (SELECT count(*) FROM unlisted u2
                    WHERE u2.request_number = u.request_number AND u2.birth_key = u.birth_key) = 1)
    ), answers AS (
        -- Each member's latest answer (E 4.1, 4.3: October answers what August left open).
        SELECT DISTINCT ON (r.request_number, x.niss) r.request_number, x.niss, r.shipment, r.return_code,
               r.ipcal_code, r.ipcal_amount, r.cadastral_income
        FROM answer_rows r
        LEFT JOIN renamed rn ON rn.request_number = r.request_number AND rn.answered = r.niss
        CROSS JOIN LATERAL (SELECT coalesce(rn.listed, r.niss) AS niss) x
        ORDER BY r.request_number, x.niss, r.shipment DESC
    )
    SELECT m.request_number, hh.oa, hh.sent_total, m.niss, an.shipment, hh.income_year, an.return_code,
           -- E 4.3: the SCA answers "00" with 0 EUR (no IPCAL item) for a child whose income it lacks
           CASE WHEN an.return_code = '00' THEN inami.ipcal_items_income(an.ipcal_code, an.ipcal_amount, hh.income_year + 1) END,
           b.birth_date,
           -- R3: under 18 on 1 January of the tax year (income year + 1).
           b.rule_birth_date > make_date(hh.income_year + 1 - 18, 1, 1),
           b.rule_birth_date, an.cadastral_income
    FROM hh
    JOIN inami.syst01_member m ON m.control_year = $1 AND m.request_number = hh.request_number
    LEFT JOIN answers an ON an.request_number = m.request_number AND an.niss = m.niss
    CROSS JOIN LATERAL (SELECT inami.niss_is_valid(m.niss) AS valid) v
    CROSS JOIN LATERAL (SELECT CASE WHEN v.valid THEN inami.niss_birth_date(m.niss) END AS birth_date,
                               CASE WHEN v.valid THEN inami.niss_birth_date_for_age(m.niss, 18, make_date(hh.income_year + 1, 1, 1)) END
                               AS rule_birth_date) b;
END;
COMMENT ON FUNCTION inami.systematic_members(int, text) IS
'R3 per member of the Syst_01 households of a control year (or of one household): the latest household answer''s HouseholdTotal as sent and income year; the member''s latest Syst_04 answer (shipment, return code; NULL: no shipment answers the member; a requester is also found under the new NISS of a Syst_04 <Requester>), income from its IPCAL items (inami.ipcal_income; 0.00 for "00" without items), birth date from the NISS (NULL when unknown or invalid), whether the under-18 rule can apply, the birth date R3 uses for it (inami.niss_birth_date_for_age: also when the NISS gives only the year and every day of it gives the same answer), and the CadastralIncome of the answer.';

-- R3 per Syst_01 household of a control year: what systematic_members grouped by household
-- gives, in one pass over the four tables read in request-number order (no join, no sort).
CREATE FUNCTION inami.systematic_households(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, household_size int, income_year int, shipment int,
               sent_total numeric, household_total numeric, cadastral_income numeric,
               asked_again boolean)
AS 'MODULE_PATHNAME', 'inami_systematic_households'
LANGUAGE C STABLE PARALLEL SAFE ROWS 100000;
COMMENT ON FUNCTION inami.systematic_households(int, text) IS
'R3 per Syst_01 household with members of a control year (or one household): OA, household size (Syst_01 members), income year, the Syst_04 shipment whose answer counts (the latest; NULL without one), its HouseholdTotal as sent, the household income (inami.household_income over inami.systematic_members of the household; NULL when unknown), the sum of the members'' CadastralIncome (NULL when no answer carries one), and asked_again: the income is unknown only through members whose latest answer is a shipment-1 code the SCA asks again (inami.return_code_asked_again, E 4.3), every other member known. Reads the tables in primary-key order in one pass: what the control run decides from.';

-- E 4.1: has a Syst_04 shipment after the first been loaded for the control year? A file
-- without households counts (the SCA sent no October answer for this OA).
CREATE FUNCTION inami.syst04_later_shipment_loaded(control_year int) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
RETURN EXISTS (SELECT 1 FROM inami.flow_file f WHERE f.kind = 'Syst04' AND f.year = $1 AND f.shipment > 1)
    OR EXISTS (SELECT 1 FROM inami.syst04_household s WHERE s.control_year = $1 AND s.shipment > 1);
COMMENT ON FUNCTION inami.syst04_later_shipment_loaded(int) IS
'E 4.1: whether a Syst_04 shipment after the first (a file, even without households, or its rows) is loaded for the control year: until then, what no answer lists, or an answer the SCA asks again, is not final.';

-- R4: the end of the right each reason gives (E 5.1, 5.3), for control year X.
CREATE FUNCTION inami.control_right_end(reason text, control_year int, event_date date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE reason
    -- E 5.1: prolonged until 31 December X+1; kept rights run as long.
    WHEN 'KEEPSYST' THEN make_date(control_year + 1, 12, 31)
    WHEN 'KEEPADV' THEN make_date(control_year + 1, 12, 31)
    WHEN 'KEEPDSH' THEN make_date(control_year + 1, 12, 31)
    -- E 5.1: ended on 31 December X (income at or over the ceiling, or unknown).
    WHEN 'STOPSYST' THEN make_date(control_year, 12, 31)
    WHEN 'STOPFISC' THEN make_date(control_year, 12, 31)
    -- E 5.3: at the latest the last day of the quarter following that of the change.
    -- (Through timestamp, not timestamptz: the day does not depend on TimeZone, the
    -- function stays IMMUTABLE and the planner inlines it.)
    WHEN 'STOPFAM' THEN (date_trunc('quarter', event_date::timestamp) + interval '6 months - 1 day')::date
    -- The right ends with the death.
    WHEN 'STOPDEATH' THEN event_date
    -- The OA's examination ends the day before the first day at the other OA.
    WHEN 'STOPOA' THEN event_date - 1
END;
COMMENT ON FUNCTION inami.control_right_end(text, int, date) IS
'R4: the last day of the right a reason gives in control year X: KEEPSYST, KEEPADV, KEEPDSH 31 Dec X+1; STOPSYST, STOPFISC 31 Dec X; STOPFAM the last day of the quarter after the change''s; STOPDEATH the day of death; STOPOA the day before the first day at the other OA.';

-- R4: the circular and section behind a reason.
CREATE FUNCTION inami.control_rule(reason text, verdict text, income_reason text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE reason
    WHEN 'KEEPSYST' THEN 'Circ. O.A. 2024/165, 5.1: income under the ceiling, right prolonged until 31 December X+1'
    WHEN 'STOPSYST' THEN CASE WHEN verdict = 'NOK'
        THEN 'Circ. O.A. 2024/165, 5.1: income at or over the ceiling, right ended on 31 December X'
        ELSE 'Circ. O.A. 2024/165, 5.1 and 3.2 (art. 38, par. 3 A.R. 15.01.2014): no fiscal data for a member (under-18 rule applied), right ended on 31 December X' END
    WHEN 'STOPFISC' THEN 'Circ. O.A. 2024/165, 5.3 and 4.4: additional fiscal data of the OA bring the income to the ceiling; ended like the control, 31 December X'
    WHEN 'KEEPADV' THEN 'Circ. O.A. 2024/165, 5.3: right maintained by a social advantage, instead of ' || income_reason || '; maintained like a prolongation, until 31 December X+1'
    WHEN 'KEEPDSH' THEN 'Circ. O.A. 2024/165, 5.1 and 5.3: new DSH between 1 October X and 31 March X+1, right from 1 January X+1 (not a new opening), instead of ' || income_reason || '; until 31 December X+1'
    WHEN 'STOPFAM' THEN 'Circ. O.A. 2024/165, 5.3 (art. 35 A.R. 15.01.2014): composition change, right ended at the latest on the last day of the quarter following the quarter of the change'
    WHEN 'STOPDEATH' THEN 'Circ. O.A. 2024/165, 5.3: end of the right by death, on the day of death (the circular gives no other date)'
    WHEN 'STOPOA' THEN 'Circ. O.A. 2024/165, 5.3: the household moved to another OA; the examination ends the day before its first day there (the circular gives no other date)'
END;
COMMENT ON FUNCTION inami.control_rule(text, text, text) IS
'R4: the circular and section behind a reason (verdict and the income''s own reason complete STOPSYST, KEEPADV and KEEPDSH).';

-- R4: every candidate end of right of the households of a control year, in precedence order.
CREATE FUNCTION inami.systematic_candidates(control_year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, oa text, household_size int, income_year int, shipment int,
               sent_total numeric, household_total numeric, extra_income numeric, ceiling numeric,
               ceiling_source text, verdict text, events bigint[],
               precedence int, reason text, right_end date, trigger_date date, event_id bigint, rule text,
               provisional boolean, cadastral_income numeric, moved boolean)
LANGUAGE sql STABLE BEGIN ATOMIC
    WITH per_household AS (
        SELECT h.request_number, h.oa, h.sent_total, h.household_size, h.income_year, h.shipment,
               h.household_total AS total, coalesce(h.cadastral_income, 0) AS sent_cadastral,
               -- E 4.1, 4.3: until a later shipment is loaded, a household no answer lists yet,
               -- or one unknown only through members the SCA asks again, may still be answered
               -- (a subquery: evaluated once, not per household)
               (h.shipment IS NULL OR h.asked_again) AND NOT (SELECT inami.syst04_later_shipment_loaded($1))
                 AS awaiting_answer
        FROM inami.systematic_households($1, $2) h
    ), ev AS (
        SELECT e.request_number, array_agg(e.event_id ORDER BY e.event_id) AS events,
               sum(e.amount) FILTER (WHERE e.event = 'extra_fiscal_data') AS extra_income,
               -- E 4.4: the OA's assessment of the own home's cadastral income (one per
               -- household): the part counted, and the CadastralIncome sent it was made on
               max(e.amount) FILTER (WHERE e.event = 'cadastral_income') AS cadastral_amount,
               max(e.basis) FILTER (WHERE e.event = 'cadastral_income') AS cadastral_basis,
               bool_or(e.event = 'extra_fiscal_data' AND e.amount IS NULL) AS fisc_without_amount,
               -- E 2.3, 5.2: a move the feedback (due before 1 May X+1) reports; a later one
               -- is no part of this control and competes like any event, by its end
               bool_or(e.event = 'oa_change' AND e.event_date < make_date($1 + 1, 5, 1)) AS moved,
               max(e.event_date) FILTER (WHERE e.event = 'extra_fiscal_data') AS fisc_date,
               -- E 5.3: an advantage maintains the right when it holds by the day the right would
               -- otherwise end (31 December X): one starting later opens a right of its own.
               min(e.event_date) FILTER (WHERE e.event = 'social_advantage'
                                          AND e.event_date <= make_date($1, 12, 31)) AS advantage_date,
               -- E 5.1: a new DSH from 1 October X to 31 March X+1 gives the right from 1 January X+1.
               min(e.event_date) FILTER (WHERE e.event = 'new_dsh'
                                          AND e.event_date BETWEEN make_date($1, 10, 1) AND make_date($1 + 1, 3, 31)) AS dsh_date
        FROM inami.household_event e
        WHERE e.control_year = $1 AND ($2 IS NULL OR e.request_number = $2)
        GROUP BY e.request_number
    ), basis AS (
        SELECT p.*, ev.extra_income, k.cadastral_income, ev.events, ev.fisc_date, ev.advantage_date, ev.dsh_date,
               ev.moved,
               -- The income can still change: an answer still to come (E 4.1, 4.3), or a
               -- cadastral income sent that the OA has not assessed (or assessed on another
               -- amount sent) while the income is under the ceiling (E 4.4: the part counted
               -- is 0 or more, so an income at or over the ceiling stays there).
               p.awaiting_answer
                 OR (p.sent_cadastral <> 0 AND k.cadastral_income IS NULL
                     AND inami.im_verdict(p.total, p.household_size, p.income_year) = 'OK') AS awaiting,
               inami.im_plafond(p.household_size, p.income_year) AS ceiling, c.source AS ceiling_source,
               inami.im_verdict(t.income, p.household_size, p.income_year) AS verdict,
               -- The income decides (E 5.1), unless the OA's own data (E 4.4) end the right.
               CASE WHEN inami.im_verdict(t.income, p.household_size, p.income_year) <> 'OK' THEN 'STOPSYST'
                    WHEN ev.fisc_without_amount
                      OR inami.im_verdict(t.income + ev.extra_income, p.household_size, p.income_year) = 'NOK'
                    THEN 'STOPFISC'
                    ELSE 'KEEPSYST' END AS income_reason
        FROM per_household p
        LEFT JOIN ev ON ev.request_number = p.request_number
        LEFT JOIN inami.im_ceiling c ON c.income_year = p.income_year
        -- The OA's assessment counts when made on the CadastralIncome sent now (E 4.4) ...
        CROSS JOIN LATERAL (SELECT CASE WHEN ev.cadastral_basis = p.sent_cadastral THEN ev.cadastral_amount END
                                   AS cadastral_income) k
        -- ... added to R3's total (the IPCAL items)
        CROSS JOIN LATERAL (SELECT p.total + coalesce(k.cadastral_income, 0) AS income) t
    ), income_candidate AS (
        -- A kept right replaces an end by the income: a social advantage, a new DSH in time.
        SELECT b.*,
               CASE WHEN b.income_reason = 'KEEPSYST' THEN 'KEEPSYST'
                    WHEN b.advantage_date IS NOT NULL THEN 'KEEPADV'
                    WHEN b.dsh_date IS NOT NULL THEN 'KEEPDSH'
                    ELSE b.income_reason END AS reason
        FROM basis b
    ), with_events AS (
        -- Households with events: the income's candidate and one per ending event, ranked.
        -- E 5.3: a household that moved to another OA ends the examination here, whatever
        -- the income says and whenever the income's end falls ("presenting an excess ...
        -- joined another OA without a DSH allowing a re-examination"): the income's
        -- candidate comes after every event then; events rank by the end they give.
        SELECT c.*, row_number() OVER (PARTITION BY c.request_number
                                       ORDER BY c.class = 1 AND c.moved, c.right_end, c.class, c.trigger_date NULLS LAST,
                                                array_position(ARRAY['STOPDEATH', 'STOPOA', 'STOPFAM'], c.reason),
                                                c.event_id)::int AS precedence
        FROM (SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
                     o.extra_income, o.ceiling, o.ceiling_source, o.verdict, o.events, o.income_reason, o.reason,
                     o.moved, o.awaiting, o.cadastral_income, inami.control_right_end(o.reason, $1, NULL) AS right_end,
                     CASE o.reason WHEN 'STOPFISC' THEN o.fisc_date WHEN 'KEEPADV' THEN o.advantage_date
                                   WHEN 'KEEPDSH' THEN o.dsh_date END AS trigger_date,
                     NULL::bigint AS event_id, 1 AS class
              FROM income_candidate o WHERE o.events IS NOT NULL
              UNION ALL
              SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
                     o.extra_income, o.ceiling, o.ceiling_source, o.verdict, o.events, o.income_reason, r.reason,
                     o.moved, o.awaiting, o.cadastral_income, inami.control_right_end(r.reason, $1, e.event_date), e.event_date, e.event_id, 0
              FROM inami.household_event e
              JOIN income_candidate o ON o.request_number = e.request_number
              CROSS JOIN LATERAL (SELECT CASE e.event WHEN 'composition_change' THEN 'STOPFAM'
                                                      WHEN 'death' THEN 'STOPDEATH'
                                                      WHEN 'oa_change' THEN 'STOPOA' END AS reason) r
              WHERE e.control_year = $1 AND ($2 IS NULL OR e.request_number = $2)
                AND e.event IN ('composition_change', 'death', 'oa_change')) c
    )
    -- Households without events have one candidate: no sort for them.
    SELECT o.request_number, o.oa, o.household_size, o.income_year, o.shipment, o.sent_total, o.total,
           o.extra_income, o.ceiling, o.ceiling_source, o.verdict, o.events, 1, o.reason,
           inami.control_right_end(o.reason, $1, NULL), NULL::date, NULL::bigint,
           inami.control_rule(o.reason, o.verdict, o.income_reason), o.awaiting, o.cadastral_income, false
    FROM income_candidate o WHERE o.events IS NULL
    UNION ALL
    SELECT w.request_number, w.oa, w.household_size, w.income_year, w.shipment, w.sent_total, w.total,
           w.extra_income, w.ceiling, w.ceiling_source, w.verdict, w.events, w.precedence, w.reason,
           w.right_end, w.trigger_date, w.event_id, inami.control_rule(w.reason, w.verdict, w.income_reason),
           -- Reported, this candidate waits for the next shipment when the income can still
           -- change it: it is the income's, or ends after 31 December X, where the income's
           -- end would come first if the income ends the right (not after a move: then the
           -- events come first whatever the income).
           -- A household that moved and no answer lists yet waits too: the next shipment
           -- says whether its data came here (then this OA sends its feedback, E 5.2).
           w.awaiting AND (w.event_id IS NULL OR (NOT coalesce(w.moved, false) AND w.right_end > make_date($1, 12, 31))
                           OR (coalesce(w.moved, false) AND w.shipment IS NULL)),
           w.cadastral_income, coalesce(w.moved, false)
    FROM with_events w;
END;
COMMENT ON FUNCTION inami.systematic_candidates(int, text) IS
'R4: every candidate reason and end of right of each Syst_01 household of a control year (or of one household), with what it was made from and the rule behind it; precedence 1 is the one reported: the earliest end of right, an event before the income on the same day (E 5.3, example 2), then the earlier event; a household that moved to another OA before the feedback (an oa_change dated before 1 May X+1) has its events before the income whatever their dates (E 2.3, 5.3, end of the examination; moved says so), a later move competes like any event, by its end; when both a social advantage and a new DSH keep the right, KEEPADV (the income''s candidate, like STOPFISC and KEEPDSH). provisional: reported, the candidate could still change, the income deciding and not final yet: before any later shipment is loaded, a household no answer lists, or unknown only through members answered in shipment 1 with a code of inami.return_code_asked_again (E 4.1, 4.3); or, the income under the ceiling, a cadastral income sent that no cadastral_income event assessed (on that amount sent, E 4.4). cadastral_income: the part the OA counts (its assessment made on the CadastralIncome sent now), added to household_total for the verdict.';

-- R5 per member of the Pro_01 households of a year: the latest Pro_03 answer of each person.
CREATE FUNCTION inami.proactive_members(year int, request_number text DEFAULT NULL)
RETURNS TABLE (request_number text, niss text, shipment int, income_year int, return_code text,
               income numeric, birth_date date, under18 boolean, rule_birth_date date, birth_dates daterange)
LANGUAGE sql STABLE PARALLEL SAFE BEGIN ATOMIC
    WITH members AS (
        SELECT m.request_number, m.niss, a.shipment, coalesce(a.income_year, $1 - 2) AS income_year, a.return_code,
               a.ipcal_code, a.ipcal_amount
        FROM inami.pro01_member m
        LEFT JOIN inami.pro03_answer a ON a.year = m.year AND a.niss = m.niss
        WHERE m.year = $1 AND ($2 IS NULL OR m.request_number = $2)
    )
    SELECT m.request_number, m.niss, m.shipment, m.income_year, m.return_code,
           -- as in Syst_04 (E 4.3): "00" without IPCAL items is 0 EUR
           CASE WHEN m.return_code = '00' THEN inami.ipcal_items_income(m.ipcal_code, m.ipcal_amount, m.income_year + 1) END,
           b.birth_date, b.rule_birth_date > make_date(m.income_year + 1 - 18, 1, 1), b.rule_birth_date,
           CASE WHEN v.valid THEN inami.niss_birth_range(m.niss) END
    FROM members m
    CROSS JOIN LATERAL (SELECT inami.niss_is_valid(m.niss) AS valid) v
    CROSS JOIN LATERAL (SELECT CASE WHEN v.valid THEN inami.niss_birth_date(m.niss) END AS birth_date,
                               CASE WHEN v.valid THEN inami.niss_birth_date_for_age(m.niss, 18, make_date(m.income_year + 1, 1, 1)) END
                               AS rule_birth_date) b;
END;
COMMENT ON FUNCTION inami.proactive_members(int, text) IS
'R5 per member of the Pro_01 households of a year (or of one household): the latest Pro_03 answer of the person (F 2.2: one usable answer per NISS), return code (NULL: no answer), income from the IPCAL items (0.00 for "00" without items), birth date from the NISS, whether the under-18 rule can apply and the birth date it uses (inami.niss_birth_date_for_age), the days the NISS allows as birth date (inami.niss_birth_range; NULL for an invalid NISS).';

-- A run's lock: two runs of one kind for one year never write at once (the second waits).
CREATE FUNCTION inami.control_lock_key(kind text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN hashtext('inami.control_run:' || kind);
COMMENT ON FUNCTION inami.control_lock_key(text) IS
'First key of the transaction advisory lock (kind, year) a control run holds while it writes: pg_advisory_xact_lock(inami.control_lock_key(kind), year).';

CREATE FUNCTION inami.control_run_raise(sqlstate text, message text, detail text, hint text, context text,
                                        schema_name text, table_name text, column_name text,
                                        datatype_name text, constraint_name text) RETURNS void
AS 'MODULE_PATHNAME', 'inami_control_run_raise' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION inami.control_run_raise(text, text, text, text, text, text, text, text, text, text) IS
'Internal to the control runs: raises the error given, with only the fields that are neither NULL nor empty (as GET STACKED DIAGNOSTICS returns them), which RAISE cannot do.';

-- Re-raises an error caught by a run, after its failure was logged and committed.
CREATE PROCEDURE inami.control_run_fail(run bigint, sqlstate text, message text, detail text, hint text,
                                        context text, names text[])
LANGUAGE plpgsql AS $$
BEGIN
    -- A procedure takes no SET clause: pinned per transaction, as in the runs.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    UPDATE inami.control_run r
    SET status = 'failed', ended_at = clock_timestamp(), error_sqlstate = $2,
        error_message = pg_catalog.concat_ws(E'\n', $3, 'DETAIL: ' || nullif($4, ''), 'HINT: ' || nullif($5, ''))
    WHERE r.run_id = $1;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    PERFORM inami.control_run_raise($2, $3, $4, $5, $6, $7[1], $7[2], $7[3], $7[4], $7[5]);
END;
$$;
COMMENT ON PROCEDURE inami.control_run_fail(bigint, text, text, text, text, text, text[]) IS
'Internal to the control runs: marks run failed with the error, commits the log, and raises the error again with its context and the names it carried (schema, table, column, data type, constraint, in that order in names), so that a caller or pg_cron sees the failure the run met.';

CREATE FUNCTION inami.control_run_start(kind text, year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    run bigint;
BEGIN
    IF year IS NULL THEN
        RAISE EXCEPTION 'year must be between 1990 and 2200'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'The year given is NULL.',
                  HINT = 'Give the control year (systematic control) or the year of the proactive flow, e.g. 2024.';
    END IF;
    PERFORM inami.check_year(year, 'year');
    INSERT INTO inami.control_run (kind, year) VALUES (kind, year) RETURNING run_id INTO run;
    RETURN run;
END;
$$;
COMMENT ON FUNCTION inami.control_run_start(text, int) IS
'Internal to the control runs: checks the year and writes the run''s log row (status running).';

-- R4: decide every Syst_01 household of a control year and store the Syst_05 feedback.
CREATE PROCEDURE inami.run_systematic_control(control_year int)
LANGUAGE plpgsql AS $$
DECLARE
    y int := $1;
    run bigint := inami.control_run_start('systematic_control', $1);
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    -- The log row is committed before the work: a failed run stays in the log.
    COMMIT;
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(inami.control_lock_key('systematic_control'), y);
        -- One large set-based query whose row estimates through the SQL functions are far too
        -- high: JIT would compile for seconds what runs in less. For this transaction only.
        PERFORM pg_catalog.set_config('jit', 'off', true);
        -- A procedure that commits takes no SET clause: the built-ins and operators of the
        -- work (and of the functions it calls) are pg_catalog's for this transaction.
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        -- Only what changed is written: a decision the run reaches again is left as it is
        -- (with the run that made it), so a rerun costs the computation, not a rewrite.
        -- Only the columns used: the rule's text of a million candidates is not kept.
        WITH c AS MATERIALIZED (
            SELECT c.request_number, c.oa, c.reason, c.right_end, c.household_size, c.income_year, c.shipment,
                   c.sent_total, c.household_total, c.extra_income, c.ceiling, c.ceiling_source, c.verdict,
                   c.events, c.precedence, c.event_id, c.provisional, c.cadastral_income, c.moved
            FROM inami.systematic_candidates(y) c),
        n AS (
            SELECT c.request_number, c.oa, c.reason, c.right_end, c.household_size, c.income_year, c.shipment,
                   c.sent_total, c.household_total, c.extra_income, c.ceiling, c.ceiling_source, c.verdict, c.events,
                   coalesce(x.candidates, pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                       'reason', c.reason, 'right_end', c.right_end, 'from', 'income'))) AS candidates,
                   -- E 2.3, 5.2: the OA that receives the fiscal data sends the feedback; those
                   -- of a household that moved before any answer here went to its new OA
                   NOT (c.moved AND c.shipment IS NULL) AS sends_feedback, c.provisional, c.cadastral_income
            FROM c
            LEFT JOIN (SELECT c2.request_number,
                              pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('reason', c2.reason, 'right_end', c2.right_end,
                                                           'from', coalesce('event ' || c2.event_id, 'income'))
                                        ORDER BY c2.precedence) AS candidates
                       FROM c c2 WHERE c2.events IS NOT NULL GROUP BY c2.request_number) x
              ON x.request_number = c.request_number
            WHERE c.precedence = 1)
        MERGE INTO inami.control_decision d
        USING n ON d.control_year = y AND d.request_number = n.request_number
        WHEN MATCHED AND (d.oa, d.reason, d.right_end, d.household_size, d.income_year, d.shipment, d.sent_total,
                          d.household_total, d.extra_income, d.ceiling, d.ceiling_source, d.verdict, d.events,
                          d.candidates, d.sends_feedback, d.provisional, d.cadastral_income)
                         IS DISTINCT FROM
                         (n.oa, n.reason, n.right_end, n.household_size, n.income_year, n.shipment, n.sent_total,
                          n.household_total, n.extra_income, n.ceiling, n.ceiling_source, n.verdict, n.events,
                          n.candidates, n.sends_feedback, n.provisional, n.cadastral_income) THEN
            UPDATE SET oa = n.oa, reason = n.reason, right_end = n.right_end, run_id = run,
                       household_size = n.household_size, income_year = n.income_year, shipment = n.shipment,
                       sent_total = n.sent_total, household_total = n.household_total, extra_income = n.extra_income,
                       ceiling = n.ceiling, ceiling_source = n.ceiling_source, verdict = n.verdict, events = n.events,
                       candidates = n.candidates, sends_feedback = n.sends_feedback, provisional = n.provisional,
                       cadastral_income = n.cadastral_income
        WHEN NOT MATCHED THEN
            INSERT (control_year, request_number, oa, reason, right_end, run_id, household_size, income_year, shipment,
                    sent_total, household_total, extra_income, ceiling, ceiling_source, verdict, events, candidates,
                    sends_feedback, provisional, cadastral_income)
            VALUES (y, n.request_number, n.oa, n.reason, n.right_end, run, n.household_size, n.income_year, n.shipment,
                    n.sent_total, n.household_total, n.extra_income, n.ceiling, n.ceiling_source, n.verdict, n.events,
                    n.candidates, n.sends_feedback, n.provisional, n.cadastral_income);
        -- A household left without members has no decision any more (the others all have one,
        -- and a household removed from Syst_01 takes its decision with it: ON DELETE CASCADE).
        -- A decision this run wrote has members: only the others are looked at.
        DELETE FROM inami.control_decision d
        WHERE d.control_year = y AND d.run_id <> run
          AND NOT EXISTS (SELECT 1 FROM inami.syst01_member m
                          WHERE m.control_year = y AND m.request_number = d.request_number);
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(),
            counts = (SELECT coalesce(pg_catalog.jsonb_object_agg(s.reason, s.n ORDER BY s.reason), '{}')
                      FROM (SELECT d.reason, count(*) AS n FROM inami.control_decision d
                            WHERE d.control_year = y GROUP BY d.reason) s)
                     -- decisions waiting for the second shipment, when there are any
                     || (SELECT CASE WHEN count(*) > 0 THEN pg_catalog.jsonb_build_object('provisional', count(*))
                                     ELSE '{}' END
                         FROM inami.control_decision d WHERE d.control_year = y AND d.provisional)
        WHERE r.run_id = run;
    -- OTHERS leaves out query_canceled: a cancelled run (pg_cancel_backend, statement_timeout,
    -- a pg_cron job stopped) must be logged as failed too, not left "running".
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT, sch = SCHEMA_NAME, tbl = TABLE_NAME,
            col = COLUMN_NAME, typ = PG_DATATYPE_NAME, con = CONSTRAINT_NAME;
    END;
    -- The failed block took its search_path with it: pinned again before the log is written.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF st IS NOT NULL THEN
        CALL inami.control_run_fail(run, st, msg, det, hnt, ctx, ARRAY[sch, tbl, col, typ, con]);
    END IF;
END;
$$;
COMMENT ON PROCEDURE inami.run_systematic_control(int) IS
'R4: decides every Syst_01 household of control_year (latest Syst_04 answer, R3 income, ceiling, household events, precedence of E 5.3) and brings the year''s rows of inami.control_decision up to date (writing only the decisions that changed). Logs into inami.control_run (committed before the work, so call it outside a transaction block, as pg_cron does); a failed run changes no decision. A second run of the same year waits for the first.';

-- R5: the Pro_04 code of every Pro_01 household of a year.
CREATE PROCEDURE inami.run_proactive_flow(year int)
LANGUAGE plpgsql AS $$
DECLARE
    y int := $1;
    run bigint := inami.control_run_start('proactive_flow', $1);
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    COMMIT;
    BEGIN
        PERFORM pg_catalog.pg_advisory_xact_lock(inami.control_lock_key('proactive_flow'), y);
        PERFORM pg_catalog.set_config('jit', 'off', true);
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);  -- as above
        -- Outcomes being written are waited for and new ones wait: writing an outcome locks
        -- its household's decision row, and the run locks them all (no deadlock either way).
        LOCK TABLE inami.proactive_outcome IN SHARE MODE;
        -- Updated in place (every Pro_01 household gets its row again): the outcomes the OA
        -- recorded for its OK households (inami.proactive_outcome) point to these rows.
        INSERT INTO inami.proactive_decision AS d
            (year, request_number, code, run_id, household_size, income_year, household_total, ceiling, eldest_niss)
        SELECT y, p.request_number, inami.im_verdict(p.total, p.household_size, p.income_year), run,
               p.household_size, p.income_year, p.total, inami.im_plafond(p.household_size, p.income_year),
               -- the one born first for sure: its last possible day is no later than the first
               -- possible day of every other member (a NISS with month or day 00 allows a
               -- month or a year; on that one day, the one whose NISS dates it first, then the
               -- smaller NISS); none when that cannot be told, or a NISS is invalid
               CASE WHEN p.valid = p.household_size
                     AND (p.household_size = 1
                          OR CASE WHEN p.eldest_first = p.firsts[1] THEN p.firsts[2] ELSE p.firsts[1] END >= p.eldest_last)
                    THEN p.eldest END
        FROM (SELECT m.request_number, count(*)::int AS household_size, min(m.income_year) AS income_year,
                     inami.household_income(m.return_code, m.income, m.rule_birth_date, m.income_year) AS total,
                     (pg_catalog.array_agg(m.niss ORDER BY pg_catalog.upper(m.birth_dates), m.niss))[1] AS eldest,
                     (pg_catalog.array_agg(pg_catalog.lower(m.birth_dates) ORDER BY pg_catalog.upper(m.birth_dates), m.niss))[1]
                       AS eldest_first,
                     pg_catalog.min(pg_catalog.upper(m.birth_dates)) - 1 AS eldest_last,
                     pg_catalog.count(m.birth_dates)::int AS valid,
                     (pg_catalog.array_agg(pg_catalog.lower(m.birth_dates) ORDER BY pg_catalog.lower(m.birth_dates)))[1:2] AS firsts
              FROM inami.proactive_members(y) m
              GROUP BY m.request_number) p
        ON CONFLICT ON CONSTRAINT proactive_decision_pkey DO UPDATE
        SET code = excluded.code, run_id = excluded.run_id, household_size = excluded.household_size,
            income_year = excluded.income_year, household_total = excluded.household_total,
            ceiling = excluded.ceiling, eldest_niss = excluded.eldest_niss;
        DELETE FROM inami.proactive_decision d WHERE d.year = y AND d.run_id <> run;
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(),
            counts = (SELECT coalesce(pg_catalog.jsonb_object_agg(s.code, s.n ORDER BY s.code), '{}')
                      FROM (SELECT d.code, count(*) AS n FROM inami.proactive_decision d
                            WHERE d.year = y GROUP BY d.code) s)
        WHERE r.run_id = run;
    -- OTHERS leaves out query_canceled: a cancelled run (pg_cancel_backend, statement_timeout,
    -- a pg_cron job stopped) must be logged as failed too, not left "running".
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT, sch = SCHEMA_NAME, tbl = TABLE_NAME,
            col = COLUMN_NAME, typ = PG_DATATYPE_NAME, con = CONSTRAINT_NAME;
    END;
    -- The failed block took its search_path with it: pinned again before the log is written.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF st IS NOT NULL THEN
        CALL inami.control_run_fail(run, st, msg, det, hnt, ctx, ARRAY[sch, tbl, col, typ, con]);
    END IF;
END;
$$;
COMMENT ON PROCEDURE inami.run_proactive_flow(int) IS
'R5: computes the Pro_04 code (OK, NOK, ONHOLD) of every Pro_01 household of year from the latest Pro_03 answers of its members (R3, ceiling for the number of members) and replaces the year''s rows of inami.proactive_decision. Logged like run_systematic_control; call it outside a transaction block.';

-- R4: why a household got its decision, step by step, with the rule behind each step.
CREATE FUNCTION inami.explain_decision(request_number text, control_year int)
RETURNS TABLE (step int, what text, value text, rule text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    rn text := $1;
    y int := $2;
    h inami.syst01_household;
    d inami.control_decision;
    c record;
    m record;
    e record;
    n int := 0;
    ceil_row inami.im_ceiling;
    live boolean;
    sent_cadastral numeric;
    cad_amount numeric;
    cad_basis numeric;
    asked_again text;
    asked_codes text[] := '{}';
    later_loaded boolean;
BEGIN
    PERFORM inami.check_year(y, 'control year');
    SELECT * INTO h FROM inami.syst01_household s WHERE s.control_year = y AND s.request_number = rn;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown request number "%" for control year %', rn, y
            USING ERRCODE = 'no_data_found',
                  DETAIL = format('inami.syst01_household has no household %s for control year %s.', rn, y),
                  HINT = 'Check the request number (OA + year + requester NISS) and the control year; the Syst_01 file must be loaded.';
    END IF;
    SELECT * INTO d FROM inami.control_decision x WHERE x.control_year = y AND x.request_number = rn;
    live := NOT FOUND;

    step := 1; what := 'household';
    value := format('%s, OA %s, requester %s, control year %s (Syst_01 file %s)', rn, h.oa, h.requester_niss, y,
                    (SELECT f.source_name FROM inami.flow_file f WHERE f.file_id = h.file_id));
    rule := 'Circ. O.A. 2024/165, 3.2-3.3: household under systematic control, request number OA + year + requester NISS';
    RETURN NEXT;

    IF live THEN
        step := 2; what := 'decision';
        value := 'no run has decided this household yet: what follows is what a run would decide from the data now';
        rule := 'CALL inami.run_systematic_control(control_year) stores the decision';
        RETURN NEXT;
        SELECT c2.household_size, c2.income_year, c2.shipment, c2.sent_total, c2.household_total, c2.extra_income,
               c2.ceiling, c2.ceiling_source, c2.verdict, c2.events, c2.reason, c2.right_end, c2.provisional,
               c2.cadastral_income
        INTO d.household_size, d.income_year, d.shipment, d.sent_total, d.household_total, d.extra_income,
             d.ceiling, d.ceiling_source, d.verdict, d.events, d.reason, d.right_end, d.provisional,
             d.cadastral_income
        FROM inami.systematic_candidates(y, rn) c2 WHERE c2.precedence = 1;
    ELSE
        step := 2; what := 'decision';
        value := format('made by run %s on %s', d.run_id,
                        (SELECT to_char(r.started_at, 'YYYY-MM-DD HH24:MI:SS TZ') FROM inami.control_run r WHERE r.run_id = d.run_id));
        rule := 'inami.control_run: the run log';
        RETURN NEXT;
    END IF;

    step := 3; what := 'Syst_04 answer';
    value := CASE WHEN d.shipment IS NULL THEN 'no shipment answered the household: no fiscal data'
                  ELSE format('latest shipment %s (shipments received: %s), each member''s latest answer counts; income year %s, tax year %s',
                              d.shipment,
                              (SELECT string_agg(a.shipment::text, ', ' ORDER BY a.shipment) FROM inami.syst04_household a
                               WHERE a.control_year = y AND a.request_number = rn),
                              d.income_year, d.income_year + 1) END;
    rule := 'Circ. O.A. 2024/165, 4.1 and 4.3: the second shipment (October) answers what the first left open; each member''s latest answer counts, under the newest NISS (2.4); income year = control year - 2 (R3)';
    RETURN NEXT;

    FOR m IN SELECT * FROM inami.systematic_members(y, rn) x ORDER BY x.birth_date NULLS LAST, x.niss LOOP
        n := n + 1;
        step := 3 + n; what := 'member ' || m.niss;
        value := format('born %s, return code %s, income %s%s',
                        coalesce(to_char(m.birth_date, 'YYYY-MM-DD'), 'unknown'),
                        coalesce(m.return_code, 'none (not in the answer)'),
                        coalesce(m.income::text, 'unknown'),
                        CASE WHEN coalesce(m.return_code, '') <> '00' AND m.under18
                             THEN format('; under 18 on 1 January %s: counted as known with 0.00', m.income_year + 1)
                             WHEN coalesce(m.return_code, '') <> '00'
                             THEN '; income unknown: the household total is unknown' ELSE '' END);
        rule := CASE WHEN coalesce(m.return_code, '') <> '00' AND m.under18
                     THEN 'Circ. O.A. 2024/165, 4.3 and footnote 7: a member under 18 on 1 January of the tax year with unknown income counts 0.00 EUR'
                     WHEN coalesce(m.return_code, '') <> '00'
                     THEN 'Circ. O.A. 2024/165, 4.3 and 5.1 (art. 38, par. 3 A.R. 15.01.2014): return code other than 00 = income not known'
                     ELSE 'Circ. O.A. 2024/165, 4.2-4.4: return code 00, income = sum of the IPCAL items x their factor (inami.ipcal_rule)' END;
        RETURN NEXT;
        -- for the steps below: the CadastralIncome sent, and the codes asked again that
        -- leave a member unknown (not under 18)
        IF m.cadastral_income IS NOT NULL THEN
            sent_cadastral := coalesce(sent_cadastral, 0) + m.cadastral_income;
        END IF;
        IF m.shipment = 1 AND NOT coalesce(m.under18, false)
           AND m.return_code IN (SELECT r.return_code FROM inami.return_code_asked_again r) THEN
            asked_codes := asked_codes || m.return_code;
        END IF;
    END LOOP;
    n := 3 + n;

    n := n + 1; step := n; what := 'household size';
    value := d.household_size::text || ' (members listed in Syst_01, the requester once)';
    rule := 'Circ. O.A. 2024/165, 3.2: requester, spouse or legal cohabitant, and their dependents';
    RETURN NEXT;

    n := n + 1; step := n; what := 'household income';
    value := CASE WHEN d.household_total IS NULL THEN 'unknown (a member''s income is unknown, or no answer)'
                  ELSE d.household_total::text END
             || CASE WHEN d.sent_total IS NOT NULL THEN format(' (HouseholdTotal sent by the SCA: %s)', d.sent_total) ELSE '' END;
    rule := 'Circ. O.A. 2024/165, 4.4: total of the members, only when every member is known; a negative total becomes 0.00';
    RETURN NEXT;

    SELECT x.amount, x.basis INTO cad_amount, cad_basis FROM inami.household_event x
    WHERE x.control_year = y AND x.request_number = rn AND x.event = 'cadastral_income';
    IF sent_cadastral IS NOT NULL OR cad_basis IS NOT NULL OR (NOT live AND d.cadastral_income IS NOT NULL) THEN
        n := n + 1; step := n; what := 'cadastral income';
        value := format('sent: %s; counted by the OA: %s', coalesce(sent_cadastral::text, 'none'),
                        CASE WHEN cad_basis IS NULL THEN 'not assessed yet (no cadastral_income event)'
                             WHEN cad_basis <> coalesce(sent_cadastral, 0)
                             THEN format('none: the assessment (%s) was made on %s sent, not on what is sent now', cad_amount, cad_basis)
                             ELSE cad_amount::text END)
                 || CASE WHEN d.cadastral_income IS NOT NULL AND d.household_total IS NOT NULL
                         THEN format('; income for the verdict %s', d.household_total + d.cadastral_income) ELSE '' END
                 -- an assessment made, changed or made stale (another amount sent) since the run
                 || CASE WHEN NOT live AND d.cadastral_income IS DISTINCT FROM
                              (CASE WHEN cad_basis = coalesce(sent_cadastral, 0) THEN cad_amount END)
                         THEN format('; the decision counted %s: the assessment or the amount sent changed since, CALL inami.run_systematic_control(%s) decides again',
                                     coalesce(d.cadastral_income::text, 'none'), y) ELSE '' END;
        rule := 'Circ. O.A. 2024/165, 4.2 and 4.4: the own home''s cadastral income comes apart; the OA deducts the exempt amounts and counts the rest (a cadastral_income event)';
        RETURN NEXT;
    END IF;

    SELECT * INTO ceil_row FROM inami.im_ceiling i WHERE i.income_year = d.income_year;
    n := n + 1; step := n; what := 'ceiling';
    value := format('%s = %s + %s x (%s - 1), income year %s', d.ceiling, ceil_row.base, ceil_row.per_member,
                    d.household_size, d.income_year);
    rule := coalesce(d.ceiling_source, ceil_row.source) || ' (inami.im_ceiling row of income year ' || d.income_year || ')';
    RETURN NEXT;

    n := n + 1; step := n; what := 'verdict';
    value := d.verdict || CASE d.verdict WHEN 'OK' THEN ': income under the ceiling'
                                         WHEN 'NOK' THEN ': income at or over the ceiling'
                                         ELSE ': income unknown' END;
    rule := 'R3 (inami.im_verdict): total < ceiling -> OK; total >= ceiling -> NOK; unknown -> ONHOLD';
    RETURN NEXT;

    FOR e IN SELECT * FROM inami.household_event x WHERE x.control_year = y AND x.request_number = rn
             ORDER BY x.event_date, x.event_id LOOP
        n := n + 1; step := n; what := 'event ' || e.event_id;
        value := format('%s on %s%s%s', e.event, to_char(e.event_date, 'YYYY-MM-DD'),
                        CASE WHEN e.amount IS NOT NULL THEN ', amount ' || e.amount ELSE '' END,
                        CASE WHEN e.detail IS NOT NULL THEN ': ' || e.detail ELSE '' END)
                 || CASE WHEN e.event_id = ANY (coalesce(d.events, '{}')) OR live THEN '' ELSE ' (recorded after the decision)' END;
        rule := CASE e.event
            WHEN 'composition_change' THEN 'Circ. O.A. 2024/165, 5.3: STOPFAM, end at the latest on the last day of the quarter following the change'
            WHEN 'child_under16_arrival' THEN 'Circ. O.A. 2024/165, 5.3 (art. 35 A.R. 15.01.2014) and 2024/245 (D): arrival of a dependent child under 16 first registered, or with temporary protection: not a composition change that ends the right; the child gets the right too'
            WHEN 'death' THEN 'Circ. O.A. 2024/165, 5.3: STOPDEATH'
            WHEN 'oa_change' THEN 'Circ. O.A. 2024/165, 5.3: STOPOA, end of the examination'
            WHEN 'extra_fiscal_data' THEN 'Circ. O.A. 2024/165, 4.4 and 5.3: the OA adds what it knows (foreign income, alimony...): STOPFISC when the right ends on it'
            WHEN 'social_advantage' THEN CASE WHEN e.event_date <= make_date(y, 12, 31)
                                              THEN 'Circ. O.A. 2024/165, 5.3: KEEPADV, right maintained by a social advantage'
                                              ELSE 'Circ. O.A. 2024/165, 5.3: an advantage starting after 31 December X does not maintain the right for this control (it opens a right of its own)' END
            WHEN 'new_dsh' THEN CASE WHEN e.event_date BETWEEN make_date(y, 10, 1) AND make_date(y + 1, 3, 31)
                                     THEN 'Circ. O.A. 2024/165, 5.1: new DSH from 1 October X to 31 March X+1: KEEPDSH'
                                     ELSE 'Circ. O.A. 2024/165, 5.1: a new DSH outside 1 October X - 31 March X+1 does not keep the right for this control' END
            WHEN 'cadastral_income' THEN 'Circ. O.A. 2024/165, 4.4: the part of the own home''s cadastral income the OA counts after deducting the exempt amounts, added to the income'
        END;
        RETURN NEXT;
    END LOOP;

    FOR c IN SELECT * FROM inami.systematic_candidates(y, rn) x ORDER BY x.precedence LOOP
        n := n + 1; step := n;
        what := CASE WHEN c.precedence = 1 THEN 'candidate (chosen)' ELSE 'candidate' END;
        value := format('%s, right ends %s%s', c.reason, to_char(c.right_end, 'YYYY-MM-DD'),
                        CASE WHEN c.event_id IS NOT NULL THEN format(' (event %s of %s)', c.event_id, to_char(c.trigger_date, 'YYYY-MM-DD'))
                             ELSE ' (the income)' END);
        rule := c.rule;
        RETURN NEXT;
    END LOOP;

    n := n + 1; step := n; what := 'reported';
    value := format('%s, right ends %s', d.reason, to_char(d.right_end, 'YYYY-MM-DD'));
    rule := 'Circ. O.A. 2024/165, 5.3: the OA reports the reason that ended the right first (examples 1-3); on the same day an event comes before the income (example 2)';
    RETURN NEXT;

    -- the codes asked again, when the household's income is unknown only through them
    IF (SELECT hh.asked_again FROM inami.systematic_households(y, rn) hh) THEN
        asked_again := (SELECT string_agg(DISTINCT c, ', ' ORDER BY c) FROM unnest(asked_codes) AS c);
    END IF;
    later_loaded := inami.syst04_later_shipment_loaded(y);
    IF d.provisional AND NOT live AND later_loaded THEN
        n := n + 1; step := n; what := 'provisional';
        value := format('a later Syst_04 shipment has been loaded since: CALL inami.run_systematic_control(%s) decides the household again', y);
        rule := 'Circ. O.A. 2024/165, 4.1 and 4.3: the second shipment answers what the first left open';
        RETURN NEXT;
    END IF;
    IF d.provisional AND d.shipment IS NULL AND NOT later_loaded THEN
        n := n + 1; step := n; what := 'provisional';
        value := 'no shipment has answered the household yet: the second shipment (October) answers what the first left open, and inami.syst05_document does not write this decision before a later shipment is loaded';
        rule := 'Circ. O.A. 2024/165, 4.1: the SCA sends its answers in two shipments, the second for the households it had no answer for the first time';
        RETURN NEXT;
    END IF;
    IF d.provisional AND asked_again IS NOT NULL AND NOT later_loaded THEN
        n := n + 1; step := n; what := 'provisional';
        value := format('a member answered in shipment 1 with %s, which the SCA asks again: the second shipment may change this decision, and inami.syst05_document does not write it before then',
                        asked_again);
        rule := 'Circ. O.A. 2024/165, 4.3 and footnote 11: income available but not yet processed (inami.return_code_asked_again) is asked again in September; only if the answer is still not 00 is the income unknown';
        RETURN NEXT;
    END IF;
    IF d.provisional AND d.cadastral_income IS NULL AND sent_cadastral <> 0
       AND inami.im_verdict(d.household_total, d.household_size, d.income_year) = 'OK' THEN
        n := n + 1; step := n; what := 'provisional';
        value := format('the Syst_04 sent a cadastral income of %s that the OA has not assessed (on that amount): inami.syst05_document does not write this decision before a cadastral_income event gives the part counted',
                        sent_cadastral);
        rule := 'Circ. O.A. 2024/165, 4.4: the OA deducts the exempt amounts from the cadastral income and counts the rest';
        RETURN NEXT;
    END IF;
END;
$$;
COMMENT ON FUNCTION inami.explain_decision(text, int) IS
'R4: why a household got its Syst_05 decision: the household, the Syst_04 answer, every member with return code and income (and the under-18 rule), size, total, ceiling with its source row, verdict, events, every candidate end of right and the one reported, each with the circular and section behind it.';

-- R7 (E 6, F 3): keep everything about year X until the end of X+7 (its reimbursements of
-- X+1 until the end of (X+1)+6), then remove it.
CREATE PROCEDURE inami.purge_expired(as_of date DEFAULT current_date)
LANGUAGE plpgsql AS $$
DECLARE
    last_year int;
    run bigint;
    removed jsonb := '{}';
    ended jsonb;
    k bigint;
    st text; msg text; det text; hnt text; ctx text; sch text; tbl text; col text; typ text; con text;
BEGIN
    -- The built-ins and operators are pg_catalog's, whatever the caller's search_path: a
    -- procedure that commits takes no SET clause, so it is pinned in each transaction.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF as_of IS NULL OR as_of NOT BETWEEN '1990-01-01' AND '2300-12-31' THEN
        RAISE EXCEPTION 'as_of must be a date between 1990 and 2300'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('The date given is %s.', coalesce(as_of::text, 'NULL')),
                  HINT = 'Give the day of the purge, e.g. current_date.';
    END IF;
    -- E 6, F 3: what the reimbursements of a year Y rest on is kept until 31 December Y+6.
    -- A control year X's data rest the reimbursements of X+1 too (KEEP* rights run until
    -- 31 December X+1; the proactive flow's phase 4 runs until a year after its second
    -- shipment), so year X is kept until 31 December X+7: on as_of, every year up to
    -- year(as_of) - 8 expired. The households of X whose right ended in X go a year
    -- earlier (below).
    last_year := extract(year FROM as_of)::int - 8;
    INSERT INTO inami.control_run (kind, year) VALUES ('purge', NULL) RETURNING run_id INTO run;
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    BEGIN
        DELETE FROM inami.proactive_outcome t WHERE t.year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('proactive_outcome', k);
        DELETE FROM inami.proactive_decision t WHERE t.year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('proactive_decision', k);
        DELETE FROM inami.control_decision t WHERE t.control_year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('control_decision', k);
        DELETE FROM inami.household_event t WHERE t.control_year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('household_event', k);
        -- The loaded flows go with their files (ON DELETE CASCADE from inami.flow_file).
        removed := removed || pg_catalog.jsonb_build_object(
            'syst01_household', (SELECT count(*) FROM inami.syst01_household t WHERE t.control_year <= last_year),
            'syst04_household', (SELECT count(*) FROM inami.syst04_household t WHERE t.control_year <= last_year),
            'pro01_household', (SELECT count(*) FROM inami.pro01_household t WHERE t.year <= last_year),
            'pro03_person', (SELECT count(*) FROM inami.pro03_person t WHERE t.year <= last_year));
        DELETE FROM inami.flow_file t WHERE t.year <= last_year;
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('flow_file', k);
        -- The run log of those years: counts per reason are about them too.
        DELETE FROM inami.control_run t WHERE t.year <= last_year AND t.kind <> 'purge';
        GET DIAGNOSTICS k = ROW_COUNT; removed := removed || pg_catalog.jsonb_build_object('control_run', k);
        -- The next year, X = year(as_of) - 7, is past its X+6: what rests only on the
        -- reimbursements of X goes now, since the permission limits keeping to six years
        -- (E 6): the Syst_01 households whose right ended in X, with their Syst_04 answers,
        -- events and decision. A household stays a year more, with the files, when its
        -- right runs into X+1 (its decision, or the Syst_05 received for it, says so) or
        -- when it was decided after X (what was paid in X+1 until then may be recovered).
        -- (decided: the day the run started, in Belgium, whatever the server's TimeZone)
        WITH kept AS (
            SELECT d.request_number FROM inami.control_decision d
            JOIN inami.control_run r ON r.run_id = d.run_id
            WHERE d.control_year = last_year + 1
              AND (d.right_end > pg_catalog.make_date(last_year + 1, 12, 31)
                   OR (r.started_at AT TIME ZONE 'Europe/Brussels')::date >= pg_catalog.make_date(last_year + 2, 1, 1))
            UNION
            SELECT f.request_number FROM inami.syst05_feedback_received f
            WHERE f.control_year = last_year + 1 AND f.right_end > pg_catalog.make_date(last_year + 1, 12, 31)
        ), answers AS (
            DELETE FROM inami.syst04_household s
            WHERE s.control_year = last_year + 1
              AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = s.request_number)
            RETURNING 1
        ), households AS (
            -- their members, events and decisions go with them (ON DELETE CASCADE)
            DELETE FROM inami.syst01_household h
            WHERE h.control_year = last_year + 1
              AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = h.request_number)
            RETURNING 1
        )
        SELECT pg_catalog.jsonb_build_object(
                   'syst04_household_ended', (SELECT count(*) FROM answers),
                   'syst01_household_ended', (SELECT count(*) FROM households),
                   'control_decision_ended', (SELECT count(*) FROM inami.control_decision d
                                              WHERE d.control_year = last_year + 1
                                                AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = d.request_number)),
                   'household_event_ended', (SELECT count(*) FROM inami.household_event e
                                             WHERE e.control_year = last_year + 1
                                               AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = e.request_number)),
                   'syst05_feedback_received_ended', (SELECT count(*) FROM inami.syst05_feedback_received f
                                                      WHERE f.control_year = last_year + 1
                                                        AND NOT EXISTS (SELECT 1 FROM kept WHERE kept.request_number = f.request_number)))
        INTO ended;
        removed := removed || ended;
        UPDATE inami.control_run r
        SET status = 'succeeded', ended_at = clock_timestamp(),
            counts = pg_catalog.jsonb_build_object('as_of', as_of, 'years_up_to', last_year, 'ended_in_year', last_year + 1)
                     || removed
        WHERE r.run_id = run;
    -- OTHERS leaves out query_canceled: a cancelled run (pg_cancel_backend, statement_timeout,
    -- a pg_cron job stopped) must be logged as failed too, not left "running".
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
            hnt = PG_EXCEPTION_HINT, ctx = PG_EXCEPTION_CONTEXT, sch = SCHEMA_NAME, tbl = TABLE_NAME,
            col = COLUMN_NAME, typ = PG_DATATYPE_NAME, con = CONSTRAINT_NAME;
    END;
    -- The failed block took its search_path with it: pinned again before the log is written.
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF st IS NOT NULL THEN
        CALL inami.control_run_fail(run, st, msg, det, hnt, ctx, ARRAY[sch, tbl, col, typ, con]);
    END IF;
END;
$$;
COMMENT ON PROCEDURE inami.purge_expired(date) IS
'R7 (Circ. O.A. 2024/165, 6; 2024/200, 3): removes everything about every year X whose keeping ended before as_of: the data of year X rest the reimbursements of X and X+1 (rights prolonged until 31 December X+1), each kept until the end of its year + 6 and no longer (the permission limits keeping to six years), so X goes when X+7 < year of as_of, and when X+6 < year of as_of the Syst_01 households of X go with their Syst_04 answers, events and decision unless their decision or received Syst_05 runs the right into X+1 or they were decided after X (households without a decision go too): loaded flows with their files, decisions, events, proactive outcomes and the runs of those years. Logs what it removed in inami.control_run (kind purge, counts per table). Call it outside a transaction block; schedulable with pg_cron.';

-- G (circ. 2024/250): tables 1, 2 and 3 of the statistics of the proactive flow.
CREATE FUNCTION inami.proactive_statistics(year int)
RETURNS TABLE (report_table int, category int, label text, households bigint, persons bigint)
LANGUAGE sql STABLE BEGIN ATOMIC
    WITH ok AS (
        SELECT d.request_number FROM inami.proactive_decision d WHERE d.year = $1 AND d.code = 'OK'
    ), o AS (
        SELECT p.* FROM inami.proactive_outcome p WHERE p.year = $1
    ), hh_cat AS (
        -- G 3 and 4.2: a household carries the category of its members, plus category 6 when a
        -- child with an automatic right opened it; a dependent's own advantage counts for the person only.
        SELECT DISTINCT o.request_number, o.category FROM o
        WHERE NOT (o.category = 6 AND o.dependent AND NOT o.automatic_child)
    ), labels(category, label) AS (
        VALUES (1, 'Modification composition de ménage'), (2, 'Information à l''O.A.'),
               (3, 'Dépassement plafond DSH'), (4, 'Non-réponse de l''assuré'),
               (5, 'Droit DSH'), (6, 'Droit automatique')
    )
    SELECT 1, NULL::int, 'OK households (Pro_04)', (SELECT count(*) FROM ok),
           (SELECT count(*) FROM inami.pro01_member m JOIN ok USING (request_number) WHERE m.year = $1)
    UNION ALL
    SELECT 1, NULL, 'households actually contacted',
           (SELECT count(DISTINCT o.request_number) FROM o WHERE o.contacted),
           (SELECT count(*) FROM inami.pro01_member m WHERE m.year = $1
              AND m.request_number IN (SELECT o2.request_number FROM o o2 WHERE o2.contacted))
    UNION ALL
    SELECT 1, NULL, 'of which opened the right (categories 5 and 6)',
           (SELECT count(DISTINCT h.request_number) FROM hh_cat h WHERE h.category IN (5, 6)
              AND h.request_number IN (SELECT o2.request_number FROM o o2 WHERE o2.contacted)),
           (SELECT count(*) FROM o WHERE o.category IN (5, 6)
              AND o.request_number IN (SELECT o2.request_number FROM o o2 WHERE o2.contacted))
    UNION ALL
    SELECT 2, l.category, l.label, (SELECT count(*) FROM hh_cat h WHERE h.category = l.category), NULL
    FROM labels l
    UNION ALL
    SELECT 3, l.category, l.label, NULL, (SELECT count(*) FROM o WHERE o.category = l.category)
    FROM labels l
    ORDER BY 1, 2 NULLS FIRST, 3;
END;
COMMENT ON FUNCTION inami.proactive_statistics(int) IS
'G (circ. O.A. 2024/250): the yearly report of the proactive flow from inami.proactive_outcome. Table 1: OK households and their persons, households actually contacted and their persons, and of them those that opened the right. Table 2: households per category (a household with a child with an automatic right may count in two; a dependent''s advantage does not make the household category 6). Table 3: persons per category (each person in exactly one). G 3 names table 2 for households and table 3 for persons (G 4.1 says the reverse once; 3 is followed).';

-- (end of section 5)

------------------------------------------------------------------------------------------
-- 6. MAF: households, ceilings, counter (R6)
------------------------------------------------------------------------------------------

-- R6: the MAF social ceiling (art. 37octies), one row per year.
CREATE TABLE inami.maf_social_ceiling (
    year int PRIMARY KEY CHECK (year BETWEEN 1990 AND 2200),
    ceiling numeric NOT NULL CHECK (ceiling > 0 AND ceiling = round(ceiling, 2)),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE inami.maf_social_ceiling IS
'R6: the MAF social ceiling of a year: once the personal contributions of the IM beneficiaries of a MAF household reach it, the insurance pays 100 % (art. 37octies).';
COMMENT ON COLUMN inami.maf_social_ceiling.year IS 'Calendar year of the contributions (the MAF year).';
COMMENT ON COLUMN inami.maf_social_ceiling.ceiling IS 'Ceiling in EUR.';
COMMENT ON COLUMN inami.maf_social_ceiling.source IS 'Circular and article that publish the ceiling.';
COMMENT ON COLUMN inami.maf_social_ceiling.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

-- R6: the income MAF brackets per year (operator data: the sources give no table).
CREATE TABLE inami.maf_income_bracket (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    income_from numeric NOT NULL CHECK (income_from >= 0 AND income_from = round(income_from, 2)),
    ceiling numeric NOT NULL CHECK (ceiling > 0 AND ceiling = round(ceiling, 2)),
    label text NOT NULL CHECK (btrim(label) <> ''),
    source text NOT NULL CHECK (btrim(source) <> ''),
    shipped boolean NOT NULL DEFAULT false,
    PRIMARY KEY (year, income_from)
);
COMMENT ON TABLE inami.maf_income_bracket IS
'R6: income MAF brackets of a year: a household whose net taxable income (of year - 2) is at least income_from and below the next row''s income_from has the ceiling of the row. The sources give no bracket table: the operator fills it. Ships empty.';
COMMENT ON COLUMN inami.maf_income_bracket.year IS 'Calendar year of the contributions (the MAF year); the income is that of year - 2.';
COMMENT ON COLUMN inami.maf_income_bracket.income_from IS 'Lowest household net taxable income in EUR of the bracket (the first bracket starts at 0).';
COMMENT ON COLUMN inami.maf_income_bracket.ceiling IS 'Ceiling in EUR of the personal contributions for households of the bracket.';
COMMENT ON COLUMN inami.maf_income_bracket.label IS 'The bracket as the operator''s table names it.';
COMMENT ON COLUMN inami.maf_income_bracket.source IS 'Where the operator took the row from (the yearly figures are not in the sources).';
COMMENT ON COLUMN inami.maf_income_bracket.shipped IS 'True for rows shipped with the extension (not dumped, not editable).';

INSERT INTO inami.maf_social_ceiling VALUES
    (2024, 450.00, 'Circ. O.A. 2024/160, I.2 (art. 37octies § 1 of the law coordinated on 14 July 1994), applicable from 1 June 2024', true);

CALL inami.setup_parameter_tables('maf_social_ceiling', 'maf_income_bracket');

-- R6: the ceiling of a MAF household: the income bracket's, the MAF social one, the lower of both.
CREATE FUNCTION inami.maf_ceiling(year int, household_income numeric, maf_social boolean)
RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    social numeric;
    bracket numeric;
BEGIN
    IF year IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM inami.check_year(year, 'MAF year');
    IF maf_social IS NULL THEN
        RAISE EXCEPTION 'maf_ceiling needs maf_social'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('maf_social is NULL for year %s.', year),
                  HINT = 'Give true when the household has members in a MAF social household (inami.maf_household), false otherwise.';
    END IF;
    IF household_income IS NULL AND NOT maf_social THEN
        RAISE EXCEPTION 'maf_ceiling needs the household income when MAF social does not apply'
            USING ERRCODE = 'null_value_not_allowed',
                  DETAIL = format('household_income is NULL and maf_social is false for year %s.', year),
                  HINT = 'Give the household''s net taxable income of year - 2 (0 when the insurer may presume no income, Circ. O.A. 2024/245). A household of TP persons arrived in 2023 has the MAF social ceiling, with or without the IM: give maf_social true.';
    END IF;
    IF household_income < 0 THEN
        RAISE EXCEPTION 'household income must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The household income given is %s.', household_income),
                  HINT = 'Give the household''s net taxable income of year - 2, 0 or more.';
    END IF;
    IF maf_social THEN
        SELECT c.ceiling INTO social FROM inami.maf_social_ceiling c WHERE c.year = $1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF social ceiling for year %', year
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.maf_social_ceiling has no row with year = %s.', year),
                      HINT = format('Add the ceiling of the year with its source: INSERT INTO inami.maf_social_ceiling (year, ceiling, source) VALUES (%s, ...).', year);
        END IF;
    END IF;
    IF household_income IS NOT NULL THEN
        PERFORM 1 FROM inami.maf_income_bracket b WHERE b.year = $1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF income brackets for year %', year
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('inami.maf_income_bracket has no row with year = %s.', year),
                      HINT = format('Add the brackets of the year with their source: INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES (%s, 0.00, ...), ...', year);
        END IF;
        SELECT b.ceiling INTO bracket FROM inami.maf_income_bracket b
        WHERE b.year = $1 AND b.income_from <= household_income
        ORDER BY b.income_from DESC LIMIT 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no MAF income bracket of year % holds an income of %', year, household_income
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = format('The lowest income_from of inami.maf_income_bracket for year %s is %s.',
                                      year, (SELECT min(b.income_from) FROM inami.maf_income_bracket b WHERE b.year = $1)),
                      HINT = format('Add the first bracket: INSERT INTO inami.maf_income_bracket (year, income_from, ceiling, label, source) VALUES (%s, 0.00, ...).', year);
        END IF;
    END IF;
    -- MAF social and a lower income bracket: the lower applies (Circ. O.A. 2024/245, "MAF 250").
    RETURN least(social, bracket);
END;
$$;
COMMENT ON FUNCTION inami.maf_ceiling(int, numeric, boolean) IS
'R6: the ceiling in EUR of a MAF household for a year: the income bracket''s (household_income = net taxable income of year - 2), the MAF social one when maf_social, the lower of both when both apply. household_income NULL with maf_social: MAF social only (Circ. O.A. 2024/245, examples 1-4).';

-- R6: one person's place in the MAF households of an address.
CREATE TYPE inami.maf_member AS (
    niss text,
    maf_household_no int,
    tp_only_household boolean,
    is_maf_social boolean,
    reason text
);
COMMENT ON TYPE inami.maf_member IS
'R6: a person of an address (niss), the MAF household they belong to (1 or 2), whether that household is made only of TP persons and their children under 16 without TP, whether the person is of its MAF social household, and why the person is in that household.';

CREATE FUNCTION inami.maf_household_trans(internal, year int, niss text, birth_date date,
                                          has_im boolean, im_basis text,
                                          temporary_protection boolean, host_family boolean,
                                          spouse_niss text, dependent_of text)
RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_household_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_household_trans(internal, int, text, date, boolean, text, boolean, boolean, text, text) IS
'R6: transition function of inami.maf_household (collects one person).';

CREATE FUNCTION inami.maf_household_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_household_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_household_combine(internal, internal) IS
'R6: combine function of inami.maf_household (appends the persons of two partial states).';

CREATE FUNCTION inami.maf_household_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_maf_household_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_household_serialize(internal) IS
'R6: serialize function of inami.maf_household.';

CREATE FUNCTION inami.maf_household_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_household_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_household_deserialize(bytea, internal) IS
'R6: deserialize function of inami.maf_household.';

CREATE FUNCTION inami.maf_household_final(internal)
RETURNS inami.maf_member[]
AS 'MODULE_PATHNAME', 'inami_maf_household_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_household_final(internal) IS
'R6: final function of inami.maf_household (splits the address into MAF households).';

CREATE AGGREGATE inami.maf_household(year int, niss text, birth_date date, has_im boolean,
                                     im_basis text, temporary_protection boolean,
                                     host_family boolean, spouse_niss text, dependent_of text) (
    SFUNC = inami.maf_household_trans,
    STYPE = internal,
    FINALFUNC = inami.maf_household_final,
    COMBINEFUNC = inami.maf_household_combine,
    SERIALFUNC = inami.maf_household_serialize,
    DESERIALFUNC = inami.maf_household_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.maf_household(int, text, date, boolean, text, boolean, boolean, text, text) IS
'R6: the MAF households of one address on 1 January of year (group by address and year): one inami.maf_member per person, ordered by household and NISS. TP persons hosted by a host family make a second MAF household (Circ. O.A. 2024/245); the IM beneficiaries of each MAF household form its MAF social household, except IM resting only on an integration allowance with the partner abatement (art. 37novies, Circ. O.A. 2024/160). A missing attribute that decides the answer is an error (22004).';

-- R6: the MAF counter.
CREATE FUNCTION inami.maf_counter_trans(internal, amount numeric, ceiling numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_counter_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_counter_trans(internal, numeric, numeric) IS
'R6: transition function of inami.maf_refund and inami.maf_refunded (counts one contribution in cents).';

CREATE FUNCTION inami.maf_counter_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_counter_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_counter_combine(internal, internal) IS
'R6: combine function of the MAF counter (totals add; the last contribution is the second state''s).';

CREATE FUNCTION inami.maf_counter_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_maf_counter_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_counter_serialize(internal) IS
'R6: serialize function of the MAF counter.';

CREATE FUNCTION inami.maf_counter_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_counter_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_counter_deserialize(bytea, internal) IS
'R6: deserialize function of the MAF counter.';

CREATE FUNCTION inami.maf_refund_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_maf_refund_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_refund_final(internal) IS
'R6: final function of inami.maf_refund (the refund of the last contribution counted).';

CREATE FUNCTION inami.maf_refunded_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_maf_refunded_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami.maf_refunded_final(internal) IS
'R6: final function of inami.maf_refunded (max(0, total - ceiling)).';

CREATE AGGREGATE inami.maf_refund(amount numeric, ceiling numeric) (
    SFUNC = inami.maf_counter_trans,
    STYPE = internal,
    FINALFUNC = inami.maf_refund_final,
    COMBINEFUNC = inami.maf_counter_combine,
    SERIALFUNC = inami.maf_counter_serialize,
    DESERIALFUNC = inami.maf_counter_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.maf_refund(numeric, numeric) IS
'R6: the MAF counter as a window function: inami.maf_refund(amount, ceiling) OVER (PARTITION BY household, year ORDER BY date, id) is the part of each contribution the insurance pays back because the year''s contributions pass the ceiling: max(0, after - ceiling) - max(0, before - ceiling), exact to the cent. Negative for a correction that takes back a refund; NULL for a NULL amount. Order by a unique key: peers share one answer.';

CREATE AGGREGATE inami.maf_refunded(amount numeric, ceiling numeric) (
    SFUNC = inami.maf_counter_trans,
    STYPE = internal,
    FINALFUNC = inami.maf_refunded_final,
    COMBINEFUNC = inami.maf_counter_combine,
    SERIALFUNC = inami.maf_counter_serialize,
    DESERIALFUNC = inami.maf_counter_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.maf_refunded(numeric, numeric) IS
'R6: what the MAF refunds in all over a household''s contributions of a year: max(0, sum(amount) - ceiling), exact to the cent; the sum of inami.maf_refund over the same rows.';

-- D: registration as resident (and of the children as dependents) of TP persons.
CREATE FUNCTION inami.tp_registration_start(certificate_date date) RETURNS date
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN date_trunc('quarter', certificate_date::timestamp)::date;
COMMENT ON FUNCTION inami.tp_registration_start(date) IS
'Circ. O.A. 2024/245: the registration of a TP person as resident titulaire, and of their children as dependents, takes effect on the first day of the quarter in which the temporary protection certificate (or proof of registration) was issued.';

-- (end of section 6)

DROP PROCEDURE inami.setup_parameter_tables(text[]);

-- Every PL/pgSQL function runs with search_path = pg_catalog, pg_temp: a function or
-- operator of the same name in a schema the caller's search_path lists (one another role
-- can write to) can never stand in for a built-in. The SQL functions with a body are
-- BEGIN ATOMIC (bound when created), the RETURN ones too; the procedures, which commit
-- and so take no SET clause, pin it with set_config at the start of each transaction.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE p.pronamespace = 'inami'::regnamespace AND p.prokind = 'f' AND l.lanname = 'plpgsql'
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END;
$$;
