/*
 * copy_rows.c
 *		Rows inserted the way COPY FROM inserts them. The caller writes a batch of rows as
 *		values of the columns' types (a text, an int, a numeric of cents, an array built
 *		from its elements), and inami_copy_rows_flush inserts them: CHECK and NOT NULL
 *		constraints, multi-row heap inserts, index entries, as CopyFrom does. The loaders
 *		of flows_read.c use it: an INSERT ... SELECT FROM unnest(arrays) per batch spent a
 *		third of a load in the executor and per-row heap inserts that COPY batches, and
 *		rows written in COPY's text format spent a tenth of it printed and parsed again.
 *
 * A column of another type than the value written (a DBA's domain, a date, a typmod)
 * gets the value through its text and the column type's input function, as COPY would.
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
 * fkey_to_written_parent), and the table is no partition, the rows go through the row
 * writer below, which does what CopyFrom does for a plain table without triggers (column
 * defaults, CHECK and NOT NULL constraints, multi-row heap inserts, index entries), and
 * nothing else. Any other trigger, a user's included, sends the rows, printed in COPY's
 * text format, through CopyFrom with every trigger. A plain INSERT or COPY still runs
 * every foreign-key check.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/sysattr.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/copy.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/array.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/rls.h"
#include "utils/varlena.h"

#include "inami.h"

/* Rows for schema.table (columns: a comma-separated list), allocated in CurrentMemoryContext. */
void
inami_copy_rows_init(InamiCopyRows *rows, const char *schema, const char *table, const char *columns)
{
	List	   *names = NIL;
	ListCell   *lc;
	int			i = 0;

	memset(rows, 0, sizeof(*rows));
	rows->cxt = CurrentMemoryContext;
	rows->relid = get_relname_relid(table, get_namespace_oid(schema, false));
	if (!OidIsValid(rows->relid))
		elog(ERROR, "relation %s.%s does not exist", schema, table);
	rows->relname = pstrdup(table);
	if (!SplitIdentifierString(pstrdup(columns), ',', &names))
		elog(ERROR, "invalid column list \"%s\"", columns);
	rows->ncolumns = list_length(names);
	rows->column = palloc0(sizeof(InamiCopyColumn) * rows->ncolumns);
	foreach(lc, names)
	{
		InamiCopyColumn *c = &rows->column[i++];
		Oid			func;
		Oid			collation;
		bool		varlena;

		rows->columns = lappend(rows->columns, makeString(pstrdup(lfirst(lc))));
		c->attnum = get_attnum(rows->relid, lfirst(lc));
		if (c->attnum == InvalidAttrNumber)
			elog(ERROR, "column \"%s\" of %s.%s does not exist", (char *) lfirst(lc), schema, table);
		get_atttypetypmodcoll(rows->relid, c->attnum, &c->typid, &c->typmod, &collation);
		c->typlen = get_typlen(c->typid);
		getTypeInputInfo(c->typid, &func, &c->typioparam);
		fmgr_info(func, &c->in);
		getTypeOutputInfo(c->typid, &func, &varlena);
		fmgr_info(func, &c->out);
		c->elemtype = get_element_type(c->typid);
		if (OidIsValid(c->elemtype))
			get_typlenbyvalalign(c->elemtype, &c->elemlen, &c->elembyval, &c->elemalign);
	}
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

/* The column the next value goes to, room made for a new row. */
static InamiCopyColumn *
next_column(InamiCopyRows *rows)
{
	if (rows->next == 0 && rows->nrows == rows->maxrows)
	{
		MemoryContext old = MemoryContextSwitchTo(rows->cxt);
		int64		max = Max(rows->maxrows * 2, 1024);

		if (rows->values == NULL)
		{
			rows->values = palloc(sizeof(Datum) * max * rows->ncolumns);
			rows->nulls = palloc(sizeof(bool) * max * rows->ncolumns);
			rows->lines = palloc(sizeof(int) * max);
		}
		else
		{
			rows->values = repalloc_huge(rows->values, sizeof(Datum) * max * rows->ncolumns);
			rows->nulls = repalloc_huge(rows->nulls, sizeof(bool) * max * rows->ncolumns);
			rows->lines = repalloc_huge(rows->lines, sizeof(int) * max);
		}
		rows->maxrows = max;
		MemoryContextSwitchTo(old);
	}
	if (rows->next >= rows->ncolumns)
		elog(ERROR, "more values than the %d columns of a row of %s", rows->ncolumns, rows->relname);
	return &rows->column[rows->next];
}

/* Store the value of the next column, already of the column's type. */
static void
store(InamiCopyRows *rows, Datum value, bool isnull)
{
	InamiCopyColumn *c = &rows->column[rows->next];
	int64		i = rows->nrows * rows->ncolumns + rows->next++;

	rows->values[i] = value;
	rows->nulls[i] = isnull;
	rows->bytes += sizeof(Datum) + (!isnull && c->typlen == -1 ? VARSIZE_ANY(DatumGetPointer(value)) : 0);
}

/* The next column's value from its text (NULL: NULL), through the column type's input function. */
static void
store_text_of(InamiCopyRows *rows, InamiCopyColumn *c, char *s)
{
	/* called for NULL too, as COPY calls it: a domain may refuse NULL */
	Datum		value = InputFunctionCall(&c->in, s, c->typioparam, c->typmod);

	store(rows, value, s == NULL);
}

/*
 * The next column's value, of type typid: stored as it is when the column has that type
 * (and no typmod), else converted as COPY would convert its text.
 */
static void
store_value(InamiCopyRows *rows, InamiCopyColumn *c, Oid typid, Datum value, bool isnull)
{
	Oid			out;
	bool		varlena;

	if (typid == c->typid && c->typmod < 0)
	{
		store(rows, value, isnull);
		return;
	}
	if (isnull)
	{
		store_text_of(rows, c, NULL);
		return;
	}
	getTypeOutputInfo(typid, &out, &varlena);
	store_text_of(rows, c, OidOutputFunctionCall(out, value));
}

/* A text value; NULL or "" is NULL. */
void
inami_copy_text(InamiCopyRows *rows, const char *s)
{
	InamiCopyColumn *c = next_column(rows);

	if (s == NULL || *s == '\0')
		store_value(rows, c, TEXTOID, (Datum) 0, true);
	else if (c->typid == TEXTOID && c->typmod < 0)
		store(rows, CStringGetTextDatum(s), false);
	else
		store_text_of(rows, c, pstrdup(s));
}

void
inami_copy_int(InamiCopyRows *rows, int64 v)
{
	InamiCopyColumn *c = next_column(rows);

	if (c->typid == INT4OID && c->typmod < 0 && v >= PG_INT32_MIN && v <= PG_INT32_MAX)
		store(rows, Int32GetDatum((int32) v), false);
	else
		store_value(rows, c, INT8OID, Int64GetDatum(v), false);
}

/* An amount in cents, or NULL when absent: a numeric of scale 2, as numeric_in makes it. */
void
inami_copy_cents(InamiCopyRows *rows, bool present, int64 cents)
{
	InamiCopyColumn *c = next_column(rows);

	store_value(rows, c, NUMERICOID, present ? inami_cents_to_numeric(cents) : (Datum) 0, !present);
}

/* A one-dimensional array of n elements of type elemtype (none: the empty array). */
void
inami_copy_array(InamiCopyRows *rows, Oid elemtype, Datum *elems, int n)
{
	InamiCopyColumn *c = next_column(rows);
	int16		len;
	bool		byval;
	char		align;

	if (elemtype == c->elemtype && c->typmod < 0)
	{
		store(rows, PointerGetDatum(construct_array(elems, n, elemtype, c->elemlen, c->elembyval, c->elemalign)),
			  false);
		return;
	}
	get_typlenbyvalalign(elemtype, &len, &byval, &align);
	store_value(rows, c, get_array_type(elemtype),
				PointerGetDatum(construct_array(elems, n, elemtype, len, byval, align)), false);
}

/* The row is complete; line is where it is in the file, for messages. */
void
inami_copy_end_row(InamiCopyRows *rows, int line)
{
	if (rows->next != rows->ncolumns)
		elog(ERROR, "a row of %s has %d values for %d columns", rows->relname, rows->next, rows->ncolumns);
	rows->lines[rows->nrows++] = line;
	rows->next = 0;
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
 * inserts and their index entries. Shared by the loaders (the rows written above) and
 * inami._insert_select (rows of a query, insert_select.c).
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

/* An error while the rows go in names the row's line in the file. */
static void
row_error_context(void *arg)
{
	InamiCopyRows *rows = arg;

	errcontext("the %s row of line %d", rows->relname, rows->lines[rows->current]);
}

/*
 * The rows through the row writer: the listed columns from the values written, every
 * other one its default (COPY's too), NULL without one.
 */
static uint64
insert_rows(InamiCopyRows *rows, Relation rel, List *rtable)
{
	TupleDesc	desc = RelationGetDescr(rel);
	InamiRowWriter w;
	TupleTableSlot *row;
	ErrorContextCallback errcallback;
	MemoryContext oldcxt = CurrentMemoryContext;
	ExprState **defaults;
	bool	   *listed;
	uint64		n;

	inami_row_writer_begin(&w, rel, rtable);
	w.tag_target = &rows->current;
	row = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);

	listed = palloc0(sizeof(bool) * desc->natts);
	for (int c = 0; c < rows->ncolumns; c++)
		listed[rows->column[c].attnum - 1] = true;
	defaults = palloc0(sizeof(ExprState *) * desc->natts);
	for (int a = 0; a < desc->natts; a++)
	{
		Expr	   *expr;

		if (listed[a] || TupleDescAttr(desc, a)->attisdropped)
			continue;
		expr = (Expr *) build_column_default(rel, a + 1);
		if (expr != NULL)
			defaults[a] = ExecPrepareExpr(expr, w.estate);
	}

	errcallback.callback = row_error_context;
	errcallback.arg = (void *) rows;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;

	for (int64 r = 0; r < rows->nrows; r++)
	{
		ExprContext *econtext;

		CHECK_FOR_INTERRUPTS();
		rows->current = r;
		MemoryContextSwitchTo(inami_row_writer_row_context(&w));
		econtext = GetPerTupleExprContext(w.estate);
		ExecClearTuple(row);
		for (int a = 0; a < desc->natts; a++)
		{
			row->tts_isnull[a] = true;
			if (defaults[a] != NULL)
				row->tts_values[a] = ExecEvalExpr(defaults[a], econtext, &row->tts_isnull[a]);
		}
		for (int c = 0; c < rows->ncolumns; c++)
		{
			int			a = rows->column[c].attnum - 1;

			row->tts_values[a] = rows->values[r * rows->ncolumns + c];
			row->tts_isnull[a] = rows->nulls[r * rows->ncolumns + c];
		}
		ExecStoreVirtualTuple(row);
		inami_row_writer_add(&w, row, r);
	}
	MemoryContextSwitchTo(oldcxt);

	/* the last batch goes in with the context that names a row's line */
	n = inami_row_writer_end(&w);
	error_context_stack = errcallback.previous;
	ExecDropSingleTupleTableSlot(row);
	return n;
}

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

/* The rows in COPY's text format, each value printed by its column type's output function. */
static void
print_rows(InamiCopyRows *rows, StringInfo buf)
{
	for (int64 r = 0; r < rows->nrows; r++)
	{
		for (int c = 0; c < rows->ncolumns; c++)
		{
			int64		i = r * rows->ncolumns + c;

			if (c > 0)
				appendStringInfoChar(buf, '\t');
			if (rows->nulls[i])
			{
				appendStringInfoString(buf, "\\N");
				continue;
			}
			for (const char *s = OutputFunctionCall(&rows->column[c].out, rows->values[i]); *s; s++)
			{
				switch (*s)
				{
					case '\\':
						appendStringInfoString(buf, "\\\\");
						break;
					case '\t':
						appendStringInfoString(buf, "\\t");
						break;
					case '\n':
						appendStringInfoString(buf, "\\n");
						break;
					case '\r':
						appendStringInfoString(buf, "\\r");
						break;
					default:
						appendStringInfoChar(buf, *s);
				}
			}
		}
		appendStringInfoChar(buf, '\n');
	}
}

/* The rows through CopyFrom, every trigger with them; returns the count. */
static uint64
copy_from(InamiCopyRows *rows, Relation rel, ParseState *pstate)
{
	CopyFromState cstate;
	List	   *options;
	StringInfoData buf;
	RowsSource	src;
	RowsSource *saved;
	volatile uint64 n = 0;

	initStringInfo(&buf);
	print_rows(rows, &buf);
	/* no conversion: the text is in the database's encoding already */
	options = list_make1(makeDefElem("encoding", (Node *) makeString((char *) GetDatabaseEncodingName()), -1));
	src.data = buf.data;
	src.len = buf.len;
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
	pfree(buf.data);
	return n;
}

/*
 * Insert the rows written so far and forget them. Returns the count. A later statement
 * of the transaction sees them (command counter incremented).
 */
uint64
inami_copy_rows_flush(InamiCopyRows *rows)
{
	ParseState *pstate;
	Relation	rel;
	ParseNamespaceItem *nsitem;
	uint64		n;

	if (rows->nrows == 0)
		return 0;
	Assert(rows->next == 0);

	pstate = make_parsestate(NULL);
	rel = table_open(rows->relid, RowExclusiveLock);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	for (int c = 0; c < rows->ncolumns; c++)
	{
		InamiCopyColumn *col = &rows->column[c];
		Form_pg_attribute att;

		/* the values were made for the columns as they were when the load began */
		if (col->attnum > RelationGetDescr(rel)->natts ||
			(att = TupleDescAttr(RelationGetDescr(rel), col->attnum - 1))->attisdropped ||
			att->atttypid != col->typid || att->atttypmod != col->typmod)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" of %s changed during the load", strVal(list_nth(rows->columns, c)),
							RelationGetRelationName(rel)),
					 errhint("Load the file again.")));
		nsitem->p_rte->insertedCols = bms_add_member(nsitem->p_rte->insertedCols,
													 col->attnum - FirstLowInvalidHeapAttributeNumber);
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

	/* not a partition either: CopyFrom checks the partition constraint, the row writer does not */
	if (rel->rd_rel->relkind == RELKIND_RELATION && !rel->rd_rel->relispartition &&
		!(rel->rd_att->constr && rel->rd_att->constr->has_generated_stored) &&
		only_written_parent_checks(rel, rows->parents))
		n = insert_rows(rows, rel, pstate->p_rtable);
	else
		n = copy_from(rows, rel, pstate);

	table_close(rel, NoLock);
	free_parsestate(pstate);
	CommandCounterIncrement();

	rows->nrows = 0;
	rows->bytes = 0;
	return n;
}
