/*
 * dependent_limit.c
 *		R1: the quarterly income limit of a dependent person (Circ. O.A. 2024/253).
 *
 * The monthly amounts come from the view inami.dependent_limit_month (base amount x
 * factor^n, rounded to the cent); the quarter is the mean of its three months,
 * rounded half-up to the cent. A quarter is answered only inside the coverage that
 * inami.parameter_coverage vouches for.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"

#include "inami.h"

/* A month counted from year 0: year x 12 + month - 1. */
#define MONTH_INDEX(y, m)	((y) * 12 + (m) - 1)

typedef struct DependentLimitCache
{
	int			nsteps;
	int			maxsteps;
	int		   *step_month;		/* first month of each step, ascending */
	int64	   *step_cents;		/* monthly amount of each step, in cents */
	bool		have_coverage;
	DateADT		valid_until;	/* last day vouched for */
	int			first_quarter;	/* quarter index (year x 4 + q - 1) of values[0] */
	int			nquarters;
	Datum	   *values;			/* numeric per quarter, filled as asked; 0 = not yet */
	DateADT		first_day;		/* first day of quarter first_quarter */
	int			ndays;			/* days from first_day to the last vouched quarter's end */
	uint16	   *day_quarter;	/* per day from first_day: its quarter, from first_quarter */
	MemoryContext mcxt;
} DependentLimitCache;

/* Keep one step row: (month index, cents). */
static void
step_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	DependentLimitCache *cache = arg;
	int			i = cache->nsteps++;

	if (i == cache->maxsteps)
	{
		cache->maxsteps *= 2;
		cache->step_month = repalloc(cache->step_month, cache->maxsteps * sizeof(int));
		cache->step_cents = repalloc(cache->step_cents, cache->maxsteps * sizeof(int64));
	}

	cache->step_month[i] = DatumGetInt32(inami_param_get(tuple, desc, 1));
	cache->step_cents[i] = DatumGetInt64(inami_param_get(tuple, desc, 2));
}

/* Keep the coverage row. */
static void
coverage_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	DependentLimitCache *cache = arg;

	cache->have_coverage = true;
	cache->valid_until = DatumGetDateADT(inami_param_get(tuple, desc, 1));
}

/* The first day of a quarter index (year x 4 + q - 1). */
static DateADT
quarter_first_day(int quarter_index)
{
	return date2j(quarter_index / 4, quarter_index % 4 * 3 + 1, 1) - POSTGRES_EPOCH_JDATE;
}

/* Read the steps and the coverage into mcxt (kept by inami_param_cache). */
static void *
dependent_limit_load(MemoryContext mcxt)
{
	DependentLimitCache *cache;
	int			year,
				month,
				day;

	cache = MemoryContextAllocZero(mcxt, sizeof(DependentLimitCache));
	cache->mcxt = mcxt;
	cache->maxsteps = 64;
	cache->step_month = MemoryContextAlloc(mcxt, cache->maxsteps * sizeof(int));
	cache->step_cents = MemoryContextAlloc(mcxt, cache->maxsteps * sizeof(int64));
	inami_param_foreach("SELECT (extract(year FROM effective_from) * 12"
						" + extract(month FROM effective_from) - 1)::int4,"
						" (monthly_amount * 100)::int8"
						" FROM inami.dependent_limit_month ORDER BY effective_from",
						0, NULL, NULL, step_row, cache);
	inami_param_foreach("SELECT valid_until FROM inami.parameter_coverage"
						" WHERE series = 'quarterly_dependent_limit'"
						" ORDER BY valid_until DESC LIMIT 1",
						0, NULL, NULL, coverage_row, cache);

	if (cache->nsteps == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no pivot-index step for the quarterly dependent limit"),
				 errdetail("inami.pivot_index_step or inami.dependent_limit_base is empty."),
				 errhint("Add the base to inami.dependent_limit_base and the steps to inami.pivot_index_step.")));
	if (!cache->have_coverage)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the coverage of the quarterly dependent limit is not set"),
				 errdetail("inami.parameter_coverage has no row for series \"quarterly_dependent_limit\"."),
				 errhint("INSERT INTO inami.parameter_coverage (series, valid_until, source) VALUES ('quarterly_dependent_limit', <last vouched day>, <source>).")));

	/* one slot per quarter from the first step to the last vouched quarter */
	j2date(cache->valid_until + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	/* the tables' CHECKs (1990-2200) bound the tables below; never trust them blindly */
	if (cache->step_month[0] < MONTH_INDEX(1990, 1) || year > 2200)
		elog(ERROR, "inami: pivot_index_step or parameter_coverage outside its CHECK constraints");
	cache->first_quarter = cache->step_month[0] / 3;
	cache->nquarters = Max(0, MONTH_INDEX(year, month) / 3 - cache->first_quarter + 1);
	cache->values = MemoryContextAllocZero(mcxt, Max(1, cache->nquarters) * sizeof(Datum));
	/* the quarter of every day they span (the tables' CHECKs keep it to 1990-2200) */
	cache->first_day = quarter_first_day(cache->first_quarter);
	cache->ndays = quarter_first_day(cache->first_quarter + cache->nquarters) - cache->first_day;
	cache->day_quarter = MemoryContextAlloc(mcxt, Max(1, cache->ndays) * sizeof(uint16));
	for (int k = 0; k < cache->nquarters; k++)
	{
		DateADT		end = quarter_first_day(cache->first_quarter + k + 1);

		for (DateADT d = quarter_first_day(cache->first_quarter + k); d < end; d++)
			cache->day_quarter[d - cache->first_day] = (uint16) k;
	}
	return cache;
}

/* The monthly amount in force in a month, in cents. */
static int64
month_cents(DependentLimitCache *cache, int month_index)
{
	int			i = cache->nsteps - 1;

	while (i > 0 && cache->step_month[i] > month_index)
		i--;
	return cache->step_cents[i];
}

/* Format a date as YYYY-MM-DD for messages, whatever DateStyle says. */
static char *
iso_date(DateADT day)
{
	int			year,
				month,
				mday;

	j2date(day + POSTGRES_EPOCH_JDATE, &year, &month, &mday);
	return psprintf("%04d-%02d-%02d", year, month, mday);
}

/* Format a month index as YYYY-MM-DD (its first day) for messages. */
static char *
month_text(int month_index)
{
	return psprintf("%04d-%02d-01", month_index / 12, month_index % 12 + 1);
}

/* An error unless quarter is 1..4 and year 1990..2200. */
static void
check_quarter(int year, int quarter)
{
	if (quarter < 1 || quarter > 4)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("quarter must be between 1 and 4"),
				 errdetail("The quarter given is %d.", quarter),
				 errhint("Give the calendar quarter: 1 (January-March) to 4 (October-December).")));
	inami_check_year(year, "year");
}

/*
 * The limit of quarter q (1..4) of year (check_quarter passed), as a numeric made once per
 * query and returned as kept, not copied (as im_plafond does, im_ceiling.c: copying it
 * took a sixth of a call).
 */
static Datum
dependent_limit(DependentLimitCache *cache, int year, int quarter)
{
	int			first_month;
	int			slot;
	DateADT		quarter_end;
	int64		sum = 0;
	MemoryContext old;

	/* a quarter already made passed the checks below under this very cache */
	slot = year * 4 + quarter - 1 - cache->first_quarter;
	if (slot >= 0 && slot < cache->nquarters && cache->values[slot] != (Datum) 0)
		return cache->values[slot];

	first_month = MONTH_INDEX(year, quarter * 3 - 2);
	if (first_month < cache->step_month[0])
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("quarter %d of %d is before the first pivot-index step", quarter, year),
				 errdetail("The first step in inami.pivot_index_step takes effect on %s.",
						   month_text(cache->step_month[0])),
				 errhint("Add the earlier steps to inami.pivot_index_step to compute older quarters.")));

	quarter_end = date2j(quarter == 4 ? year + 1 : year, quarter == 4 ? 1 : quarter * 3 + 1, 1)
		- POSTGRES_EPOCH_JDATE - 1;
	if (quarter_end > cache->valid_until)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("quarter %d of %d is after the vouched coverage of the quarterly dependent limit",
						quarter, year),
				 errdetail("The pivot-index steps are vouched for up to %s (inami.parameter_coverage, series \"quarterly_dependent_limit\").",
						   iso_date(cache->valid_until)),
				 errhint("Add the pivot-index crossings published since to inami.pivot_index_step, then a row to inami.parameter_coverage with the new valid_until and its source.")));

	Assert(slot >= 0 && slot < cache->nquarters);
	for (int m = 0; m < 3; m++)
		sum += month_cents(cache, first_month + m);
	old = MemoryContextSwitchTo(cache->mcxt);
	cache->values[slot] = inami_cents_to_numeric(inami_cents_div_round(sum, 3));
	MemoryContextSwitchTo(old);
	return cache->values[slot];
}

PG_FUNCTION_INFO_V1(inami_quarterly_dependent_limit);
Datum
inami_quarterly_dependent_limit(PG_FUNCTION_ARGS)
{
	int32		year = PG_GETARG_INT32(0);
	int32		quarter = PG_GETARG_INT32(1);

	check_quarter(year, quarter);
	PG_RETURN_DATUM(dependent_limit(inami_param_cache(fcinfo, dependent_limit_load), year,
									quarter));
}

PG_FUNCTION_INFO_V1(inami_quarterly_dependent_limit_date);
Datum
inami_quarterly_dependent_limit_date(PG_FUNCTION_ARGS)
{
	DateADT		day = PG_GETARG_DATEADT(0);
	DependentLimitCache *cache;
	int			year,
				quarter,
				month,
				mday;

	if (DATE_NOT_FINITE(day))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("day must be a finite date"),
				 errdetail("The day given is %s.", DATE_IS_NOBEGIN(day) ? "-infinity" : "infinity"),
				 errhint("Give the day whose quarter is asked, a calendar date.")));
	cache = inami_param_cache(fcinfo, dependent_limit_load);
	if (day >= cache->first_day && day - cache->first_day < cache->ndays)
	{
		/* the quarter from the table, not j2date (a sixth of a call) */
		int			k = cache->first_quarter + cache->day_quarter[day - cache->first_day];

		year = k / 4;
		quarter = k % 4 + 1;
	}
	else
	{
		/* outside the table: dependent_limit says why */
		j2date(day + POSTGRES_EPOCH_JDATE, &year, &month, &mday);
		quarter = (month - 1) / 3 + 1;
		check_quarter(year, quarter);
	}
	PG_RETURN_DATUM(dependent_limit(cache, year, quarter));
}
