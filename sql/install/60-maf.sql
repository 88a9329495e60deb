------------------------------------------------------------------------------------------
-- MAF: households, ceilings, counter (R6)
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
    PERFORM inami._check_year(year, 'MAF year');
    PERFORM inami._finite_amount(household_income, 'household_income');
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
-- Its array type, what maf_household returns, is made by PostgreSQL but is no member of
-- the extension unless added: postgres_fdw ships to a shard only functions whose types
-- belong to a listed extension.
ALTER EXTENSION inami ADD TYPE inami.maf_member[];

CREATE FUNCTION inami._maf_household_trans(internal, year int, niss text, birth_date date,
                                          has_im boolean, im_basis text,
                                          temporary_protection boolean, host_family boolean,
                                          spouse_niss text, dependent_of text)
RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_household_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_household_trans(internal, int, text, date, boolean, text, boolean, boolean, text, text) IS
'R6: transition function of inami.maf_household (collects one person).';

CREATE FUNCTION inami._maf_household_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_household_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_household_combine(internal, internal) IS
'R6: combine function of inami.maf_household (appends the persons of two partial states).';

CREATE FUNCTION inami._maf_household_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_maf_household_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_household_serialize(internal) IS
'R6: serialize function of inami.maf_household.';

CREATE FUNCTION inami._maf_household_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_household_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_household_deserialize(bytea, internal) IS
'R6: deserialize function of inami.maf_household.';

CREATE FUNCTION inami._maf_household_final(internal)
RETURNS inami.maf_member[]
AS 'MODULE_PATHNAME', 'inami_maf_household_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_household_final(internal) IS
'R6: final function of inami.maf_household (splits the address into MAF households).';

CREATE AGGREGATE inami.maf_household(year int, niss text, birth_date date, has_im boolean,
                                     im_basis text, temporary_protection boolean,
                                     host_family boolean, spouse_niss text, dependent_of text) (
    SFUNC = inami._maf_household_trans,
    STYPE = internal,
    FINALFUNC = inami._maf_household_final,
    COMBINEFUNC = inami._maf_household_combine,
    SERIALFUNC = inami._maf_household_serialize,
    DESERIALFUNC = inami._maf_household_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.maf_household(int, text, date, boolean, text, boolean, boolean, text, text) IS
'R6: the MAF households of one address on 1 January of year (group by address and year): one inami.maf_member per person, ordered by household and NISS. TP persons hosted by a host family make a second MAF household (Circ. O.A. 2024/245); the IM beneficiaries of each MAF household form its MAF social household, except IM resting only on an integration allowance with the partner abatement (art. 37novies, Circ. O.A. 2024/160). A missing attribute that decides the answer is an error (22004).';

-- R6: the MAF counter.
CREATE FUNCTION inami._maf_counter_trans(internal, amount numeric, ceiling numeric)
RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_counter_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_counter_trans(internal, numeric, numeric) IS
'R6: transition function of inami.maf_refund and inami.maf_refunded (counts one contribution in cents).';

CREATE FUNCTION inami._maf_counter_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_counter_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_counter_combine(internal, internal) IS
'R6: combine function of the MAF counter (totals add; the last contribution is the second state''s).';

CREATE FUNCTION inami._maf_counter_serialize(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_maf_counter_serialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_counter_serialize(internal) IS
'R6: serialize function of the MAF counter.';

CREATE FUNCTION inami._maf_counter_deserialize(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_maf_counter_deserialize'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_counter_deserialize(bytea, internal) IS
'R6: deserialize function of the MAF counter.';

CREATE FUNCTION inami._maf_refund_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_maf_refund_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_refund_final(internal) IS
'R6: final function of inami.maf_refund (the refund of the last contribution counted).';

CREATE FUNCTION inami._maf_refunded_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_maf_refunded_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._maf_refunded_final(internal) IS
'R6: final function of inami.maf_refunded (max(0, total - ceiling)).';

CREATE AGGREGATE inami.maf_refund(amount numeric, ceiling numeric) (
    SFUNC = inami._maf_counter_trans,
    STYPE = internal,
    FINALFUNC = inami._maf_refund_final,
    COMBINEFUNC = inami._maf_counter_combine,
    SERIALFUNC = inami._maf_counter_serialize,
    DESERIALFUNC = inami._maf_counter_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.maf_refund(numeric, numeric) IS
'R6: the MAF counter as a window function: inami.maf_refund(amount, ceiling) OVER (PARTITION BY household, year ORDER BY date, id) is the part of each contribution the insurance pays back because the year''s contributions pass the ceiling: max(0, after - ceiling) - max(0, before - ceiling), exact to the cent. Negative for a correction that takes back a refund; NULL for a NULL amount. Order by a unique key: peers share one answer.';

CREATE AGGREGATE inami.maf_refunded(amount numeric, ceiling numeric) (
    SFUNC = inami._maf_counter_trans,
    STYPE = internal,
    FINALFUNC = inami._maf_refunded_final,
    COMBINEFUNC = inami._maf_counter_combine,
    SERIALFUNC = inami._maf_counter_serialize,
    DESERIALFUNC = inami._maf_counter_deserialize,
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
