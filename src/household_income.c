/*
 * household_income.c
 *		R3: the income of an IM household (Circ. O.A. 2024/165 4.2-4.4) and its verdict
 *		against the ceiling of R2: the aggregate inami.household_income(return_code,
 *		income, birth_date, income_year) and the function inami.im_verdict.
 *
 * A member counts when the tax administration answered "00" (their income, NULL
 * income = unknown), or, whatever the code and the income column, with 0.00 when
 * under 18 on 1 January of the tax year (income year + 1). Any other member makes the
 * household's income unknown: NULL, never a partial sum. A negative total is 0.00.
 *
 * The state is fixed-size (the cents in an int128, so no partial sum can overflow
 * whatever the order of the rows, the income year and flags), serialised as a 21-byte
 * bytea for parallel workers. The total must fit int64 cents.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "cents.h"
#include "inami.h"

#ifndef HAVE_INT128
#error "inami needs a 128-bit integer type for its exact sums"
#endif

/* The aggregate's state is an InamiHousehold (inami.h), shared with systematic_households.c. */
typedef InamiHousehold HouseholdState;

#define HOUSEHOLD_SERIAL_SIZE	(sizeof(int128) + sizeof(int32) + 1)
#define HOUSEHOLD_HAS_ROWS		0x01
#define HOUSEHOLD_HAS_YEAR		0x02
#define HOUSEHOLD_UNKNOWN		0x04

/* Refuse a group holding two income years. */
static void
mixed_years(int32 a, int32 b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("household members have different income years"),
			 errdetail("One household_income group holds income years %d and %d.",
					   Min(a, b), Max(a, b)),
			 errhint("Group by household and income year, or keep one income year (control year - 2).")));
}

/* Complain that a household's total is beyond int64 cents. */
static void
household_overflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("household income out of range"),
			 errdetail("The total of the household exceeds 92233720368547758.07."),
			 errhint("Check the members' incomes: each is a sum in EUR with at most two decimals.")));
}

/*
 * The last birth date of a person who is 18 or more on 1 January of the tax year
 * (income_year + 1): born on 1 January of income_year - 17 or before.
 */
static DateADT
adult_born_by(int32 income_year)
{
	return date2j(income_year - 17, 1, 1) - POSTGRES_EPOCH_JDATE;
}


/* Is a return code (NULL: none) "00", income known? */
bool
inami_return_code_is_00(text *code)
{
	return code != NULL && VARSIZE_ANY_EXHDR(code) == 2 &&
		VARDATA_ANY(code)[0] == '0' && VARDATA_ANY(code)[1] == '0';
}

/*
 * Add one member: is00 (inami_return_code_is_00), the income in cents when known, the
 * birth date when known, the income year when known. Returns whether the member's income
 * is known (after the under-18 rule); an unknown one makes the household's unknown.
 */
bool
inami_household_add(InamiHousehold *state, bool is00, bool has_income, int64 income_cents,
					bool has_born, DateADT born, bool has_year, int32 year)
{
	bool		known = true;

	state->has_rows = true;

	/* no income year: the member's answer cannot be placed, so it is unknown */
	if (!has_year)
	{
		state->unknown = true;
		return false;
	}
	if (!state->has_year)
	{
		/* once per group: a later member's year must equal this one */
		inami_check_year(year, "income year");
		state->income_year = year;
		state->has_year = true;
	}
	else if (state->income_year != year)
		mixed_years(state->income_year, year);

	if (is00)
	{
		/* "00": the income counts; a "00" without an amount is not an answer */
		if (!has_income)
			known = false;
		else if (__builtin_add_overflow(state->sum, (int128) income_cents, &state->sum))
			household_overflow();
	}
	else
	{
		/* any other code, or none: 0.00 under 18 on 1 January of the tax year */
		if (!has_born)
			known = false;
		else
		{
			if (DATE_NOT_FINITE(born))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("birth date must be finite"),
						 errdetail("The birth date given is %s.",
								   DatumGetCString(DirectFunctionCall1(date_out,
																	   DateADTGetDatum(born)))),
						 errhint("Pass NULL when the birth date is unknown.")));
			if (born <= adult_born_by(year))
				known = false;
		}
	}
	if (!known)
		state->unknown = true;
	return known;
}

/* The household's total in cents (0 when negative); false when unknown or no member. */
bool
inami_household_total(const InamiHousehold *state, int64 *cents)
{
	if (!state->has_rows || state->unknown)
		return false;
	if (state->sum > PG_INT64_MAX)
		household_overflow();
	*cents = state->sum < 0 ? 0 : (int64) state->sum;
	return true;
}

PG_FUNCTION_INFO_V1(inami_household_income_trans);
/* Transition: one member (return_code, income, birth_date, income_year). */
Datum
inami_household_income_trans(PG_FUNCTION_ARGS)
{
	HouseholdState *state;
	bool		is00 = !PG_ARGISNULL(1) &&
		inami_return_code_is_00((text *) inami_packed(PG_GETARG_DATUM(1)));
	int64		income = 0;

	/* the aggregate context is looked up once per group, when its state is made */
	if (PG_ARGISNULL(0))
		state = MemoryContextAllocZero(inami_agg_context(fcinfo, "inami_household_income_trans"),
									   sizeof(HouseholdState));
	else
		state = (HouseholdState *) PG_GETARG_POINTER(0);

	/* the income is read only where it counts (and where the year places the answer) */
	if (is00 && !PG_ARGISNULL(2) && !PG_ARGISNULL(4))
		income = inami_numeric_to_cents((Numeric) inami_packed(PG_GETARG_DATUM(2)),
										"income");
	inami_household_add(state, is00, !PG_ARGISNULL(2), income,
						!PG_ARGISNULL(3), PG_ARGISNULL(3) ? 0 : PG_GETARG_DATEADT(3),
						!PG_ARGISNULL(4), PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4));
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(inami_household_income_combine);
/* Combine two partial states (parallel workers, partitions). */
Datum
inami_household_income_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = inami_agg_context(fcinfo, "inami_household_income_combine");
	HouseholdState *a = PG_ARGISNULL(0) ? NULL : (HouseholdState *) PG_GETARG_POINTER(0);
	HouseholdState *b = PG_ARGISNULL(1) ? NULL : (HouseholdState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		a = MemoryContextAlloc(aggcontext, sizeof(HouseholdState));
		memcpy(a, b, sizeof(HouseholdState));
		PG_RETURN_POINTER(a);
	}
	if (b->has_year)
	{
		if (!a->has_year)
		{
			a->income_year = b->income_year;
			a->has_year = true;
		}
		else if (a->income_year != b->income_year)
			mixed_years(a->income_year, b->income_year);
	}
	if (__builtin_add_overflow(a->sum, b->sum, &a->sum))
		household_overflow();
	a->has_rows |= b->has_rows;
	a->unknown |= b->unknown;
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(inami_household_income_serial);
/* Serialise a state: the int128 sum, the income year, one byte of flags. */
Datum
inami_household_income_serial(PG_FUNCTION_ARGS)
{
	HouseholdState *state;
	bytea	   *out = palloc(VARHDRSZ + HOUSEHOLD_SERIAL_SIZE);
	char	   *p = VARDATA(out);
	uint8		flags;

	(void) inami_agg_context(fcinfo, "inami_household_income_serial");
	state = (HouseholdState *) PG_GETARG_POINTER(0);
	flags = (state->has_rows ? HOUSEHOLD_HAS_ROWS : 0) |
		(state->has_year ? HOUSEHOLD_HAS_YEAR : 0) |
		(state->unknown ? HOUSEHOLD_UNKNOWN : 0);
	SET_VARSIZE(out, VARHDRSZ + HOUSEHOLD_SERIAL_SIZE);
	memcpy(p, &state->sum, sizeof(int128));
	memcpy(p + sizeof(int128), &state->income_year, sizeof(int32));
	memcpy(p + sizeof(int128) + sizeof(int32), &flags, 1);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(inami_household_income_deserial);
/* Deserialise a state written by inami_household_income_serial. */
Datum
inami_household_income_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *in;
	HouseholdState *state;
	const char *p;
	uint8		flags;

	(void) inami_agg_context(fcinfo, "inami_household_income_deserial");
	in = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(in) != HOUSEHOLD_SERIAL_SIZE)
		elog(ERROR, "inami: household_income state of %d bytes", (int) VARSIZE_ANY_EXHDR(in));
	p = VARDATA_ANY(in);
	state = palloc(sizeof(HouseholdState));
	memcpy(&state->sum, p, sizeof(int128));
	memcpy(&state->income_year, p + sizeof(int128), sizeof(int32));
	memcpy(&flags, p + sizeof(int128) + sizeof(int32), 1);
	state->has_rows = (flags & HOUSEHOLD_HAS_ROWS) != 0;
	state->has_year = (flags & HOUSEHOLD_HAS_YEAR) != 0;
	state->unknown = (flags & HOUSEHOLD_UNKNOWN) != 0;
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(inami_household_income_final);
/* The household's total; NULL when unknown or no member; 0.00 when negative. */
Datum
inami_household_income_final(PG_FUNCTION_ARGS)
{
	HouseholdState *state = PG_ARGISNULL(0) ? NULL : (HouseholdState *) PG_GETARG_POINTER(0);
	int64		cents;

	(void) inami_agg_context(fcinfo, "inami_household_income_final");
	if (state == NULL || !inami_household_total(state, &cents))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(inami_cents_to_numeric(cents));
}

/*
 * What im_verdict keeps in fn_extra: the ceilings, the last one asked for, and the three
 * verdicts, returned as kept (as im_plafond returns its numerics, im_ceiling.c).
 */
typedef struct VerdictCache
{
	InamiCeilings *ceilings;
	bool		have_last;
	int32		last_size;
	int32		last_year;
	int64		last_cents;
	Datum		ok;
	Datum		nok;
	Datum		onhold;
} VerdictCache;

static void *
verdict_load(MemoryContext mcxt)
{
	VerdictCache *cache = MemoryContextAllocZero(mcxt, sizeof(VerdictCache));
	MemoryContext old = MemoryContextSwitchTo(mcxt);

	cache->ceilings = inami_ceilings_load(mcxt);
	cache->ok = PointerGetDatum(cstring_to_text("OK"));
	cache->nok = PointerGetDatum(cstring_to_text("NOK"));
	cache->onhold = PointerGetDatum(cstring_to_text("ONHOLD"));
	MemoryContextSwitchTo(old);
	return cache;
}

PG_FUNCTION_INFO_V1(inami_im_verdict);
/* R3: 'OK' under the ceiling, 'NOK' at or over it, 'ONHOLD' when the income is unknown. */
Datum
inami_im_verdict(PG_FUNCTION_ARGS)
{
	VerdictCache *cache;
	int32		size;
	int32		year;
	int64		income;

	/* without a size or a year there is no ceiling to judge against */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_TEXT_P(cstring_to_text("ONHOLD"));
		PG_RETURN_NULL();
	}
	size = PG_GETARG_INT32(1);
	year = PG_GETARG_INT32(2);

	cache = inami_param_cache(fcinfo, verdict_load);
	/* the ceiling is checked (size >= 1, a row for the year) even for ONHOLD */
	if (!cache->have_last || cache->last_size != size || cache->last_year != year)
	{
		cache->last_cents = inami_ceiling_cents(cache->ceilings, size, year);
		cache->last_size = size;
		cache->last_year = year;
		cache->have_last = true;
	}

	if (PG_ARGISNULL(0))
		PG_RETURN_DATUM(cache->onhold);
	income = inami_numeric_to_cents((Numeric) inami_packed(PG_GETARG_DATUM(0)),
									"household income");
	PG_RETURN_DATUM(income < cache->last_cents ? cache->ok : cache->nok);
}
