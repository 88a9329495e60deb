/*
 * flows_read.c
 *		Reading the exchange files in the server: load_flow(doc), load_flow_file(path),
 *		_load_flow_lo(part) (a shard's part of a file, in a large object: flow_split.c) and
 *		the set-returning readers read_syst01 ... read_pro04. All go through the one
 *		streamed reader of flow_parse.c; this file raises its errors, checks what needs
 *		the database (the shipment already loaded, the Syst_01 / Pro_01 households a file
 *		answers, the same household twice in a file) and inserts the records in batches of
 *		FLOW_BATCH through COPY's own insert path (copy_rows.c), as values of the columns'
 *		types.
 *
 * Memory: a per-record context reset after each record, a batch context reset after
 * each batch, and the reader's own buffers (libxml2, freed in PG_FINALLY); nothing
 * grows with the size of the file.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "libpq/libpq-fs.h"
#include "storage/large_object.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/formatting.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"

#include "inami.h"
#include "flow_parse.h"
#include "flows_read.h"

#define FLOW_BATCH 5000			/* records per batch of inserts */
#define FLOW_LOCK_CLASS 1229865293	/* "INAM": first key of the advisory lock of a load */

/* NISS check digits and birth date, through niss.c. */
bool
inami_flow_niss_ok(const char *s, int len)
{
	InamiNiss	parsed;

	return inami_niss_parse(s, len, &parsed);
}

/* Cancel and termination are honoured while reading. */
static void
flow_tick(void *ctx)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * Inside libxml2 (between two chunks of input) an error must not be raised: say whether
 * a cancel, a statement_timeout or a termination waits, so that the reader stops and
 * flow_raise serves it out of libxml2.
 */
static bool
flow_interrupt_pending(void *ctx)
{
	return (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

/* Both of the above, on a new reader. */
void
inami_flow_watch_interrupts(FlowParser *p)
{
	flow_set_tick(p, flow_tick, NULL);
	flow_set_interrupt(p, flow_interrupt_pending);
}

/* ---- the file, streamed ---- */

/* read(2) for libxml2: a chunk at a time, never the whole file. */
int
inami_flow_file_read(void *ctx, char *buf, int len)
{
	FlowFile   *f = ctx;

	for (;;)
	{
		ssize_t		n = read(f->fd, buf, len);

		if (n >= 0)
			return (int) n;
		if (errno != EINTR)
		{
			f->saved_errno = errno;
			return -1;
		}
	}
}

/*
 * Raise the reader's error with its line; source names the document, file is the file
 * read (NULL for a document given as text). When reading the file failed, the error is
 * the file's, with its errno.
 */
void
inami_flow_raise(FlowParser *p, const char *source, const FlowFile *file)
{
	const FlowError *e = flow_error(p);
	int			code;

	/* the reader stopped for an interrupt: PostgreSQL's own error says which */
	if (strcmp(e->sqlstate, "57014") == 0)
		CHECK_FOR_INTERRUPTS();
	/* reading the source raised an error, kept while in libxml2: that error */
	if (file != NULL && file->error != NULL)
		ReThrowError(file->error);
	if (file != NULL && file->saved_errno != 0)
	{
		errno = file->saved_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read file \"%s\": %m", source),
				 strcmp(e->sqlstate, "58030") == 0 && e->detail[0] ? errdetail("%s", e->detail)
				 : errdetail("At line %d of the document.", e->line),
				 errhint("Give the path of a regular file that the PostgreSQL server's operating-system user can read, and that is not changed while it loads.")));
	}
	if (strlen(e->sqlstate) == 5 && strcmp(e->sqlstate, "XX000") != 0)
		code = MAKE_SQLSTATE(e->sqlstate[0], e->sqlstate[1], e->sqlstate[2], e->sqlstate[3], e->sqlstate[4]);
	else
		code = ERRCODE_INVALID_XML_CONTENT;
	ereport(ERROR,
			(errcode(code),
			 errmsg("%s", e->message),
			 e->detail[0] ? errdetail("%s Line %d of %s.", e->detail, e->line, source)
			 : errdetail("Line %d of %s.", e->line, source),
			 e->hint[0] ? errhint("%s", e->hint)
			 : errhint("Check the document against the schema of its kind (xsd/ in inami's sources); fix it at the source and send it again.")));
}

/* ---- the tables and checks of each kind ---- */

/*
 * The check of a batch: for each key u.k (at position u.i), whether the household it
 * answers is missing (MISSING, a boolean) and which file has it already (OTHER, a
 * subquery). Both are correlated subqueries, so each key is one index lookup whatever the
 * statistics say: a join planned from stale statistics (a table emptied then vacuumed
 * looks empty however it grows) read the whole table for every batch. Like every query
 * of the loader, it is prepared and run under search_path "pg_catalog, pg_temp"
 * (inami_search_path_push), so its operators and functions are pg_catalog's whatever
 * the caller's search_path offers.
 */
#define CHECK_BATCH(missing, other) \
	"SELECT i, missing, other FROM (SELECT u.i, " missing " AS missing, (" other " LIMIT 1) AS other " \
	"FROM pg_catalog.unnest($3) WITH ORDINALITY AS u(k, i) OFFSET 0) c " \
	"WHERE missing OR other IS NOT NULL ORDER BY i LIMIT 1"

/* What each kind loads into (the referenced table first) and the check of its batches. */
typedef struct FlowKindTables
{
	const char *table[2];		/* in schema inami; NULL: one table only */
	const char *columns[2];
	const char *check;
	bool		oa_arg;			/* $2 of the check is the file's OA (otherwise its shipment) */
} FlowKindTables;

static const FlowKindTables kind_tables[] = {
	[FLOW_SYST01] = {
		{"syst01_household", "syst01_member"},
		{"control_year, request_number, oa, requester_niss, file_id", "control_year, request_number, niss"},
		CHECK_BATCH("false", "SELECT h.file_id FROM inami.syst01_household h "
					"WHERE h.control_year = $1 AND h.request_number = u.k"),
		true
	},
	[FLOW_PRO01] = {
		{"pro01_household", "pro01_member"},
		{"year, request_number, oa, requester_niss, file_id", "year, request_number, niss"},
		CHECK_BATCH("false", "SELECT h.file_id FROM inami.pro01_household h "
					"WHERE h.year = $1 AND h.request_number = u.k"),
		true
	},
	/*
	 * No Syst_01 needed: the CIN filter also sends households of another OA (E 2.3). No
	 * query either: the primary key finds a household repeated (flush_table).
	 */
	[FLOW_SYST04] = {
		{"syst04_household", "syst04_member"},
		{"control_year, request_number, shipment, income_year, requester_niss, household_total, file_id",
		"control_year, request_number, shipment, niss, return_code, tax_sheet, cadastral_income, "
		"personal_total, ipcal_code, ipcal_amount"},
		NULL,
		false
	},
	[FLOW_PRO03] = {
		{"pro03_person"},
		{"year, shipment, niss, income_year, return_code, file_id, ipcal_code, ipcal_amount"},
		CHECK_BATCH("false", "SELECT p.file_id FROM inami.pro03_person p "
					"WHERE p.year = $1 AND p.shipment = $2 AND p.niss = u.k"),
		false
	},
	[FLOW_SYST05] = {
		{"syst05_feedback_received"},
		{"control_year, request_number, oa, reason, right_end, file_id"},
		CHECK_BATCH("NOT EXISTS (SELECT FROM inami.syst01_household s "
					"WHERE s.control_year = $1 AND s.request_number = u.k)",
					"SELECT f.file_id FROM inami.syst05_feedback_received f "
					"WHERE f.control_year = $1 AND f.request_number = u.k"),
		true
	},
	[FLOW_PRO04] = {
		{"pro04_result_received"},
		{"year, shipment, request_number, code, file_id"},
		CHECK_BATCH("NOT EXISTS (SELECT FROM inami.pro01_household p "
					"WHERE p.year = $1 AND p.request_number = u.k)",
					"SELECT r.file_id FROM inami.pro04_result_received r "
					"WHERE r.year = $1 AND r.shipment = $2 AND r.request_number = u.k"),
		false
	},
};

/* ---- batches of rows ---- */

/* A key of the batch (request number or NISS) with its line, for the checks. */
typedef struct FlowKey
{
	char		key[19];
	int			line;
	int			index;
} FlowKey;

typedef struct FlowLoad
{
	FlowHeader	h;
	const FlowKindTables *k;	/* kind_tables[h.kind] */
	const char *source;			/* the document, in messages */
	const char *name;			/* inami.flow_file.source_name */
	int64		file_id;
	int64		count;
	int64		progress_every;
	MemoryContext batch_cxt;
	MemoryContext record_cxt;
	InamiCopyRows t[2];			/* the tables of the kind, the referenced one first */
	int			ntables;
	FlowKey    *keys;
	int			nkeys;
	SPIPlanPtr	check_plan;
	Datum		check_args[2];	/* year, and the OA or the shipment */
} FlowLoad;

/* Bytes of rows after which a batch is inserted even if it has fewer than FLOW_BATCH records. */
#define FLOW_BATCH_BYTES (8 * 1024 * 1024)

static int64
batch_bytes(const FlowLoad *l)
{
	int64		n = 0;

	for (int i = 0; i < l->ntables; i++)
		n += l->t[i].bytes;
	return n;
}

/* ---- checks against the database ---- */

/* Order keys by value, then by position. */
static int
key_cmp(const void *a, const void *b)
{
	const FlowKey *x = a;
	const FlowKey *y = b;
	int			r = strcmp(x->key, y->key);

	return r != 0 ? r : x->index - y->index;
}

/* The same household (or person) twice within the batch. */
static void
check_batch_duplicates(FlowLoad *l, const char *what)
{
	FlowKey    *sorted;

	if (l->nkeys < 2)
		return;
	sorted = MemoryContextAlloc(l->batch_cxt, sizeof(FlowKey) * l->nkeys);
	memcpy(sorted, l->keys, sizeof(FlowKey) * l->nkeys);
	qsort(sorted, l->nkeys, sizeof(FlowKey), key_cmp);
	for (int k = 1; k < l->nkeys; k++)
		if (strcmp(sorted[k - 1].key, sorted[k].key) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("the same %s twice in a file", what),
					 errdetail("%s %s at lines %d and %d of %s.", what, sorted[k].key,
							   sorted[k - 1].line, sorted[k].line, l->source),
					 errhint("Each %s appears once per file; fix the file at the source.", what)));
	pfree(sorted);
}

/*
 * Before inserting a batch: every key answers a household of the same year that is
 * loaded (Syst_05, Pro_04), and none is loaded already (by an earlier batch of the same
 * file or by another file). The check query returns the first bad key's position,
 * whether it is missing and the file that has it. It runs as a read-write statement so
 * that its snapshot sees the earlier batches of this load.
 */
static void
check_batch_database(FlowLoad *l, const char *what, const char *needs)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};
	Datum	   *keys;
	int			rc;
	bool		isnull;
	int			pos;
	bool		missing;
	int64		other;
	Datum		value;
	FlowKey    *key;
	int			guc_level;

	if (l->check_plan == NULL || l->nkeys == 0)
		return;
	keys = palloc(sizeof(Datum) * l->nkeys);
	for (int k = 0; k < l->nkeys; k++)
		keys[k] = CStringGetTextDatum(l->keys[k].key);
	args[0] = l->check_args[0];
	args[1] = l->check_args[1];
	args[2] = PointerGetDatum(construct_array(keys, l->nkeys, TEXTOID, -1, false, TYPALIGN_INT));
	/* under the search_path it was prepared with: another one would have it analyzed again */
	guc_level = inami_search_path_push();
	rc = SPI_execute_plan(l->check_plan, args, nulls, false, 1);
	inami_search_path_pop(guc_level);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "checking a batch failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		SPI_freetuptable(SPI_tuptable);
		return;
	}
	pos = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	Assert(!isnull);
	missing = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	Assert(!isnull);
	/* NULL when no file has the key: test before reading it (int8 may be by reference) */
	value = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	other = isnull ? 0 : DatumGetInt64(value);
	key = &l->keys[pos - 1];
	if (missing)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("%s answers a household that no %s of year %d lists", l->h.kind_name, needs, l->h.year),
				 errdetail("%s %s at line %d of %s.", what, key->key, key->line, l->source),
				 errhint("Load the %s of year %d first (inami.load_flow_file), or check that this file is of the right year.",
						 needs, l->h.year)));
	if (other == l->file_id)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("the same %s twice in a file", what),
				 errdetail("%s %s again at line %d of %s.", what, key->key, key->line, l->source),
				 errhint("Each %s appears once per file; fix the file at the source.", what)));
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("%s %s of year %d is already loaded", what, key->key, l->h.year),
			 errdetail("Line %d of %s; it was loaded from file_id %lld.", key->line, l->source, (long long) other),
			 errhint("To replace it: DELETE FROM inami.flow_file WHERE file_id = %lld; then load again.",
					 (long long) other)));
}

/* An error while inserting a batch says which records it holds. */
static void
batch_error_context(void *arg)
{
	FlowLoad   *l = arg;

	errcontext("inserting the records of lines %d to %d of %s",
			   l->keys[0].line, l->keys[l->nkeys - 1].line, l->source);
}

/*
 * Insert the rows of table i. A kind without a check query (Syst_04) has its records
 * checked against the database by the primary key alone: a shipment loads once
 * (refuse_loaded_shipment) and only the loader writes the table, so a record already
 * there comes from an earlier batch of this file, and the unique violation is said again
 * in the file's terms (the batch's lines come with the context).
 */
static void
flush_table(FlowLoad *l, int i)
{
	MemoryContext cxt = CurrentMemoryContext;

	if (l->k->check != NULL || i != 0)
	{
		inami_copy_rows_flush(&l->t[i]);
		return;
	}
	PG_TRY();
	{
		inami_copy_rows_flush(&l->t[i]);
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (e->sqlerrcode != ERRCODE_UNIQUE_VIOLATION || e->table_name == NULL ||
			strcmp(e->table_name, l->k->table[0]) != 0)
			PG_RE_THROW();
		FlushErrorState();
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("the same household twice in %s shipment %d of control year %d",
						l->h.kind_name, l->h.shipment, l->h.year),
				 e->detail ? errdetail("%s", e->detail) : 0,
				 errhint("Each household appears once per shipment; fix the file at the source.")));
	}
	PG_END_TRY();
}

/* Insert the batch, checks first. */
static void
flush_all(FlowLoad *l)
{
	static const char *const what[] = {"household", "household", "household", "household", "person", "household"};
	static const char *const needs[] = {"", "", "Syst01", "", "", "Pro01"};
	ErrorContextCallback errcallback;
	MemoryContext old;

	if (l->nkeys == 0)
		return;
	old = MemoryContextSwitchTo(l->batch_cxt);
	check_batch_duplicates(l, what[l->h.kind]);
	check_batch_database(l, what[l->h.kind], needs[l->h.kind]);
	errcallback.callback = batch_error_context;
	errcallback.arg = l;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	for (int i = 0; i < l->ntables; i++)
		flush_table(l, i);
	error_context_stack = errcallback.previous;
	MemoryContextSwitchTo(old);
	l->nkeys = 0;
	MemoryContextReset(l->batch_cxt);
}

static void
prepare_kind(FlowLoad *l)
{
	const FlowKindTables *k = l->k = &kind_tables[l->h.kind];
	Oid			check_types[3] = {INT4OID, k->oa_arg ? TEXTOID : INT4OID, TEXTARRAYOID};

	l->ntables = 0;
	for (int i = 0; i < 2 && k->table[i] != NULL; i++)
	{
		inami_copy_rows_init(&l->t[l->ntables], "inami", k->table[i], k->columns[i]);
		/* the load's own inami.flow_file row; a member's household, flushed before it */
		inami_copy_rows_parent_written(&l->t[l->ntables], "inami", "flow_file");
		if (i == 1)
			inami_copy_rows_parent_written(&l->t[l->ntables], "inami", k->table[0]);
		l->ntables++;
	}
	l->check_args[0] = Int32GetDatum(l->h.year);
	l->check_args[1] = k->oa_arg ? CStringGetTextDatum(l->h.oa) : Int32GetDatum(l->h.shipment);
	if (k->check == NULL)
		return;
	/* planned for each batch, from the sizes the tables have reached */
	l->check_plan = SPI_prepare_cursor(k->check, 3, check_types, CURSOR_OPT_CUSTOM_PLAN);
	if (l->check_plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
}

/*
 * A member's IPCAL items, in document order, as the two array values of its row
 * (ipcal_code, ipcal_amount).
 */
static void
copy_items(InamiCopyRows *t, const FlowRecord *rec, const FlowMember *mb)
{
	Datum	   *codes = palloc(sizeof(Datum) * Max(mb->n_items, 1));
	Datum	   *amounts = palloc(sizeof(Datum) * Max(mb->n_items, 1));

	for (int it = 0; it < mb->n_items; it++)
	{
		const FlowItem *item = &rec->items[mb->first_item + it];

		codes[it] = CStringGetTextDatum(item->code);
		amounts[it] = inami_cents_to_numeric(item->amount);
	}
	inami_copy_array(t, TEXTOID, codes, mb->n_items);
	inami_copy_array(t, NUMERICOID, amounts, mb->n_items);
	for (int it = 0; it < mb->n_items; it++)
	{
		pfree(DatumGetPointer(codes[it]));
		pfree(DatumGetPointer(amounts[it]));
	}
	pfree(codes);
	pfree(amounts);
}

/* Add one record to the batch. */
static void
add_record(FlowLoad *l, const FlowRecord *rec)
{
	const FlowHeader *h = &l->h;
	FlowKey    *key = &l->keys[l->nkeys];
	InamiCopyRows *t0 = &l->t[0];
	InamiCopyRows *t1 = &l->t[1];

	key->index = l->nkeys;
	key->line = rec->line;
	snprintf(key->key, sizeof(key->key), "%s",
			 h->kind == FLOW_PRO03 ? rec->members[0].niss : rec->request_number);
	l->nkeys++;

	switch (h->kind)
	{
		case FLOW_SYST01:
		case FLOW_PRO01:
			inami_copy_int(t0, h->year);
			inami_copy_text(t0, rec->request_number);
			inami_copy_text(t0, h->oa);
			inami_copy_text(t0, rec->requester);
			inami_copy_int(t0, l->file_id);
			inami_copy_end_row(t0, rec->line);
			for (int m = 0; m < rec->n_members; m++)
			{
				inami_copy_int(t1, h->year);
				inami_copy_text(t1, rec->request_number);
				inami_copy_text(t1, rec->members[m].niss);
				inami_copy_end_row(t1, rec->members[m].line);
			}
			break;
		case FLOW_SYST04:
			inami_copy_int(t0, h->year);
			inami_copy_text(t0, rec->request_number);
			inami_copy_int(t0, h->shipment);
			inami_copy_int(t0, h->income_year);
			inami_copy_text(t0, rec->requester);
			inami_copy_cents(t0, rec->has_total, rec->total);
			inami_copy_int(t0, l->file_id);
			inami_copy_end_row(t0, rec->line);
			for (int m = 0; m < rec->n_members; m++)
			{
				const FlowMember *mb = &rec->members[m];

				inami_copy_int(t1, h->year);
				inami_copy_text(t1, rec->request_number);
				inami_copy_int(t1, h->shipment);
				inami_copy_text(t1, mb->niss);
				inami_copy_text(t1, mb->return_code);
				inami_copy_text(t1, mb->tax_sheet);
				inami_copy_cents(t1, mb->has_cadastral, mb->cadastral);
				inami_copy_cents(t1, mb->has_personal, mb->personal);
				copy_items(t1, rec, mb);
				inami_copy_end_row(t1, mb->line);
			}
			break;
		case FLOW_PRO03:
			{
				const FlowMember *mb = &rec->members[0];

				inami_copy_int(t0, h->year);
				inami_copy_int(t0, h->shipment);
				inami_copy_text(t0, mb->niss);
				inami_copy_int(t0, h->income_year);
				inami_copy_text(t0, mb->return_code);
				inami_copy_int(t0, l->file_id);
				copy_items(t0, rec, mb);
				inami_copy_end_row(t0, rec->line);
			}
			break;
		case FLOW_SYST05:
			inami_copy_int(t0, h->year);
			inami_copy_text(t0, rec->request_number);
			inami_copy_text(t0, h->oa);
			inami_copy_text(t0, rec->reason);
			inami_copy_text(t0, rec->right_end);
			inami_copy_int(t0, l->file_id);
			inami_copy_end_row(t0, rec->line);
			break;
		case FLOW_PRO04:
			inami_copy_int(t0, h->year);
			inami_copy_int(t0, h->shipment);
			inami_copy_text(t0, rec->request_number);
			inami_copy_text(t0, rec->code);
			inami_copy_int(t0, l->file_id);
			inami_copy_end_row(t0, rec->line);
			break;
	}
}

/* The shipment is loaded already: refuse, saying how to replace it. */
static void
refuse_loaded_shipment(FlowLoad *l)
{
	Datum		args[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	Oid			types[4] = {TEXTOID, INT4OID, TEXTOID, INT4OID};
	int			rc;

	args[0] = CStringGetTextDatum(l->h.kind_name);
	args[1] = Int32GetDatum(l->h.year);
	args[2] = l->h.oa[0] ? CStringGetTextDatum(l->h.oa) : (Datum) 0;
	nulls[2] = l->h.oa[0] ? ' ' : 'n';
	args[3] = Int32GetDatum(l->h.shipment);
	nulls[3] = l->h.shipment ? ' ' : 'n';

	/*
	 * Two loads of one shipment at once: the second waits here until the first ends, then
	 * finds its flow_file row (a read-write statement takes a new snapshot in READ
	 * COMMITTED) and is refused with the way to replace it, instead of meeting the first
	 * one's rows in a unique index. The lock is the transaction's, on a hash of the
	 * shipment (a collision only makes two loads wait for each other).
	 */
	{
		Datum		key = CStringGetTextDatum(psprintf("%s/%d/%s/%d", l->h.kind_name, l->h.year,
													   l->h.oa, l->h.shipment));
		Oid			keytype = TEXTOID;

		if (SPI_execute_with_args("SELECT pg_catalog.pg_advisory_xact_lock(" CppAsString2(FLOW_LOCK_CLASS)
								  ", pg_catalog.hashtext($1))", 1, &keytype, &key, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "locking the shipment failed");
	}
	rc = SPI_execute_with_args("SELECT file_id, source_name, loaded_at::text FROM inami.flow_file "
							   "WHERE kind = $1 AND year = $2 AND oa IS NOT DISTINCT FROM $3 "
							   "AND shipment IS NOT DISTINCT FROM $4 LIMIT 1",
							   4, types, args, nulls, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "looking up the shipment failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *src = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("this %s shipment is already loaded", l->h.kind_name),
				 errdetail("%s of year %d%s%s%s%s was loaded as file_id %s from %s.",
						   l->h.kind_name, l->h.year, l->h.oa[0] ? ", OA " : "", l->h.oa,
						   l->h.shipment ? ", shipment " : "", l->h.shipment ? psprintf("%d", l->h.shipment) : "", id, src),
				 errhint("To replace it: DELETE FROM inami.flow_file WHERE file_id = %s; (it deletes what that file loaded) then load again.",
						 id)));
	}
}

/* A Pro_03 answers a Pro_01 of its year. */
static void
require_pro01(FlowLoad *l)
{
	Datum		args[1] = {Int32GetDatum(l->h.year)};
	Oid			types[1] = {INT4OID};

	if (SPI_execute_with_args("SELECT 1 FROM inami.flow_file WHERE kind = 'Pro01' AND year = $1 LIMIT 1",
							  1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "looking up Pro01 files failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("Pro03 of year %d answers no loaded Pro01", l->h.year),
				 errdetail("No Pro01 file of year %d is in inami.flow_file (source %s).", l->h.year, l->source),
				 errhint("Load the Pro01 files of year %d first.", l->h.year)));
}

/* The flow_file row of this load; sets l->file_id. */
static void
insert_flow_file(FlowLoad *l)
{
	Datum		args[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	Oid			types[6] = {TEXTOID, INT4OID, TEXTOID, INT4OID, INT4OID, TEXTOID};
	bool		isnull;

	args[0] = CStringGetTextDatum(l->h.kind_name);
	args[1] = Int32GetDatum(l->h.year);
	args[2] = l->h.oa[0] ? CStringGetTextDatum(l->h.oa) : (Datum) 0;
	nulls[2] = l->h.oa[0] ? ' ' : 'n';
	args[3] = Int32GetDatum(l->h.income_year);
	nulls[3] = l->h.income_year ? ' ' : 'n';
	args[4] = Int32GetDatum(l->h.shipment);
	nulls[4] = l->h.shipment ? ' ' : 'n';
	args[5] = CStringGetTextDatum(l->name);
	if (SPI_execute_with_args("INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) "
							  "VALUES ($1, $2, $3, $4, $5, $6, 0) RETURNING file_id",
							  6, types, args, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "inserting into inami.flow_file failed");
	l->file_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * A Syst_04 may answer households that no Syst_01 here lists: the CIN filter sends the
 * answer to the requester's current OA, which may not be the one that sent the request
 * (E 2.3). They load; say how many, since the control decides Syst_01 households only.
 * A file none of whose households is listed is refused: its control year does not match
 * the Syst_01 files loaded.
 */
static void
report_unlisted(FlowLoad *l)
{
	Datum		args[2] = {Int64GetDatum(l->file_id), Int32GetDatum(l->h.year)};
	Oid			types[2] = {INT8OID, INT4OID};
	bool		isnull;
	int64		n;
	HeapTuple	tup;
	float4		listed = 0;

	/*
	 * The households just loaded have no statistics yet, so the planner takes them for a
	 * few and looks each one up in Syst_01's primary key: 5 s for 850,000. A file of more
	 * than a quarter of the Syst_01 households (by the statistics of syst01_household) is
	 * joined to a hash of them instead (0.8 s); a small one is still looked up.
	 */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(get_relname_relid("syst01_household",
																	   get_namespace_oid("inami", false))));
	if (HeapTupleIsValid(tup))
	{
		listed = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
		ReleaseSysCache(tup);
	}
	if (listed <= 0 || (double) l->count * 4 >= listed)
	{
		/* undone with the search_path, at the caller's inami_search_path_pop */
		(void) set_config_option("enable_nestloop", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	}

	/* the year bounds the scan to a prefix of the primary key */
	if (SPI_execute_with_args("SELECT count(*) FROM inami.syst04_household h WHERE h.control_year = $2 "
							  "AND h.file_id = $1 AND NOT EXISTS (SELECT FROM inami.syst01_household s "
							  "WHERE s.control_year = h.control_year AND s.request_number = h.request_number)",
							  2, types, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "counting the households without Syst01 failed");
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	/* not one household listed: the Syst01 is not loaded, or the file is of another year */
	/* a shard's part of a file: the coordinator judges this on the whole file */
	if (n > 0 && n == l->count && !inami_flow_load_part)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("Syst04 answers no household that a Syst01 of year %d lists", l->h.year),
				 errdetail("None of the %lld households of %s (controlYear=\"%d\") is in a loaded Syst01 of that control year.",
						   (long long) n, l->source, l->h.year),
				 errhint("Load the Syst01 of year %d first (inami.load_flow_file), or check that this file is of the right control year.",
						 l->h.year)));
	if (n > 0)
		ereport(NOTICE,
				(errmsg_plural("%lld household of %s is listed by no Syst01 of year %d",
							   "%lld households of %s are listed by no Syst01 of year %d", n, (long long) n,
							   l->source, l->h.year),
				 errdetail("The CIN filter sends an answer to the requester's current OA, which may not have sent the request (Circ. O.A. 2024/165, 2.3)."),
				 errhint("See inami.syst04_unlisted. The control decides Syst01 households: SELECT inami.adopt_unlisted_households(%d, 'your OA code') lists them as yours.", l->h.year)));
}

/*
 * Load every record the parser gives; returns the count. source names the document in
 * messages, name is the flow_file row's source_name; file is the file read, or NULL.
 */
static int64
flow_load(FlowParser *p, const char *source, const char *name, const FlowFile *file)
{
	FlowLoad	l;
	int			r;
	int			guc_level;

	memset(&l, 0, sizeof(l));
	l.source = source;
	l.name = name;
	inami_flow_watch_interrupts(p);
	if (flow_read_header(p) < 0)
		inami_flow_raise(p, source, file);
	l.h = *flow_header(p);
	l.progress_every = inami_flow_progress_every;	/* inami.c: 0 for none */

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	l.batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "inami flow batch", ALLOCSET_DEFAULT_SIZES);
	l.record_cxt = AllocSetContextCreate(CurrentMemoryContext, "inami flow record", ALLOCSET_SMALL_SIZES);
	l.keys = palloc(sizeof(FlowKey) * FLOW_BATCH);

	/*
	 * inami's own queries run under search_path "pg_catalog, pg_temp", whatever the
	 * caller's offers; the inserts (COPY's path: triggers, constraints) run under the
	 * caller's, as an INSERT of the caller's would.
	 */
	guc_level = inami_search_path_push();
	refuse_loaded_shipment(&l);
	if (l.h.kind == FLOW_PRO03)
		require_pro01(&l);
	insert_flow_file(&l);
	prepare_kind(&l);
	inami_search_path_pop(guc_level);
	/* inami.progress: records read of this file; how many it holds is not known before */
	inami_progress_start("load", psprintf("%s %d: %s", l.h.kind_name, l.h.year, source),
						 l.h.year, 0, -1);

	for (;;)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(l.record_cxt);
		old = MemoryContextSwitchTo(l.record_cxt);
		r = flow_next(p);
		MemoryContextSwitchTo(old);
		if (r < 0)
			inami_flow_raise(p, source, file);
		if (r == 0)
			break;
		old = MemoryContextSwitchTo(l.batch_cxt);
		add_record(&l, flow_record(p));
		MemoryContextSwitchTo(old);
		l.count++;
		inami_progress_done(l.count);
		if (l.nkeys == FLOW_BATCH || batch_bytes(&l) >= FLOW_BATCH_BYTES)
			flush_all(&l);
		if (l.progress_every > 0 && l.count % l.progress_every == 0)
			ereport(NOTICE,
					(errmsg("%lld records of %s read", (long long) l.count, source)));
	}
	flush_all(&l);
	guc_level = inami_search_path_push();
	if (l.h.kind == FLOW_SYST04)
		report_unlisted(&l);

	{
		Datum		args[2] = {Int64GetDatum(l.count), Int64GetDatum(l.file_id)};
		Oid			types[2] = {INT8OID, INT8OID};

		if (SPI_execute_with_args("UPDATE inami.flow_file SET record_count = $1 WHERE file_id = $2",
								  2, types, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "updating inami.flow_file failed");
	}
	inami_search_path_pop(guc_level);
	SPI_finish();
	inami_progress_end();
	return l.count;
}

/* The reader's state could not be allocated (flow_open_* returned NULL): what of. */
void
inami_flow_reader_out_of_memory(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory creating the XML reader"),
			 errdetail("Failed on request of size %zu for the reader of %s.", flow_parser_size(), what),
			 errhint("The server is short of memory; try again when it is less loaded.")));
}

/* The document of load_flow and the readers as a NUL-less buffer. */
static FlowParser *
open_text(text *doc)
{
	FlowParser *p = flow_open_memory(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), inami_flow_niss_ok);

	if (p == NULL)
		inami_flow_reader_out_of_memory(psprintf("a document of %zu bytes", (size_t) VARSIZE_ANY_EXHDR(doc)));
	return p;
}

PG_FUNCTION_INFO_V1(inami_load_flow);
Datum
inami_load_flow(PG_FUNCTION_ARGS)
{
	text	   *doc = PG_GETARG_TEXT_PP(0);
	FlowParser *volatile p = open_text(doc);
	int64		count = 0;

	PG_TRY();
	{
		count = flow_load(p, "load_flow", "load_flow", NULL);
	}
	PG_FINALLY();
	{
		flow_close(p);
	}
	PG_END_TRY();
	PG_RETURN_INT64(count);
}

/* The path is a directory, a FIFO, a device, ...: never read. */
static void
refuse_not_regular(const char *path, const struct stat *st)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("\"%s\" is not a regular file", path),
			 errdetail("load_flow_file reads regular files only; this path is a %s.",
					   S_ISDIR(st->st_mode) ? "directory" : S_ISFIFO(st->st_mode) ? "FIFO (named pipe)" :
					   S_ISSOCK(st->st_mode) ? "socket" :
					   S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) ? "device" : "special file"),
			 errhint("Give the path of a regular file that the PostgreSQL server's operating-system user can read, or pass the document to inami.load_flow(text).")));
}

/*
 * Open a file of the server for a reader, as load_flow_file does (its privilege, a
 * regular file only); f->fd is then the caller's to close (CloseTransientFile).
 */
void
inami_flow_file_open(const char *path, FlowFile *f)
{
	struct stat st;

	f->fd = -1;
	f->saved_errno = 0;
	f->error = NULL;
	if (!superuser() && !has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to load a file of the server"),
				 errdetail("Role \"%s\" is neither a superuser nor a member of pg_read_server_files.",
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("Ask an administrator to GRANT pg_read_server_files TO the role, or pass the document to inami.load_flow(text).")));
	/*
	 * Only a regular file: opening a FIFO for reading waits for a writer, where no
	 * interrupt is served, and a device may never end. stat says what the path is before
	 * it is opened; O_NONBLOCK keeps the open itself from waiting should the path change
	 * in between, and fstat checks what was opened.
	 */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		refuse_not_regular(path, &st);
	f->fd = OpenTransientFile(path, O_RDONLY | O_NONBLOCK | PG_BINARY);
	if (f->fd >= 0)
	{
		if (fstat(f->fd, &st) != 0)
		{
			int			saved = errno;

			CloseTransientFile(f->fd);
			errno = saved;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat file \"%s\": %m", path)));
		}
		if (!S_ISREG(st.st_mode))
		{
			CloseTransientFile(f->fd);
			refuse_not_regular(path, &st);
		}
		/* reads of a regular file never wait anyway; clear the flag all the same */
		if (fcntl(f->fd, F_SETFL, fcntl(f->fd, F_GETFL) & ~O_NONBLOCK) != 0)
		{
			int			saved = errno;

			CloseTransientFile(f->fd);
			errno = saved;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not set the flags of file \"%s\": %m", path)));
		}
	}
	if (f->fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", path),
				 is_absolute_path(path)
				 ? errdetail("load_flow_file opens the file on the database server, as the server's operating-system user: the path is the server's, not the client's.")
				 : errdetail("load_flow_file opens the file on the database server, as the server's operating-system user: a relative path starts in the server's data directory."),
				 errhint("Give a path the PostgreSQL server's operating-system user can read, or pass a document of the client to inami.load_flow(text).")));
}

PG_FUNCTION_INFO_V1(inami_load_flow_file);
Datum
inami_load_flow_file(PG_FUNCTION_ARGS)
{
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	FlowFile	f;
	FlowParser *volatile p = NULL;
	int64		count = 0;

	inami_flow_file_open(path, &f);
	PG_TRY();
	{
		p = flow_open_io(inami_flow_file_read, &f, inami_flow_niss_ok);
		if (p == NULL)
			inami_flow_reader_out_of_memory(psprintf("file \"%s\"", path));
		count = flow_load(p, path, path, &f);
	}
	PG_FINALLY();
	{
		flow_close(p);
		CloseTransientFile(f.fd);
	}
	PG_END_TRY();
	PG_RETURN_INT64(count);
}

/* ---- a shard's part of a file, in a large object ---- */

/* A large object streamed to a reader; f is what inami_flow_raise reads of it. */
typedef struct FlowLargeObject
{
	FlowFile	f;
	LargeObjectDesc *lo;
	MemoryContext cxt;			/* where an error of inv_read is kept */
} FlowLargeObject;

/*
 * inv_read for libxml2, a chunk at a time. Inside libxml2 an error must not be raised:
 * an error of inv_read is kept, the reading stops, and inami_flow_raise raises it once
 * out of libxml2 (the transaction then aborts, which releases what inv_read held).
 */
static int
flow_lo_read(void *ctx, char *buf, int len)
{
	FlowLargeObject *o = ctx;
	MemoryContext old = CurrentMemoryContext;
	volatile int n = -1;

	if (o->f.error != NULL)
		return -1;
	PG_TRY();
	{
		n = inv_read(o->lo, buf, len);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(o->cxt);
		o->f.error = CopyErrorData();
		FlushErrorState();
		MemoryContextSwitchTo(old);
		n = -1;
	}
	PG_END_TRY();
	return n;
}

/*
 * inami._load_flow_lo(part oid, source text, name text): a shard loads the part of a
 * file the coordinator wrote into the large object part (inami._split_flow_file), with
 * the loader of load_flow_file, streamed from the large object (nothing grows with its
 * size). source names the part in messages, name goes to inami.flow_file.source_name.
 */
PG_FUNCTION_INFO_V1(inami_load_flow_lo);
Datum
inami_load_flow_lo(PG_FUNCTION_ARGS)
{
	Oid			part = PG_GETARG_OID(0);
	char	   *source = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	FlowLargeObject o;
	FlowParser *volatile p = NULL;
	int64		count = 0;

	memset(&o, 0, sizeof(o));
	o.f.fd = -1;
	o.cxt = CurrentMemoryContext;
	o.lo = inv_open(part, INV_READ, CurrentMemoryContext);
	PG_TRY();
	{
		p = flow_open_io(flow_lo_read, &o, inami_flow_niss_ok);
		if (p == NULL)
			inami_flow_reader_out_of_memory(psprintf("large object %u", part));
		count = flow_load(p, source, name, &o.f);
	}
	PG_FINALLY();
	{
		flow_close(p);
		inv_close(o.lo);
	}
	PG_END_TRY();
	PG_RETURN_INT64(count);
}

/* ---- readers that load nothing ---- */

static Datum
text_or_null(const char *s, bool *isnull)
{
	*isnull = (s == NULL || *s == '\0');
	return *isnull ? (Datum) 0 : CStringGetTextDatum(s);
}

/* The readers refuse the same household (person) twice, as the loaders do. */
static void
reader_check_duplicate(HTAB *seen, const FlowHeader *h, const FlowRecord *rec)
{
	char		key[19];
	bool		found;
	FlowKey    *entry;
	const char *what = h->kind == FLOW_PRO03 ? "person" : h->kind == FLOW_SYST05 || h->kind == FLOW_PRO04 ? "household" : "household";

	memset(key, 0, sizeof(key));
	snprintf(key, sizeof(key), "%s", h->kind == FLOW_PRO03 ? rec->members[0].niss : rec->request_number);
	entry = hash_search(seen, key, HASH_ENTER, &found);
	if (found)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("the same %s twice in a file", what),
				 errdetail("%s %s at lines %d and %d of the document.", what, key, entry->line, rec->line),
				 errhint("Each %s appears once per file; fix the file at the source.", what)));
	entry->line = rec->line;
}

/* Walk the document of fcinfo, one tuple per member and item, into a tuplestore. */
static void
read_flow(FunctionCallInfo fcinfo, FlowKind expected)
{
	static const char *const names[] = {"Syst01", "Syst04", "Syst05", "Pro01", "Pro03", "Pro04"};
	text	   *doc = PG_GETARG_TEXT_PP(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FlowParser *volatile p;
	MemoryContext record_cxt;
	HTAB	   *seen;
	HASHCTL		hctl;

	InitMaterializedSRF(fcinfo, 0);
	record_cxt = AllocSetContextCreate(CurrentMemoryContext, "inami flow reader record", ALLOCSET_SMALL_SIZES);
	memset(&hctl, 0, sizeof(hctl));
	hctl.keysize = sizeof(((FlowKey *) NULL)->key);
	hctl.entrysize = sizeof(FlowKey);
	hctl.hcxt = CurrentMemoryContext;
	seen = hash_create("inami flow reader keys", 1024, &hctl, HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	p = open_text(doc);
	PG_TRY();
	{
		const FlowHeader *h;

		inami_flow_watch_interrupts(p);
		if (flow_read_header(p) < 0)
			inami_flow_raise(p, "the document", NULL);
		h = flow_header(p);
		if (h->kind != expected)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_XML_CONTENT),
					 errmsg("document is a %s, not a %s", h->kind_name, names[expected]),
					 errdetail("The root element is <%s>.", h->kind_name),
					 errhint("Use inami.read_%s for this document.",
							 asc_tolower(h->kind_name, strlen(h->kind_name)))));
		for (;;)
		{
			const FlowRecord *rec;
			MemoryContext old;
			Datum		v[16];
			bool		n[16];
			int			r;

			CHECK_FOR_INTERRUPTS();
			MemoryContextReset(record_cxt);
			old = MemoryContextSwitchTo(record_cxt);
			r = flow_next(p);
			if (r < 0)
				inami_flow_raise(p, "the document", NULL);
			if (r == 0)
			{
				MemoryContextSwitchTo(old);
				break;
			}
			rec = flow_record(p);
			reader_check_duplicate(seen, h, rec);
			memset(n, 0, sizeof(n));
			switch (h->kind)
			{
				case FLOW_SYST01:
				case FLOW_PRO01:
					/* year, oa, request_number, requester_niss, niss, line */
					for (int m = 0; m < rec->n_members; m++)
					{
						v[0] = Int32GetDatum(h->year);
						v[1] = CStringGetTextDatum(h->oa);
						v[2] = CStringGetTextDatum(rec->request_number);
						v[3] = CStringGetTextDatum(rec->requester);
						v[4] = CStringGetTextDatum(rec->members[m].niss);
						v[5] = Int32GetDatum(rec->members[m].line);
						tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
					}
					break;
				case FLOW_SYST04:
				case FLOW_PRO03:
					for (int m = 0; m < rec->n_members; m++)
					{
						const FlowMember *mb = &rec->members[m];
						int			items = mb->n_items > 0 ? mb->n_items : 1;

						for (int it = 0; it < items; it++)
						{
							int			c = 0;

							memset(n, 0, sizeof(n));
							v[c++] = Int32GetDatum(h->year);
							v[c++] = Int32GetDatum(h->income_year);
							v[c++] = Int32GetDatum(h->shipment);
							if (h->kind == FLOW_SYST04)
							{
								v[c++] = CStringGetTextDatum(rec->request_number);
								v[c++] = CStringGetTextDatum(rec->requester);
								n[c] = !rec->has_total;
								v[c] = n[c] ? (Datum) 0 : inami_cents_to_numeric(rec->total);
								c++;
							}
							v[c++] = CStringGetTextDatum(mb->niss);
							v[c++] = CStringGetTextDatum(mb->return_code);
							if (h->kind == FLOW_SYST04)
							{
								v[c] = text_or_null(mb->tax_sheet, &n[c]);
								c++;
								n[c] = !mb->has_cadastral;
								v[c] = n[c] ? (Datum) 0 : inami_cents_to_numeric(mb->cadastral);
								c++;
								n[c] = !mb->has_personal;
								v[c] = n[c] ? (Datum) 0 : inami_cents_to_numeric(mb->personal);
								c++;
							}
							if (mb->n_items > 0)
							{
								const FlowItem *item = &rec->items[mb->first_item + it];

								v[c++] = Int32GetDatum(it + 1);
								v[c++] = CStringGetTextDatum(item->code);
								v[c++] = inami_cents_to_numeric(item->amount);
							}
							else
							{
								n[c++] = true;
								n[c++] = true;
								n[c++] = true;
							}
							v[c++] = Int32GetDatum(mb->line);
							tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
						}
					}
					break;
				case FLOW_SYST05:
					v[0] = Int32GetDatum(h->year);
					v[1] = CStringGetTextDatum(h->oa);
					v[2] = CStringGetTextDatum(rec->request_number);
					v[3] = CStringGetTextDatum(rec->reason);
					n[4] = rec->right_end[0] == '\0';
					v[4] = n[4] ? (Datum) 0 : DirectFunctionCall1(date_in, CStringGetDatum(rec->right_end));
					v[5] = Int32GetDatum(rec->line);
					tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
					break;
				case FLOW_PRO04:
					v[0] = Int32GetDatum(h->year);
					v[1] = Int32GetDatum(h->shipment);
					v[2] = CStringGetTextDatum(rec->request_number);
					v[3] = CStringGetTextDatum(rec->code);
					v[4] = Int32GetDatum(rec->line);
					tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
					break;
			}
			MemoryContextSwitchTo(old);
		}
	}
	PG_FINALLY();
	{
		flow_close(p);
	}
	PG_END_TRY();
}

PG_FUNCTION_INFO_V1(inami_read_syst01);
Datum
inami_read_syst01(PG_FUNCTION_ARGS)
{
	read_flow(fcinfo, FLOW_SYST01);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_read_syst04);
Datum
inami_read_syst04(PG_FUNCTION_ARGS)
{
	read_flow(fcinfo, FLOW_SYST04);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_read_syst05);
Datum
inami_read_syst05(PG_FUNCTION_ARGS)
{
	read_flow(fcinfo, FLOW_SYST05);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_read_pro01);
Datum
inami_read_pro01(PG_FUNCTION_ARGS)
{
	read_flow(fcinfo, FLOW_PRO01);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_read_pro03);
Datum
inami_read_pro03(PG_FUNCTION_ARGS)
{
	read_flow(fcinfo, FLOW_PRO03);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_read_pro04);
Datum
inami_read_pro04(PG_FUNCTION_ARGS)
{
	read_flow(fcinfo, FLOW_PRO04);
	return (Datum) 0;
}
