/*
 * params.c
 *		Reading the parameter tables. Callers keep what they read in fn_extra, so a
 *		table is read once per query (and per parallel worker), never once per row,
 *		and the next statement sees an edited row.
 */
#include "postgres.h"

#include "executor/spi.h"

#include "inami.h"

/*
 * Run a read-only parameter query and hand each row to row_fn. row_fn copies what
 * it keeps into its own long-lived context: SPI's memory is gone on return.
 */
void
inami_param_foreach(const char *query, int nargs, Oid *argtypes, Datum *values,
					inami_param_row_fn row_fn, void *arg)
{
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "inami: SPI_connect failed");
	ret = SPI_execute_with_args(query, nargs, argtypes, values, NULL, true, 0);
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
