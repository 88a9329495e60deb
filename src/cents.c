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

#include "inami.h"

/*
 * numeric's on-disk header, as utils/adt/numeric.c lays it out (stable since
 * PostgreSQL 9.1, the format pg_upgrade keeps). Decoding it directly spares a
 * numeric multiplication, truncation and comparison for every amount.
 */
#define NBASE					10000
#define NUMERIC_SIGN_MASK		0xC000
#define NUMERIC_NEG				0x4000
#define NUMERIC_SHORT			0x8000
#define NUMERIC_SPECIAL			0xC000
#define NUMERIC_SHORT_SIGN_MASK 0x2000
#define NUMERIC_SHORT_DSCALE_SHIFT 7
#define NUMERIC_SHORT_WEIGHT_SIGN_MASK 0x0040
#define NUMERIC_SHORT_WEIGHT_MASK 0x003F

/* Digit i of a numeric's base-NBASE digits (a packed datum may be unaligned). */
static inline int
digit_at(const char *digits, int i)
{
	int16		d;

	memcpy(&d, digits + i * sizeof(int16), sizeof(int16));
	return d;
}

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

	/* by hand, not appendStringInfo: the loaders write an amount per row */
	if (cents < 0)
		appendStringInfoChar(buf, '-');
	appendBinaryStringInfo(buf, digits, pg_ulltoa_n(abs / 100, digits));
	appendStringInfoChar(buf, '.');
	appendStringInfoChar(buf, '0' + cent / 10);
	appendStringInfoChar(buf, '0' + cent % 10);
}

/* Complain that an amount is not a whole number of cents within int64. */
static void
cents_error(Numeric num, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s must be a finite amount with at most two decimals", what),
			 errdetail("The value given is %s.",
					   DatumGetCString(DirectFunctionCall1(numeric_out,
														   NumericGetDatum(num)))),
			 errhint("Round the amount to the cent; amounts are limited to +/- 92233720368547758.07.")));
}

/*
 * Convert a numeric to cents; false for an amount with a non-zero third decimal, NaN,
 * infinity, or beyond int64 cents. num may be a packed (short-header) datum:
 * PG_DETOAST_DATUM_PACKED is enough.
 */
bool
inami_numeric_cents(Numeric num, int64 *out)
{
	const char *data = VARDATA_ANY(num);
	int			nbytes = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			weight;
	bool		negative;
	int			ndigits;
	int128		cents = 0;

	memcpy(&header, data, sizeof(uint16));
	if ((header & NUMERIC_SIGN_MASK) == NUMERIC_SPECIAL)
		return false;	/* NaN or infinity */
	if ((header & NUMERIC_SIGN_MASK) == NUMERIC_SHORT)
	{
		negative = (header & NUMERIC_SHORT_SIGN_MASK) != 0;
		weight = (header & NUMERIC_SHORT_WEIGHT_MASK);
		if (header & NUMERIC_SHORT_WEIGHT_SIGN_MASK)
			weight |= ~NUMERIC_SHORT_WEIGHT_MASK;
		data += sizeof(uint16);
		nbytes -= sizeof(uint16);
	}
	else
	{
		int16		w;

		negative = (header & NUMERIC_SIGN_MASK) == NUMERIC_NEG;
		memcpy(&w, data + sizeof(uint16), sizeof(int16));
		weight = w;
		data += 2 * sizeof(uint16);
		nbytes -= 2 * sizeof(uint16);
	}
	ndigits = nbytes / (int) sizeof(int16);
	if (ndigits == 0)
	{
		*out = 0;
		return true;
	}

	/*
	 * value = sum of digits[i] x NBASE^(weight - i). Stored digits carry no leading or
	 * trailing zero digit: the last one at power -2 or below is a third decimal, and a
	 * first one at power 5 or above is at least 10^20, beyond int64 cents. Within those
	 * bounds the int128 below cannot overflow, so the loop needs no check per digit.
	 */
	if (weight - (ndigits - 1) < -1 || weight > 4)
		return false;
	for (int i = 0; i <= weight; i++)
		cents = cents * NBASE + (i < ndigits ? digit_at(data, i) : 0);
	cents *= 100;
	if (weight + 1 < ndigits)
	{
		int			d = digit_at(data, weight + 1);	/* the digit at power -1 */

		if (d % 100 != 0)
			return false;
		cents += d / 100;
	}
	if (cents > PG_INT64_MAX)
		return false;
	*out = negative ? -(int64) cents : (int64) cents;
	return true;
}

/* The same, an error naming what when num is not such an amount. */
int64
inami_numeric_to_cents(Numeric num, const char *what)
{
	int64		cents;

	if (!inami_numeric_cents(num, &cents))
		cents_error(num, what);
	return cents;
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
