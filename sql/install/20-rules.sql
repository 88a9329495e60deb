------------------------------------------------------------------------------------------
-- Rules as functions: R1, R2, R8, R9
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

-- NaN and the infinities are numerics but not amounts: every PL/pgSQL and SQL function that
-- takes an amount passes it through this check (the C functions refuse them when they
-- read the amount as cents).
CREATE FUNCTION inami._finite_amount(amount numeric, what text) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF amount IN ('NaN', 'Infinity', '-Infinity') THEN
        RAISE EXCEPTION '% must be a finite amount', what
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = format('The value given is %s.', amount),
                  HINT = 'Give an amount in EUR; NaN and the infinities are not amounts.';
    END IF;
    RETURN amount;
END;
$$;
COMMENT ON FUNCTION inami._finite_amount(numeric, text) IS
'The amount unchanged (NULL too), or an error (22023) naming what when it is NaN or an infinity.';

CREATE FUNCTION inami.dependent_income_within_limit(quarter_income numeric, year int, quarter int)
RETURNS boolean
LANGUAGE sql STABLE STRICT PARALLEL SAFE
RETURN inami._finite_amount(quarter_income, 'quarter_income') <= inami.quarterly_dependent_limit(year, quarter);
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
CREATE FUNCTION inami._check_year(year int, what text) RETURNS void
AS 'MODULE_PATHNAME', 'inami_check_year_sql'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._check_year(int, text) IS
'An error (22023) naming what ("year" when NULL) unless year is between 1990 and 2200, the years the parameter and exchange tables take; a NULL year passes. Used by the functions that take a year.';

CREATE FUNCTION inami.contribution_minimum(year int, age int, sheltered boolean DEFAULT false) RETURNS numeric
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE AS $$
DECLARE
    income inami.contribution_minimum_income;
    f inami.contribution_minimum_factor;
    flat numeric;
BEGIN
    PERFORM inami._check_year(year, 'year');
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
    PERFORM inami._finite_amount(wages, 'wages');
    PERFORM inami._finite_amount(assimilated_workdays, 'assimilated_workdays');
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
