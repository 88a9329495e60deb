/*
 * progress.c
 *		What each load and control run is doing, for any session to see (inami.progress).
 *
 * A NOTICE reaches only the client that called; a pg_cron job has none that looks. So each
 * backend that loads a file or runs a control writes where it stands into a slot of its
 * own in shared memory, which inami._progress() reads for every backend. Shared memory
 * exists only when the library is in shared_preload_libraries: without it every report
 * here does nothing, and inami.progress is empty (everything else works the same).
 *
 * One writer per slot (its backend); readers copy a slot under its spinlock, so they never
 * see a half-written one. The slot is cleared when the work ends, when the transaction or
 * subtransaction that started it aborts, and when the backend exits.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/backendid.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "mb/pg_wchar.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "inami.h"

/* room for a load's full source path (MAXPGPATH) and the words around it */
#define PROGRESS_TEXT (MAXPGPATH + 64)

typedef struct ProgressSlot
{
	slock_t		mutex;
	int			pid;			/* 0: free */
	Oid			userid;
	int32		year;			/* 0: none */
	int64		run_id;			/* 0: none (a load) */
	int64		done;
	int64		total;			/* -1: not known */
	TimestampTz started;
	char		kind[24];		/* load, systematic_control, proactive_flow, purge */
	char		what[PROGRESS_TEXT];	/* a load's source, a run's phase */
	char		started_by[NAMEDATALEN];	/* application_name when it started */
} ProgressSlot;

static ProgressSlot *slots = NULL;
static int	nslots = 0;
static ProgressSlot *mine = NULL;	/* this backend's slot while it reports */
static int	mine_level = 0;			/* transaction nest level that started the report */
static bool callbacks_done = false;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
progress_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(mul_size(MaxBackends, sizeof(ProgressSlot)));
}

static void
progress_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	slots = ShmemInitStruct("inami progress", mul_size(MaxBackends, sizeof(ProgressSlot)), &found);
	if (!found)
	{
		memset(slots, 0, mul_size(MaxBackends, sizeof(ProgressSlot)));
		for (int i = 0; i < MaxBackends; i++)
			SpinLockInit(&slots[i].mutex);
	}
	nslots = MaxBackends;
	LWLockRelease(AddinShmemInitLock);
}

/* From _PG_init: only while shared_preload_libraries loads the library. */
void
inami_progress_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = progress_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = progress_shmem_startup;
}

/* Whether reports go anywhere (the library was preloaded). */
bool
inami_progress_available(void)
{
	return slots != NULL;
}

void
inami_progress_end(void)
{
	ProgressSlot *s = mine;

	if (s == NULL)
		return;
	mine = NULL;
	SpinLockAcquire(&s->mutex);
	s->pid = 0;
	SpinLockRelease(&s->mutex);
}

static void
progress_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		inami_progress_end();
}

static void
progress_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						  SubTransactionId parentSubid, void *arg)
{
	/* a report started inside the subtransaction that aborts ends with it */
	if (event == SUBXACT_EVENT_ABORT_SUB && mine != NULL &&
		GetCurrentTransactionNestLevel() <= mine_level)
		inami_progress_end();
}

static void
progress_exit(int code, Datum arg)
{
	inami_progress_end();
}

/* How much of src fits in size bytes with its terminator, cut on a character boundary. */
static int
text_fits(const char *src, size_t size)
{
	return src ? pg_mbcliplen(src, strlen(src), size - 1) : 0;
}

/* Copy len bytes of src (text_fits) and the terminator: short enough under a spinlock. */
static void
set_text(char *dst, const char *src, int len)
{
	if (len > 0)
		memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * Start reporting (kind, what it works on, year and run when there are, total or -1);
 * replaces what the backend reported before.
 */
void
inami_progress_start(const char *kind, const char *what, int32 year, int64 run_id, int64 total)
{
	ProgressSlot *s;
	const char *app;
	int			kind_len;
	int			what_len;
	int			app_len;
	TimestampTz now;

	if (slots == NULL || MyBackendId == InvalidBackendId || MyBackendId > nslots)
		return;
	if (!callbacks_done)
	{
		RegisterXactCallback(progress_xact_callback, NULL);
		RegisterSubXactCallback(progress_subxact_callback, NULL);
		before_shmem_exit(progress_exit, (Datum) 0);
		callbacks_done = true;
	}
	app = GetConfigOption("application_name", true, false);
	kind_len = text_fits(kind, sizeof(s->kind));
	what_len = text_fits(what, sizeof(s->what));
	app_len = text_fits(app, sizeof(s->started_by));
	now = GetCurrentTimestamp();
	s = &slots[MyBackendId - 1];
	SpinLockAcquire(&s->mutex);
	s->pid = MyProcPid;
	s->userid = GetUserId();
	s->year = year;
	s->run_id = run_id;
	s->done = 0;
	s->total = total;
	s->started = now;
	set_text(s->kind, kind, kind_len);
	set_text(s->what, what, what_len);
	set_text(s->started_by, app, app_len);
	SpinLockRelease(&s->mutex);
	mine = s;
	mine_level = GetCurrentTransactionNestLevel();
}

/* The kind this backend reports now, or NULL. */
const char *
inami_progress_kind(void)
{
	return mine ? mine->kind : NULL;
}

void
inami_progress_what(const char *what)
{
	int			len;

	if (mine == NULL)
		return;
	len = text_fits(what, sizeof(mine->what));
	SpinLockAcquire(&mine->mutex);
	set_text(mine->what, what, len);
	SpinLockRelease(&mine->mutex);
}

void
inami_progress_done(int64 done)
{
	if (mine == NULL)
		return;
	SpinLockAcquire(&mine->mutex);
	mine->done = done;
	SpinLockRelease(&mine->mutex);
}

PG_FUNCTION_INFO_V1(inami_progress_start_sql);
/* inami._progress_start(kind, what, year, run_id, total) */
Datum
inami_progress_start_sql(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	inami_progress_start(text_to_cstring(PG_GETARG_TEXT_PP(0)),
						 PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
						 PG_ARGISNULL(2) ? 0 : PG_GETARG_INT32(2),
						 PG_ARGISNULL(3) ? 0 : PG_GETARG_INT64(3),
						 PG_ARGISNULL(4) ? -1 : PG_GETARG_INT64(4));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(inami_progress_end_sql);
/* inami._progress_end(run_id): ends this backend's report of that run */
Datum
inami_progress_end_sql(PG_FUNCTION_ARGS)
{
	if (mine != NULL && !PG_ARGISNULL(0) && mine->run_id == PG_GETARG_INT64(0))
		inami_progress_end();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(inami_progress_sql);
/*
 * inami._progress(): one row per backend reporting. What a backend loads or runs (the
 * kind, year and file) is shown as pg_stat_activity shows a query: to a role that has the
 * privileges of the role that started it, and to every role with those of
 * pg_read_all_stats or inami_operator (the operators, who schedule the runs); another
 * role sees its own sessions only.
 */
Datum
inami_progress_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			me = GetUserId();
	Oid			operator = get_role_oid("inami_operator", true);
	bool		all = has_privs_of_role(me, ROLE_PG_READ_ALL_STATS) ||
		(OidIsValid(operator) && has_privs_of_role(me, operator));

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; slots != NULL && i < nslots; i++)
	{
		ProgressSlot c;
		Datum		v[10];
		bool		n[10] = {false};

		SpinLockAcquire(&slots[i].mutex);
		c = slots[i];
		SpinLockRelease(&slots[i].mutex);
		if (c.pid == 0 || !(all || has_privs_of_role(me, c.userid)))
			continue;
		v[0] = Int32GetDatum(c.pid);
		v[1] = CStringGetTextDatum(c.kind);
		v[2] = CStringGetTextDatum(c.what);
		v[3] = Int32GetDatum(c.year);
		n[3] = c.year == 0;
		v[4] = Int64GetDatum(c.run_id);
		n[4] = c.run_id == 0;
		v[5] = Int64GetDatum(c.done);
		v[6] = Int64GetDatum(c.total);
		n[6] = c.total < 0;
		v[7] = TimestampTzGetDatum(c.started);
		v[8] = CStringGetTextDatum(c.started_by);
		v[9] = ObjectIdGetDatum(c.userid);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, n);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(inami_progress_available_sql);
Datum
inami_progress_available_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(slots != NULL);
}
