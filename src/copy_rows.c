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
 *
 * A foreign key whose referenced rows the caller wrote itself, in this transaction, with
 * the very values the rows carry (a member's household of the same file, the file's own
 * inami.flow_file row), cannot fail and cannot lose its referenced row to another
 * transaction (the row is not yet visible to any other): its per-row check, an SPI query
 * that locks the referenced row, was most of a load's time. The caller names such
 * referenced tables (inami_copy_rows_parent_written); when the only triggers an INSERT
 * into the table would fire are the checks of those foreign keys (to the parent's primary
 * key, from columns of the same names, a parent without a user's trigger or rule: see
 * fkey_to_written_parent), and the table is no partition, the rows go through
 * the loop below, which does what CopyFrom does for a plain table without triggers
 * (CHECK and NOT NULL constraints, multi-row heap inserts, index entries), and nothing
 * else. Any other trigger, a user's included, sends the rows through CopyFrom with every
 * trigger. A plain INSERT or COPY still runs every foreign-key check.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/varlena.h"

#include "inami.h"

/*
 * The buffer CopyFrom reads from: its data source callback takes no argument, so the
 * buffer being flushed is kept here, and the one before restored afterwards (a trigger
 * on a table being loaded might load another file).
 */
typedef struct RowsSource
{
	const char *data;
	int			len;
	int			pos;
} RowsSource;

static RowsSource *copy_source;

static int
copy_rows_source(void *outbuf, int minread, int maxread)
{
	RowsSource *src = copy_source;
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
	rows->parents = NIL;
}

/*
 * The caller writes, in this transaction and before flushing, every row of schema.table
 * that the rows reference through a foreign key: that key's check is not needed (see the
 * head of this file).
 */
void
inami_copy_rows_parent_written(InamiCopyRows *rows, const char *schema, const char *table)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid(schema, false));

	if (!OidIsValid(relid))
		elog(ERROR, "relation %s.%s does not exist", schema, table);
	rows->parents = lappend_oid(rows->parents, relid);
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
 * Is conoid, a foreign key of rel, one whose check cannot fail once the caller wrote the
 * parent's rows: to the primary key of the parent, from columns of the same names (the
 * very values the caller wrote there), and a parent no trigger or rule of a user's can
 * drop or change rows of (such a one would leave the check needed)?
 */
static bool
fkey_to_written_parent(Relation rel, List *fkeys, Oid conoid)
{
	ListCell   *lc;

	foreach(lc, fkeys)
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);
		Relation	parent;
		Bitmapset  *pk;
		bool		ok;

		if (fk->conoid != conoid)
			continue;
		parent = table_open(fk->confrelid, AccessShareLock);
		ok = !parent->rd_rel->relhasrules;
		for (int i = 0; ok && parent->trigdesc != NULL && i < parent->trigdesc->numtriggers; i++)
			ok = parent->trigdesc->triggers[i].tgisinternal;
		pk = RelationGetIndexAttrBitmap(parent, INDEX_ATTR_BITMAP_PRIMARY_KEY);
		ok = ok && bms_num_members(pk) == fk->nkeys;
		for (int j = 0; ok && j < fk->nkeys; j++)
			ok = bms_is_member(fk->confkey[j] - FirstLowInvalidHeapAttributeNumber, pk) &&
				strcmp(get_attname(RelationGetRelid(rel), fk->conkey[j], false),
					   get_attname(fk->confrelid, fk->confkey[j], false)) == 0;
		table_close(parent, AccessShareLock);
		return ok;
	}
	return false;
}

/*
 * True when every trigger an INSERT into rel fires is the check of a foreign key to one of
 * the parents that cannot fail (fkey_to_written_parent); no trigger at all included.
 */
static bool
only_written_parent_checks(Relation rel, List *parents)
{
	TriggerDesc *td = rel->trigdesc;
	List	   *fkeys;

	if (td == NULL)
		return true;
	fkeys = RelationGetFKeyList(rel);
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (!TRIGGER_FOR_INSERT(t->tgtype))
			continue;
		if (t->tgfoid == F_RI_FKEY_CHECK_INS && t->tgisinternal &&
			list_member_oid(parents, t->tgconstrrelid) && fkey_to_written_parent(rel, fkeys, t->tgconstraint))
			continue;
		return false;
	}
	return true;
}

/*
 * The row writer: rows into a plain table as CopyFrom inserts them into one without
 * triggers: each row's CHECK and NOT NULL constraints, then batches of multi-row heap
 * inserts and their index entries. Shared by the loaders (rows read back from COPY's
 * text) and inami._insert_select (rows of a query, insert_select.c).
 */
void
inami_row_writer_begin(InamiRowWriter *w, Relation rel, List *rtable)
{
	w->rel = rel;
	w->estate = CreateExecutorState();
	w->rri = makeNode(ResultRelInfo);
	ExecInitRangeTable(w->estate, rtable);
	ExecInitResultRelation(w->estate, w->rri, 1);
	CheckValidResultRel(w->rri, CMD_INSERT);
	ExecOpenIndices(w->rri, false);
	/* the caller checked that no trigger but foreign-key checks it answers for is there */
	w->rri->ri_TrigDesc = NULL;
	w->cid = GetCurrentCommandId(true);
	w->estate->es_output_cid = w->cid;
	w->bistate = GetBulkInsertState();
	w->nbatch = 0;
	w->n = 0;
	w->tag_target = NULL;
	w->mcxt = CurrentMemoryContext;
	for (int i = 0; i < INAMI_ROW_WRITER_BATCH; i++)
		w->batch[i] = NULL;
}

/* The per-row memory context: a row's values may live there until inami_row_writer_add. */
MemoryContext
inami_row_writer_row_context(InamiRowWriter *w)
{
	ResetPerTupleExprContext(w->estate);
	return GetPerTupleMemoryContext(w->estate);
}

static void
row_writer_flush(InamiRowWriter *w)
{
	uint64		save = w->tag_target ? *w->tag_target : 0;

	if (w->nbatch == 0)
		return;
	table_multi_insert(w->rel, w->batch, w->nbatch, w->cid, 0, w->bistate);
	for (int i = 0; i < w->nbatch; i++)
	{
		/* a unique violation names the row (COPY: its line) */
		if (w->tag_target)
			*w->tag_target = w->tag[i];
		ResetPerTupleExprContext(w->estate);
		if (w->rri->ri_NumIndices > 0)
			ExecInsertIndexTuples(w->rri, w->batch[i], w->estate, false, false, NULL, NIL);
		ExecClearTuple(w->batch[i]);
	}
	if (w->tag_target)
		*w->tag_target = save;
	w->n += w->nbatch;
	w->nbatch = 0;
}

/*
 * One row (a slot of the table's row type): its constraints checked now, inserted with
 * its batch. tag is what *tag_target says while the row's index entries are made.
 */
void
inami_row_writer_add(InamiRowWriter *w, TupleTableSlot *row, uint64 tag)
{
	MemoryContext oldcxt;

	if (w->rel->rd_att->constr)
		ExecConstraints(w->rri, row, w->estate);
	oldcxt = MemoryContextSwitchTo(w->mcxt);
	if (w->batch[w->nbatch] == NULL)
		w->batch[w->nbatch] = table_slot_create(w->rel, NULL);
	ExecCopySlot(w->batch[w->nbatch], row);
	MemoryContextSwitchTo(oldcxt);
	w->tag[w->nbatch++] = tag;
	if (w->nbatch == INAMI_ROW_WRITER_BATCH)
		row_writer_flush(w);
}

/* The last batch, and everything released; returns the rows inserted. */
uint64
inami_row_writer_end(InamiRowWriter *w)
{
	row_writer_flush(w);
	for (int i = 0; i < INAMI_ROW_WRITER_BATCH && w->batch[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(w->batch[i]);
	FreeBulkInsertState(w->bistate);
	ExecCloseResultRelations(w->estate);
	ExecCloseRangeTableRelations(w->estate);
	FreeExecutorState(w->estate);
	return w->n;
}

/* The rows of cstate through the row writer; errors name the row's line, as COPY's do. */
static uint64
insert_rows(CopyFromState cstate, Relation rel, List *rtable)
{
	InamiRowWriter w;
	TupleTableSlot *row;
	ErrorContextCallback errcallback;
	MemoryContext oldcxt = CurrentMemoryContext;
	uint64		n;

	inami_row_writer_begin(&w, rel, rtable);
	w.tag_target = &cstate->cur_lineno;
	row = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);

	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = (void *) cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(inami_row_writer_row_context(&w));
		ExecClearTuple(row);
		if (!NextCopyFrom(cstate, GetPerTupleExprContext(w.estate), row->tts_values, row->tts_isnull))
			break;
		ExecStoreVirtualTuple(row);
		inami_row_writer_add(&w, row, cstate->cur_lineno);
	}
	MemoryContextSwitchTo(oldcxt);

	/* the last batch goes in with the context that names a row's line */
	n = inami_row_writer_end(&w);
	error_context_stack = errcallback.previous;
	ExecDropSingleTupleTableSlot(row);
	return n;
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
	RowsSource	src;
	RowsSource *saved;
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
		/* not a partition either: CopyFrom checks the partition constraint, the loop does not */
		if (rel->rd_rel->relkind == RELKIND_RELATION && !rel->rd_rel->relispartition &&
			!(rel->rd_att->constr && rel->rd_att->constr->has_generated_stored) &&
			only_written_parent_checks(rel, rows->parents))
			n = insert_rows(cstate, rel, pstate->p_rtable);
		else
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
