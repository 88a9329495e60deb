------------------------------------------------------------------------------------------
-- Household income for the IM: the R3 aggregates
--
-- Exact in cents (int128 sums of int64 cents, IPCAL factors in millionths), fixed-size
-- states serialised for parallel workers, the IPCAL list read once per query.
------------------------------------------------------------------------------------------

-- R3: one member's income from their IPCAL items.
CREATE FUNCTION inami._ipcal_income_trans(internal, text, numeric, int) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_ipcal_income_trans'
LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._ipcal_income_trans(internal, text, numeric, int) IS
'Transition function of inami.ipcal_income: adds amount x the factor of inami.ipcal_rule (read once per query).';

CREATE FUNCTION inami._ipcal_income_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_ipcal_income_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._ipcal_income_combine(internal, internal) IS
'Combine function of inami.ipcal_income (parallel workers, partitions).';

CREATE FUNCTION inami._ipcal_income_serial(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_ipcal_income_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._ipcal_income_serial(internal) IS
'Serialisation function of inami.ipcal_income: the state as 17 bytes.';

CREATE FUNCTION inami._ipcal_income_deserial(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_ipcal_income_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._ipcal_income_deserial(bytea, internal) IS
'Deserialisation function of inami.ipcal_income.';

CREATE FUNCTION inami._ipcal_income_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_ipcal_income_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._ipcal_income_final(internal) IS
'Final function of inami.ipcal_income: the exact sum rounded once to the cent, NULL when unknown.';

CREATE AGGREGATE inami.ipcal_income(code text, amount numeric, tax_year int) (
    SFUNC = inami._ipcal_income_trans,
    STYPE = internal,
    SSPACE = 32,
    FINALFUNC = inami._ipcal_income_final,
    COMBINEFUNC = inami._ipcal_income_combine,
    SERIALFUNC = inami._ipcal_income_serial,
    DESERIALFUNC = inami._ipcal_income_deserial,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE inami.ipcal_income(text, numeric, int) IS
'R3: a member''s income, the sum of amount x the factor inami.ipcal_rule gives the code for the tax year, computed exactly and rounded once to the cent (half away from zero). A code missing from the list is an error (55000); a NULL argument makes the income unknown (NULL); no row gives NULL.';

-- R3: the income of one household from its members.
CREATE FUNCTION inami._household_income_trans(internal, text, numeric, date, int) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_household_income_trans'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._household_income_trans(internal, text, numeric, date, int) IS
'Transition function of inami.household_income: one member.';

CREATE FUNCTION inami._household_income_combine(internal, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_household_income_combine'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._household_income_combine(internal, internal) IS
'Combine function of inami.household_income (parallel workers, partitions).';

CREATE FUNCTION inami._household_income_serial(internal) RETURNS bytea
AS 'MODULE_PATHNAME', 'inami_household_income_serial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._household_income_serial(internal) IS
'Serialisation function of inami.household_income: the state as 21 bytes.';

CREATE FUNCTION inami._household_income_deserial(bytea, internal) RETURNS internal
AS 'MODULE_PATHNAME', 'inami_household_income_deserial'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._household_income_deserial(bytea, internal) IS
'Deserialisation function of inami.household_income.';

CREATE FUNCTION inami._household_income_final(internal) RETURNS numeric
AS 'MODULE_PATHNAME', 'inami_household_income_final'
LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION inami._household_income_final(internal) IS
'Final function of inami.household_income: the total, NULL when unknown, 0.00 when negative.';

CREATE AGGREGATE inami.household_income(return_code text, income numeric, birth_date date, income_year int) (
    SFUNC = inami._household_income_trans,
    STYPE = internal,
    SSPACE = 32,
    FINALFUNC = inami._household_income_final,
    COMBINEFUNC = inami._household_income_combine,
    SERIALFUNC = inami._household_income_serial,
    DESERIALFUNC = inami._household_income_deserial,
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
