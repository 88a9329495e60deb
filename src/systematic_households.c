/*
 * systematic_households.c
 *		R3 for every Syst_01 household of a control year, in one ordered pass:
 *		inami.systematic_households(control_year, request_number).
 *
 * A household's income comes from four tables (syst01_household, syst01_member,
 * syst04_household, syst04_member with its IPCAL items), whose primary keys all begin with
 * (control_year, request_number). Read through those keys, each table gives the rows of
 * one household together, household after household, so a merge of the four ordered
 * scans does what the same computation in SQL (inami.systematic_members grouped by
 * household) does with joins, sorts and hash tables of millions of rows: the control run
 * spends most of its time there. The SQL form stays, for explain_decision's members;
 * a regression test checks that both give the same households.
 *
 * Request numbers are 18 ASCII digits (the tables' CHECKs), so their byte order is the
 * order of the index whatever its collation; a scan found out of that order is an error,
 * never a silently skipped household.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "storage/proc.h"
#include "common/int.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "cents.h"
#include "inami.h"

/* Up to this many columns are read from a table, besides its key. */
#define MAX_COLUMNS 6

/*
 * One table read in primary-key order, with its current row. When every column read is in
 * the key (the members of Syst_01: request number and NISS), the rows come from the index
 * alone wherever the visibility map says their page is visible to all, as an index-only
 * scan reads them: no visit to the heap, the part of the pass that costs most.
 */
typedef struct KeyScan
{
	const char *name;
	Relation	heap;
	Relation	index;
	SysScanDesc scan;			/* through the heap */
	IndexScanDesc iscan;		/* or from the index (NULL: through the heap) */
	AttrNumber *heap_att;		/* index-only: the table's column of each index column */
	Buffer		vmbuffer;		/* index-only: the visibility map page last read */
	TupleTableSlot *slot;		/* index-only: a row whose page is not all-visible */
	MemoryContext cxt;			/* where the scan lives: the index AM allocates in it as it goes */
	bool		valid;			/* there is a current row (false: the scan is over) */
	AttrNumber	key_att;		/* request_number */
	char		key[NAMEDATALEN];	/* the current row's request number */
	int			key_len;
	int			natts;			/* the columns read (scan_get) */
	AttrNumber	atts[MAX_COLUMNS];
	Datum	   *values;			/* the current row, deformed once (rows with a NULL */
	bool	   *nulls;			/* have no cached offsets: one heap_getattr each is a walk) */
} KeyScan;

/* A member of the household being computed. */
typedef struct Member
{
	text	   *niss;
	int32		shipment;		/* of the member's latest answer; 0: none */
	text	   *return_code;	/* of that answer; NULL: no answer lists the member */
	Datum		codes;			/* its IPCAL items (text[], numeric[]) */
	Datum		amounts;
	Datum		cadastral;		/* CadastralIncome of that answer, when has_cadastral */
	bool		has_cadastral;
} Member;

/* Shipment numbers are 1..9 (CHECK of syst04_household). */
#define MAX_SHIPMENT 9

/* A Syst_04 answer of a member, by shipment. */
typedef struct Answer
{
	int32		shipment;
	text	   *niss;
	text	   *return_code;
	Datum		codes;
	Datum		amounts;
	Datum		cadastral;
	bool		has_cadastral;
} Answer;

/*
 * Attribute number of a column the caller reads: it must exist, and the caller (not
 * the function: it is not SECURITY DEFINER) must be allowed to SELECT it, as in SQL.
 */
static AttrNumber
column(Relation rel, const char *name, bool table_granted)
{
	Oid			relid = RelationGetRelid(rel);
	AttrNumber	att = get_attnum(relid, name);
	AclResult	acl;

	if (att == InvalidAttrNumber)
		elog(ERROR, "inami: column %s.%s is missing", RelationGetRelationName(rel), name);
	if (!table_granted &&
		(acl = pg_attribute_aclcheck(relid, att, GetUserId(), ACL_SELECT)) != ACLCHECK_OK)
		aclcheck_error(acl, get_relkind_objtype(rel->rd_rel->relkind), RelationGetRelationName(rel));
	return att;
}

/* Compare two request numbers (byte order). */
static int
key_cmp(const char *a, int alen, const char *b, int blen)
{
	int			c = memcmp(a, b, Min(alen, blen));

	return c != 0 ? c : alen - blen;
}

/*
 * Index-only: the next row of the index, deformed into the scan's values (false at the
 * end). Its index entry gives the row when its page is all-visible; otherwise the row is
 * fetched from the heap, as an index-only scan does, and skipped if not visible.
 */
static bool
index_only_next(KeyScan *s)
{
	TupleDesc	itupdesc;
	ItemPointer tid;

	while ((tid = index_getnext_tid(s->iscan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (!VM_ALL_VISIBLE(s->heap, ItemPointerGetBlockNumber(tid), &s->vmbuffer))
		{
			if (!index_fetch_heap(s->iscan, s->slot))
				continue;
			slot_getallattrs(s->slot);
			memcpy(s->values, s->slot->tts_values, sizeof(Datum) * s->slot->tts_nvalid);
			memcpy(s->nulls, s->slot->tts_isnull, sizeof(bool) * s->slot->tts_nvalid);
			return true;
		}
		/* no heap tuple read to take the predicate lock on: its page, as an index-only scan does */
		PredicateLockPage(s->heap, ItemPointerGetBlockNumber(tid), s->iscan->xs_snapshot);
		itupdesc = s->iscan->xs_itupdesc;
		for (int i = 0; i < itupdesc->natts; i++)
			s->values[s->heap_att[i] - 1] = index_getattr(s->iscan->xs_itup, i + 1, itupdesc,
													   &s->nulls[s->heap_att[i] - 1]);
		return true;
	}
	return false;
}

/* Move a scan to its next row and keep that row's request number. */
static void
scan_next(KeyScan *s)
{
	bool		isnull;
	Datum		d;
	text	   *t;
	int			len;
	MemoryContext old;
	HeapTuple	tuple = NULL;

	/*
	 * In the scan's own context: a B-tree scan allocates as it reads (the array of the
	 * dead items it marks, on the first one), and the household's context, reset for
	 * each household, would free that under it.
	 */
	old = MemoryContextSwitchTo(s->cxt);
	if (s->iscan != NULL)
		s->valid = index_only_next(s);
	else
		s->valid = (tuple = systable_getnext_ordered(s->scan, ForwardScanDirection)) != NULL;
	MemoryContextSwitchTo(old);
	if (!s->valid)
		return;
	if (tuple != NULL)
		heap_deform_tuple(tuple, RelationGetDescr(s->heap), s->values, s->nulls);
	d = s->values[s->key_att - 1];
	isnull = s->nulls[s->key_att - 1];
	if (isnull)
		elog(ERROR, "inami: %s has a NULL request number", s->name);
	t = DatumGetTextPP(d);
	len = VARSIZE_ANY_EXHDR(t);
	if (len >= NAMEDATALEN)
		elog(ERROR, "inami: %s has a request number of %d bytes", s->name, len);
	if (key_cmp(VARDATA_ANY(t), len, s->key, s->key_len) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("rows of inami.%s are not in request-number order", s->name),
				 errdetail("Request number \"%.*s\" comes after \"%.*s\" in its primary key.",
						   len, VARDATA_ANY(t), s->key_len, s->key),
				 errhint("Request numbers are 18 digits; REINDEX TABLE inami.%s.", s->name)));
	memcpy(s->key, VARDATA_ANY(t), len);
	s->key_len = len;
}

/*
 * Are the request number and every column the scan reads columns of its index's key?
 * Then heap_att maps each index column to the table's.
 */
static bool
in_key(KeyScan *s)
{
	int			n = IndexRelationGetNumberOfKeyAttributes(s->index);
	bool		found;

	if (n != IndexRelationGetNumberOfAttributes(s->index))
		return false;
	s->heap_att = palloc(sizeof(AttrNumber) * n);
	for (int j = 0; j < n; j++)
	{
		s->heap_att[j] = s->index->rd_index->indkey.values[j];
		if (s->heap_att[j] == 0 || !index_can_return(s->index, j + 1))	/* an expression, or not returned */
			return false;
	}
	for (int i = -1; i < s->natts; i++)
	{
		AttrNumber	att = i < 0 ? s->key_att : s->atts[i];

		found = false;
		for (int j = 0; j < n; j++)
			found |= s->heap_att[j] == att;
		if (!found)
			return false;
	}
	return true;
}

/*
 * Open a table of the extension to read it in primary-key order (one year, or one
 * household), and the columns (at most MAX_COLUMNS, NULL-terminated) scan_get reads.
 */
static void
scan_open(KeyScan *s, Oid nsp, const char *name, const char *const *columns,
		  int32 year, text *request_number)
{
	Oid			relid = get_relname_relid(name, nsp);
	Oid			pkey;
	bool		granted;
	ScanKeyData keys[2];
	int			nkeys = 1;

	if (!OidIsValid(relid))
		elog(ERROR, "inami: table %s is missing", name);
	memset(s, 0, sizeof(KeyScan));
	s->name = name;
	s->cxt = CurrentMemoryContext;
	s->heap = table_open(relid, AccessShareLock);
	s->values = palloc(sizeof(Datum) * RelationGetDescr(s->heap)->natts);
	s->nulls = palloc(sizeof(bool) * RelationGetDescr(s->heap)->natts);
	granted = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
	s->key_att = column(s->heap, "request_number", granted);
	for (s->natts = 0; columns[s->natts] != NULL; s->natts++)
	{
		Assert(s->natts < MAX_COLUMNS);
		s->atts[s->natts] = column(s->heap, columns[s->natts], granted);
	}
	pkey = RelationGetPrimaryKeyIndex(s->heap);
	if (!OidIsValid(pkey))
		elog(ERROR, "inami: table %s has no primary key", name);
	s->index = index_open(pkey, AccessShareLock);

	ScanKeyInit(&keys[0], column(s->heap, "control_year", granted), BTEqualStrategyNumber,
				F_INT4EQ, Int32GetDatum(year));
	if (request_number != NULL)
	{
		ScanKeyInit(&keys[1], s->key_att, BTEqualStrategyNumber, F_TEXTEQ,
					PointerGetDatum(request_number));
		keys[1].sk_collation = TupleDescAttr(RelationGetDescr(s->heap), s->key_att - 1)->attcollation;
		nkeys = 2;
	}
	if (in_key(s))
	{
		/* the keys name the index's columns, as systable_beginscan_ordered makes them */
		for (int i = 0; i < nkeys; i++)
			for (int j = 0; j < IndexRelationGetNumberOfKeyAttributes(s->index); j++)
				if (s->heap_att[j] == keys[i].sk_attno)
				{
					keys[i].sk_attno = j + 1;
					break;
				}
		s->slot = table_slot_create(s->heap, NULL);
		s->vmbuffer = InvalidBuffer;
		s->iscan = index_beginscan(s->heap, s->index, GetActiveSnapshot(), nkeys, 0);
		s->iscan->xs_want_itup = true;
		index_rescan(s->iscan, keys, nkeys, NULL, 0);
	}
	else
		s->scan = systable_beginscan_ordered(s->heap, s->index, GetActiveSnapshot(), nkeys, keys);
	scan_next(s);
}

/* End a scan; the locks stay until the end of the transaction. */
static void
scan_close(KeyScan *s)
{
	if (s->iscan != NULL)
	{
		index_endscan(s->iscan);
		if (BufferIsValid(s->vmbuffer))
			ReleaseBuffer(s->vmbuffer);
		ExecDropSingleTupleTableSlot(s->slot);
	}
	else
		systable_endscan_ordered(s->scan);
	index_close(s->index, NoLock);
	table_close(s->heap, NoLock);
}

/* Is the scan's current row one of the household's (skipping rows of households before it)? */
static bool
scan_at(KeyScan *s, const char *key, int key_len)
{
	while (s->valid && key_cmp(s->key, s->key_len, key, key_len) < 0)
	{
		CHECK_FOR_INTERRUPTS();	/* a long run of unlisted households is skipped here */
		scan_next(s);
	}
	return s->valid && key_cmp(s->key, s->key_len, key, key_len) == 0;
}

/* Read the scan's columns of the current row (copies, in the current memory context). */
static void
scan_get(KeyScan *s, Datum *values, bool *nulls)
{
	TupleDesc	desc = RelationGetDescr(s->heap);

	for (int i = 0; i < s->natts; i++)
	{
		Form_pg_attribute attr = TupleDescAttr(desc, s->atts[i] - 1);

		values[i] = s->values[s->atts[i] - 1];
		nulls[i] = s->nulls[s->atts[i] - 1];
		if (!nulls[i])
			values[i] = datumCopy(values[i], attr->attbyval, attr->attlen);
	}
}

/* Two texts equal byte for byte? */
static bool
text_same(text *a, text *b)
{
	return VARSIZE_ANY_EXHDR(a) == VARSIZE_ANY_EXHDR(b) &&
		memcmp(VARDATA_ANY(a), VARDATA_ANY(b), VARSIZE_ANY_EXHDR(a)) == 0;
}

/*
 * Index of the Syst_01 member a Syst_04 row answers, or -1. A requester whose NISS
 * changed is answered under the new NISS (the shipment's <Requester>); the request
 * number keeps the old one, the NISS Syst_01 lists (E 2.2, 2.4).
 */
static int
member_find(Member *members, int n, text *niss, text *requester, const char *key)
{
	const char *s = VARDATA_ANY(niss);
	int			len = VARSIZE_ANY_EXHDR(niss);

	if (requester != NULL && text_same(niss, requester))
	{
		s = key + 7;
		len = 11;
	}
	for (int i = 0; i < n; i++)
		if (VARSIZE_ANY_EXHDR(members[i].niss) == len &&
			memcmp(VARDATA_ANY(members[i].niss), s, len) == 0)
			return i;
	return -1;
}

/* Give member m the answer a (answers come by shipment: the latest stays). */
static void
member_answer(Member *m, const Answer *a)
{
	m->shipment = a->shipment;
	m->return_code = a->return_code;
	m->codes = a->codes;
	m->amounts = a->amounts;
	m->cadastral = a->cadastral;
	m->has_cadastral = a->has_cadastral;
}

/* The birth part of a NISS, YYMMDD with a bis number's month brought back (+20, +40). */
static int
birth_key(text *niss)
{
	const char *s = VARDATA_ANY(niss);
	int			key = 0;

	/* 11 digits by the tables' CHECKs; anything else pairs with nothing */
	if (VARSIZE_ANY_EXHDR(niss) != 11)
		return -1;
	for (int i = 0; i < 6; i++)
		key = key * 10 + (s[i] - '0');
	return (key / 10000) * 10000 + ((key / 100) % 100 % 20) * 100 + key % 100;
}

/*
 * Answers under a NISS that Syst_01 does not list for the household: the SCA answers
 * under the newest NISS (E 2.4, footnote 6: "Le NISS le plus récent est utilisé dans le
 * processus"), so such an answer is a member's whose NISS changed. It goes to the one
 * member no answer lists when there is one of each; otherwise to the one left-out member
 * with the same birth date in the NISS, when there is exactly one of each. Any other
 * answer stays unmatched (its member's income unknown).
 */
static void
pair_renamed(Member *members, int nmembers, Answer *pending, int npending)
{
	int			nleft = 0;
	int			left = -1;
	int			ndistinct = 0;
	bool	   *was_left = palloc(nmembers * sizeof(bool));

	for (int i = 0; i < nmembers; i++)
		if ((was_left[i] = (members[i].shipment == 0)))
		{
			nleft++;
			left = i;
		}
	for (int i = 0; i < npending; i++)
	{
		bool		seen = false;

		CHECK_FOR_INTERRUPTS();

		for (int j = 0; j < i && !seen; j++)
			seen = text_same(pending[j].niss, pending[i].niss);
		ndistinct += !seen;
	}
	if (nleft == 0 || ndistinct == 0)
		return;
	for (int i = 0; i < npending; i++)
	{
		int			to = -1;

		if (nleft == 1 && ndistinct == 1)
			to = left;
		else
		{
			int			key = birth_key(pending[i].niss);
			int			nsame = 0;
			bool		other = false;

			CHECK_FOR_INTERRUPTS();
			for (int m = 0; m < nmembers; m++)
				if (was_left[m] && birth_key(members[m].niss) == key)
				{
					nsame++;
					to = m;
				}
			for (int j = 0; j < npending && !other; j++)
				other = birth_key(pending[j].niss) == key && !text_same(pending[j].niss, pending[i].niss);
			if (key < 0 || nsame != 1 || other)
				to = -1;
		}
		if (to >= 0)
			member_answer(&members[to], &pending[i]);
	}
}

/*
 * The birth date R3's under-18 rule uses (under 18 on 1 January of the tax year), when
 * the NISS is valid and settles it, even with an unknown month or day.
 */
static bool
niss_born(text *niss, int32 tax_year, DateADT *born)
{
	InamiNiss	parsed;

	return inami_niss_parse(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), &parsed) &&
		inami_niss_age_date(&parsed, 18, date2j(tax_year, 1, 1) - POSTGRES_EPOCH_JDATE, born);
}

/*
 * The return codes the SCA asks again (inami.return_code_asked_again), read once per
 * call: a flag per two-digit code.
 */
static void
asked_again_row(HeapTuple tuple, TupleDesc desc, void *arg)
{
	bool	   *asked = arg;
	text	   *code = DatumGetTextPP(inami_param_get(tuple, desc, 1));

	/* two digits by the table's CHECK */
	if (!inami_all_digits(VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code), 2))
		elog(ERROR, "inami: return_code_asked_again row outside its CHECK constraint");
	asked[(VARDATA_ANY(code)[0] - '0') * 10 + VARDATA_ANY(code)[1] - '0'] = true;
}

/* Is a return code one the SCA asks again in September (E 4.3)? */
static bool
is_asked_again(const bool *asked, text *code)
{
	return code != NULL && inami_all_digits(VARDATA_ANY(code), VARSIZE_ANY_EXHDR(code), 2) &&
		asked[(VARDATA_ANY(code)[0] - '0') * 10 + VARDATA_ANY(code)[1] - '0'];
}

enum
{
	HH, MEMBER, ANSWER, ANSWER_MEMBER, NSCANS
};


/* The rows of the household (year, only) in a table: through its index, as the scans read. */
static int64
rows_present(Oid nsp, const char *name, int32 year, text *only)
{
	KeyScan		s;
	int64		n = 0;

	scan_open(&s, nsp, name, (const char *const[]) {NULL}, year, only);
	for (; s.valid; scan_next(&s))
		n++;
	scan_close(&s);
	return n;
}

/* The same rows as the caller's policies show them (through SPI, where they apply). */
static int64
rows_seen(Oid nsp, const char *name, int32 year, text *only)
{
	Datum		args[2] = {Int32GetDatum(year), PointerGetDatum(only)};
	Oid			types[2] = {INT4OID, TEXTOID};
	bool		isnull;

	if (SPI_execute_with_args(psprintf("SELECT pg_catalog.count(*) FROM %s.%s WHERE control_year OPERATOR(pg_catalog.=) $1 "
									   "AND request_number OPERATOR(pg_catalog.=) $2",
									   quote_identifier(get_namespace_name(nsp)), quote_identifier(name)),
							  2, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "inami: counting the visible rows of %s failed", name);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * Row-level security: the scans read the tables directly, which would bypass it. One
 * household may still be read when the policies let the caller see every row of it in
 * every table (inami's own policies, by OA through the household, show all of it or
 * none): its rows are counted through SPI, where the policies apply, against the rows the
 * index holds. false: there is no Syst_01 household to read for the caller (none, or one
 * the policies hide), and nothing else is looked at, so that nothing tells what they hide.
 * A year under row-level security, or a household the policies show in part, is refused.
 */
static bool
rls_allows(Oid nsp, const char *const *names, int32 year, text *only)
{
	bool		rls[NSCANS];
	bool		any = false;

	for (int i = 0; i < NSCANS; i++)
	{
		Oid			relid = get_relname_relid(names[i], nsp);

		rls[i] = OidIsValid(relid) && check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED;
		if (rls[i] && only == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("inami.systematic_households does not apply row-level security to a whole year"),
					 errdetail("Row-level security is enabled on inami.%s for the current role.", names[i]),
					 errhint("Run the control as a role that bypasses row-level security, or ask for one household.")));
		any |= rls[i];
	}
	if (!any)
		return true;
	if (rows_present(nsp, names[HH], year, only) == 0)
		return false;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "inami: SPI_connect failed");
	if (rls[HH] && rows_seen(nsp, names[HH], year, only) == 0)
	{
		SPI_finish();
		return false;
	}
	for (int i = 0; i < NSCANS; i++)
		if (i != HH && rls[i] && rows_seen(nsp, names[i], year, only) != rows_present(nsp, names[i], year, only))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("row-level security shows part of household %s", text_to_cstring(only)),
					 errdetail("The policies of inami.%s hide some of the household's rows from the current role.", names[i]),
					 errhint("inami reads a household whole: let the policies show all of it or none (inami.set_oa_security does).")));
	SPI_finish();
	return true;
}

/*
 * The Syst_01 households without members that the last pass over a whole year found, in
 * this transaction (inami._systematic_memberless): a control run looks for decisions left
 * without members only when the pass it decided from met such a household.
 */
static LocalTransactionId memberless_lxid = InvalidLocalTransactionId;
static int32 memberless_year;
static int64 memberless_count;

PG_FUNCTION_INFO_V1(inami_systematic_households);
/*
 * For each Syst_01 household of control_year (or only request_number) with members:
 * request_number, oa, household_size, income_year, shipment, sent_total, household_total,
 * cadastral_income (the sum of the CadastralIncome of the members' latest answers), and
 * asked_again: the income is unknown only through members whose latest answer is a code
 * of shipment 1 that the SCA asks again (E 4.3), every other member being known.
 */
Datum
inami_systematic_households(PG_FUNCTION_ARGS)
{
	static const char *const names[NSCANS] = {
		"syst01_household", "syst01_member", "syst04_household", "syst04_member"
	};
	static const char *const columns[NSCANS][MAX_COLUMNS + 1] = {
		{"oa", NULL},
		{"niss", NULL},
		{"shipment", "income_year", "household_total", "requester_niss"},
		{"shipment", "niss", "return_code", "ipcal_code", "ipcal_amount", "cadastral_income"}
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	text	   *only = PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1);
	int32		year;
	KeyScan		scans[NSCANS];
	InamiIpcalList *ipcal;
	MemoryContext household_cxt;
	MemoryContext oldcxt;
	int			max_members = 16;
	Member	   *members;
	int			max_pending = 16;
	int			npending;
	Answer	   *pending;
	bool		asked[100] = {false};
	bool		report;
	int64		ndone = 0;
	int64		nmemberless = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	year = PG_GETARG_INT32(0);
	inami_check_year(year, "control year");

	ipcal = inami_ipcal_list_load(CurrentMemoryContext);
	/* inami.progress: within a control run, the households decided so far */
	report = only == NULL && inami_progress_kind() != NULL &&
		strcmp(inami_progress_kind(), "systematic_control") == 0;
	if (report)
		inami_progress_what("reading the households and their answers");
	inami_param_foreach("SELECT return_code FROM inami.return_code_asked_again", 0, NULL, NULL,
						asked_again_row, asked);
	if (!rls_allows(nsp, names, year, only))
		return (Datum) 0;
	members = palloc(max_members * sizeof(Member));
	pending = palloc(max_pending * sizeof(Answer));
	for (int i = 0; i < NSCANS; i++)
		scan_open(&scans[i], nsp, names[i], columns[i], year, only);

	household_cxt = AllocSetContextCreate(CurrentMemoryContext, "inami systematic household",
										  ALLOCSET_DEFAULT_SIZES);
	while (scans[HH].valid)
	{
		char		key[NAMEDATALEN];
		int			key_len = scans[HH].key_len;
		Datum		v[MAX_COLUMNS];
		bool		n[MAX_COLUMNS];
		Datum		oa;
		int			nmembers = 0;
		bool		answered = false;
		int32		shipment = 0;
		int32		income_year = year - 2;
		Datum		sent_total = (Datum) 0;
		bool		has_sent_total = false;
		text	   *requester[MAX_SHIPMENT + 1] = {NULL};
		InamiHousehold total;
		int64		total_cents;
		int64		cadastral_cents = 0;
		bool		has_cadastral = false;
		int			nunknown = 0;	/* members whose income is unknown */
		int			nasked = 0;		/* of them, answered in shipment 1 with a code asked again */
		Datum		out[9];
		bool		out_null[9] = {false};

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(household_cxt);
		oldcxt = MemoryContextSwitchTo(household_cxt);
		memcpy(key, scans[HH].key, key_len);
		scan_get(&scans[HH], v, n);
		oa = v[0];
		scan_next(&scans[HH]);

		/* the members of Syst_01 */
		while (scan_at(&scans[MEMBER], key, key_len))
		{
			scan_get(&scans[MEMBER], v, n);
			if (nmembers == max_members)
			{
				max_members *= 2;
				members = repalloc(members, max_members * sizeof(Member));
			}
			members[nmembers].niss = DatumGetTextPP(v[0]);
			members[nmembers].shipment = 0;
			members[nmembers].return_code = NULL;
			members[nmembers].has_cadastral = false;
			nmembers++;
			scan_next(&scans[MEMBER]);
		}

		/*
		 * The household's latest answer gives the income year and HouseholdTotal (rows
		 * come by shipment); each shipment's requester, for members' changed NISS.
		 */
		while (scan_at(&scans[ANSWER], key, key_len))
		{
			scan_get(&scans[ANSWER], v, n);
			answered = true;
			shipment = DatumGetInt32(v[0]);
			income_year = DatumGetInt32(v[1]);
			sent_total = v[2];
			has_sent_total = !n[2];
			if (shipment < 1 || shipment > MAX_SHIPMENT)
				elog(ERROR, "inami: syst04_household has shipment %d", shipment);
			requester[shipment] = n[3] ? NULL : DatumGetTextPP(v[3]);
			scan_next(&scans[ANSWER]);
		}

		/*
		 * Each member's latest answer (E 4.1, 4.3: October answers what August left
		 * open): rows come by shipment, so a later one overwrites an earlier one.
		 * Answers under a NISS Syst_01 does not list wait for pair_renamed.
		 */
		npending = 0;
		while (scan_at(&scans[ANSWER_MEMBER], key, key_len))
		{
			Answer		a;
			int			m;

			scan_get(&scans[ANSWER_MEMBER], v, n);
			a.shipment = DatumGetInt32(v[0]);
			a.niss = DatumGetTextPP(v[1]);
			a.return_code = DatumGetTextPP(v[2]);
			a.codes = v[3];
			a.amounts = v[4];
			a.cadastral = v[5];
			a.has_cadastral = !n[5];
			if (a.shipment < 1 || a.shipment > MAX_SHIPMENT)
				elog(ERROR, "inami: syst04_member has shipment %d", a.shipment);
			m = member_find(members, nmembers, a.niss, requester[a.shipment], key);
			if (m >= 0)
				member_answer(&members[m], &a);
			else
			{
				if (npending == max_pending)
				{
					max_pending *= 2;
					pending = repalloc(pending, max_pending * sizeof(Answer));
				}
				pending[npending++] = a;
			}
			scan_next(&scans[ANSWER_MEMBER]);
		}
		pair_renamed(members, nmembers, pending, npending);

		/* a household without members is not decided (as in the SQL form) */
		if (nmembers == 0)
		{
			nmemberless++;
			MemoryContextSwitchTo(oldcxt);
			continue;
		}

		/* R3 over the members */
		memset(&total, 0, sizeof(total));
		for (int i = 0; i < nmembers; i++)
		{
			Member	   *m = &members[i];
			DateADT		born = 0;
			bool		has_born = niss_born(m->niss, income_year + 1, &born);

			bool		is00 = inami_return_code_is_00(m->return_code);
			int64		income = 0;
			bool		has_income = true;

			/* only the items of the answer that counts are read: each needs a factor */
			if (is00)
				has_income = inami_ipcal_items_cents(ipcal, m->codes, m->amounts, income_year + 1,
													 &income);
			/* a member unknown: only until shipment 2 answers, if asked again? */
			if (!inami_household_add(&total, is00, has_income, income, has_born, born, true,
									 income_year))
			{
				nunknown++;
				if (m->shipment == 1 && is_asked_again(asked, m->return_code))
					nasked++;
			}

			/* E 4.2, 4.4: the own home's cadastral income, sent apart, for the OA to assess */
			if (m->has_cadastral)
			{
				int64		c = inami_numeric_to_cents(DatumGetNumeric(m->cadastral), "cadastral income");

				if (pg_add_s64_overflow(cadastral_cents, c, &cadastral_cents))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("cadastral income of household \"%.*s\" out of range", key_len, key),
							 errdetail("The sum of its members' CadastralIncome exceeds +/- 92233720368547758.07."),
							 errhint("Correct the CadastralIncome in inami.syst04_member.")));
				has_cadastral = true;
			}
		}

		out[0] = PointerGetDatum(cstring_to_text_with_len(key, key_len));
		out[1] = oa;
		out[2] = Int32GetDatum(nmembers);
		out[3] = Int32GetDatum(income_year);
		out[4] = Int32GetDatum(shipment);
		out_null[4] = !answered;
		out[5] = sent_total;
		out_null[5] = !has_sent_total;
		if (inami_household_total(&total, &total_cents))
			out[6] = inami_cents_to_numeric(total_cents);
		else
			out_null[6] = true;
		out[7] = has_cadastral ? inami_cents_to_numeric(cadastral_cents) : (Datum) 0;
		out_null[7] = !has_cadastral;
		out[8] = BoolGetDatum(nasked > 0 && nasked == nunknown);
		MemoryContextSwitchTo(oldcxt);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, out_null);
		if (report)
			inami_progress_done(++ndone);
	}
	if (report)
		inami_progress_what("writing the decisions");
	if (only == NULL)
	{
		memberless_lxid = MyProc->lxid;
		memberless_year = year;
		memberless_count = nmemberless;
	}

	for (int i = 0; i < NSCANS; i++)
		scan_close(&scans[i]);
	MemoryContextDelete(household_cxt);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_systematic_memberless);
/*
 * inami._systematic_memberless(control_year): how many Syst_01 households without members
 * the last pass of this transaction over the whole of control_year found (NULL: no such
 * pass in this transaction).
 */
Datum
inami_systematic_memberless(PG_FUNCTION_ARGS)
{
	if (memberless_lxid != MyProc->lxid || memberless_year != PG_GETARG_INT32(0))
		PG_RETURN_NULL();
	PG_RETURN_INT64(memberless_count);
}
