/*
 * im_ceiling.c
 *		R2: the IM income ceiling of a household (Circ. O.A. 2024/165 4.2, 2024/200).
 *		ceiling(size, income year) = base + per_member x (size - 1), from inami.im_ceiling.
 */
#include "postgres.h"

#include "inami.h"

/* The household sizes whose ceilings im_plafond keeps as numerics, per income year. */
#define KEPT_SIZES		16

/* Keep one ceiling row: (income_year, base cents, per_member cents). */
static void
ceiling_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	InamiCeilings *c = arg;
	int			i = c->n++;

	if (i == c->max)
	{
		c->max *= 2;
		c->income_year = repalloc(c->income_year, c->max * sizeof(int));
		c->base = repalloc(c->base, c->max * sizeof(int64));
		c->per_member = repalloc(c->per_member, c->max * sizeof(int64));
	}
	c->income_year[i] = DatumGetInt32(inami_param_get(tuple, desc, 1));
	c->base[i] = DatumGetInt64(inami_param_get(tuple, desc, 2));
	c->per_member[i] = DatumGetInt64(inami_param_get(tuple, desc, 3));
}

/* Read inami.im_ceiling into mcxt (callers keep it in fn_extra: once per query). */
InamiCeilings *
inami_ceilings_load(MemoryContext mcxt)
{
	InamiCeilings *c = MemoryContextAllocZero(mcxt, sizeof(InamiCeilings));

	c->max = 16;
	c->income_year = MemoryContextAlloc(mcxt, c->max * sizeof(int));
	c->base = MemoryContextAlloc(mcxt, c->max * sizeof(int64));
	c->per_member = MemoryContextAlloc(mcxt, c->max * sizeof(int64));
	inami_param_foreach("SELECT income_year, (base * 100)::int8, (per_member * 100)::int8"
						" FROM inami.im_ceiling ORDER BY income_year",
						0, NULL, NULL, ceiling_row, c);
	c->mcxt = mcxt;
	c->kept = MemoryContextAllocZero(mcxt, Max(c->n, 1) * KEPT_SIZES * sizeof(Datum));
	return c;
}

/* The row of income_year; an error when the size is below 1 or the year has no row. */
static int
ceiling_index(const InamiCeilings *c, int household_size, int income_year)
{
	if (household_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("household size must be at least 1"),
				 errdetail("The household size given is %d.", household_size),
				 errhint("Count every member of the household, the requester included.")));

	for (int i = 0; i < c->n; i++)
		if (c->income_year[i] == income_year)
			return i;

	inami_check_year(income_year, "income year");
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("no IM income ceiling for income year %d", income_year),
			 errdetail("inami.im_ceiling has no row with income_year = %d.", income_year),
			 errhint("Add the ceiling from the yearly circular: INSERT INTO inami.im_ceiling (income_year, base, per_member, source) VALUES (%d, ...).",
					 income_year)));
	pg_unreachable();
}

/* The ceiling of row i for a household size. */
static int64
ceiling_at(const InamiCeilings *c, int i, int household_size)
{
	return inami_cents_add(c->base[i], inami_cents_mul(c->per_member[i], household_size - 1));
}

/* The ceiling in cents; an error when the size is below 1 or the year has no row. */
int64
inami_ceiling_cents(const InamiCeilings *c, int household_size, int income_year)
{
	return ceiling_at(c, ceiling_index(c, household_size, income_year), household_size);
}

static void *
ceilings_load(MemoryContext mcxt)
{
	return inami_ceilings_load(mcxt);
}

PG_FUNCTION_INFO_V1(inami_im_plafond);
/*
 * The ceiling as a numeric. Those of the usual sizes are made once per query and
 * returned as kept, not copied: a function's result is read-only to its callers, who copy
 * what they keep beyond the evaluation (sorts, hash tables, aggregates, windows,
 * variables, tuplestores), as they do a constant's. So the cache may be read again (its
 * memory reset, params.c) at the next call: after another snapshot or subtransaction, a
 * cursor fetched in savepoints. Building a numeric per row took a sixth of the call.
 */
Datum
inami_im_plafond(PG_FUNCTION_ARGS)
{
	int32		household_size = PG_GETARG_INT32(0);
	int32		income_year = PG_GETARG_INT32(1);
	InamiCeilings *c = inami_param_cache(fcinfo, ceilings_load);
	int			i = ceiling_index(c, household_size, income_year);
	Datum	   *kept;

	if (household_size > KEPT_SIZES)
		PG_RETURN_DATUM(inami_cents_to_numeric(ceiling_at(c, i, household_size)));
	kept = &c->kept[i * KEPT_SIZES + household_size - 1];
	if (*kept == (Datum) 0)
	{
		MemoryContext old = MemoryContextSwitchTo(c->mcxt);

		*kept = inami_cents_to_numeric(ceiling_at(c, i, household_size));
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_DATUM(*kept);
}
