/*
 * inami.h
 *		Shared declarations of the inami extension: parameter cache, cents arithmetic,
 *		NISS helpers.
 */
#ifndef INAMI_H
#define INAMI_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "utils/date.h"
#include "utils/numeric.h"
#include "utils/relcache.h"

/* ---- inline: arguments read once per row ---- */

/*
 * A varlena argument as PG_DETOAST_DATUM_PACKED gives it, without that function's call
 * for the usual datum, neither compressed nor out of line: the aggregates read one per
 * row.
 */
static inline struct varlena *
inami_packed(Datum d)
{
	struct varlena *p = (struct varlena *) DatumGetPointer(d);

	if (VARATT_IS_COMPRESSED(p) || VARATT_IS_EXTERNAL(p))
		return pg_detoast_datum_packed(p);
	return p;
}

/*
 * An error (22023) unless year is one the parameter and exchange tables take (their
 * CHECKs: 1990-2200); what names it ("income year", "control year", ...). Inline: some
 * callers check once per row; the error itself is in params.c.
 */
extern void inami_year_error(int32 year, const char *what) pg_attribute_noreturn();

static inline void
inami_check_year(int32 year, const char *what)
{
	if (year < 1990 || year > 2200)
		inami_year_error(year, what);
}

/* ---- params.c: read a parameter table once per query ---- */

/*
 * Every SPI query of inami runs between these two: search_path "pg_catalog, pg_temp",
 * whatever the caller's offers; pop takes the level push returned (an error unwinds it).
 */
extern int	inami_search_path_push(void);
extern void inami_search_path_pop(int level);

/* Called for each row a parameter query returns; arg is the caller's state. */
typedef void (*inami_param_row_fn) (HeapTuple tuple, TupleDesc desc, void *arg);

extern void inami_param_foreach(const char *query, int nargs, Oid *argtypes,
								Datum *values, inami_param_row_fn row_fn, void *arg);
extern Datum inami_param_get(HeapTuple tuple, TupleDesc desc, int column);

/*
 * What load reads (allocated in mcxt), kept in fn_extra and read again when the
 * snapshot changed. Aggregates' transition functions keep theirs in fn_extra directly:
 * an aggregate lives one query.
 */
typedef void *(*inami_param_load_fn) (MemoryContext mcxt);
extern void *inami_param_cache(FunctionCallInfo fcinfo, inami_param_load_fn load);

/* ---- cents.c: exact money in int64 cents (amounts read from numerics: cents.h) ---- */

extern Datum inami_cents_to_numeric(int64 cents);
extern void inami_cents_append(StringInfo buf, int64 cents);
extern int64 inami_cents_add(int64 a, int64 b);
extern int64 inami_cents_mul(int64 a, int64 b);
extern int64 inami_cents_div_round(int64 cents, int64 divisor);

/* ---- copy_rows.c: rows inserted as COPY FROM inserts them ---- */

/* A column the rows fill, and how a value of another type becomes one of its own. */
typedef struct InamiCopyColumn
{
	AttrNumber	attnum;
	Oid			typid;
	int32		typmod;
	Oid			typioparam;
	int16		typlen;
	Oid			elemtype;		/* of an array column; InvalidOid otherwise */
	int16		elemlen;
	bool		elembyval;
	char		elemalign;
	FmgrInfo	in;				/* the column type's input function */
	FmgrInfo	out;			/* and its output function (the rows printed for CopyFrom) */
} InamiCopyColumn;

typedef struct InamiCopyRows
{
	Oid			relid;
	char	   *relname;
	List	   *columns;		/* String nodes */
	int			ncolumns;
	InamiCopyColumn *column;
	Datum	   *values;			/* nrows x ncolumns, in the column's type */
	bool	   *nulls;
	int		   *lines;			/* the line in the file of each row, for messages */
	int64		nrows;
	int64		maxrows;
	int			next;			/* the column of the row being written that comes next */
	int64		bytes;			/* about how much the values written since the last flush hold */
	uint64		current;		/* the row being inserted, while rows are */
	List	   *parents;		/* referenced tables whose rows the caller wrote */
	MemoryContext cxt;			/* where the arrays above live */
} InamiCopyRows;

extern void inami_copy_rows_init(InamiCopyRows *rows, const char *schema, const char *table,
								 const char *columns);
extern void inami_copy_rows_parent_written(InamiCopyRows *rows, const char *schema, const char *table);
extern void inami_copy_text(InamiCopyRows *rows, const char *s);
extern void inami_copy_int(InamiCopyRows *rows, int64 v);
extern void inami_copy_cents(InamiCopyRows *rows, bool present, int64 cents);
extern void inami_copy_array(InamiCopyRows *rows, Oid elemtype, Datum *elems, int n);
extern void inami_copy_end_row(InamiCopyRows *rows, int line);
extern uint64 inami_copy_rows_flush(InamiCopyRows *rows);

/* The row writer (copy_rows.c): rows into a plain table without triggers, in batches. */
#define INAMI_ROW_WRITER_BATCH 1000

typedef struct InamiRowWriter
{
	Relation	rel;
	struct EState *estate;
	struct ResultRelInfo *rri;
	struct TupleTableSlot *batch[INAMI_ROW_WRITER_BATCH];
	uint64		tag[INAMI_ROW_WRITER_BATCH];
	int			nbatch;
	struct BulkInsertStateData *bistate;
	CommandId	cid;
	uint64		n;
	uint64	   *tag_target;		/* set to a row's tag while its index entries are made */
	MemoryContext mcxt;			/* where the batch lives */
} InamiRowWriter;

extern void inami_row_writer_begin(InamiRowWriter *w, Relation rel, List *rtable);
extern MemoryContext inami_row_writer_row_context(InamiRowWriter *w);
extern void inami_row_writer_add(InamiRowWriter *w, struct TupleTableSlot *row, uint64 tag);
extern uint64 inami_row_writer_end(InamiRowWriter *w);

/* ---- im_ceiling.c: R2 ---- */

/* The rows of inami.im_ceiling, amounts in cents. */
typedef struct InamiCeilings
{
	int			n;
	int			max;
	int		   *income_year;
	int64	   *base;
	int64	   *per_member;
	MemoryContext mcxt;			/* where they were read */
	Datum	   *kept;			/* im_plafond's numerics, made on first use (im_ceiling.c) */
} InamiCeilings;

extern InamiCeilings *inami_ceilings_load(MemoryContext mcxt);
extern int64 inami_ceiling_cents(const InamiCeilings *c, int household_size, int income_year);

/* ---- niss.c: NISS (national register number) ---- */

/* What a NISS says, when it is valid. */
typedef struct InamiNiss
{
	int			year;			/* full birth year (century from the check digits) */
	int			month;			/* 1..12, 0 when unknown */
	int			day;			/* 1..31, 0 when unknown */
} InamiNiss;

extern bool inami_niss_parse(const char *s, int len, InamiNiss *out);
extern void inami_niss_check(const char *s, int len, const char *what, InamiNiss *out);
extern bool inami_all_digits(const char *s, int len, int n);
extern bool inami_niss_age_date(const InamiNiss *niss, int age, DateADT on_day, DateADT *out);

/* ---- household income (R3): declarations shared beyond its files ---- */

/* The aggregate memory context of an aggregate support function (ipcal_income.c). */
extern MemoryContext inami_agg_context(FunctionCallInfo fcinfo, const char *fname);

/* ipcal_income.c: the IPCAL list (factors per tax year and code) and a member's income. */
typedef struct InamiIpcalList InamiIpcalList;
extern InamiIpcalList *inami_ipcal_list_load(MemoryContext mcxt);
extern int32 inami_ipcal_factor(InamiIpcalList *list, text *code, int32 tax_year);
extern int64 inami_ipcal_round(int128 sum);
extern void inami_ipcal_overflow(void);
extern bool inami_ipcal_items_cents(InamiIpcalList *list, Datum codes, Datum amounts, int32 tax_year,
									int64 *cents);

/* household_income.c: a household's income, member by member. */
typedef struct InamiHousehold
{
	int128		sum;			/* cents of the "00" members */
	int32		income_year;	/* valid when has_year */
	bool		has_rows;
	bool		has_year;
	bool		unknown;		/* a member's income is unknown after the under-18 rule */
} InamiHousehold;

extern bool inami_return_code_is_00(text *code);
extern bool inami_household_add(InamiHousehold *state, bool is00, bool has_income,
								int64 income_cents, bool has_born, DateADT born,
								bool has_year, int32 year);
extern bool inami_household_total(const InamiHousehold *state, int64 *cents);

/* ---- data exchanges: declarations shared beyond their files ---- */

/* Namespace of every exchange document (xsd/). */
#define INAMI_FLOWS_NAMESPACE "urn:be:inami:flows:1"

/* niss.c: an error (22P02) unless an OA code is 3 ASCII digits; returns it (request_number, writers, loaders). */
extern char *inami_oa_check(text *oa);

/* Reading: the streamed reader is declared in flow_parse.h (no backend headers there, so
 * that the fuzzer of test/fuzz/ builds it alone); flows_read.c holds the SQL functions. */

/* inami.c: the setting inami.flow_progress_every (records between two load NOTICEs; 0 none) */
extern int	inami_flow_progress_every;

/* inami.c: the setting inami.flow_load_part (a shard's part of a file: listing checked by the caller) */
extern bool inami_flow_load_part;

/* ---- scale-out ---- */

/* The largest number of shards inami.shard_of accepts (a partition bound's modulus). */
#define INAMI_MAX_SHARDS 1024

/* shard.c: inami.shard_of(key, shards) over len bytes of key (1 <= shards <= INAMI_MAX_SHARDS) */
extern int	inami_shard_position(const char *key, int len, int shards);
extern void inami_check_shards(int shards);

/* ---- control runs: declarations shared beyond their files ---- */

/*
 * progress.c: where a load or a control run stands, in shared memory for inami.progress
 * (only with shared_preload_libraries = 'inami'; otherwise these do nothing).
 */
extern void inami_progress_init(void);
extern bool inami_progress_available(void);
extern void inami_progress_start(const char *kind, const char *what, int32 year, int64 run_id, int64 total);
extern const char *inami_progress_kind(void);
extern void inami_progress_what(const char *what);
extern void inami_progress_done(int64 done);
extern void inami_progress_end(void);

/* privileges.c: a refusal of an inami object names the access level that grants it */
extern void inami_privileges_init(void);

/* ---- MAF (R6): declarations shared beyond its files ---- */

/*
 * maf_household.c (households of an address) and maf_counter.c (the counter) share
 * nothing yet: their SQL entry points are declared with PG_FUNCTION_INFO_V1.
 */

#endif							/* INAMI_H */
