-- inami 0.1.0: the one install script (the one SQL source of truth).
\echo Use "CREATE EXTENSION inami" to load this file. \quit

-- The sections below follow the issues that built them:
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

CREATE FUNCTION inami.protect_shipped_row() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.shipped THEN
        RAISE EXCEPTION 'cannot % a parameter row shipped with the extension', lower(TG_OP)
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = format('The row of %I.%I is the published figure of %s.',
                                  TG_TABLE_SCHEMA, TG_TABLE_NAME, OLD.source),
                  HINT = 'Shipped rows are fixed by the sources; add a row for a new period instead.';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami.protect_shipped_row() IS
'Trigger: refuses to update or delete a parameter row shipped with the extension.';

-- R1: the pivot-index crossings of the dependent person's quarterly income limit.
CREATE TABLE inami.pivot_index_step (
    effective_from date PRIMARY KEY
        CHECK (effective_from = date_trunc('month', effective_from)::date),
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
    valid_until date NOT NULL,
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
    code text NOT NULL CHECK (code ~ '^[0-9]{4}$'),
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

INSERT INTO inami.contribution_minimum_income VALUES
    (2024, 1994.18, '2023-11-01', 'Circ. O.A. 2024/164 (28 May 2024), II. Valeur minimale des documents de cotisation 2024', true);

INSERT INTO inami.contribution_minimum_factor VALUES
    (0, 4, 0.75, 'Circ. O.A. 2024/164, II: under 21, 3/4 of the value for 21 and over (art. 286 A.R. 03.07.1996)', true),
    (21, 4, 1, 'Circ. O.A. 2024/164, II: 21 and over, four times the minimum monthly income (art. 286 A.R. 03.07.1996)', true);

INSERT INTO inami.contribution_rate VALUES
    ('workers', '2017-01-01', 10.85, 6.15, 4.70, 'Ouvriers et employés',
     'Circ. O.A. 2024/164, II: rates in force on 1 January 2017', true),
    ('miners', '2017-01-01', 8.85, 5.15, 3.70, 'Mineurs',
     'Circ. O.A. 2024/164, II: rates in force on 1 January 2017', true),
    ('public_services', '2017-01-01', 7.35, 3.80, 3.55, 'Services publics (health care only)',
     'Circ. O.A. 2024/164, II: rates in force on 1 January 2017', true);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['pivot_index_step', 'dependent_limit_base', 'parameter_coverage',
                             'im_ceiling', 'ipcal_rule', 'contribution_minimum_income',
                             'contribution_minimum_factor', 'contribution_rate']
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(format('inami.%I', t), 'WHERE NOT shipped');
        EXECUTE format('CREATE TRIGGER protect_shipped BEFORE UPDATE OR DELETE ON inami.%I '
                       'FOR EACH ROW EXECUTE FUNCTION inami.protect_shipped_row()', t);
    END LOOP;
END;
$$;

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
LANGUAGE C IMMUTABLE PARALLEL SAFE;
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

CREATE FUNCTION inami.request_number(oa text, year int, niss text) RETURNS text
AS 'MODULE_PATHNAME', 'inami_request_number'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.request_number(text, int, text) IS
'R4: the request number of a household: OA code (3 digits) + year of transmission (4) + requester NISS (11).';

CREATE FUNCTION inami.contribution_minimum(year int, age int) RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    income inami.contribution_minimum_income;
    f inami.contribution_minimum_factor;
BEGIN
    IF age < 0 THEN
        RAISE EXCEPTION 'age must not be negative'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The age given is %s.', age),
                  HINT = 'Give the age at the start of the year, or at (re)registration.';
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
COMMENT ON FUNCTION inami.contribution_minimum(int, int) IS
'R8: the minimum value in EUR that the contribution documents of a year must reach for a worker of the given age (at the start of the year or at (re)registration).';

CREATE FUNCTION inami.contribution_complement(year int, age int, wages numeric,
                                              assimilated_workdays numeric,
                                              category text DEFAULT 'workers')
RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    minimum numeric := inami.contribution_minimum(year, age);
    r numeric;
    shortfall numeric;
    complement numeric;
BEGIN
    IF wages < 0 OR assimilated_workdays < 0 OR assimilated_workdays > 240 THEN
        RAISE EXCEPTION 'wages and assimilated workdays must be within their range'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('wages = %s, assimilated_workdays = %s.', wages, assimilated_workdays),
                  HINT = 'Give wages >= 0 as on the contribution documents and 0 to 240 workdays of assimilated periods.';
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
    complement := round(shortfall * r / 100, 2);
    -- Under 10.00 EUR nothing is claimed.
    RETURN CASE WHEN complement < 10.00 THEN 0.00 ELSE complement END;
END;
$$;
COMMENT ON FUNCTION inami.contribution_complement(int, int, numeric, numeric, text) IS
'R8: the contribution complement in EUR: (minimum - wages - minimum x assimilated workdays / 240) rounded up to the euro, times the category''s rate; 0.00 when under 10.00 EUR.';

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
    oa text CHECK (oa ~ '^[0-9]{3}$'),
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
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
    oa text NOT NULL CHECK (oa ~ '^[0-9]{3}$'),
    requester_niss text NOT NULL CHECK (requester_niss ~ '^[0-9]{11}$'),
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
    niss text NOT NULL CHECK (niss ~ '^[0-9]{11}$'),
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
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
    shipment int NOT NULL CHECK (shipment BETWEEN 1 AND 9),
    income_year int NOT NULL CHECK (income_year BETWEEN 1990 AND 2200),
    requester_niss text NOT NULL CHECK (requester_niss ~ '^[0-9]{11}$'),
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

CREATE TABLE inami.syst04_member (
    control_year int NOT NULL,
    request_number text NOT NULL,
    shipment int NOT NULL,
    niss text NOT NULL CHECK (niss ~ '^[0-9]{11}$'),
    return_code text NOT NULL CHECK (return_code ~ '^[0-9]{2}$'),
    tax_sheet text CHECK (btrim(tax_sheet) <> ''),
    cadastral_income numeric CHECK (cadastral_income = round(cadastral_income, 2)),
    personal_total numeric CHECK (personal_total = round(personal_total, 2)),
    PRIMARY KEY (control_year, request_number, shipment, niss),
    FOREIGN KEY (control_year, request_number, shipment) REFERENCES inami.syst04_household ON DELETE CASCADE
);
COMMENT ON TABLE inami.syst04_member IS 'Syst_04: one member of an answered household.';
COMMENT ON COLUMN inami.syst04_member.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst04_member.request_number IS 'The household.';
COMMENT ON COLUMN inami.syst04_member.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.syst04_member.niss IS 'NISS of the member.';
COMMENT ON COLUMN inami.syst04_member.return_code IS 'Tax administration return code: 00 income known (IPCAL items follow); any other, not known (03, 04, 10, 11: not yet processed).';
COMMENT ON COLUMN inami.syst04_member.tax_sheet IS 'Tax sheet number, when sent.';
COMMENT ON COLUMN inami.syst04_member.cadastral_income IS 'Cadastral income of the own home, when sent.';
COMMENT ON COLUMN inami.syst04_member.personal_total IS 'Personal total as sent, when sent.';

CREATE TABLE inami.syst04_ipcal (
    control_year int NOT NULL,
    request_number text NOT NULL,
    shipment int NOT NULL,
    niss text NOT NULL,
    item_no int NOT NULL CHECK (item_no >= 1),
    code text NOT NULL CHECK (code ~ '^[0-9]{4}$'),
    amount numeric NOT NULL CHECK (amount = round(amount, 2)),
    PRIMARY KEY (control_year, request_number, shipment, niss, item_no),
    FOREIGN KEY (control_year, request_number, shipment, niss) REFERENCES inami.syst04_member ON DELETE CASCADE
);
COMMENT ON TABLE inami.syst04_ipcal IS 'Syst_04: one IPCAL item of a member with return code 00, in document order.';
COMMENT ON COLUMN inami.syst04_ipcal.control_year IS 'Year of the control.';
COMMENT ON COLUMN inami.syst04_ipcal.request_number IS 'The household.';
COMMENT ON COLUMN inami.syst04_ipcal.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.syst04_ipcal.niss IS 'NISS of the member.';
COMMENT ON COLUMN inami.syst04_ipcal.item_no IS 'Position of the item among the member''s items (1, 2, ...).';
COMMENT ON COLUMN inami.syst04_ipcal.code IS 'IPCAL code (see inami.ipcal_rule).';
COMMENT ON COLUMN inami.syst04_ipcal.amount IS 'Amount in EUR, possibly negative.';

CREATE VIEW inami.syst04_answer AS
SELECT DISTINCT ON (control_year, request_number) *
FROM inami.syst04_household
ORDER BY control_year, request_number, shipment DESC;
COMMENT ON VIEW inami.syst04_answer IS
'Syst_04: the answer that counts for each household: the one of its latest shipment (shipment 2 answers what shipment 1 left open, and replaces it).';

-- Pro_01 (OA -> SCA): households with at least one member without IM on 1 January.
CREATE TABLE inami.pro01_household (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
    oa text NOT NULL CHECK (oa ~ '^[0-9]{3}$'),
    requester_niss text NOT NULL CHECK (requester_niss ~ '^[0-9]{11}$'),
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
    niss text NOT NULL CHECK (niss ~ '^[0-9]{11}$'),
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
    niss text NOT NULL CHECK (niss ~ '^[0-9]{11}$'),
    income_year int NOT NULL CHECK (income_year BETWEEN 1990 AND 2200),
    return_code text NOT NULL CHECK (return_code ~ '^[0-9]{2}$'),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (year, shipment, niss)
);
COMMENT ON TABLE inami.pro03_person IS 'Pro_03: the income answer for one person in one shipment; the latest shipment of a person counts (inami.pro03_answer).';
COMMENT ON COLUMN inami.pro03_person.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro03_person.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.pro03_person.niss IS 'NISS of the person.';
COMMENT ON COLUMN inami.pro03_person.income_year IS 'Income year (year - 2).';
COMMENT ON COLUMN inami.pro03_person.return_code IS 'Tax administration return code, as in Syst_04.';
COMMENT ON COLUMN inami.pro03_person.file_id IS 'The file it was loaded from.';

CREATE TABLE inami.pro03_ipcal (
    year int NOT NULL,
    shipment int NOT NULL,
    niss text NOT NULL,
    item_no int NOT NULL CHECK (item_no >= 1),
    code text NOT NULL CHECK (code ~ '^[0-9]{4}$'),
    amount numeric NOT NULL CHECK (amount = round(amount, 2)),
    PRIMARY KEY (year, shipment, niss, item_no),
    FOREIGN KEY (year, shipment, niss) REFERENCES inami.pro03_person ON DELETE CASCADE
);
COMMENT ON TABLE inami.pro03_ipcal IS 'Pro_03: one IPCAL item of a person with return code 00.';
COMMENT ON COLUMN inami.pro03_ipcal.year IS 'Year of the proactive flow.';
COMMENT ON COLUMN inami.pro03_ipcal.shipment IS 'Shipment number.';
COMMENT ON COLUMN inami.pro03_ipcal.niss IS 'NISS of the person.';
COMMENT ON COLUMN inami.pro03_ipcal.item_no IS 'Position of the item among the person''s items.';
COMMENT ON COLUMN inami.pro03_ipcal.code IS 'IPCAL code.';
COMMENT ON COLUMN inami.pro03_ipcal.amount IS 'Amount in EUR, possibly negative.';

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
                             'inami.syst04_household', 'inami.syst04_member', 'inami.syst04_ipcal',
                             'inami.pro01_household', 'inami.pro01_member',
                             'inami.pro03_person', 'inami.pro03_ipcal']::regclass[]
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
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
    oa text NOT NULL CHECK (oa ~ '^[0-9]{3}$'),
    reason text NOT NULL CHECK (reason IN ('KEEPSYST', 'STOPSYST', 'STOPFAM', 'STOPOA', 'STOPDEATH',
                                           'STOPFISC', 'KEEPADV', 'KEEPDSH')),
    right_end date,
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (control_year, request_number)
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
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
    code text NOT NULL CHECK (code IN ('OK', 'NOK', 'ONHOLD')),
    file_id bigint NOT NULL REFERENCES inami.flow_file ON DELETE CASCADE,
    PRIMARY KEY (year, shipment, request_number)
);
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
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
    oa text NOT NULL CHECK (oa ~ '^[0-9]{3}$'),
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
COMMENT ON COLUMN inami.control_decision.run_id IS 'The run that made the decision.';

-- Pro_04: the code of every Pro_01 household of a year.
CREATE TABLE inami.proactive_decision (
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    request_number text NOT NULL CHECK (request_number ~ '^[0-9]{18}$'),
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

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['maf_social_ceiling', 'maf_income_bracket']
    LOOP
        PERFORM pg_catalog.pg_extension_config_dump(format('inami.%I', t), 'WHERE NOT shipped');
        EXECUTE format('CREATE TRIGGER protect_shipped BEFORE UPDATE OR DELETE ON inami.%I '
                       'FOR EACH ROW EXECUTE FUNCTION inami.protect_shipped_row()', t);
    END LOOP;
END;
$$;

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
                  HINT = 'Give the household''s net taxable income of year - 2 (0 when the insurer may presume no income, Circ. O.A. 2024/245).';
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
RETURN date_trunc('quarter', certificate_date)::date;
COMMENT ON FUNCTION inami.tp_registration_start(date) IS
'Circ. O.A. 2024/245: the registration of a TP person as resident titulaire, and of their children as dependents, takes effect on the first day of the quarter in which the temporary protection certificate (or proof of registration) was issued.';

-- (end of section 6)
