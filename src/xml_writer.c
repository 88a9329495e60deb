/*
 * xml_writer.c
 *		The writers of the outgoing exchange documents: syst01_document,
 *		syst05_document, pro01_document, pro04_document (doc/exchanges.md, the schemas in xsd/;
 *		their schemas in xsd/).
 *
 * One mechanism for the four: libxml2's xmlTextWriter into an xmlBuffer (it escapes
 * every attribute and text by construction), rows read through an SPI cursor in
 * batches in a stable order (request number, then NISS, in the C collation), a memory
 * context reset per row, CHECK_FOR_INTERRUPTS per row. libxml2 allocates with malloc,
 * so the writer and its buffer are freed in PG_FINALLY, on every path.
 *
 * A document is one xml value: PostgreSQL caps it at 1 GB, checked as the buffer
 * grows (SQLSTATE 54000).
 */
#include "postgres.h"

#include <libxml/xmlwriter.h>

#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/xml.h"

#include "inami.h"

/* Rows fetched from the cursor at a time. */
#define WRITER_BATCH 1000

/* The largest document an xml value holds. */
#define WRITER_MAX_BYTES ((size_t) (MaxAllocSize - VARHDRSZ))

/* A document being written. */
typedef struct FlowWriter
{
	const char *root;			/* root element: Syst01, Syst05, Pro01, Pro04 */
	PgXmlErrorContext *xerr;
	xmlBufferPtr buf;
	xmlTextWriterPtr w;
} FlowWriter;

/* Writes what one row says into the document. */
typedef void (*FlowRowFn) (FlowWriter *fw, HeapTuple tuple, TupleDesc desc, void *state);

/* Closes what the last row left open. */
typedef void (*FlowEndFn) (FlowWriter *fw, void *state);

/* An error when libxml2's writer fails: in practice, it ran out of memory. */
static void
fw_fail(FlowWriter *fw, const char *element)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("could not write the %s document", fw->root),
			 errdetail("libxml2's writer failed at element %s.", element),
			 errhint("Check the server's free memory and try again.")));
}

/* Write the attributes of a NULL-terminated list of name, value pairs. */
static void
fw_attributes(FlowWriter *fw, const char *element, va_list ap)
{
	const char *name;

	while ((name = va_arg(ap, const char *)) != NULL)
	{
		const char *value = va_arg(ap, const char *);

		if (xmlTextWriterWriteAttribute(fw->w, BAD_CAST name, BAD_CAST value) < 0)
			fw_fail(fw, element);
	}
}

/*
 * Start the document: the root, its default namespace first (as the formats write it), then
 * its attributes (name, value, ..., NULL).
 */
static void
fw_open(FlowWriter *fw, const char *const *attrs)
{
	fw->buf = xmlBufferCreate();
	if (fw->buf == NULL)
		fw_fail(fw, fw->root);
	/* grow by doubling: libxml2's default grows to the exact size, a realloc per flush */
	xmlBufferSetAllocationScheme(fw->buf, XML_BUFFER_ALLOC_DOUBLEIT);
	fw->w = xmlNewTextWriterMemory(fw->buf, 0);
	if (fw->w == NULL)
		fw_fail(fw, fw->root);
	if (xmlTextWriterSetIndent(fw->w, 1) < 0 ||
		xmlTextWriterSetIndentString(fw->w, BAD_CAST "  ") < 0 ||
		xmlTextWriterStartElement(fw->w, BAD_CAST fw->root) < 0 ||
		xmlTextWriterWriteAttribute(fw->w, BAD_CAST "xmlns",
									BAD_CAST INAMI_FLOWS_NAMESPACE) < 0)
		fw_fail(fw, fw->root);
	for (int i = 0; attrs[i] != NULL; i += 2)
		if (xmlTextWriterWriteAttribute(fw->w, BAD_CAST attrs[i], BAD_CAST attrs[i + 1]) < 0)
			fw_fail(fw, fw->root);
}

/* Whether fw_element closes the element it writes (EMPTY) or leaves it to fw_end (OPEN). */
typedef enum ElementKind
{
	ELEMENT_OPEN,
	ELEMENT_EMPTY
} ElementKind;

/* Write an element with its attributes (name, value, ..., NULL). */
static void
fw_element(FlowWriter *fw, ElementKind kind, const char *element, ...)
{
	va_list		ap;

	if (xmlTextWriterStartElement(fw->w, BAD_CAST element) < 0)
		fw_fail(fw, element);
	va_start(ap, element);
	fw_attributes(fw, element, ap);
	va_end(ap);
	if (kind == ELEMENT_EMPTY && xmlTextWriterEndElement(fw->w) < 0)
		fw_fail(fw, element);
}

/* Close the innermost open element. */
static void
fw_end(FlowWriter *fw)
{
	if (xmlTextWriterEndElement(fw->w) < 0)
		fw_fail(fw, "(end)");
}

/* Flush to the buffer and refuse a document past what an xml value holds. */
static void
fw_check_size(FlowWriter *fw)
{
	size_t		len;

	if (xmlTextWriterFlush(fw->w) < 0)
		fw_fail(fw, fw->root);
	len = (size_t) xmlBufferLength(fw->buf);
	if (len > WRITER_MAX_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the %s document is larger than an xml value can hold", fw->root),
				 errdetail("It has reached %zu bytes; a value is limited to 1 GB.", len),
				 errhint("Write it in parts (one call per OA), or export the tables with COPY.")));
}

/* Close the root and return the document as an xml value allocated in cxt. */
static xmltype *
fw_finish(FlowWriter *fw, MemoryContext cxt)
{
	size_t		len;
	xmltype    *result;

	if (xmlTextWriterEndElement(fw->w) < 0)
		fw_fail(fw, fw->root);
	fw_check_size(fw);
	len = (size_t) xmlBufferLength(fw->buf);
	/* the indenting writer ends with a newline: a value does not */
	if (len > 0 && xmlBufferContent(fw->buf)[len - 1] == '\n')
		len--;
	result = (xmltype *) MemoryContextAlloc(cxt, len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), xmlBufferContent(fw->buf), len);
	return result;
}

/* Free libxml2's writer and buffer; safe to call twice and on a half-open writer. */
static void
fw_free(FlowWriter *fw)
{
	if (fw->w != NULL)
		xmlFreeTextWriter(fw->w);
	fw->w = NULL;
	if (fw->buf != NULL)
		xmlBufferFree(fw->buf);
	fw->buf = NULL;
}

/*
 * Feed every row of query (year, oa as $1, $2) to row_fn through a cursor, a batch at
 * a time, in a memory context reset per row; then end_fn.
 */
static void
fw_walk(FlowWriter *fw, const char *query, int32 year, const char *oa,
		FlowRowFn row_fn, FlowEndFn end_fn, void *state)
{
	Oid			argtypes[2] = {INT4OID, TEXTOID};
	Datum		values[2];
	Portal		portal;
	MemoryContext rowcxt;

	values[0] = Int32GetDatum(year);
	values[1] = CStringGetTextDatum(oa);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "inami writer row",
								   ALLOCSET_SMALL_SIZES);
	portal = SPI_cursor_open_with_args(NULL, query, 2, argtypes, values, NULL, true, 0);
	if (portal == NULL)
		elog(ERROR, "inami: could not open a cursor for the %s document", fw->root);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, WRITER_BATCH);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			MemoryContext old;

			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(rowcxt);
			row_fn(fw, SPI_tuptable->vals[i], SPI_tuptable->tupdesc, state);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(SPI_tuptable);
		fw_check_size(fw);
	}
	SPI_cursor_close(portal);
	if (end_fn != NULL)
		end_fn(fw, state);
	MemoryContextDelete(rowcxt);
}

/*
 * Write a whole document: the root with its attributes (name, value pairs, NULL
 * ended, in root_attrs), then what row_fn makes of each row of query. The result is
 * allocated in the caller's context; libxml2's objects are freed whatever happens.
 */
static xmltype *
write_document(const char *root, const char *const *root_attrs,
			   const char *query, int32 year, const char *oa,
			   FlowRowFn row_fn, FlowEndFn end_fn, void *state)
{
	MemoryContext callcxt = CurrentMemoryContext;
	FlowWriter *fw = palloc0(sizeof(FlowWriter));
	xmltype    *volatile result = NULL;
	volatile bool done = false;
	int			guc_level;

	fw->root = root;
	fw->xerr = pg_xml_init(PG_XML_STRICTNESS_ALL);
	PG_TRY();
	{
		fw_open(fw, root_attrs);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "inami: SPI_connect failed");
		guc_level = inami_search_path_push();
		fw_walk(fw, query, year, oa, row_fn, end_fn, state);
		result = fw_finish(fw, callcxt);
		inami_search_path_pop(guc_level);
		SPI_finish();
		done = true;
	}
	PG_FINALLY();
	{
		fw_free(fw);
		pg_xml_done(fw->xerr, !done);
	}
	PG_END_TRY();
	pfree(fw);
	return result;
}

/* ---- Syst01 and Pro01: households with their requester and members ---- */

/* The household being written, across rows. */
typedef struct HouseholdState
{
	MemoryContext cxt;			/* outlives the per-row context */
	const char *member_table;	/* for the hints */
	char	   *request_number; /* NULL before the first row */
	char	   *requester;
	int			members;
	bool		requester_listed;
} HouseholdState;

/* Close the open household; a household the format cannot carry is an error. */
static void
household_end(FlowWriter *fw, void *arg)
{
	HouseholdState *st = (HouseholdState *) arg;

	if (st->request_number == NULL)
		return;
	if (st->members == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("household \"%s\" has no member to write in the %s document",
						st->request_number, fw->root),
				 errdetail("The format lists every member, the requester \"%s\" too, at least one.",
						   st->requester),
				 errhint("Add the members to %s (request_number '%s'), the requester among them.",
						 st->member_table, st->request_number)));
	if (!st->requester_listed)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the requester of household \"%s\" is not among its members",
						st->request_number),
				 errdetail("The requester \"%s\" is missing from its %d member(s); the format lists the requester among the members.",
						   st->requester, st->members),
				 errhint("Add a row to %s for request_number '%s' and NISS '%s'.",
						 st->member_table, st->request_number, st->requester)));
	fw_end(fw);
}

/* One row (request_number, requester_niss, member niss or NULL) of a household. */
static void
household_row(FlowWriter *fw, HeapTuple tuple, TupleDesc desc, void *arg)
{
	HouseholdState *st = (HouseholdState *) arg;
	char	   *request_number = SPI_getvalue(tuple, desc, 1);
	char	   *requester = SPI_getvalue(tuple, desc, 2);
	char	   *niss = SPI_getvalue(tuple, desc, 3);

	if (request_number == NULL || requester == NULL)
		elog(ERROR, "inami: household row without request number or requester");
	if (st->request_number == NULL || strcmp(st->request_number, request_number) != 0)
	{
		household_end(fw, st);
		if (st->request_number != NULL)
		{
			pfree(st->request_number);
			pfree(st->requester);
		}
		st->request_number = MemoryContextStrdup(st->cxt, request_number);
		st->requester = MemoryContextStrdup(st->cxt, requester);
		st->members = 0;
		st->requester_listed = false;
		fw_element(fw, ELEMENT_OPEN, "Household", "requestNumber", request_number, NULL);
		fw_element(fw, ELEMENT_EMPTY, "Requester", "niss", requester, NULL);
	}
	if (niss != NULL)
	{
		fw_element(fw, ELEMENT_EMPTY, "Member", "niss", niss, NULL);
		st->members++;
		if (strcmp(niss, st->requester) == 0)
			st->requester_listed = true;
	}
}

/*
 * The Syst01 or Pro01 document of one OA for one year, from inami.<flow>_household and
 * <flow>_member, whose year column is year_column.
 */
static xmltype *
households_document(int32 year, text *oa_arg, const char *root, const char *flow,
					const char *year_column, const char *year_attr, const char *year_what)
{
	HouseholdState st = {0};
	char	   *oa = inami_oa_check(oa_arg);
	const char *attrs[5];
	char	   *query;

	inami_check_year(year, year_what);
	query = psprintf("SELECT h.request_number, h.requester_niss, m.niss"
					 " FROM inami.%s_household h LEFT JOIN inami.%s_member m"
					 " ON m.%s OPERATOR(pg_catalog.=) h.%s"
					 " AND m.request_number OPERATOR(pg_catalog.=) h.request_number"
					 " WHERE h.%s OPERATOR(pg_catalog.=) $1 AND h.oa OPERATOR(pg_catalog.=) $2"
					 " ORDER BY h.request_number COLLATE \"C\", m.niss COLLATE \"C\"",
					 flow, flow, year_column, year_column, year_column);
	st.cxt = CurrentMemoryContext;
	st.member_table = psprintf("inami.%s_member", flow);
	attrs[0] = year_attr;
	attrs[1] = psprintf("%d", year);
	attrs[2] = "oa";
	attrs[3] = oa;
	attrs[4] = NULL;
	return write_document(root, attrs, query, year, oa, household_row, household_end, &st);
}

PG_FUNCTION_INFO_V1(inami_syst01_document);
Datum
inami_syst01_document(PG_FUNCTION_ARGS)
{
	PG_RETURN_XML_P(households_document(PG_GETARG_INT32(0), PG_GETARG_TEXT_PP(1), "Syst01",
										"syst01", "control_year", "controlYear", "control year"));
}

PG_FUNCTION_INFO_V1(inami_pro01_document);
Datum
inami_pro01_document(PG_FUNCTION_ARGS)
{
	PG_RETURN_XML_P(households_document(PG_GETARG_INT32(0), PG_GETARG_TEXT_PP(1), "Pro01",
										"pro01", "year", "year", "year"));
}

/* ---- Syst05: one Feedback per decision ---- */

/* One row (request_number, reason, right_end) of inami.control_decision. */
static void
feedback_row(FlowWriter *fw, HeapTuple tuple, TupleDesc desc, void *arg)
{
	char	   *request_number = SPI_getvalue(tuple, desc, 1);
	char	   *reason = SPI_getvalue(tuple, desc, 2);
	bool		isnull;
	Datum		right_end = SPI_getbinval(tuple, desc, 3, &isnull);
	DateADT		d;
	int			y,
				m,
				day;

	if (request_number == NULL || reason == NULL)
		elog(ERROR, "inami: decision row without request number or reason");
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the decision on household \"%s\" has no end of right", request_number),
				 errdetail("Reason %s has right_end NULL; every Syst05 feedback carries rightEnd.", reason),
				 errhint("Set right_end in inami.control_decision for request_number '%s' (the last day of the right), or run inami.run_systematic_control again.",
						 request_number)));
	d = DatumGetDateADT(right_end);
	if (DATE_NOT_FINITE(d))
		y = 0;
	else
		j2date(d + POSTGRES_EPOCH_JDATE, &y, &m, &day);
	if (y < 1 || y > 9999)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the end of right of household \"%s\" cannot be written as an ISO date",
						request_number),
				 errdetail("right_end is %s; a Syst05 date is YYYY-MM-DD with a year from 0001 to 9999.",
						   SPI_getvalue(tuple, desc, 3)),
				 errhint("Correct right_end in inami.control_decision for request_number '%s'.",
						 request_number)));
	fw_element(fw, ELEMENT_EMPTY, "Feedback",
			   "requestNumber", request_number,
			   "reason", reason,
			   "rightEnd", psprintf("%04d-%02d-%02d", y, m, day),
			   NULL);
}

/* How many of the decisions to write are provisional, and the first of them. */
typedef struct Provisional
{
	int64		count;
	char	   *first;
	MemoryContext mcxt;			/* where first is copied: SPI's memory goes at the end */
} Provisional;

static void
provisional_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	Provisional *p = arg;

	p->count = DatumGetInt64(inami_param_get(tuple, desc, 1));
	if (p->count > 0)
		p->first = MemoryContextStrdup(p->mcxt, SPI_getvalue(tuple, desc, 2));
}

/*
 * A provisional decision (control_decision.provisional: before the second shipment, a
 * household not answered yet or an answer the SCA asks again, E 4.1, 4.3; or a cadastral
 * income not assessed, E 4.4) may still change: it is not sent as a feedback.
 */
static void
check_no_provisional(int32 year, const char *oa)
{
	Oid			types[2] = {INT4OID, TEXTOID};
	Datum		values[2] = {Int32GetDatum(year), CStringGetTextDatum(oa)};
	Provisional p = {0, NULL, CurrentMemoryContext};

	inami_param_foreach("SELECT count(*), min(request_number COLLATE \"C\") FROM inami.control_decision"
						" WHERE control_year = $1 AND oa = $2 AND sends_feedback AND provisional",
						2, types, values, provisional_row, &p);
	if (p.count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg_plural("%lld decision of control year %d for OA %s is provisional",
							   "%lld decisions of control year %d for OA %s are provisional",
							   p.count, (long long) p.count, year, oa),
				 errdetail("Household %s (the first) waits for the second Syst_04 shipment (no answer lists it yet, or a member answered with a code the SCA asks again in September) or for the OA's assessment of its cadastral income; inami.explain_decision('%s', %d) says which.",
						   p.first, p.first, year),
				 errhint("Load the Syst_04 shipment 2 of control year %d (a file without households if the SCA sent none for this OA), or record the cadastral_income events in inami.household_event, then CALL inami.run_systematic_control(%d).",
						 year, year)));
}

PG_FUNCTION_INFO_V1(inami_syst05_document);
Datum
inami_syst05_document(PG_FUNCTION_ARGS)
{
	int32		year = PG_GETARG_INT32(0);
	char	   *oa = inami_oa_check(PG_GETARG_TEXT_PP(1));
	const char *attrs[5] = {"controlYear", NULL, "oa", NULL, NULL};

	inami_check_year(year, "control year");
	check_no_provisional(year, oa);
	attrs[1] = psprintf("%d", year);
	attrs[3] = oa;
	PG_RETURN_XML_P(write_document("Syst05", attrs,
								   "SELECT request_number, reason, right_end"
								   " FROM inami.control_decision"
								   " WHERE control_year OPERATOR(pg_catalog.=) $1"
								   " AND oa OPERATOR(pg_catalog.=) $2"
								   " AND sends_feedback"
								   " ORDER BY request_number COLLATE \"C\"",
								   year, oa, feedback_row, NULL, NULL));
}

/* ---- Pro04: one Result per code ---- */

/* One row (request_number, code) of inami.proactive_decision. */
static void
result_row(FlowWriter *fw, HeapTuple tuple, TupleDesc desc, void *arg)
{
	char	   *request_number = SPI_getvalue(tuple, desc, 1);
	char	   *code = SPI_getvalue(tuple, desc, 2);

	if (request_number == NULL || code == NULL)
		elog(ERROR, "inami: proactive row without request number or code");
	fw_element(fw, ELEMENT_EMPTY, "Result", "requestNumber", request_number, "code", code, NULL);
}

/* The Pro04 shipment: the latest Pro_03 shipment loaded for the year, 1 if none. */
static int
pro04_shipment(int32 year)
{
	Oid			argtypes[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(year)};
	bool		isnull;
	int			shipment = 1;
	int			guc_level;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "inami: SPI_connect failed");
	guc_level = inami_search_path_push();
	if (SPI_execute_with_args("SELECT pg_catalog.max(shipment) FROM inami.pro03_person"
							  " WHERE year OPERATOR(pg_catalog.=) $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "inami: could not read the Pro_03 shipments");
	if (SPI_processed == 1)
	{
		Datum		max = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			shipment = DatumGetInt32(max);
	}
	inami_search_path_pop(guc_level);
	SPI_finish();
	return shipment;
}

PG_FUNCTION_INFO_V1(inami_pro04_document);
Datum
inami_pro04_document(PG_FUNCTION_ARGS)
{
	int32		year = PG_GETARG_INT32(0);
	char	   *oa = inami_oa_check(PG_GETARG_TEXT_PP(1));
	const char *attrs[5] = {"year", NULL, "shipment", NULL, NULL};

	inami_check_year(year, "year");
	attrs[1] = psprintf("%d", year);
	attrs[3] = psprintf("%d", pro04_shipment(year));
	PG_RETURN_XML_P(write_document("Pro04", attrs,
								   "SELECT request_number, code"
								   " FROM inami.proactive_decision"
								   " WHERE year OPERATOR(pg_catalog.=) $1"
								   " AND pg_catalog.substr(request_number, 1, 3) OPERATOR(pg_catalog.=) $2"
								   " ORDER BY request_number COLLATE \"C\"",
								   year, oa, result_row, NULL, NULL));
}
