/*
 * params.c
 *		Reading the parameter tables. Callers keep what they read in fn_extra, so a
 *		table is read once per query (and per parallel worker), never once per row,
 *		and the next statement sees an edited row. Also the search_path every SPI query
 *		of inami runs under (inami_search_path_push).
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "inami.h"

/*
 * What a function read from the parameter tables, kept in fn_extra with the snapshot it
 * was read under. fn_extra lives as long as the function's expression: one query, but a
 * whole transaction for a PL/pgSQL simple expression (RETURN f(...), x := f(...)), whose
 * statements each run under a newer snapshot; so it is read again when the snapshot is
 * not the one it was read under (another transaction ended, or this one changed
 * something: the command id moved), or when it was read in another subtransaction (one
 * rolled back may have written what was read; subtransaction ids are never reused).
 */
typedef struct ParamCache
{
	MemoryContext cxt;			/* what load allocated; reset before reading again */
	void	   *data;			/* what load returned; NULL until read */
	LocalTransactionId lxid;
	SubTransactionId subxid;
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	uint64		completions;
	CommandId	curcid;
} ParamCache;

void *
inami_param_cache(FunctionCallInfo fcinfo, inami_param_load_fn load)
{
	ParamCache *c = fcinfo->flinfo->fn_extra;
	Snapshot	snap = ActiveSnapshotSet() ? GetActiveSnapshot() : NULL;

	if (c != NULL && c->data != NULL && snap != NULL &&
		c->lxid == MyProc->lxid && c->subxid == GetCurrentSubTransactionId() &&
		c->curcid == snap->curcid &&
		c->xmin == snap->xmin && c->xmax == snap->xmax && c->xcnt == snap->xcnt &&
		c->completions == snap->snapXactCompletionCount)
		return c->data;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ParamCache));
		c->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "inami parameters",
									   ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = c;
	}
	else
		MemoryContextReset(c->cxt);
	c->data = NULL;				/* until load returns: an error leaves nothing half-read */
	c->data = load(c->cxt);
	if (snap != NULL)
	{
		c->lxid = MyProc->lxid;
		c->subxid = GetCurrentSubTransactionId();
		c->curcid = snap->curcid;
		c->xmin = snap->xmin;
		c->xmax = snap->xmax;
		c->xcnt = snap->xcnt;
		c->completions = snap->snapXactCompletionCount;
	}
	return c->data;
}

/*
 * Set search_path to "pg_catalog, pg_temp" until inami_search_path_pop(level), so that
 * the SPI queries run in between find pg_catalog's operators, functions, types and
 * collations whatever the caller's search_path offers (a schema of the caller's, put
 * before pg_catalog, could define an "=" for bigint that a query would run). Returns the
 * GUC nest level to hand to inami_search_path_pop; an error unwinds it by itself, with
 * the (sub)transaction it aborts, as a function's SET clause is.
 */
int
inami_search_path_push(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

/* Give the caller's search_path back (level: what inami_search_path_push returned). */
void
inami_search_path_pop(int level)
{
	AtEOXact_GUC(true, level);
}

/*
 * Run a read-only parameter query and hand each row to row_fn. row_fn copies what
 * it keeps into its own long-lived context: SPI's memory is gone on return.
 */
void
inami_param_foreach(const char *query, int nargs, Oid *argtypes, Datum *values,
					inami_param_row_fn row_fn, void *arg)
{
	int			ret;
	int			guc_level;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "inami: SPI_connect failed");
	guc_level = inami_search_path_push();
	ret = SPI_execute_with_args(query, nargs, argtypes, values, NULL, true, 0);
	inami_search_path_pop(guc_level);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "inami: parameter query failed: %s", SPI_result_code_string(ret));
	for (uint64 i = 0; i < SPI_processed; i++)
		row_fn(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, arg);
	SPI_finish();
}

/* Column (1-based) of a parameter row; parameter columns are NOT NULL. */
Datum
inami_param_get(HeapTuple tuple, TupleDesc desc, int column)
{
	bool		isnull;
	Datum		value = SPI_getbinval(tuple, desc, column, &isnull);

	if (isnull)
		elog(ERROR, "inami: parameter column %d is null", column);
	return value;
}

/* inami_check_year's error (inami.h). */
void
inami_year_error(int32 year, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("%s must be between 1990 and 2200", what),
			 errdetail("The %s given is %d.", what, year),
			 errhint("Give a calendar year between 1990 and 2200, the years the parameter and exchange tables take.")));
}

PG_FUNCTION_INFO_V1(inami_check_year_sql);
/* The same for the PL/pgSQL functions: inami._check_year(year, what); a NULL year passes. */
Datum
inami_check_year_sql(PG_FUNCTION_ARGS)
{
	if (!PG_ARGISNULL(0))
		inami_check_year(PG_GETARG_INT32(0),
						 PG_ARGISNULL(1) ? "year" : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_VOID();
}
