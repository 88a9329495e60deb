/*
 * ipcal_income.c
 *		R3: one member's income from their IPCAL items (Circ. O.A. 2024/165 4.2-4.4),
 *		the aggregate inami.ipcal_income(code, amount, tax_year).
 *
 * income = sum of amount x factor, the factor that inami.ipcal_rule gives the code for
 * the tax year. Amounts are whole cents; factors are read as whole millionths, so every
 * product is exact in units of 10^-6 cent and the sum is kept exactly in an int128.
 * Rounding to the cent happens once, at the end, half away from zero: the result is
 * round(sum(amount x factor), 2), whatever the order or the split of the items.
 *
 * The state is fixed-size (an int128 and flags), serialised as a 17-byte bytea for
 * parallel workers; the IPCAL list is read once per query into the transition
 * function's fn_extra, a 10,000-slot table per tax year.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "cents.h"
#include "inami.h"

#ifndef HAVE_INT128
#error "inami needs a 128-bit integer type for its exact sums"
#endif

/* Factors are held in millionths. */
#define FACTOR_SCALE	INT64CONST(1000000)
/* Slots of a tax year's table: codes are four digits. */
#define NCODES			10000
/* Slot values that are not factors (factors lie within +/- FACTOR_SCALE). */
#define SLOT_MISSING	PG_INT32_MIN
#define SLOT_INEXACT	(PG_INT32_MIN + 1)

/* The factors of one tax year, indexed by the code as a number. */
typedef struct IpcalYear
{
	int32		tax_year;
	int32	   *slot;			/* NCODES entries: millionths, or SLOT_* */
} IpcalYear;

/* The whole IPCAL list, read once per query (InamiIpcalList in inami.h). */
struct InamiIpcalList
{
	int			nyears;
	int			maxyears;
	IpcalYear  *years;
	int			last;			/* index of the year found last (rows come grouped) */
	MemoryContext mcxt;
};

/* The aggregate's state. */
typedef struct IpcalState
{
	int128		sum;			/* sum of cents x factor millionths */
	bool		has_rows;
	bool		unknown;		/* a NULL argument: the income is unknown */
} IpcalState;

#define IPCAL_SERIAL_SIZE	(sizeof(int128) + 1)
#define IPCAL_HAS_ROWS		0x01
#define IPCAL_UNKNOWN		0x02

/* The table of a tax year in the cache, created empty (all missing) if needed. */
static IpcalYear *
cache_year(InamiIpcalList *cache, int32 tax_year, bool create)
{
	IpcalYear  *y;

	if (cache->last < cache->nyears && cache->years[cache->last].tax_year == tax_year)
		return &cache->years[cache->last];
	for (int i = 0; i < cache->nyears; i++)
		if (cache->years[i].tax_year == tax_year)
		{
			cache->last = i;
			return &cache->years[i];
		}
	if (!create)
		return NULL;

	if (cache->nyears == cache->maxyears)
	{
		cache->maxyears *= 2;
		cache->years = repalloc(cache->years, cache->maxyears * sizeof(IpcalYear));
	}
	y = &cache->years[cache->nyears];
	y->tax_year = tax_year;
	y->slot = MemoryContextAlloc(cache->mcxt, NCODES * sizeof(int32));
	for (int i = 0; i < NCODES; i++)
		y->slot[i] = SLOT_MISSING;
	cache->last = cache->nyears++;
	return y;
}

/* Keep one ipcal_rule row: (tax_year, code as int, factor millionths, exact?). */
static void
ipcal_rule_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	InamiIpcalList *cache = arg;
	int32		tax_year = DatumGetInt32(inami_param_get(tuple, desc, 1));
	int32		code = DatumGetInt32(inami_param_get(tuple, desc, 2));
	int64		units = DatumGetInt64(inami_param_get(tuple, desc, 3));
	bool		exact = DatumGetBool(inami_param_get(tuple, desc, 4));
	IpcalYear  *y = cache_year(cache, tax_year, true);

	if (code < 0 || code >= NCODES || units < -FACTOR_SCALE || units > FACTOR_SCALE)
		elog(ERROR, "inami: ipcal_rule row outside its CHECK constraints");
	y->slot[code] = exact ? (int32) units : SLOT_INEXACT;
}

/* Read the whole IPCAL list into mcxt. */
InamiIpcalList *
inami_ipcal_list_load(MemoryContext mcxt)
{
	InamiIpcalList *cache = MemoryContextAllocZero(mcxt, sizeof(InamiIpcalList));

	cache->mcxt = mcxt;
	cache->maxyears = 8;
	cache->years = MemoryContextAlloc(mcxt, cache->maxyears * sizeof(IpcalYear));
	/* round() only to keep the cast quiet; "exact" says whether it changed anything */
	inami_param_foreach("SELECT tax_year, code::int4, round(factor * 1000000)::int8,"
						" factor * 1000000 = round(factor * 1000000)"
						" FROM inami.ipcal_rule",
						0, NULL, NULL, ipcal_rule_row, cache);
	return cache;
}

/* The IPCAL list, read on the first call of the query and kept in fn_extra. */
static InamiIpcalList *
ipcal_cache(FunctionCallInfo fcinfo)
{
	if (fcinfo->flinfo->fn_extra == NULL)
		fcinfo->flinfo->fn_extra = inami_ipcal_list_load(fcinfo->flinfo->fn_mcxt);
	return fcinfo->flinfo->fn_extra;
}

/* The factor in millionths of a code for a tax year; an error when the list has none. */
int32
inami_ipcal_factor(InamiIpcalList *cache, text *code, int32 tax_year)
{
	const char *s = VARDATA_ANY(code);
	int			len = VARSIZE_ANY_EXHDR(code);
	int			n = 0;
	IpcalYear  *y;
	int32		f;

	if (len != 4)
		n = -1;
	for (int i = 0; i < len && n >= 0; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			n = -1;
		else
			n = n * 10 + (s[i] - '0');
	}
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid IPCAL code \"%s\"", text_to_cstring(code)),
				 errdetail("An IPCAL code is four digits; the code given is \"%s\".",
						   text_to_cstring(code)),
				 errhint("Pass the code as the tax administration sends it, for example '1250'.")));

	y = cache_year(cache, tax_year, false);
	f = (y != NULL) ? y->slot[n] : SLOT_MISSING;
	/* a year no row can take (the table's CHECK) is the caller's mistake, not a missing row */
	if (f == SLOT_MISSING)
		inami_check_year(tax_year, "tax year");
	if (f == SLOT_MISSING)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("IPCAL code \"%s\" has no factor for tax year %d",
						text_to_cstring(code), tax_year),
				 errdetail("inami.ipcal_rule has no row with tax_year = %d and code = '%s'%s.",
						   tax_year, text_to_cstring(code),
						   (y == NULL) ? " (it has no row at all for that tax year)" : ""),
				 errhint("Add the code from the yearly IPCAL list: INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source) VALUES (%d, '%s', <factor>, <label>, <source>).",
						 tax_year, text_to_cstring(code))));
	if (f == SLOT_INEXACT)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("IPCAL factor of code \"%s\" for tax year %d has more than six decimals",
						text_to_cstring(code), tax_year),
				 errdetail("inami.ipcal_rule's factor for tax_year = %d and code = '%s' is not a whole number of millionths, so the income would not be exact.",
						   tax_year, text_to_cstring(code)),
				 errhint("Give the factor as the IPCAL list does, with at most six decimals (1, -1, 0.1, 0).")));
	return f;
}

/* A sum of cents x factor millionths rounded once to the cent, half away from zero. */
int64
inami_ipcal_round(int128 sum)
{
	int128		q = sum / FACTOR_SCALE;
	int128		r = sum % FACTOR_SCALE;

	if (r >= FACTOR_SCALE / 2)
		q++;
	else if (r <= -FACTOR_SCALE / 2)
		q--;
	if (q > PG_INT64_MAX || q < -PG_INT64_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("IPCAL income out of range"),
				 errdetail("The income of the member exceeds +/- 92233720368547758.07."),
				 errhint("Check the IPCAL amounts: each is a sum in EUR with at most two decimals.")));
	return (int64) q;
}

/* Complain that a member's income is beyond what the aggregate can hold. */
void
inami_ipcal_overflow(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("IPCAL income out of range"),
			 errdetail("The exact sum of the member's IPCAL items (about +/- 1.7 x 10^30 EUR at most) overflows."),
			 errhint("Check the IPCAL amounts: each is a sum in EUR with at most two decimals.")));
}

/* The aggregate's memory context; an error when not called as an aggregate. */
MemoryContext
inami_agg_context(FunctionCallInfo fcinfo, const char *fname)
{
	MemoryContext aggcontext;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		elog(ERROR, "%s called in non-aggregate context", fname);
	return aggcontext;
}

PG_FUNCTION_INFO_V1(inami_ipcal_income_trans);
/* Transition: add amount x factor of one IPCAL item. */
Datum
inami_ipcal_income_trans(PG_FUNCTION_ARGS)
{
	IpcalState *state;
	int32		factor = 0;

	/* the aggregate context is looked up once per group, when its state is made */
	if (PG_ARGISNULL(0))
		state = MemoryContextAllocZero(inami_agg_context(fcinfo, "inami_ipcal_income_trans"),
									   sizeof(IpcalState));
	else
		state = (IpcalState *) PG_GETARG_POINTER(0);
	state->has_rows = true;

	/* a code is checked whenever it can be: a missing one is never skipped */
	if (!PG_ARGISNULL(1) && !PG_ARGISNULL(3))
		factor = inami_ipcal_factor(ipcal_cache(fcinfo), (text *) inami_packed(PG_GETARG_DATUM(1)),
									PG_GETARG_INT32(3));
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
	{
		state->unknown = true;
		PG_RETURN_POINTER(state);
	}

	if (factor != 0)
	{
		Numeric		amount = (Numeric) inami_packed(PG_GETARG_DATUM(2));
		int64		cents = inami_numeric_to_cents(amount, "IPCAL amount");

		/* |cents x factor| < 2^63 x 2^20: never overflows; the sum is checked */
		if (__builtin_add_overflow(state->sum, (int128) cents * factor, &state->sum))
			inami_ipcal_overflow();
	}
	else if (!PG_ARGISNULL(2))
	{
		/* a factor of 0 ignores the amount, but a malformed amount is still an error */
		(void) inami_numeric_to_cents((Numeric) inami_packed(PG_GETARG_DATUM(2)),
									  "IPCAL amount");
	}
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(inami_ipcal_income_combine);
/* Combine two partial states (parallel workers, partitions). */
Datum
inami_ipcal_income_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext = inami_agg_context(fcinfo, "inami_ipcal_income_combine");
	IpcalState *a = PG_ARGISNULL(0) ? NULL : (IpcalState *) PG_GETARG_POINTER(0);
	IpcalState *b = PG_ARGISNULL(1) ? NULL : (IpcalState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
	{
		a = MemoryContextAlloc(aggcontext, sizeof(IpcalState));
		memcpy(a, b, sizeof(IpcalState));
		PG_RETURN_POINTER(a);
	}
	if (__builtin_add_overflow(a->sum, b->sum, &a->sum))
		inami_ipcal_overflow();
	a->has_rows |= b->has_rows;
	a->unknown |= b->unknown;
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(inami_ipcal_income_serial);
/* Serialise a state: the int128 sum, then one byte of flags. */
Datum
inami_ipcal_income_serial(PG_FUNCTION_ARGS)
{
	IpcalState *state;
	bytea	   *out = palloc(VARHDRSZ + IPCAL_SERIAL_SIZE);
	uint8		flags;

	(void) inami_agg_context(fcinfo, "inami_ipcal_income_serial");
	state = (IpcalState *) PG_GETARG_POINTER(0);
	flags = (state->has_rows ? IPCAL_HAS_ROWS : 0) | (state->unknown ? IPCAL_UNKNOWN : 0);
	SET_VARSIZE(out, VARHDRSZ + IPCAL_SERIAL_SIZE);
	memcpy(VARDATA(out), &state->sum, sizeof(int128));
	memcpy(VARDATA(out) + sizeof(int128), &flags, 1);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(inami_ipcal_income_deserial);
/* Deserialise a state written by inami_ipcal_income_serial. */
Datum
inami_ipcal_income_deserial(PG_FUNCTION_ARGS)
{
	bytea	   *in;
	IpcalState *state;
	uint8		flags;

	(void) inami_agg_context(fcinfo, "inami_ipcal_income_deserial");
	in = PG_GETARG_BYTEA_PP(0);
	if (VARSIZE_ANY_EXHDR(in) != IPCAL_SERIAL_SIZE)
		elog(ERROR, "inami: ipcal_income state of %d bytes", (int) VARSIZE_ANY_EXHDR(in));
	state = palloc(sizeof(IpcalState));
	memcpy(&state->sum, VARDATA_ANY(in), sizeof(int128));
	memcpy(&flags, VARDATA_ANY(in) + sizeof(int128), 1);
	state->has_rows = (flags & IPCAL_HAS_ROWS) != 0;
	state->unknown = (flags & IPCAL_UNKNOWN) != 0;
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(inami_ipcal_income_final);
/* The income rounded once to the cent (half away from zero); NULL when unknown or no row. */
Datum
inami_ipcal_income_final(PG_FUNCTION_ARGS)
{
	IpcalState *state = PG_ARGISNULL(0) ? NULL : (IpcalState *) PG_GETARG_POINTER(0);

	(void) inami_agg_context(fcinfo, "inami_ipcal_income_final");
	if (state == NULL || !state->has_rows || state->unknown)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(inami_cents_to_numeric(inami_ipcal_round(state->sum)));
}

/* A member's IPCAL items, the two arrays of its row (codes text[], amounts numeric[]). */
typedef struct IpcalItems
{
	Datum	   *codes;
	Datum	   *amounts;
	bool	   *code_nulls;
	bool	   *amount_nulls;
	int			ncodes;
	int			namounts;
} IpcalItems;

/* Unpack the two arrays; false, with nothing unpacked, unless both are one-dimensional. */
static bool
ipcal_items_unpack(ArrayType *codes, ArrayType *amounts, IpcalItems *items)
{
	if (ARR_NDIM(codes) > 1 || ARR_NDIM(amounts) > 1)
		return false;
	deconstruct_array(codes, TEXTOID, -1, false, TYPALIGN_INT,
					  &items->codes, &items->code_nulls, &items->ncodes);
	deconstruct_array(amounts, NUMERICOID, -1, false, TYPALIGN_INT,
					  &items->amounts, &items->amount_nulls, &items->namounts);
	return true;
}

/*
 * The income in cents of a member's IPCAL items kept in its row (codes text[], amounts
 * numeric[], as inami.ipcal_items_valid checks them): round(sum of amount x factor),
 * 0 without any item (E 4.3: "00" with 0 EUR). As ipcal_income does over the same items,
 * a NULL code or amount makes the income unknown (false), and every code given is still
 * checked, with its amount. The C pass of the control and inami.ipcal_items_income share it.
 */
bool
inami_ipcal_items_cents(InamiIpcalList *list, Datum codes, Datum amounts, int32 tax_year,
						int64 *cents_out)
{
	ArrayType  *code_array = DatumGetArrayTypeP(codes);
	ArrayType  *amount_array = DatumGetArrayTypeP(amounts);
	IpcalItems	items;
	bool		unknown = false;
	int128		sum = 0;

	if (!ipcal_items_unpack(code_array, amount_array, &items))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("IPCAL items must be one-dimensional arrays"),
				 errdetail("The codes have %d dimensions, the amounts %d.",
						   ARR_NDIM(code_array), ARR_NDIM(amount_array)),
				 errhint("Give the codes and the amounts as two flat arrays, one amount per code.")));
	if (items.ncodes != items.namounts)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("IPCAL items need as many amounts as codes"),
				 errdetail("%d codes and %d amounts.", items.ncodes, items.namounts),
				 errhint("Give one amount per code, in the same order.")));
	for (int i = 0; i < items.ncodes; i++)
	{
		int32		factor = 0;
		int64		cents = 0;

		if (items.code_nulls[i] || items.amount_nulls[i])
			unknown = true;
		if (!items.code_nulls[i])
			factor = inami_ipcal_factor(list, DatumGetTextPP(items.codes[i]), tax_year);
		if (!items.code_nulls[i] && !items.amount_nulls[i])
			cents = inami_numeric_to_cents(DatumGetNumeric(items.amounts[i]), "IPCAL amount");
		if (__builtin_add_overflow(sum, (int128) cents * factor, &sum))
			inami_ipcal_overflow();
	}
	if (unknown)
		return false;
	*cents_out = inami_ipcal_round(sum);
	return true;
}

static void *
ipcal_list_load(MemoryContext mcxt)
{
	return inami_ipcal_list_load(mcxt);
}

PG_FUNCTION_INFO_V1(inami_ipcal_items_income);
/*
 * inami.ipcal_items_income(codes text[], amounts numeric[], tax_year int): what
 * ipcal_income gives over the same items, from the arrays of a member's row; the IPCAL
 * list is read once per query (inami_param_cache).
 */
Datum
inami_ipcal_items_income(PG_FUNCTION_ARGS)
{
	InamiIpcalList *list = inami_param_cache(fcinfo, ipcal_list_load);
	int64		cents;

	if (!inami_ipcal_items_cents(list, PG_GETARG_DATUM(0), PG_GETARG_DATUM(1), PG_GETARG_INT32(2),
								 &cents))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(inami_cents_to_numeric(cents));
}

PG_FUNCTION_INFO_V1(inami_ipcal_items_valid);
/*
 * inami.ipcal_items_valid(codes text[], amounts numeric[]): the CHECK of a member's items
 * in inami.syst04_member: one-dimensional, as many codes as amounts, no NULL, codes of
 * four digits, amounts whole cents within int64.
 */
Datum
inami_ipcal_items_valid(PG_FUNCTION_ARGS)
{
	IpcalItems	items;

	if (!ipcal_items_unpack(PG_GETARG_ARRAYTYPE_P(0), PG_GETARG_ARRAYTYPE_P(1), &items) ||
		items.ncodes != items.namounts)
		PG_RETURN_BOOL(false);
	for (int i = 0; i < items.ncodes; i++)
	{
		text	   *code;
		int64		cents;

		if (items.code_nulls[i] || items.amount_nulls[i])
			PG_RETURN_BOOL(false);
		code = DatumGetTextPP(items.codes[i]);
		if (!inami_all_digits(VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code), 4))
			PG_RETURN_BOOL(false);
		if (!inami_numeric_cents(DatumGetNumeric(items.amounts[i]), &cents))
			PG_RETURN_BOOL(false);
	}
	PG_RETURN_BOOL(true);
}
