/*
 * cents.h
 *		Amounts read as int64 cents from numerics (the rest of the cents arithmetic is
 *		in cents.c). The decoder is inline: the aggregates call it once per row.
 */
#ifndef INAMI_CENTS_H
#define INAMI_CENTS_H

#include "postgres.h"

#include "utils/numeric.h"

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

extern void inami_cents_error(Numeric num, const char *what) pg_attribute_noreturn();

/*
 * Convert a numeric to cents; false for an amount with a non-zero third decimal, NaN,
 * infinity, or beyond int64 cents. num may be a packed (short-header) datum:
 * inami_packed (PG_DETOAST_DATUM_PACKED) is enough.
 */
static inline bool
inami_numeric_cents(Numeric num, int64 *out)
{
	const char *data = VARDATA_ANY(num);
	int			nbytes = VARSIZE_ANY_EXHDR(num);
	uint16		header;
	int			weight;
	bool		negative;
	int			ndigits;
	uint64		cents = 0;

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
	 * first one at power 5 or above, or of 10 or more at power 4, is at least 10^17
	 * euros, beyond int64 cents. Within those bounds the cents stay under 10^19 and fit
	 * a uint64, so the loop needs no check per digit (and no 128-bit arithmetic).
	 */
	if (weight - (ndigits - 1) < -1 || weight > 4 || (weight == 4 && digit_at(data, 0) >= 10))
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
static inline int64
inami_numeric_to_cents(Numeric num, const char *what)
{
	int64		cents;

	if (!inami_numeric_cents(num, &cents))
		inami_cents_error(num, what);
	return cents;
}

#endif							/* INAMI_CENTS_H */
