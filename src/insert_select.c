/*
 * insert_select.c
 *		inami._insert_select(target, query): INSERT INTO target <query>, with the target's
 *		foreign keys checked once, set-based, after the rows are in, instead of one SPI
 *		query per row. The control runs write a year's decisions with it: a million rows'
 *		per-row checks of two foreign keys took longer than computing the decisions.
 *
 * The check is the one PostgreSQL's per-row check makes (ri_triggers.c), for every row at
 * once: the referenced row must exist, and it is locked FOR KEY SHARE, as the parent's
 * owner, so that no other transaction can remove it or change its key until this one
 * ends. It is made after the rows are inserted, in the same statement of the caller (as
 * PostgreSQL makes the per-row checks at the end of the INSERT): a key missing, by then,
 * is the same 23503 error, and the whole insert fails with it. Nothing else changes: the
 * rows' CHECK and NOT NULL constraints, unique indexes and privileges are those of an
 * INSERT.
 *
 * Only where the result cannot differ from an INSERT's: a plain table (no partition),
 * without rules, generated columns, GENERATED ALWAYS identities or row-level security for
 * the caller, whose only triggers on INSERT are the checks of foreign keys that are not
 * deferrable, MATCH SIMPLE, to a plain table, between columns of the same types and
 * deterministic collations; and a query whose columns are the table's, in order, of the
 * same types and typmods. Anything else is run as INSERT INTO target <query>, every
 * trigger included.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "parser/parse_node.h"
#include "parser/parse_relation.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/tuplestore.h"
#include "utils/typcache.h"
#include "tcop/utility.h"

#include "inami.h"

#define KEYS_RELATION "inami_inserted_keys"

/*
 * Can the foreign key be checked by check_fkey (same answer as the per-row check)?
 */
static bool
fkey_checkable(Relation rel, ForeignKeyCacheInfo *fk)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(fk->conoid));
	Form_pg_constraint con;
	bool		ok;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for constraint %u", fk->conoid);
	con = (Form_pg_constraint) GETSTRUCT(tup);
	ok = !con->condeferrable && con->confmatchtype == FKCONSTR_MATCH_SIMPLE &&
		get_rel_relkind(fk->confrelid) == RELKIND_RELATION;
	ReleaseSysCache(tup);
	for (int i = 0; ok && i < fk->nkeys; i++)
	{
		Oid			type;
		int32		typmod;
		Oid			coll;
		Oid			ptype;
		int32		ptypmod;
		Oid			pcoll;

		get_atttypetypmodcoll(RelationGetRelid(rel), fk->conkey[i], &type, &typmod, &coll);
		get_atttypetypmodcoll(fk->confrelid, fk->confkey[i], &ptype, &ptypmod, &pcoll);
		/*
		 * Not a row type (IS NOT NULL of a row is not the check's NULL test), and the key's
		 * equality the type's own (DISTINCT and the check's join then agree with it).
		 */
		ok = type == ptype && !type_is_rowtype(type) &&
			lookup_type_cache(type, TYPECACHE_EQ_OPR)->eq_opr == fk->conpfeqop[i] &&
			(!OidIsValid(coll) || get_collation_isdeterministic(coll)) &&
			(!OidIsValid(pcoll) || get_collation_isdeterministic(pcoll));
	}
	return ok;
}

/*
 * The foreign keys of rel when every trigger an INSERT fires is the check of one that
 * fkey_checkable takes (no trigger at all included); NULL into *ok otherwise.
 */
static List *
checkable_fkeys(Relation rel, bool *ok)
{
	TriggerDesc *td = rel->trigdesc;
	/* a copy: the relcache may rebuild its own while the query runs */
	List	   *fkeys = copyObject(RelationGetFKeyList(rel));
	List	   *checks = NIL;
	ListCell   *lc;

	*ok = SessionReplicationRole == SESSION_REPLICATION_ROLE_ORIGIN;
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];

		if (!TRIGGER_FOR_INSERT(t->tgtype))
			continue;
		/* a check that an INSERT would not make (disabled, or replication role) is left out there */
		if (!(t->tgfoid == F_RI_FKEY_CHECK_INS && t->tgisinternal &&
			  (t->tgenabled == TRIGGER_FIRES_ON_ORIGIN || t->tgenabled == TRIGGER_FIRES_ALWAYS)))
			*ok = false;
	}
	foreach(lc, fkeys)
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (!fkey_checkable(rel, fk))
			*ok = false;
		checks = lappend(checks, fk);
	}
	return *ok ? checks : NIL;
}

/*
 * Are the columns of rows (a query's) the table's, in order, of the same types and
 * typmods, none of them a GENERATED ALWAYS identity (whose value the INSERT refuses)?
 */
static bool
rows_are_the_tables(TupleDesc desc, TupleDesc rows)
{
	int			j = 0;

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute a = TupleDescAttr(desc, i);

		if (a->attisdropped)
			continue;
		if (j >= rows->natts || a->attidentity == ATTRIBUTE_IDENTITY_ALWAYS ||
			TupleDescAttr(rows, j)->atttypid != a->atttypid ||
			(a->atttypmod != -1 && TupleDescAttr(rows, j)->atttypmod != a->atttypmod))
			return false;
		j++;
	}
	return j == rows->natts;
}

/* The query's rows into the row writer; the key columns also into a tuplestore. */
typedef struct InsertReceiver
{
	DestReceiver pub;
	Relation	rel;
	List	   *rtable;
	MemoryContext mcxt;			/* the function's: the writer outlives the query */
	InamiRowWriter writer;
	bool		started;
	TupleTableSlot *row;
	int			nkeys;			/* columns any foreign key names */
	AttrNumber *keycols;
	TupleDesc	keydesc;
	Tuplestorestate *keys;
	Datum	   *kvalues;
	bool	   *knulls;
	List	   *fkeys;
	int64	   *nonnull;		/* per foreign key: rows whose key has no NULL */
	Datum	   *kfirst;			/* per key column: its first value not NULL, */
	bool	   *kseen;			/* whether there is one, */
	bool	   *ksame;			/* and whether every other is that value, byte for byte */
} InsertReceiver;

static void
receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
	InsertReceiver *r = (InsertReceiver *) self;
	MemoryContext old;

	/* the rows are the table's, as checked when the query was prepared (it may be planned again) */
	if (!rows_are_the_tables(RelationGetDescr(r->rel), typeinfo))
		elog(ERROR, "inami._insert_select: the query's row type changed since it was checked");
	old = MemoryContextSwitchTo(r->mcxt);

	/*
	 * Begun here, with the command id of the query's own snapshot: the rows it inserts are
	 * not seen by the query reading (an INSERT ... SELECT from the same table stops).
	 */
	inami_row_writer_begin(&r->writer, r->rel, r->rtable);
	r->row = MakeSingleTupleTableSlot(RelationGetDescr(r->rel), &TTSOpsVirtual);
	r->started = true;
	MemoryContextSwitchTo(old);
}

static bool
receiver_receive(TupleTableSlot *slot, DestReceiver *self)
{
	InsertReceiver *r = (InsertReceiver *) self;
	TupleDesc	desc = RelationGetDescr(r->rel);
	MemoryContext old;
	int			from = 0;

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	old = MemoryContextSwitchTo(inami_row_writer_row_context(&r->writer));
	ExecClearTuple(r->row);
	for (int i = 0; i < desc->natts; i++)
	{
		if (TupleDescAttr(desc, i)->attisdropped)
		{
			r->row->tts_values[i] = (Datum) 0;
			r->row->tts_isnull[i] = true;
			continue;
		}
		r->row->tts_values[i] = slot->tts_values[from];
		r->row->tts_isnull[i] = slot->tts_isnull[from];
		from++;
	}
	ExecStoreVirtualTuple(r->row);
	if (r->nkeys > 0)
	{
		for (int j = 0; j < r->nkeys; j++)
		{
			Form_pg_attribute a = TupleDescAttr(r->keydesc, j);

			r->kvalues[j] = r->row->tts_values[r->keycols[j] - 1];
			r->knulls[j] = r->row->tts_isnull[r->keycols[j] - 1];
			if (r->knulls[j] || !r->ksame[j])
				continue;
			if (!r->kseen[j])
			{
				MemoryContextSwitchTo(r->mcxt);
				r->kfirst[j] = datumCopy(r->kvalues[j], a->attbyval, a->attlen);
				MemoryContextSwitchTo(inami_row_writer_row_context(&r->writer));
				r->kseen[j] = true;
			}
			else
				r->ksame[j] = datumIsEqual(r->kfirst[j], r->kvalues[j], a->attbyval, a->attlen);
		}
		tuplestore_putvalues(r->keys, r->keydesc, r->kvalues, r->knulls);
		for (int f = 0; f < list_length(r->fkeys); f++)
		{
			ForeignKeyCacheInfo *fk = list_nth_node(ForeignKeyCacheInfo, r->fkeys, f);
			bool		all = true;

			for (int i = 0; i < fk->nkeys; i++)
				all = all && !r->row->tts_isnull[fk->conkey[i] - 1];
			r->nonnull[f] += all;
		}
	}
	inami_row_writer_add(&r->writer, r->row, 0);
	MemoryContextSwitchTo(old);
	return true;
}

static void
receiver_shutdown(DestReceiver *self)
{
}

static void
receiver_destroy(DestReceiver *self)
{
}

/* "a, b" of the columns of rel, each prefixed (e.g. "x.a, x.b") */
static char *
column_list(Oid relid, int n, const AttrNumber *cols, const char *prefix, const char *sep)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < n; i++)
		appendStringInfo(&s, "%s%s%s", i > 0 ? sep : "", prefix,
						 quote_identifier(get_attname(relid, cols[i], false)));
	return s.data;
}

/*
 * "p.a OPERATOR(ns.=) k.a AND ...", of the key's columns (those of only, when given); with
 * no child, the key's column i is the parameter $i+1.
 */
static char *
key_equality(ForeignKeyCacheInfo *fk, Oid relid, const char *parent, const char *child, const bool *only)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int i = 0; i < fk->nkeys; i++)
	{
		HeapTuple	tup;
		Form_pg_operator op;

		if (only != NULL && !only[i])
			continue;
		tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(fk->conpfeqop[i]));
		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for operator %u", fk->conpfeqop[i]);
		op = (Form_pg_operator) GETSTRUCT(tup);
		appendStringInfo(&s, "%s%s.%s OPERATOR(%s.%s) ", s.len > 0 ? " AND " : "",
						 parent, quote_identifier(get_attname(fk->confrelid, fk->confkey[i], false)),
						 quote_identifier(get_namespace_name(op->oprnamespace)), NameStr(op->oprname));
		if (child != NULL)
			appendStringInfo(&s, "%s.%s", child, quote_identifier(get_attname(relid, fk->conkey[i], false)));
		else
			appendStringInfo(&s, "$%d", i + 1);
		ReleaseSysCache(tup);
	}
	return s.data;
}

/*
 * Every key the inserted rows carry (none of its columns NULL: MATCH SIMPLE, nonnull of
 * them) must be in the referenced table, whose rows are locked FOR KEY SHARE: as many rows
 * locked as distinct keys (the referenced columns are a primary key or unique). The keys
 * are distinct already when they hold the table's primary key. Where every row that has
 * the key has the same value in a column of it (same; first: that value, given as a
 * parameter), the referenced rows read are only those with it (a control year's); where
 * in every column, the key is that one alone (a run's id on each of its decisions). As
 * ri_triggers.c does: as the referenced table's owner, its row-level security not applied.
 */
static void
check_fkey(Relation rel, ForeignKeyCacheInfo *fk, int64 nonnull, Datum *first, const bool *same)
{
	Oid			relid = RelationGetRelid(rel);
	char	   *parent = quote_qualified_identifier(get_namespace_name(get_rel_namespace(fk->confrelid)),
													get_rel_name(fk->confrelid));
	char	   *keys = column_list(relid, fk->nkeys, fk->conkey, "x.", ", ");
	char	   *notnull = column_list(relid, fk->nkeys, fk->conkey, "x.", " IS NOT NULL AND ");
	char	   *equal = key_equality(fk, relid, "p", "x", NULL);
	Bitmapset  *pk = RelationGetIndexAttrBitmap(rel, INDEX_ATTR_BITMAP_PRIMARY_KEY);
	Bitmapset  *fkcols = NULL;
	bool		keys_unique;	/* they hold the table's primary key: distinct already */
	char	   *k;
	StringInfoData q;
	Oid			save_userid;
	int			save_sec;
	int			save_nestlevel;
	HeapTuple	tup;
	Oid			owner;
	bool		isnull;
	int64		nkeys = nonnull;
	int64		nlocked;
	float4		parent_rows;
	bool		probe;
	Oid			argtypes[INDEX_MAX_KEYS];
	char		argnulls[INDEX_MAX_KEYS];
	int			nsame = 0;
	bool		single;
	char	   *restrict_to = "";	/* the referenced rows that have the keys' shared values */
	StringInfoData shared;		/* the names of those columns */

	for (int i = 0; i < fk->nkeys; i++)
	{
		fkcols = bms_add_member(fkcols, fk->conkey[i] - FirstLowInvalidHeapAttributeNumber);
		argtypes[i] = get_atttype(relid, fk->conkey[i]);
		argnulls[i] = same[i] ? ' ' : 'n';	/* (not a parameter the query reads) */
		nsame += same[i];
	}
	single = nonnull > 0 && nsame == fk->nkeys;
	initStringInfo(&shared);
	for (int i = 0; i < fk->nkeys; i++)
		if (same[i])
			appendStringInfo(&shared, "%s%s", shared.len > 0 ? ", " : "", get_attname(relid, fk->conkey[i], false));
	if (nsame > 0 && !single)
		restrict_to = psprintf(" AND %s", key_equality(fk, relid, "p", NULL, same));
	keys_unique = single || (pk != NULL && bms_is_subset(pk, fkcols));
	if (single)
	{
		StringInfoData cols;

		initStringInfo(&cols);
		for (int i = 0; i < fk->nkeys; i++)
			appendStringInfo(&cols, "%s$%d AS %s", i > 0 ? ", " : "", i + 1,
							 quote_identifier(get_attname(relid, fk->conkey[i], false)));
		k = psprintf("k AS (SELECT %s)", cols.data);
		nkeys = 1;
		elog(DEBUG1, "inami._insert_select: the rows of %s have one key, checked alone",
			 get_constraint_name(fk->conoid));
	}
	else if (keys_unique)
		k = psprintf("k AS (SELECT %s FROM " KEYS_RELATION " x WHERE %s IS NOT NULL)", keys, notnull);
	else
		k = psprintf("k AS MATERIALIZED (SELECT DISTINCT %s FROM " KEYS_RELATION " x WHERE %s IS NOT NULL)",
					 keys, notnull);

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(fk->confrelid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", fk->confrelid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	parent_rows = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
	ReleaseSysCache(tup);

	/*
	 * Few keys against a large referenced table (the first run of a year, beside the years
	 * kept): each key looked up in the referenced table's unique index costs less than a
	 * hash of the whole table, which the planner, with no statistics on the keys, chooses.
	 * Probing costs about as much per key as hashing four referenced rows (measured).
	 */
	probe = parent_rows > 0 && (double) nkeys * 4 < parent_rows;

	/*
	 * As the owner, with pg_catalog's names only: nothing of the caller's search_path may
	 * run with the owner's rights.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (probe)
	{
		(void) set_config_option("enable_hashjoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		elog(DEBUG1, "inami._insert_select: " INT64_FORMAT " keys of %s looked up one by one in %s (%.0f rows)",
			 nkeys, get_constraint_name(fk->conoid), get_rel_name(fk->confrelid), parent_rows);
	}
	else if (*restrict_to != '\0')
	{
		/*
		 * Only the referenced rows with the shared values are hashed: a year's of a table
		 * that keeps several. The join is a hash: the planner's estimate of those rows may
		 * be far too low (a year loaded and not analyzed yet), and a nested loop over them
		 * would read the keys once per row.
		 */
		(void) set_config_option("enable_nestloop", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		(void) set_config_option("enable_mergejoin", "off", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		elog(DEBUG1, "inami._insert_select: " INT64_FORMAT " keys of %s, of one %s, joined to the rows of %s that have it",
			 nkeys, get_constraint_name(fk->conoid), shared.data, get_rel_name(fk->confrelid));
	}
	initStringInfo(&q);
	appendStringInfo(&q, "WITH %s SELECT %s, (SELECT pg_catalog.count(*) FROM (SELECT FROM k x JOIN ONLY %s p ON %s%s"
					 " FOR KEY SHARE OF p) l)",
					 k, keys_unique ? "NULL::pg_catalog.int8" : "(SELECT pg_catalog.count(*) FROM k)",
					 parent, equal, restrict_to);
	if (SPI_execute_with_args(q.data, nsame > 0 ? fk->nkeys : 0, argtypes, first, argnulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "checking foreign key %u failed", fk->conoid);
	if (!keys_unique)
		nkeys = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	nlocked = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (nkeys != nlocked)
	{
		/* one key missing, to name it (its row may also have gone since: then none) */
		resetStringInfo(&q);
		appendStringInfo(&q, "WITH %s SELECT %s FROM k x WHERE NOT EXISTS (SELECT FROM ONLY %s p WHERE %s) LIMIT 1",
						 k, keys, parent, equal);
		if (SPI_execute_with_args(q.data, nsame > 0 ? fk->nkeys : 0, argtypes, first, argnulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "checking foreign key %u failed", fk->conoid);
	}
	AtEOXact_GUC(true, save_nestlevel);
	SetUserIdAndSecContext(save_userid, save_sec);

	if (nkeys != nlocked)
	{
		StringInfoData values;

		initStringInfo(&values);
		for (int i = 0; SPI_processed > 0 && i < fk->nkeys; i++)
			appendStringInfo(&values, "%s%s", i > 0 ? ", " : "",
							 SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1));
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("insert or update on table \"%s\" violates foreign key constraint \"%s\"",
						RelationGetRelationName(rel), get_constraint_name(fk->conoid)),
				 SPI_processed > 0 ?
				 errdetail("Key (%s)=(%s) is not present in table \"%s\".",
						   column_list(relid, fk->nkeys, fk->conkey, "", ", "), values.data,
						   get_rel_name(fk->confrelid)) :
				 errdetail("A row of table \"%s\" that a row inserted references was deleted, or its key changed, by a transaction that committed meanwhile.",
						   get_rel_name(fk->confrelid)),
				 errtableconstraint(rel, get_constraint_name(fk->conoid))));
	}
}

PG_FUNCTION_INFO_V1(inami_insert_select);
Datum
inami_insert_select(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	MemoryContext callcxt = CurrentMemoryContext;
	Relation	rel;
	TupleDesc	desc;
	ParseState *pstate;
	ParseNamespaceItem *nsitem;
	SPIPlanPtr	plan;
	List	   *sources;
	CachedPlanSource *source;
	List	   *fkeys;
	bool		fast;
	int			ret;
	uint64		n;

	rel = table_open(relid, RowExclusiveLock);
	desc = RelationGetDescr(rel);

	/* the privileges of INSERT INTO rel with every column */
	pstate = make_parsestate(NULL);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	nsitem->p_rte->requiredPerms = ACL_INSERT;
	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			nsitem->p_rte->insertedCols = bms_add_member(nsitem->p_rte->insertedCols,
														 i + 1 - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);

	fkeys = checkable_fkeys(rel, &fast);
	fast = fast && rel->rd_rel->relkind == RELKIND_RELATION && !rel->rd_rel->relispartition &&
		!rel->rd_rel->relhasrules && !(desc->constr && desc->constr->has_generated_stored) &&
		check_enable_rls(relid, InvalidOid, false) != RLS_ENABLED;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	sources = SPI_plan_get_plan_sources(plan);
	source = list_length(sources) == 1 ? (CachedPlanSource *) linitial(sources) : NULL;
	if (source == NULL || source->commandTag != CMDTAG_SELECT || source->resultDesc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inami._insert_select takes one SELECT"),
				 errdetail("The query given was: %s", query),
				 errhint("Give one SELECT whose columns are those of table \"%s\", in order.",
						 RelationGetRelationName(rel))));
	/* the query's columns, the table's: else INSERT says what is wrong, or converts */
	fast = fast && rows_are_the_tables(desc, source->resultDesc);

	/* as ExecCheckXactReadOnly: no INSERT into a table that is not temporary */
	if (fast && rel->rd_rel->relpersistence != RELPERSISTENCE_TEMP)
		PreventCommandIfReadOnly("INSERT");
	if (!fast)
	{
		char	   *insert = psprintf("INSERT INTO %s %s",
									  quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
																 RelationGetRelationName(rel)),
									  query);

		if (SPI_execute(insert, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "INSERT failed");
		n = SPI_processed;
		elog(DEBUG1, "inami._insert_select: " UINT64_FORMAT " rows into %s through INSERT", n,
			 RelationGetRelationName(rel));
	}
	else
	{
		InsertReceiver r;
		SPIExecuteOptions options;
		ListCell   *lc;
		MemoryContext old;

		memset(&r, 0, sizeof(r));
		r.pub.receiveSlot = receiver_receive;
		r.pub.rStartup = receiver_startup;
		r.pub.rShutdown = receiver_shutdown;
		r.pub.rDestroy = receiver_destroy;
		r.pub.mydest = DestNone;
		r.rel = rel;
		r.rtable = pstate->p_rtable;
		r.mcxt = callcxt;

		/* the columns any foreign key names, kept for the checks */
		old = MemoryContextSwitchTo(callcxt);
		r.keycols = palloc(sizeof(AttrNumber) * desc->natts);
		foreach(lc, fkeys)
		{
			ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

			for (int i = 0; i < fk->nkeys; i++)
			{
				bool		seen = false;

				for (int j = 0; j < r.nkeys; j++)
					seen = seen || r.keycols[j] == fk->conkey[i];
				if (!seen)
					r.keycols[r.nkeys++] = fk->conkey[i];
			}
		}
		if (r.nkeys > 0)
		{
			r.keydesc = CreateTemplateTupleDesc(r.nkeys);
			for (int j = 0; j < r.nkeys; j++)
			{
				Form_pg_attribute a = TupleDescAttr(desc, r.keycols[j] - 1);

				TupleDescInitEntry(r.keydesc, j + 1, NameStr(a->attname), a->atttypid, a->atttypmod, 0);
				TupleDescInitEntryCollation(r.keydesc, j + 1, a->attcollation);
			}
			r.keys = tuplestore_begin_heap(false, false, work_mem);
			r.kvalues = palloc(sizeof(Datum) * r.nkeys);
			r.knulls = palloc(sizeof(bool) * r.nkeys);
			r.kfirst = palloc0(sizeof(Datum) * r.nkeys);
			r.kseen = palloc0(sizeof(bool) * r.nkeys);
			r.ksame = palloc(sizeof(bool) * r.nkeys);
			memset(r.ksame, true, sizeof(bool) * r.nkeys);
		}
		r.fkeys = fkeys;
		r.nonnull = palloc0(sizeof(int64) * (list_length(fkeys) + 1));
		MemoryContextSwitchTo(old);

		memset(&options, 0, sizeof(options));
		options.read_only = false;
		options.dest = (DestReceiver *) &r;
		/* (SPI says "utility" of a SELECT whose rows go to a receiver of DestNone) */
		ret = SPI_execute_plan_extended(plan, &options);
		if (ret != SPI_OK_SELECT && ret != SPI_OK_UTILITY)
			elog(ERROR, "inami._insert_select: the query failed: %s", SPI_result_code_string(ret));
		n = 0;
		if (r.started)
		{
			old = MemoryContextSwitchTo(callcxt);
			ExecDropSingleTupleTableSlot(r.row);
			n = inami_row_writer_end(&r.writer);
			MemoryContextSwitchTo(old);
		}

		/* the foreign keys, on every row inserted at once */
		if (n > 0 && r.nkeys > 0)
		{
			EphemeralNamedRelation enr = palloc0(sizeof(EphemeralNamedRelationData));

			CommandCounterIncrement();
			enr->md.name = KEYS_RELATION;
			enr->md.reliddesc = InvalidOid;
			enr->md.tupdesc = r.keydesc;
			enr->md.enrtype = ENR_NAMED_TUPLESTORE;
			enr->md.enrtuples = (double) tuplestore_tuple_count(r.keys);
			enr->reldata = r.keys;
			if (SPI_register_relation(enr) != SPI_OK_REL_REGISTER)
				elog(ERROR, "SPI_register_relation failed");
			for (int f = 0; f < list_length(fkeys); f++)
			{
				ForeignKeyCacheInfo *fk = list_nth_node(ForeignKeyCacheInfo, fkeys, f);
				Datum		first[INDEX_MAX_KEYS];
				bool		same[INDEX_MAX_KEYS];

				for (int i = 0; i < fk->nkeys; i++)
					for (int j = 0; j < r.nkeys; j++)
						if (r.keycols[j] == fk->conkey[i])
						{
							same[i] = r.kseen[j] && r.ksame[j];
							first[i] = r.kfirst[j];
						}
				check_fkey(rel, fk, r.nonnull[f], first, same);
			}
		}
		if (r.keys)
			tuplestore_end(r.keys);
		elog(DEBUG1, "inami._insert_select: " UINT64_FORMAT " rows into %s, %d foreign keys checked at once", n,
			 RelationGetRelationName(rel), list_length(fkeys));
	}

	SPI_finish();
	table_close(rel, NoLock);
	PG_RETURN_INT64((int64) n);
}
