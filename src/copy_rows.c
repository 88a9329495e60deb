/*
 * copy_rows.c
 *		Rows inserted the way COPY FROM inserts them: the caller writes a batch of rows in
 *		COPY's text format into a buffer, and inami_copy_rows_flush hands the buffer to
 *		PostgreSQL's own CopyFrom (multi-row heap inserts, index entries, CHECK constraints,
 *		foreign-key triggers). The loaders of flows_read.c use it: an INSERT ... SELECT
 *		FROM unnest(arrays) per batch spent a third of a load in the executor and per-row
 *		heap inserts that COPY batches.
 *
 * Privileges are those of an INSERT into the listed columns (checked as COPY checks them);
 * a table with row-level security enabled is refused, as COPY FROM refuses it.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "commands/copy.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/varlena.h"

#include "inami.h"

/*
 * The buffer CopyFrom reads from: its data source callback takes no argument, so the
 * buffer being flushed is kept here, and the one before restored afterwards (a trigger
 * on a table being loaded might load another file).
 */
typedef struct CopySource
{
	const char *data;
	int			len;
	int			pos;
} CopySource;

static CopySource *copy_source;

static int
copy_rows_source(void *outbuf, int minread, int maxread)
{
	CopySource *src = copy_source;
	int			n = Min(maxread, src->len - src->pos);

	memcpy(outbuf, src->data + src->pos, n);
	src->pos += n;
	return n;
}

/* Rows for schema.table (columns: a comma-separated list), allocated in CurrentMemoryContext. */
void
inami_copy_rows_init(InamiCopyRows *rows, const char *schema, const char *table, const char *columns)
{
	List	   *names = NIL;
	ListCell   *lc;

	rows->relid = get_relname_relid(table, get_namespace_oid(schema, false));
	if (!OidIsValid(rows->relid))
		elog(ERROR, "relation %s.%s does not exist", schema, table);
	if (!SplitIdentifierString(pstrdup(columns), ',', &names))
		elog(ERROR, "invalid column list \"%s\"", columns);
	rows->columns = NIL;
	foreach(lc, names)
		rows->columns = lappend(rows->columns, makeString(pstrdup(lfirst(lc))));
	initStringInfo(&rows->data);
	rows->nrows = 0;
	rows->in_row = false;
}

static void
copy_separator(InamiCopyRows *rows)
{
	if (rows->in_row)
		appendStringInfoChar(&rows->data, '\t');
	rows->in_row = true;
}

/* A text value, escaped for COPY's text format; NULL or "" is NULL. */
void
inami_copy_text(InamiCopyRows *rows, const char *s)
{
	copy_separator(rows);
	if (s == NULL || *s == '\0')
	{
		appendStringInfoString(&rows->data, "\\N");
		return;
	}
	for (; *s; s++)
	{
		switch (*s)
		{
			case '\\':
				appendStringInfoString(&rows->data, "\\\\");
				break;
			case '\t':
				appendStringInfoString(&rows->data, "\\t");
				break;
			case '\n':
				appendStringInfoString(&rows->data, "\\n");
				break;
			case '\r':
				appendStringInfoString(&rows->data, "\\r");
				break;
			default:
				appendStringInfoChar(&rows->data, *s);
		}
	}
}

void
inami_copy_int(InamiCopyRows *rows, int64 v)
{
	char		digits[MAXINT8LEN + 1];

	copy_separator(rows);
	appendBinaryStringInfo(&rows->data, digits, pg_lltoa(v, digits));
}

/* An amount in cents, or NULL when absent. */
void
inami_copy_cents(InamiCopyRows *rows, bool present, int64 cents)
{
	copy_separator(rows);
	if (present)
		inami_cents_append(&rows->data, cents);
	else
		appendStringInfoString(&rows->data, "\\N");
}

/*
 * A value the caller writes into the buffer itself (an array literal, say); it must need
 * no COPY escape (no backslash, tab, newline or carriage return).
 */
StringInfo
inami_copy_raw(InamiCopyRows *rows)
{
	copy_separator(rows);
	return &rows->data;
}

void
inami_copy_end_row(InamiCopyRows *rows)
{
	appendStringInfoChar(&rows->data, '\n');
	rows->in_row = false;
	rows->nrows++;
}

/*
 * Insert the rows written so far, through CopyFrom, and empty the buffer. Returns the
 * count. A later statement of the transaction sees them (command counter incremented).
 */
uint64
inami_copy_rows_flush(InamiCopyRows *rows)
{
	ParseState *pstate;
	Relation	rel;
	ParseNamespaceItem *nsitem;
	CopyFromState cstate;
	List	   *options;
	ListCell   *lc;
	CopySource	src;
	CopySource *saved;
	volatile uint64 n = 0;

	if (rows->nrows == 0)
		return 0;
	Assert(!rows->in_row);

	pstate = make_parsestate(NULL);
	rel = table_open(rows->relid, RowExclusiveLock);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	foreach(lc, rows->columns)
	{
		AttrNumber	att = attnameAttNum(rel, strVal(lfirst(lc)), false);

		if (att == InvalidAttrNumber)
			elog(ERROR, "column \"%s\" of %s does not exist", strVal(lfirst(lc)), RelationGetRelationName(rel));
		nsitem->p_rte->insertedCols = bms_add_member(nsitem->p_rte->insertedCols,
													 att - FirstLowInvalidHeapAttributeNumber);
	}
	ExecCheckRTPerms(pstate->p_rtable, true);
	if (check_enable_rls(rows->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot load into %s: it has row-level security enabled", RelationGetRelationName(rel)),
				 errdetail("Row-level security of table \"%s.%s\" applies to role \"%s\", and COPY FROM cannot apply its policies.",
						   get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel),
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("The loaders insert as COPY FROM does, which row-level security does not allow: disable it on inami's tables.")));

	/* no conversion: the loaders' values are ASCII (the reader lets nothing else through) */
	options = list_make1(makeDefElem("encoding", (Node *) makeString((char *) GetDatabaseEncodingName()), -1));
	src.data = rows->data.data;
	src.len = rows->data.len;
	src.pos = 0;
	saved = copy_source;
	copy_source = &src;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, NULL, NULL, false, copy_rows_source, rows->columns, options);
		n = CopyFrom(cstate);
		EndCopyFrom(cstate);
	}
	PG_FINALLY();
	{
		copy_source = saved;
	}
	PG_END_TRY();

	table_close(rel, NoLock);
	free_parsestate(pstate);
	CommandCounterIncrement();

	resetStringInfo(&rows->data);
	rows->nrows = 0;
	return n;
}
