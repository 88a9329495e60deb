------------------------------------------------------------------------------------------
-- Parameters: dated rows, each with its source (rules R1, R2, R3, R8)
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

-- A row an operator adds (or edits) must not change a figure of the period the shipped rows
-- vouch for: those figures are the sources' and may have been published. Each case names
-- the first figure the row would change, as the functions compute it before the row.
CREATE FUNCTION inami._refuse_vouched_change(tbl text, r jsonb) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    day date;
    first_day date;
    last_day date;
    last_year int;
    y int;
    figure text;
    src text;
BEGIN
    IF tbl = 'pivot_index_step' THEN
        -- R1: from the first shipped step to the end of the shipped coverage.
        day := (r->>'effective_from')::date;
        SELECT min(s.effective_from) INTO first_day FROM inami.pivot_index_step s WHERE s.shipped;
        SELECT c.valid_until, c.source INTO last_day, src FROM inami.parameter_coverage c
        WHERE c.shipped AND c.series = 'quarterly_dependent_limit' ORDER BY c.valid_until DESC LIMIT 1;
        IF day BETWEEN first_day AND last_day THEN
            figure := format('the quarterly income limit of a dependent of Q%s %s (%s EUR)',
                             extract(quarter FROM day), extract(year FROM day),
                             inami.quarterly_dependent_limit(extract(year FROM day)::int, extract(quarter FROM day)::int));
        END IF;
    ELSIF tbl = 'parameter_coverage' THEN
        -- The sources publish a quarter's limit when the quarter begins, never before.
        day := (r->>'valid_until')::date;
        last_day := (date_trunc('quarter', current_date) + interval '3 months - 1 day')::date;
        IF day > last_day THEN
            RAISE EXCEPTION 'a parameter_coverage row cannot vouch for a quarter that has not begun'
                USING ERRCODE = 'check_violation',
                      DETAIL = format('valid_until = %s, after the end of the current quarter (%s).', day, last_day),
                      HINT = 'Add the pivot-index crossings the sources publish for the new quarters first, then the coverage up to the last of those quarters with the circular that publishes it.';
        END IF;
    ELSIF tbl = 'contribution_rate' THEN
        -- R8: a rate counts from the year it is in force on 1 January; after the category's
        -- first shipped rate and up to the last year the shipped minimum incomes come from
        -- (the same circulars), it would take the place of a shipped one.
        day := (r->>'effective_from')::date;
        y := extract(year FROM day)::int + CASE WHEN day = date_trunc('year', day)::date THEN 0 ELSE 1 END;
        SELECT min(c.effective_from), min(c.source) INTO first_day, src FROM inami.contribution_rate c
        WHERE c.shipped AND c.category = r->>'category';
        SELECT max(i.year) INTO last_year FROM inami.contribution_minimum_income i WHERE i.shipped;
        IF day > first_day AND y <= last_year THEN
            SELECT format('the contribution rate of %s in %s (%s %%)', c.category, y, c.rate) INTO figure
            FROM inami.contribution_rate c
            WHERE c.category = r->>'category' AND c.effective_from <= make_date(y, 1, 1)
            ORDER BY c.effective_from DESC LIMIT 1;
        END IF;
    ELSIF tbl IN ('contribution_minimum_factor', 'contribution_minimum_sheltered') THEN
        -- R8: a new age class splits one of the source's, for every year it covers.
        SELECT max(i.year) INTO last_year FROM inami.contribution_minimum_income i WHERE i.shipped;
        EXECUTE format('SELECT min(source) FROM inami.%I WHERE shipped', tbl) INTO src;
        IF src IS NOT NULL AND last_year IS NOT NULL THEN
            y := (r->>'min_age')::int;
            figure := format('the minimum value of %s aged %s in %s (%s EUR)',
                             CASE WHEN tbl = 'contribution_minimum_sheltered' THEN 'a sheltered worker' ELSE 'a worker' END,
                             y, last_year,
                             inami.contribution_minimum(last_year, y, tbl = 'contribution_minimum_sheltered'));
        END IF;
    END IF;
    IF figure IS NOT NULL THEN
        RAISE EXCEPTION 'a row of inami.% would change %', tbl, figure
            USING ERRCODE = 'check_violation',
                  DETAIL = format('The row %s falls in the period the shipped rows vouch for (%s).', r - 'shipped', src),
                  HINT = 'The figures the sources publish stay as they are: add rows only for the periods after them (see doc/security.md).';
    END IF;
END;
$$;
COMMENT ON FUNCTION inami._refuse_vouched_change(text, jsonb) IS
'Trigger helper: refuses a parameter row of an operator that would change a figure of the period the shipped rows vouch for, naming the figure.';

CREATE FUNCTION inami._protect_shipped_row() RETURNS trigger
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
    PERFORM inami._refuse_vouched_change(TG_TABLE_NAME, to_jsonb(NEW));
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION inami._protect_shipped_row() IS
'Trigger: refuses to update or delete a parameter row shipped with the extension, to mark a row shipped (pg_dump keeps only the rows not shipped), and a row that would change a figure the shipped rows vouch for (inami._refuse_vouched_change).';

CREATE FUNCTION inami._protect_shipped_truncate() RETURNS trigger
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
COMMENT ON FUNCTION inami._protect_shipped_truncate() IS
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
                       'FOR EACH ROW EXECUTE FUNCTION inami._protect_shipped_row()', t);
        EXECUTE format('CREATE TRIGGER protect_shipped_truncate BEFORE TRUNCATE ON inami.%I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION inami._protect_shipped_truncate()', t);
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
