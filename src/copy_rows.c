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

#define COPY_ROWS_BATCH 1000

/*
 * Insert the rows of cstate into rel as CopyFrom inserts them into a plain table without
 * triggers: each row's CHECK and NOT NULL constraints, then batches of multi-row heap
 * inserts and their index entries. Errors name the row's line, as COPY's do.
 */
static uint64
insert_rows(CopyFromState cstate, Relation rel, List *rtable)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	ExprContext *econtext;
	TupleTableSlot *row;
	TupleTableSlot *batch[COPY_ROWS_BATCH];
	uint64		lineno[COPY_ROWS_BATCH];
	int			nbatch = 0;
	BulkInsertState bistate = GetBulkInsertState();
	CommandId	mycid = GetCurrentCommandId(true);
	ErrorContextCallback errcallback;
	MemoryContext oldcxt = CurrentMemoryContext;
	uint64		n = 0;
	bool		done = false;

	ExecInitRangeTable(estate, rtable);
	ExecInitResultRelation(estate, rri, 1);
	CheckValidResultRel(rri, CMD_INSERT);
	ExecOpenIndices(rri, false);
	/* only the checks of foreign keys to written parents were there (the caller checked) */
	rri->ri_TrigDesc = NULL;
	estate->es_output_cid = mycid;
	econtext = GetPerTupleExprContext(estate);
	row = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsVirtual);
	for (int i = 0; i < COPY_ROWS_BATCH; i++)
		batch[i] = NULL;

	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = (void *) cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	while (!done)
	{
		CHECK_FOR_INTERRUPTS();
		ResetPerTupleExprContext(estate);
		MemoryContextSwitchTo(GetPerTupleMemoryContext(estate));
		ExecClearTuple(row);
		if (NextCopyFrom(cstate, econtext, row->tts_values, row->tts_isnull))
		{
			ExecStoreVirtualTuple(row);
			if (rel->rd_att->constr)
				ExecConstraints(rri, row, estate);
			MemoryContextSwitchTo(oldcxt);
			if (batch[nbatch] == NULL)
				batch[nbatch] = table_slot_create(rel, NULL);
			ExecCopySlot(batch[nbatch], row);
			lineno[nbatch++] = cstate->cur_lineno;
		}
		else
			done = true;
		MemoryContextSwitchTo(oldcxt);

		if (nbatch == COPY_ROWS_BATCH || (done && nbatch > 0))
		{
			uint64		save = cstate->cur_lineno;

			table_multi_insert(rel, batch, nbatch, mycid, 0, bistate);
			for (int i = 0; i < nbatch; i++)
			{
				/* a unique violation names the row's line */
				cstate->cur_lineno = lineno[i];
				ResetPerTupleExprContext(estate);
				if (rri->ri_NumIndices > 0)
					ExecInsertIndexTuples(rri, batch[i], estate, false, false, NULL, NIL);
				ExecClearTuple(batch[i]);
			}
			cstate->cur_lineno = save;
			n += nbatch;
			nbatch = 0;
		}
	}

	error_context_stack = errcallback.previous;
	for (int i = 0; i < COPY_ROWS_BATCH && batch[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(batch[i]);
	ExecDropSingleTupleTableSlot(row);
	FreeBulkInsertState(bistate);
	ExecCloseResultRelations(estate);
	ExecCloseRangeTableRelations(estate);
	FreeExecutorState(estate);
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
