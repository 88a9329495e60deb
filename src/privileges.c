/*
 * privileges.c
 *		A refusal of an inami object names the access level that grants it.
 *
 * PostgreSQL's own refusal ("permission denied for function x") names the object, not the
 * level (inami_analyst, inami_operator, inami_parameters) a DBA should grant. PostgreSQL
 * checks EXECUTE and table privileges in the executor (and in the planner, when it folds a
 * call of an immutable function into a constant), where no extension code runs first. So
 * the library, once loaded, checks the same privileges a step earlier, on every statement
 * of the backend:
 *
 * - planner_hook, before planning: the rewritten query (subqueries, CTEs, sublinks, the
 *   functions in FROM, the relations of views, which PostgreSQL 15 keeps in the query for
 *   their permission checks), and the body of each SQL function it calls that runs as the
 *   caller (the planner may inline it; when it does not, its queries are planned here too,
 *   each in turn). Relations
 *   are checked as the executor does (ExecCheckRTPerms: column privileges, the view
 *   owner's rights inside a view); functions, aggregates, window functions and operators'
 *   functions need EXECUTE for the current user, as in the executor.
 * - ProcessUtility_hook: CALL (the procedure and the functions of its arguments), COPY of
 *   a table (COPY (query) is planned), TRUNCATE.
 *
 * Only objects of the schema inami are looked at; for them, a check that fails raises
 * 42501 naming the object and the first level (inami_analyst, inami_parameters,
 * inami_operator, then pg_read_server_files) whose privileges pass the same check; when
 * none does, only the owner may use it. Not a post_parse_analyze_hook: that one also runs
 * when a SQL function's body is checked at CREATE FUNCTION and at PREPARE, where
 * PostgreSQL checks no privilege. A backend without the library (not preloaded, no inami C
 * function called yet) gives PostgreSQL's own refusal.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "executor/functions.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/planner.h"
#include "parser/analyze.h"
#include "parser/parse_node.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "inami.h"

/* The levels, in the order a refusal looks for the one to name. */
static const char *const levels[] = {"inami_analyst", "inami_parameters", "inami_operator", "pg_read_server_files"};

/* SQL functions' bodies walked inside one another, at most */
#define MAX_BODY_DEPTH 8

typedef struct CheckContext
{
	Oid			nspid;			/* the schema inami */
	List	   *bodies;			/* the SQL functions whose body is being walked */
	List	   *walked;			/* those whose body was walked already: once a statement */
} CheckContext;

/* Whether role may do what was refused (arg: what to check). */
typedef bool (*allowed_fn) (Oid roleid, void *arg);

static planner_hook_type prev_planner_hook = NULL;
static ProcessUtility_hook_type prev_utility_hook = NULL;

/* The oid of the schema inami, looked up again after any change of pg_namespace */
static Oid	inami_nspid = InvalidOid;
static bool inami_nspid_valid = false;

static bool check_walker(Node *node, CheckContext *cx);

/* The name of a role, quoted when it has to be in a GRANT. */
static const char *
role_name(Oid roleid)
{
	return quote_identifier(GetUserNameFromId(roleid, false));
}

/*
 * Raise the refusal of kind name (e.g. "procedure", "inami.run_systematic_control"), which
 * role lacks privs on: naming the first level allowed passes, or the owner when none does.
 */
static void
refuse(const char *kind, const char *name, Oid roleid, const char *privs, allowed_fn allowed, void *arg)
{
	const char *level = NULL;

	for (int i = 0; i < lengthof(levels) && level == NULL; i++)
	{
		Oid			l = get_role_oid(levels[i], true);

		if (OidIsValid(l) && allowed(l, arg))
			level = levels[i];
	}
	if (level)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for %s %s: access level %s needed", kind, name, level),
				 errdetail("Role %s has no %s privilege on %s %s; the level %s grants it.",
						   role_name(roleid), privs, kind, name, level),
				 errhint("GRANT %s TO %s;", quote_identifier(level), role_name(roleid))));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for %s %s: only the owner of extension inami may use it", kind, name),
			 errdetail("Role %s has no %s privilege on %s %s, and no access level grants it.",
					   role_name(roleid), privs, kind, name),
			 errhint("Run it as the owner of extension inami (or a superuser).")));
}

/* ---- functions ---- */

static bool
function_allowed(Oid roleid, void *arg)
{
	return pg_proc_aclcheck(*(Oid *) arg, roleid, ACL_EXECUTE) == ACLCHECK_OK;
}

static void
refuse_function(Oid funcid, Form_pg_proc form)
{
	const char *kind;

	switch (form->prokind)
	{
		case PROKIND_PROCEDURE:
			kind = "procedure";
			break;
		case PROKIND_AGGREGATE:
			kind = "aggregate";
			break;
		default:
			kind = "function";
			break;
	}
	refuse(kind, quote_qualified_identifier(get_namespace_name(form->pronamespace), NameStr(form->proname)),
		   GetUserId(), "EXECUTE", function_allowed, &funcid);
}

/*
 * The body of SQL function call (whose pg_proc row is tup) as queries: stored analysed
 * (BEGIN ATOMIC, RETURN), or, in quotes, when the planner may inline it (one statement).
 * NULL for a function that runs as another role or with its own settings (SECURITY
 * DEFINER, SET), or a body in quotes the planner does not inline: its statements are
 * planned on their own when it runs, through this hook, as the role they run as.
 */
static Node *
sql_body(HeapTuple tup, FuncExpr *call)
{
	Form_pg_proc form = (Form_pg_proc) GETSTRUCT(tup);
	Datum		d;
	bool		isnull;
	char	   *src;
	List	   *raw;
	ParseState *pstate;
	Query	   *query;

	if (form->prolang != SQLlanguageId || form->prokind != PROKIND_FUNCTION || form->prosecdef ||
		!heap_attisnull(tup, Anum_pg_proc_proconfig, NULL))
		return NULL;
	/* BEGIN ATOMIC or RETURN: stored analysed */
	d = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosqlbody, &isnull);
	if (!isnull)
		return stringToNode(TextDatumGetCString(d));
	/* a body in quotes: analysed as the planner does to inline it */
	if (form->proretset || form->prorettype == RECORDOID || form->pronargs != list_length(call->args))
		return NULL;
	d = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
	if (isnull)
		return NULL;
	src = TextDatumGetCString(d);
	raw = pg_parse_query(src);
	if (list_length(raw) != 1)
		return NULL;
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = src;
	sql_fn_parser_setup(pstate, prepare_sql_fn_parse_info(tup, (Node *) call, call->inputcollid));
	query = transformTopLevelStmt(pstate, linitial_node(RawStmt, raw));
	free_parsestate(pstate);
	return (Node *) query;
}

/* Check function funcid; call: its FuncExpr, whose body is then walked too (SQL). */
static void
check_function(Oid funcid, FuncExpr *call, CheckContext *cx)
{
	HeapTuple	tup;
	Form_pg_proc form;
	Node	   *body = NULL;

	/* PostgreSQL's own functions are in no schema of an extension */
	if (funcid < FirstNormalObjectId)
		return;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return;
	form = (Form_pg_proc) GETSTRUCT(tup);
	if (form->pronamespace == cx->nspid)
	{
		/* pg_proc_aclcheck, from the row at hand (the caller is no superuser) */
		bool		isnull;
		Datum		acl = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_proacl, &isnull);

		if (aclmask(isnull ? acldefault(OBJECT_FUNCTION, form->proowner) : DatumGetAclP(acl),
					GetUserId(), form->proowner, ACL_EXECUTE, ACLMASK_ANY) == 0)
			refuse_function(funcid, form);
	}
	if (call != NULL && list_length(cx->bodies) < MAX_BODY_DEPTH && !list_member_oid(cx->walked, funcid))
	{
		body = sql_body(tup, call);
		cx->walked = lappend_oid(cx->walked, funcid);
	}
	ReleaseSysCache(tup);
	if (body != NULL)
	{
		check_stack_depth();
		cx->bodies = lappend_oid(cx->bodies, funcid);
		check_walker(body, cx);
		cx->bodies = list_delete_last(cx->bodies);
	}
}

/* ---- relations ---- */

typedef struct RelationCheck
{
	RangeTblEntry *rte;
	AclMode		perms;			/* the privileges to check of rte's */
} RelationCheck;

static bool
relation_allowed(Oid roleid, void *arg)
{
	RelationCheck *c = (RelationCheck *) arg;
	RangeTblEntry copy = *c->rte;

	copy.checkAsUser = roleid;
	copy.requiredPerms = c->perms;
	return ExecCheckRTPerms(list_make1(&copy), false);
}

static const char *
relation_kind(Oid relid)
{
	switch (get_rel_relkind(relid))
	{
		case RELKIND_VIEW:
			return "view";
		case RELKIND_MATVIEW:
			return "materialized view";
		case RELKIND_SEQUENCE:
			return "sequence";
		case RELKIND_FOREIGN_TABLE:
			return "foreign table";
		default:
			return "table";
	}
}

/* Check rte (a relation of the query, a COPY, a TRUNCATE) as the executor would. */
static void
check_relation(RangeTblEntry *rte, CheckContext *cx)
{
	static const struct
	{
		AclMode		mode;
		const char *name;
	}			privs[] = {{ACL_SELECT, "SELECT"}, {ACL_INSERT, "INSERT"}, {ACL_UPDATE, "UPDATE"},
	{ACL_DELETE, "DELETE"}, {ACL_TRUNCATE, "TRUNCATE"}};
	RelationCheck c = {rte, rte->requiredPerms};
	StringInfoData missing;
	Oid			roleid;

	if (rte->rtekind != RTE_RELATION || rte->requiredPerms == 0 || rte->relid < FirstNormalObjectId ||
		get_rel_namespace(rte->relid) != cx->nspid)
		return;
	roleid = OidIsValid(rte->checkAsUser) ? rte->checkAsUser : GetUserId();
	if (relation_allowed(roleid, &c))
		return;
	/* the privileges the role lacks (on a column it needs: named as the table's) */
	initStringInfo(&missing);
	for (int i = 0; i < lengthof(privs); i++)
	{
		RelationCheck one = {rte, privs[i].mode};

		if ((rte->requiredPerms & privs[i].mode) && !relation_allowed(roleid, &one))
			appendStringInfo(&missing, "%s%s", missing.len ? ", " : "", privs[i].name);
	}
	refuse(relation_kind(rte->relid),
		   quote_qualified_identifier(get_namespace_name(cx->nspid), get_rel_name(rte->relid)),
		   roleid, missing.len ? missing.data : "required", relation_allowed, &c);
}

/* ---- the walk ---- */

static bool
check_walker(Node *node, CheckContext *cx)
{
	/* (expression_tree_walker checks the depth of the stack) */
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
			check_relation(lfirst_node(RangeTblEntry, lc), cx);
		/* subqueries in FROM, CTEs, sublinks and every expression */
		return query_tree_walker(q, check_walker, cx, 0);
	}
	switch (nodeTag(node))
	{
		case T_FuncExpr:
			check_function(((FuncExpr *) node)->funcid, (FuncExpr *) node, cx);
			break;
		case T_Aggref:
			check_function(((Aggref *) node)->aggfnoid, NULL, cx);
			break;
		case T_WindowFunc:
			check_function(((WindowFunc *) node)->winfnoid, NULL, cx);
			break;
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
			set_opfuncid((OpExpr *) node);
			check_function(((OpExpr *) node)->opfuncid, NULL, cx);
			break;
		case T_ScalarArrayOpExpr:
			set_sa_opfuncid((ScalarArrayOpExpr *) node);
			check_function(((ScalarArrayOpExpr *) node)->opfuncid, NULL, cx);
			break;
		default:
			break;
	}
	return expression_tree_walker(node, check_walker, cx);
}

static void
nspid_invalidate(Datum arg, int cacheid, uint32 hashvalue)
{
	inami_nspid_valid = false;
}

/* Whether to look at all: the schema inami is there, and the user is no superuser. */
static bool
check_start(CheckContext *cx)
{
	cx->bodies = NIL;
	cx->walked = NIL;
	cx->nspid = InvalidOid;
	if (!IsTransactionState() || superuser())
		return false;
	if (!inami_nspid_valid)
	{
		inami_nspid = get_namespace_oid("inami", true);
		inami_nspid_valid = true;
	}
	cx->nspid = inami_nspid;
	return OidIsValid(cx->nspid);
}

static PlannedStmt *
privileges_planner(Query *parse, const char *query_string, int cursorOptions, ParamListInfo boundParams)
{
	CheckContext cx;

	if (check_start(&cx))
		check_walker((Node *) parse, &cx);
	if (prev_planner_hook)
		return prev_planner_hook(parse, query_string, cursorOptions, boundParams);
	return standard_planner(parse, query_string, cursorOptions, boundParams);
}

/* COPY of a relation: the privileges DoCopy checks (its columns, or all of them). */
static void
check_copy(CopyStmt *copy, CheckContext *cx)
{
	Oid			relid = RangeVarGetRelid(copy->relation, copy->is_from ? RowExclusiveLock : AccessShareLock, true);
	RangeTblEntry *rte;
	Relation	rel;
	Bitmapset **cols;

	if (!OidIsValid(relid) || get_rel_namespace(relid) != cx->nspid)
		return;
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = relid;
	rte->relkind = get_rel_relkind(relid);
	rte->requiredPerms = copy->is_from ? ACL_INSERT : ACL_SELECT;
	cols = copy->is_from ? &rte->insertedCols : &rte->selectedCols;
	rel = table_open(relid, NoLock);
	if (copy->attlist == NIL)
	{
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute a = TupleDescAttr(desc, i);

			if (!a->attisdropped && !(copy->is_from && a->attgenerated))
				*cols = bms_add_member(*cols, a->attnum - FirstLowInvalidHeapAttributeNumber);
		}
	}
	else
	{
		ListCell   *lc;

		/* a column that is not there: COPY's own error, later */
		foreach(lc, copy->attlist)
		{
			AttrNumber	n = get_attnum(relid, strVal(lfirst(lc)));

			if (n != InvalidAttrNumber)
				*cols = bms_add_member(*cols, n - FirstLowInvalidHeapAttributeNumber);
		}
	}
	table_close(rel, NoLock);
	check_relation(rte, cx);
}

static void
privileges_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	CheckContext cx;

	if ((IsA(stmt, CallStmt) || IsA(stmt, CopyStmt) || IsA(stmt, TruncateStmt)) && check_start(&cx))
	{
		if (IsA(stmt, CallStmt))
			check_walker((Node *) ((CallStmt *) stmt)->funcexpr, &cx);
		else if (IsA(stmt, CopyStmt) && ((CopyStmt *) stmt)->relation != NULL)
			check_copy((CopyStmt *) stmt, &cx);
		else if (IsA(stmt, TruncateStmt))
		{
			ListCell   *lc;

			foreach(lc, ((TruncateStmt *) stmt)->relations)
			{
				Oid			relid = RangeVarGetRelid(lfirst_node(RangeVar, lc), NoLock, true);
				RangeTblEntry *rte = makeNode(RangeTblEntry);

				rte->rtekind = RTE_RELATION;
				rte->relid = relid;
				rte->requiredPerms = ACL_TRUNCATE;
				if (OidIsValid(relid))
					check_relation(rte, &cx);
			}
		}
	}
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
}

/* From _PG_init, in every backend that loads the library. */
void
inami_privileges_init(void)
{
	prev_planner_hook = planner_hook;
	planner_hook = privileges_planner;
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = privileges_utility;
	CacheRegisterSyscacheCallback(NAMESPACEOID, nspid_invalidate, (Datum) 0);
}
