/*
 * maf_counter.c
 *		R6: the MAF counter. A household's personal contributions of the year add up;
 *		from the moment they reach the ceiling, the insurance pays 100 %: what is paid
 *		beyond the ceiling is refunded.
 *
 * With paid(x) the contributions counted so far and refunded(x) = max(0, paid - ceiling),
 * the refund of one contribution is refunded(after it) - refunded(before it). Over any
 * prefix the refunds add up to max(0, total - ceiling), so a negative contribution (a
 * correction) that brings the total back under or towards the ceiling gives a negative
 * refund: the part refunded too much.
 *
 * inami.maf_refund(amount, ceiling) used as a window function (ORDER BY date, id) gives
 * each contribution's refund; inami.maf_refunded(amount, ceiling) gives the year's total.
 * Both share one state: the total and the last amount in int64 cents.
 */
#include "postgres.h"

#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "cents.h"
#include "inami.h"

/* The counter's state, in the aggregate's memory context. */
typedef struct MafCounter
{
	int64		total;			/* contributions counted so far, in cents */
	int64		last;			/* the last contribution counted, in cents */
	int64		ceiling;		/* the ceiling of the household, in cents */
	bool		has_ceiling;	/* a non-NULL amount has been counted */
	bool		last_null;		/* the last row's amount was NULL */
} MafCounter;

/* Cents of a NOT NULL numeric argument. */
static int64
counter_cents(FunctionCallInfo fcinfo, int argno, const char *what)
{
	return inami_numeric_to_cents((Numeric) inami_packed(PG_GETARG_DATUM(argno)), what);
}

/* Complain that two ceilings differ within one counter. */
static void
counter_ceiling_mismatch(int64 a, int64 b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the MAF ceiling changes within one household's counter"),
			 errdetail("The ceilings given are %s and %s.",
					   DatumGetCString(DirectFunctionCall1(numeric_out, inami_cents_to_numeric(a))),
					   DatumGetCString(DirectFunctionCall1(numeric_out, inami_cents_to_numeric(b)))),
			 errhint("Give one ceiling per household and year (inami.maf_ceiling), and partition by household and year.")));
}

/* Transition: count one contribution (a NULL amount counts nothing and gets a NULL refund). */
PG_FUNCTION_INFO_V1(inami_maf_counter_trans);
Datum
inami_maf_counter_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MafCounter *c;
	int64		amount;
	int64		ceiling;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "inami_maf_counter_trans called in non-aggregate context");
	if (PG_ARGISNULL(0))
		c = MemoryContextAllocZero(aggcxt, sizeof(MafCounter));
	else
		c = (MafCounter *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
	{
		c->last_null = true;
		PG_RETURN_POINTER(c);
	}
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the MAF counter needs a ceiling"),
				 errdetail("A contribution of %s EUR has a NULL ceiling.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(1)))),
				 errhint("Give the household's ceiling of the year, from inami.maf_ceiling(year, household_income, maf_social).")));
	amount = counter_cents(fcinfo, 1, "MAF contribution");
	ceiling = counter_cents(fcinfo, 2, "MAF ceiling");
	if (ceiling < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("MAF ceiling must not be negative"),
				 errdetail("The ceiling given is %s.",
						   DatumGetCString(DirectFunctionCall1(numeric_out, PG_GETARG_DATUM(2)))),
				 errhint("Give the household's ceiling of the year, from inami.maf_ceiling(year, household_income, maf_social).")));
	if (c->has_ceiling && c->ceiling != ceiling)
		counter_ceiling_mismatch(c->ceiling, ceiling);
	c->ceiling = ceiling;
	c->has_ceiling = true;
	c->total = inami_cents_add(c->total, amount);
	c->last = amount;
	c->last_null = false;
	PG_RETURN_POINTER(c);
}

/* refunded(paid) = max(0, paid - ceiling), in cents. */
static inline int64
counter_refunded(int64 paid, int64 ceiling)
{
	return paid > ceiling ? paid - ceiling : 0;
}

/* Final of maf_refund: the refund of the last contribution counted. */
PG_FUNCTION_INFO_V1(inami_maf_refund_final);
Datum
inami_maf_refund_final(PG_FUNCTION_ARGS)
{
	MafCounter *c;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	c = (MafCounter *) PG_GETARG_POINTER(0);
	if (c->last_null || !c->has_ceiling)
		PG_RETURN_NULL();
	/* total = before + last was computed without overflow, so before fits */
	PG_RETURN_DATUM(inami_cents_to_numeric(counter_refunded(c->total, c->ceiling) -
										   counter_refunded(c->total - c->last, c->ceiling)));
}

/* Final of maf_refunded: what the contributions counted give back in all. */
PG_FUNCTION_INFO_V1(inami_maf_refunded_final);
Datum
inami_maf_refunded_final(PG_FUNCTION_ARGS)
{
	MafCounter *c;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	c = (MafCounter *) PG_GETARG_POINTER(0);
	if (!c->has_ceiling)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(inami_cents_to_numeric(counter_refunded(c->total, c->ceiling)));
}

/* Combine two partial counters: totals add; the last contribution is the second's. */
PG_FUNCTION_INFO_V1(inami_maf_counter_combine);
Datum
inami_maf_counter_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MafCounter *a;
	MafCounter *b;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "inami_maf_counter_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	b = (MafCounter *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		a = MemoryContextAlloc(aggcxt, sizeof(MafCounter));
		*a = *b;
		PG_RETURN_POINTER(a);
	}
	a = (MafCounter *) PG_GETARG_POINTER(0);
	if (!b->has_ceiling)
	{
		a->last_null = a->last_null || b->last_null;
		PG_RETURN_POINTER(a);
	}
	if (a->has_ceiling && a->ceiling != b->ceiling)
		counter_ceiling_mismatch(a->ceiling, b->ceiling);
	a->total = inami_cents_add(a->total, b->total);
	a->ceiling = b->ceiling;
	a->has_ceiling = true;
	a->last = b->last;
	a->last_null = b->last_null;
	PG_RETURN_POINTER(a);
}

/* Serialize a counter as bytea. */
PG_FUNCTION_INFO_V1(inami_maf_counter_serialize);
Datum
inami_maf_counter_serialize(PG_FUNCTION_ARGS)
{
	MafCounter *c;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "inami_maf_counter_serialize called in non-aggregate context");
	c = (MafCounter *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendint64(&buf, c->total);
	pq_sendint64(&buf, c->last);
	pq_sendint64(&buf, c->ceiling);
	pq_sendbyte(&buf, c->has_ceiling ? 1 : 0);
	pq_sendbyte(&buf, c->last_null ? 1 : 0);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize what inami_maf_counter_serialize wrote. */
PG_FUNCTION_INFO_V1(inami_maf_counter_deserialize);
Datum
inami_maf_counter_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt;
	StringInfoData buf;
	MafCounter *c;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "inami_maf_counter_deserialize called in non-aggregate context");
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	c = MemoryContextAllocZero(aggcxt, sizeof(MafCounter));
	c->total = pq_getmsgint64(&buf);
	c->last = pq_getmsgint64(&buf);
	c->ceiling = pq_getmsgint64(&buf);
	c->has_ceiling = pq_getmsgbyte(&buf) != 0;
	c->last_null = pq_getmsgbyte(&buf) != 0;
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(c);
}
