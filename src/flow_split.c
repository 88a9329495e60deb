/*
 * flow_split.c
 *		The coordinator's side of the sharded loading. inami._split_flow_file reads an
 *		exchange file once, with the one streamed reader (flow_parse.c), and writes for each
 *		shard its part: an exchange document of the same kind, the same root and attributes,
 *		with only the households that inami.shard_of places on that shard (Pro_03 persons,
 *		keyed by NISS, go to every shard). Each part goes into a large object made on its
 *		shard, inside the transaction the caller left open there, through dblink:
 *		lo_create, then lo_put of FLOW_PART_CHUNK bytes at a time. The shard then loads its
 *		part with the loader of load_flow_file (inami._load_flow_lo), streamed from the
 *		large object. No shard reads the file.
 *
 * Memory: one buffer per shard, sent and emptied at FLOW_PART_CHUNK bytes; the statement
 * that sends a chunk (the chunk in hexadecimal) is made in a context reset after each
 * send; a per-record context; the reader's own buffers (libxml2, freed in PG_FINALLY).
 * Nothing grows with the size of the file: per shard, its buffer (FLOW_PART_CHUNK) and
 * libpq's output buffer of its connection (twice that); while a chunk is sent, its
 * statement and dblink's copy of it (twice that each).
 *
 * The values written are the reader's, each checked against its format: digits, codes,
 * amounts written back from cents, tax sheet numbers of [0-9A-Za-z./-]. None needs an XML
 * escape; part_value makes sure of it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "inami.h"
#include "flow_parse.h"
#include "flows_read.h"

/*
 * Bytes of a part sent to its shard at a time, at most: a part is sent once it holds
 * FLOW_PART_CHUNK - FLOW_PART_SLACK bytes, and no record takes more than the slack (64
 * members, 512 items), so that its buffer stays within FLOW_PART_CHUNK bytes, and the
 * statement that sends it (twice that, in hexadecimal) within what libpq's output buffer
 * grows to (twice FLOW_PART_CHUNK).
 */
#define FLOW_PART_CHUNK (1024 * 1024)
#define FLOW_PART_SLACK (128 * 1024)

/* One shard's part of the file. */
typedef struct FlowPart
{
	const char *shard;			/* its name, for messages */
	const char *conn;			/* the dblink connection, in an open transaction */
	int			position;		/* inami.shard.position */
	Oid			lo;				/* the large object on the shard */
	int64		sent;			/* bytes sent so far */
	int64		records;		/* records written into the part */
	StringInfoData buf;			/* what is not sent yet */
} FlowPart;

typedef struct FlowSplit
{
	const char *path;
	int			nparts;
	FlowPart   *parts;
	int		   *by_position;	/* part index of each position, -1 for a shard not loaded */
	MemoryContext send_cxt;
	SPIPlanPtr	create_plan;	/* $1: connection -> oid of a new large object there */
	SPIPlanPtr	put_plan;		/* $1: connection, $2: the statement that writes a chunk */
} FlowSplit;

/* ---- writing a part ---- */

/* A value of the reader, which needs no escape: refused if it ever did. */
static void
part_value(StringInfo buf, const char *value)
{
	for (const char *c = value; *c; c++)
		if (*c == '<' || *c == '>' || *c == '&' || *c == '"' || (unsigned char) *c < 0x20)
			elog(ERROR, "a value read from an exchange file needs an XML escape: \"%s\"", value);
	appendStringInfoString(buf, value);
}

/* name="value" */
static void
part_attribute(StringInfo buf, const char *name, const char *value)
{
	appendStringInfo(buf, " %s=\"", name);
	part_value(buf, value);
	appendStringInfoChar(buf, '"');
}

static void
part_amount_element(StringInfo buf, const char *indent, const char *element, int64 cents)
{
	appendStringInfo(buf, "%s<%s>", indent, element);
	inami_cents_append(buf, cents);
	appendStringInfo(buf, "</%s>\n", element);
}

/* The prolog and the root start tag of the file, as the reader read them. */
static void
part_header(StringInfo buf, const FlowHeader *h)
{
	appendStringInfo(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<%s xmlns=\"%s\"",
					 h->kind_name, INAMI_FLOWS_NAMESPACE);
	switch (h->kind)
	{
		case FLOW_SYST01:
			appendStringInfo(buf, " controlYear=\"%d\"", h->year);
			part_attribute(buf, "oa", h->oa);
			break;
		case FLOW_PRO01:
			appendStringInfo(buf, " year=\"%d\"", h->year);
			part_attribute(buf, "oa", h->oa);
			break;
		case FLOW_SYST04:
			appendStringInfo(buf, " controlYear=\"%d\" incomeYear=\"%d\" shipment=\"%d\"",
							 h->year, h->income_year, h->shipment);
			break;
		case FLOW_PRO03:
			appendStringInfo(buf, " year=\"%d\" incomeYear=\"%d\" shipment=\"%d\"",
							 h->year, h->income_year, h->shipment);
			break;
		default:
			elog(ERROR, "a %s file is not split", h->kind_name);
	}
	appendStringInfoString(buf, ">\n");
}

/* A member's IPCAL items. */
static void
part_items(StringInfo buf, const char *indent, const FlowRecord *rec, const FlowMember *mb)
{
	for (int it = 0; it < mb->n_items; it++)
	{
		const FlowItem *item = &rec->items[mb->first_item + it];

		appendStringInfo(buf, "%s<Ipcal", indent);
		part_attribute(buf, "code", item->code);
		appendStringInfoString(buf, " amount=\"");
		inami_cents_append(buf, item->amount);
		appendStringInfoString(buf, "\"/>\n");
	}
}

/* One record, in the order of the schemas (xsd/common.xsd). */
static void
part_record(StringInfo buf, const FlowHeader *h, const FlowRecord *rec)
{
	if (h->kind == FLOW_PRO03)
	{
		const FlowMember *mb = &rec->members[0];

		appendStringInfoString(buf, "  <Person");
		part_attribute(buf, "niss", mb->niss);
		part_attribute(buf, "returnCode", mb->return_code);
		appendStringInfoString(buf, ">\n");
		part_items(buf, "    ", rec, mb);
		appendStringInfoString(buf, "  </Person>\n");
		return;
	}
	appendStringInfoString(buf, "  <Household");
	part_attribute(buf, "requestNumber", rec->request_number);
	appendStringInfoString(buf, ">\n    <Requester");
	part_attribute(buf, "niss", rec->requester);
	appendStringInfoString(buf, "/>\n");
	if (h->kind == FLOW_SYST04 && rec->has_total)
		part_amount_element(buf, "    ", "HouseholdTotal", rec->total);
	for (int m = 0; m < rec->n_members; m++)
	{
		const FlowMember *mb = &rec->members[m];

		appendStringInfoString(buf, "    <Member");
		part_attribute(buf, "niss", mb->niss);
		if (h->kind != FLOW_SYST04)
		{
			appendStringInfoString(buf, "/>\n");
			continue;
		}
		part_attribute(buf, "returnCode", mb->return_code);
		appendStringInfoString(buf, ">\n");
		if (mb->tax_sheet[0] != '\0')
		{
			appendStringInfoString(buf, "      <TaxSheet>");
			part_value(buf, mb->tax_sheet);
			appendStringInfoString(buf, "</TaxSheet>\n");
		}
		part_items(buf, "      ", rec, mb);
		if (mb->has_cadastral)
			part_amount_element(buf, "      ", "CadastralIncome", mb->cadastral);
		if (mb->has_personal)
			part_amount_element(buf, "      ", "PersonalTotal", mb->personal);
		appendStringInfoString(buf, "    </Member>\n");
	}
	appendStringInfoString(buf, "  </Household>\n");
}

/* ---- sending a part ---- */

/*
 * Run plan (through dblink, on the part's connection). An error of the shard (or of its
 * connection) names the shard; nothing of the file is committed anywhere then, since the
 * caller rolls back every shard. A cancel or a termination stays what it is.
 */
static Datum
part_call(FlowSplit *s, FlowPart *part, SPIPlanPtr plan, Datum *args, const char *doing)
{
	MemoryContext old = CurrentMemoryContext;
	Datum		result = (Datum) 0;
	int			rc = 0;

	PG_TRY();
	{
		rc = SPI_execute_plan(plan, args, NULL, false, 1);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(old);
		e = CopyErrorData();
		if (e->sqlerrcode == ERRCODE_QUERY_CANCELED || e->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			e->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(e->sqlerrcode),
				 errmsg("the file %s was not loaded on shard %s", s->path, part->shard),
				 errdetail("On shard %s, %s: %s.%s%s No shard loaded the file.", part->shard, doing,
						   e->message ? e->message : "unknown error",
						   e->detail ? " " : "", e->detail ? e->detail : ""),
				 errhint("Fix the cause (a shard stopped, or out of disk), then load the file again.")));
	}
	PG_END_TRY();
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "calling shard %s through dblink failed: %s", part->shard, SPI_result_code_string(rc));
	if (plan == s->create_plan)
	{
		bool		isnull;

		result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (isnull)
			elog(ERROR, "shard %s made no large object", part->shard);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/* Send what the part holds (lo_put at the bytes sent so far), and empty it. */
static void
part_send(FlowSplit *s, FlowPart *part)
{
	static const char suffix[] = "', 'hex'))";
	MemoryContext old;
	char	   *prefix;
	size_t		plen;
	size_t		size;
	text	   *sql;
	char	   *d;
	Datum		args[2];

	if (part->buf.len == 0)
		return;
	old = MemoryContextSwitchTo(s->send_cxt);
	/* the statement made once, in its final size: no copy, no buffer doubled */
	prefix = psprintf("SELECT pg_catalog.lo_put(%u, " INT64_FORMAT ", pg_catalog.decode('",
					  part->lo, part->sent);
	plen = strlen(prefix);
	size = plen + (size_t) part->buf.len * 2 + sizeof(suffix) - 1;
	sql = palloc(VARHDRSZ + size);
	SET_VARSIZE(sql, VARHDRSZ + size);
	d = VARDATA(sql);
	memcpy(d, prefix, plen);
	d += plen;
	d += hex_encode(part->buf.data, part->buf.len, d);
	memcpy(d, suffix, sizeof(suffix) - 1);
	args[0] = CStringGetTextDatum(part->conn);
	args[1] = PointerGetDatum(sql);
	part_call(s, part, s->put_plan, args, "receiving its part");
	MemoryContextSwitchTo(old);
	MemoryContextReset(s->send_cxt);
	part->sent += part->buf.len;
	resetStringInfo(&part->buf);
}

/* The arrays of the call, checked: as many names, connections and positions. */
static void
split_parts(FlowSplit *s, ArrayType *names, ArrayType *conns, ArrayType *positions, int shards)
{
	Datum	   *n,
			   *c,
			   *p;
	bool	   *nn,
			   *cn,
			   *pn;
	int			nnames,
				nconns,
				npositions;

	inami_check_shards(shards);
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &n, &nn, &nnames);
	deconstruct_array(conns, TEXTOID, -1, false, TYPALIGN_INT, &c, &cn, &nconns);
	deconstruct_array(positions, INT4OID, 4, true, TYPALIGN_INT, &p, &pn, &npositions);
	if (nnames < 1 || nnames != nconns || nnames != npositions)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the shards of a split are given by as many names, connections and positions"),
				 errdetail("%d names, %d connections, %d positions.", nnames, nconns, npositions),
				 errhint("Load a file on the shards with inami.load_flow_file_sharded.")));
	s->nparts = nnames;
	s->parts = palloc0(sizeof(FlowPart) * nnames);
	s->by_position = palloc(sizeof(int) * shards);
	for (int i = 0; i < shards; i++)
		s->by_position[i] = -1;
	for (int i = 0; i < nnames; i++)
	{
		int			pos;

		if (nn[i] || cn[i] || pn[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a shard of a split has no name, connection or position"),
					 errdetail("Shard %d of the arrays given.", i + 1),
					 errhint("Load a file on the shards with inami.load_flow_file_sharded.")));
		pos = DatumGetInt32(p[i]);
		if (pos < 0 || pos >= shards || s->by_position[pos] >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("shard position %d is not a position of %d shards, or is given twice", pos, shards),
					 errdetail("Shard %s.", TextDatumGetCString(n[i])),
					 errhint("Load a file on the shards with inami.load_flow_file_sharded.")));
		s->by_position[pos] = i;
		s->parts[i].shard = TextDatumGetCString(n[i]);
		s->parts[i].conn = TextDatumGetCString(c[i]);
		s->parts[i].position = pos;
		initStringInfo(&s->parts[i].buf);
	}
}

/*
 * inami._split_flow_file(path, dblink_schema, shard_names, connections, positions,
 * shards): reads the file once and writes each shard's part into a new large object
 * there. Returns the kind of the file, its records, and for each shard given (in the
 * order given) the large object of its part and the records written into it.
 */
PG_FUNCTION_INFO_V1(inami_split_flow_file);
Datum
inami_split_flow_file(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *dblink = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			shards = PG_GETARG_INT32(5);
	FlowSplit	s;
	FlowFile	f;
	FlowHeader	h;
	FlowParser *volatile p = NULL;
	MemoryContext record_cxt;
	int64		records = 0;
	TupleDesc	desc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum	   *los;
	Datum	   *counts;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "inami._split_flow_file must return a record");
	memset(&s, 0, sizeof(s));
	s.path = path;
	split_parts(&s, PG_GETARG_ARRAYTYPE_P(2), PG_GETARG_ARRAYTYPE_P(3), PG_GETARG_ARRAYTYPE_P(4), shards);
	s.send_cxt = AllocSetContextCreate(CurrentMemoryContext, "inami flow split send", ALLOCSET_DEFAULT_SIZES);
	record_cxt = AllocSetContextCreate(CurrentMemoryContext, "inami flow split record", ALLOCSET_SMALL_SIZES);

	inami_flow_file_open(path, &f);
	PG_TRY();
	{
		p = flow_open_io(inami_flow_file_read, &f, inami_flow_niss_ok);
		if (p == NULL)
			inami_flow_reader_out_of_memory(psprintf("file \"%s\"", path));
		inami_flow_watch_interrupts(p);
		if (flow_read_header(p) < 0)
			inami_flow_raise(p, path, &f);
		h = *flow_header(p);
		/* told from the root the reader read: no comment or PI can mislead it */
		if (h.kind == FLOW_SYST05 || h.kind == FLOW_PRO04)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a %s file is not loaded on the shards", h.kind_name),
					 errdetail("%s answers households one by one; each shard lists only its own. The file: %s.",
							   h.kind_name, path),
					 errhint("Load it on the shard of each household: its lines for the households of inami.shard_of(request_number, shards) = position, with inami.load_flow on that shard.")));

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		{
			Oid			types[2] = {TEXTOID, TEXTOID};
			const char *schema = quote_identifier(dblink);

			s.create_plan = SPI_prepare(psprintf("SELECT t.lo FROM %s.dblink($1, 'SELECT pg_catalog.lo_create(0)') AS t(lo pg_catalog.oid)",
												 schema), 1, types);
			/* dblink, not dblink_exec: lo_put is a SELECT, whose row dblink_exec refuses */
			s.put_plan = SPI_prepare(psprintf("SELECT 1 FROM %s.dblink($1, $2) AS t(v pg_catalog.text)", schema), 2, types);
			if (s.create_plan == NULL || s.put_plan == NULL)
				elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		}
		for (int i = 0; i < s.nparts; i++)
		{
			Datum		conn = CStringGetTextDatum(s.parts[i].conn);

			s.parts[i].lo = DatumGetObjectId(part_call(&s, &s.parts[i], s.create_plan, &conn,
													   "creating the large object of its part"));
			part_header(&s.parts[i].buf, &h);
		}

		for (;;)
		{
			const FlowRecord *rec;
			MemoryContext old;
			int			r;

			CHECK_FOR_INTERRUPTS();
			MemoryContextReset(record_cxt);
			old = MemoryContextSwitchTo(record_cxt);
			r = flow_next(p);
			MemoryContextSwitchTo(old);
			if (r < 0)
				inami_flow_raise(p, path, &f);
			if (r == 0)
				break;
			rec = flow_record(p);
			records++;
			for (int i = 0; i < s.nparts; i++)
			{
				FlowPart   *part = &s.parts[i];

				/* a household to its shard; a Pro_03 person, keyed by NISS, to every shard */
				if (h.kind != FLOW_PRO03 &&
					s.by_position[inami_shard_position(rec->request_number, strlen(rec->request_number), shards)] != i)
					continue;
				part_record(&part->buf, &h, rec);
				part->records++;
				if (part->buf.len >= FLOW_PART_CHUNK - FLOW_PART_SLACK)
					part_send(&s, part);
			}
		}
		for (int i = 0; i < s.nparts; i++)
		{
			appendStringInfo(&s.parts[i].buf, "</%s>\n", h.kind_name);
			part_send(&s, &s.parts[i]);
		}
		SPI_finish();
	}
	PG_FINALLY();
	{
		flow_close(p);
		CloseTransientFile(f.fd);
	}
	PG_END_TRY();

	los = palloc(sizeof(Datum) * s.nparts);
	counts = palloc(sizeof(Datum) * s.nparts);
	for (int i = 0; i < s.nparts; i++)
	{
		los[i] = ObjectIdGetDatum(s.parts[i].lo);
		counts[i] = Int64GetDatum(s.parts[i].records);
	}
	values[0] = CStringGetTextDatum(h.kind_name);
	values[1] = Int64GetDatum(records);
	values[2] = PointerGetDatum(construct_array(los, s.nparts, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	values[3] = PointerGetDatum(construct_array(counts, s.nparts, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}
