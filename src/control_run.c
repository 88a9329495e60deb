/*
 * control_run.c
 *		Raising again the error a control run caught, once its failure is logged and
 *		committed (inami._control_run_fail), with every field the error had: the caller,
 *		a pg_cron job or a client, sees the error the run met. PL/pgSQL's RAISE cannot do
 *		it: it refuses a NULL option, so it cannot leave out the fields an error lacks.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"

/* Argument n as a C string; NULL when it is NULL or empty (GET DIAGNOSTICS gives ''). */
static char *
field_arg(FunctionCallInfo fcinfo, int n)
{
	text	   *t;

	if (PG_ARGISNULL(n))
		return NULL;
	t = PG_GETARG_TEXT_PP(n);
	return VARSIZE_ANY_EXHDR(t) == 0 ? NULL : text_to_cstring(t);
}

PG_FUNCTION_INFO_V1(inami_control_run_raise);
/*
 * inami._control_run_raise(sqlstate, message, detail, hint, context, schema_name,
 * table_name, column_name, datatype_name, constraint_name): raises that error.
 */
Datum
inami_control_run_raise(PG_FUNCTION_ARGS)
{
	char	   *sqlstate = field_arg(fcinfo, 0);
	char	   *message = field_arg(fcinfo, 1);
	char	   *detail = field_arg(fcinfo, 2);
	char	   *hint = field_arg(fcinfo, 3);
	char	   *context = field_arg(fcinfo, 4);
	char	   *schema_name = field_arg(fcinfo, 5);
	char	   *table_name = field_arg(fcinfo, 6);
	char	   *column_name = field_arg(fcinfo, 7);
	char	   *datatype_name = field_arg(fcinfo, 8);
	char	   *constraint_name = field_arg(fcinfo, 9);

	/* any class but 00 (success), as RAISE EXCEPTION takes them */
	if (sqlstate == NULL || strlen(sqlstate) != 5 ||
		strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5 ||
		strncmp(sqlstate, "00", 2) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SQLSTATE for an error"),
				 errdetail("The SQLSTATE given is \"%s\".", sqlstate ? sqlstate : ""),
				 errhint("Give the five characters of an error's SQLSTATE, as GET STACKED DIAGNOSTICS returns it.")));

	ereport(ERROR,
			(errcode(MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2], sqlstate[3],
								   sqlstate[4])),
			 errmsg_internal("%s", message ? message : ""),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0,
			 context ? errcontext("%s", context) : 0,
			 schema_name ? err_generic_string(PG_DIAG_SCHEMA_NAME, schema_name) : 0,
			 table_name ? err_generic_string(PG_DIAG_TABLE_NAME, table_name) : 0,
			 column_name ? err_generic_string(PG_DIAG_COLUMN_NAME, column_name) : 0,
			 datatype_name ? err_generic_string(PG_DIAG_DATATYPE_NAME, datatype_name) : 0,
			 constraint_name ? err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint_name) : 0));
	PG_RETURN_VOID();
}
