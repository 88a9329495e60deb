/*
 * cents.c
 *		Exact money as int64 cents: amounts in the sources have at most two decimals,
 *		so sums in cents are exact and much cheaper than numeric's internal state.
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "cents.h"
#include "inami.h"

/*
 * Return cents as a numeric of scale 2, written as numeric.c's make_result writes it:
 * the short header, the base-NBASE digits without leading or trailing zero digit (none
 * at all for zero, weight 0). Every parameter function returns one per row.
 */
Datum
inami_cents_to_numeric(int64 cents)
{
	uint64		abs = cents < 0 ? -(uint64) cents : (uint64) cents;
	uint64		units = abs / 100;
	int16		digits[8];		/* least significant first: power -1, 0, 1, ... */
	int			first = 0;		/* the least significant digit kept */
	int			n = 0;
	int			weight;
	uint16		header;
	struct varlena *result;
	char	   *p;

	digits[n++] = (int16) ((abs % 100) * 100);
	while (units > 0)
	{
		digits[n++] = (int16) (units % NBASE);
		units /= NBASE;
	}
	if (n == 1 && digits[0] == 0)
		n = 0;					/* zero: no digit at all */
	while (first < n && digits[first] == 0)
		first++;				/* trailing zero digits */
	weight = n > 0 ? n - 2 : 0;
	header = NUMERIC_SHORT | (cents < 0 ? NUMERIC_SHORT_SIGN_MASK : 0) |
		(2 << NUMERIC_SHORT_DSCALE_SHIFT) |
		(weight < 0 ? NUMERIC_SHORT_WEIGHT_SIGN_MASK : 0) | (weight & NUMERIC_SHORT_WEIGHT_MASK);

	result = palloc(VARHDRSZ + sizeof(uint16) + (n - first) * sizeof(int16));
	SET_VARSIZE(result, VARHDRSZ + sizeof(uint16) + (n - first) * sizeof(int16));
	p = VARDATA(result);
	memcpy(p, &header, sizeof(uint16));
	p += sizeof(uint16);
	for (int i = n - 1; i >= first; i--, p += sizeof(int16))
		memcpy(p, &digits[i], sizeof(int16));
	return PointerGetDatum(result);
}

/* Append cents as a decimal with two decimals ("-0.05", "1250.00"). */
void
inami_cents_append(StringInfo buf, int64 cents)
{
	uint64		abs = cents < 0 ? -(uint64) cents : (uint64) cents;
	char		digits[MAXINT8LEN + 1];
	int			cent = (int) (abs % 100);

	/* by hand, not appendStringInfo: a file split for the shards has an amount per item */
	if (cents < 0)
		appendStringInfoChar(buf, '-');
	appendBinaryStringInfo(buf, digits, pg_ulltoa_n(abs / 100, digits));
	appendStringInfoChar(buf, '.');
	appendStringInfoChar(buf, '0' + cent / 10);
	appendStringInfoChar(buf, '0' + cent % 10);
}

/*
 * Complain that an amount is not a whole number of cents within int64: not an amount
 * (22023) when NaN or infinite, out of range when it is whole cents (the message must not
 * blame decimals it does not have), else what is wrong with its form.
 */
void
inami_cents_error(Numeric num, const char *what)
{
	Datum		value = PointerGetDatum(pg_detoast_datum((struct varlena *) num));
	char	   *shown = DatumGetCString(DirectFunctionCall1(numeric_out, value));

	/* NaN and the infinities are no amounts at all: as the SQL functions say of them */
	if (numeric_is_nan(DatumGetNumeric(value)) || numeric_is_inf(DatumGetNumeric(value)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite amount", what),
				 errdetail("The value given is %s.", shown),
				 errhint("Give an amount in EUR; NaN and the infinities are not amounts.")));
	if (DatumGetBool(DirectFunctionCall2(numeric_eq, value,
										 DirectFunctionCall2(numeric_round, value,
															 Int32GetDatum(2)))))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s out of range", what),
				 errdetail("The value given is %s.", shown),
				 errhint("Amounts are limited to +/- 92233720368547758.07; check the amount given.")));
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s must be a finite amount with at most two decimals", what),
			 errdetail("The value given is %s.", shown),
			 errhint("Round the amount to the cent; amounts are limited to +/- 92233720368547758.07.")));
}

/* a + b, an error on overflow. */
int64
inami_cents_add(int64 a, int64 b)
{
	int64		r;

	if (pg_add_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount out of range"),
				 errdetail("Adding %lld cents to %lld cents overflows.",
						   (long long) b, (long long) a),
				 errhint("Amounts are limited to +/- 92233720368547758.07; check the amounts given.")));
	return r;
}

/* a x b, an error on overflow. */
int64
inami_cents_mul(int64 a, int64 b)
{
	int64		r;

	if (pg_mul_s64_overflow(a, b, &r))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("amount out of range"),
				 errdetail("Multiplying %lld cents by %lld overflows.",
						   (long long) a, (long long) b),
				 errhint("Amounts are limited to +/- 92233720368547758.07; check the amounts given.")));
	return r;
}

/* cents / divisor rounded half away from zero (the sources' half-up on positive amounts). */
int64
inami_cents_div_round(int64 cents, int64 divisor)
{
	int64		q = cents / divisor;
	int64		r = cents % divisor;

	Assert(divisor > 0);
	if (r < 0)
		r = -r;
	if (r * 2 >= divisor)
		q += (cents < 0) ? -1 : 1;
	return q;
}
