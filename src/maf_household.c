/*
 * maf_household.c
 *		R6: the MAF households at one address on 1 January of the year (Circ. O.A.
 *		2024/160 for MAF social, 2024/245 for temporary protection).
 *
 * inami.maf_household(year, niss, birth_date, has_im, im_basis, temporary_protection,
 * host_family, spouse_niss, dependent_of) collects the persons of one address; the
 * transition, combine and (de)serialize functions only append persons, so parallel
 * workers can each take a share. The final function sorts them by NISS and splits them:
 *   - no person under temporary protection (TP), or TP persons without a host family:
 *	   the whole address is one MAF household;
 *   - TP persons hosted by a host family: household 1 is the host family plus the TP
 *	   persons married to, or dependents of, a host-family member; household 2 every
 *	   other TP person with the children under 16 without TP (a child who is a dependent
 *	   of a host-family member stays with the host family).
 * Within each MAF household, the IM beneficiaries form its MAF social household, except a
 * person whose IM rests only on an integration allowance to which the partner-income
 * abatement was applied (art. 37novies).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "inami.h"

#define NISS_LEN 11

/* The bases of an IM right that im_basis accepts; the last one is art. 37novies'. */
static const char *const maf_basis_codes[] = {
	"benefit",					/* a social benefit or status giving the right */
	"income_survey",			/* after an income survey by the insurer */
	"temporary_protection",		/* temporary protection (Circ. O.A. 2024/245) */
	"integration_allowance",	/* integration allowance, no partner abatement applied */
	"other",					/* any other basis */
	"integration_allowance_abated"	/* only an integration allowance with the partner
									 * abatement actually applied: excluded */
};
#define MAF_BASIS_N lengthof(maf_basis_codes)
#define MAF_BASIS_ABATED ((int8) (MAF_BASIS_N - 1))

/* Why a person is in their MAF household (the reason column of inami.maf_member). */
typedef enum MafReason
{
	MAF_R_ADDRESS,
	MAF_R_HOST,
	MAF_R_TP_SPOUSE,
	MAF_R_TP_DEPENDENT,
	MAF_R_CHILD_OF_HOST,
	MAF_R_TP_HOSTED,
	MAF_R_CHILD_FOLLOWS,
	MAF_R_CHILD_HOSTED
} MafReason;

static const char *const maf_reason_text[] = {
	"address: one MAF household",
	"host family",
	"TP, married to a host-family member",
	"TP, dependent of a host-family member",
	"child under 16 without TP, dependent of a host-family member",
	"TP, hosted",
	"child under 16 without TP, dependent of a TP person",
	"child under 16 without TP of the hosted TP persons"
};

/* One person of the address as the transition function reads it (plain bytes). */
typedef struct MafPerson
{
	char		niss[NISS_LEN];
	char		spouse[NISS_LEN];
	char		dependent_of[NISS_LEN];
	bool		has_spouse;
	bool		has_dependent_of;
	int8		has_im;			/* 0 or 1 */
	int8		basis;			/* index in maf_basis_codes, -1 when none */
	int8		tp;				/* 0 or 1 */
	int8		host;			/* 0, 1, or -1 when NULL */
	bool		birth_known;
	DateADT		birth;
} MafPerson;

/* The aggregate state: the year and the persons collected so far. */
typedef struct MafState
{
	int32		year;
	int32		n;
	int32		max;
	MafPerson  *persons;
} MafState;

/* What the final function keeps across calls: the row type of inami.maf_member. */
typedef struct MafResultType
{
	Oid			elemtype;
	TupleDesc	tupdesc;
} MafResultType;

/* A new empty state in the aggregate's context. */
static MafState *
maf_state_new(MemoryContext aggcxt, int32 year, int32 max)
{
	MafState   *st = MemoryContextAllocZero(aggcxt, sizeof(MafState));

	st->year = year;
	st->max = Max(max, 4);
	st->persons = MemoryContextAlloc(aggcxt, st->max * sizeof(MafPerson));
	return st;
}

/* Make room for extra more persons (the array lives where it was allocated). */
static void
maf_state_reserve(MafState *st, int32 extra)
{
	if (st->n + extra > st->max)
	{
		while (st->n + extra > st->max)
			st->max *= 2;
		if ((Size) st->max * sizeof(MafPerson) > MaxAllocSize)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many persons at one address"),
					 errdetail("The address holds more than %d persons.", st->n),
					 errhint("Group the persons by their address (and year) only.")));
		st->persons = repalloc(st->persons, st->max * sizeof(MafPerson));
	}
}

/* Complain that the year differs between two persons of one group. */
static void
maf_year_mismatch(int32 a, int32 b)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("maf_household got two different years in one group"),
			 errdetail("The years given are %d and %d.", a, b),
			 errhint("Group by year as well as by address: a MAF household is the address on 1 January of one year.")));
}

/* Complain that an attribute that decides the answer is NULL. */
static void
maf_missing(const char *attribute, const MafPerson *p, const char *why, const char *hint)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("maf_household needs %s", attribute),
			 errdetail("%s is NULL for the person with NISS %.11s: %s", attribute, p->niss, why),
			 errhint("%s", hint)));
}

/* Read an optional NISS argument (spouse_niss, dependent_of) into dst. */
static bool
maf_read_niss_arg(FunctionCallInfo fcinfo, int argno, const char *what, char *dst)
{
	text	   *t;

	if (PG_ARGISNULL(argno))
		return false;
	t = PG_GETARG_TEXT_PP(argno);
	inami_niss_check(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), what, NULL);
	memcpy(dst, VARDATA_ANY(t), NISS_LEN);
	return true;
}

/* Read im_basis: the index of its code, -1 when NULL; an unknown code is an error. */
static int8
maf_read_basis(FunctionCallInfo fcinfo, int argno)
{
	text	   *t;
	const char *s;
	int			len;

	if (PG_ARGISNULL(argno))
		return -1;
	t = PG_GETARG_TEXT_PP(argno);
	s = VARDATA_ANY(t);
	len = VARSIZE_ANY_EXHDR(t);
	for (int i = 0; i < (int) MAF_BASIS_N; i++)
		if (strlen(maf_basis_codes[i]) == (size_t) len &&
			memcmp(maf_basis_codes[i], s, len) == 0)
			return (int8) i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("unknown IM basis \"%s\"", pnstrdup(s, pg_mbcliplen(s, len, 64))),
			 errdetail("im_basis must be one of benefit, income_survey, temporary_protection, integration_allowance, other, integration_allowance_abated."),
			 errhint("Use integration_allowance_abated only when the IM rests only on an integration allowance to which the partner-income abatement was actually applied (art. 37novies); otherwise the basis that applies.")));
	pg_unreachable();
}

/*
 * Transition: append one person. Arguments: year, niss, birth_date, has_im, im_basis,
 * temporary_protection, host_family, spouse_niss, dependent_of.
 */
PG_FUNCTION_INFO_V1(inami_maf_household_trans);
Datum
inami_maf_household_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	MafState   *st;
	MafPerson	p;
	text	   *niss;
	InamiNiss	parsed;
	int32		year;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "inami_maf_household_trans called in non-aggregate context");

	memset(&p, 0, sizeof(p));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("maf_household needs the NISS of every person"),
				 errdetail("A person of the address has a NULL NISS."),
				 errhint("Give the national register number of every person registered at the address on 1 January.")));
	niss = PG_GETARG_TEXT_PP(2);
	inami_niss_check(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), "NISS", &parsed);
	memcpy(p.niss, VARDATA_ANY(niss), NISS_LEN);

	if (PG_ARGISNULL(1))
		maf_missing("the year", &p, "the household is the address on 1 January of a year.",
					"Give the year of the MAF (the calendar year of the contributions).");
	year = PG_GETARG_INT32(1);
	inami_check_year(year, "MAF year");

	if (!PG_ARGISNULL(3))
	{
		p.birth = PG_GETARG_DATEADT(3);
		if (DATE_NOT_FINITE(p.birth))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("birth date must be finite"),
					 errdetail("The birth date of the person with NISS %.11s is infinite.", p.niss),
					 errhint("Give the birth date from the national register, or NULL to take it from the NISS.")));
		p.birth_known = true;
	}
	else if (parsed.month != 0 && parsed.day != 0)
	{
		p.birth = date2j(parsed.year, parsed.month, parsed.day) - POSTGRES_EPOCH_JDATE;
		p.birth_known = true;
	}
	if (p.birth_known && p.birth > date2j(year, 1, 1) - POSTGRES_EPOCH_JDATE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("person born after 1 January of the MAF year"),
				 errdetail("The person with NISS %.11s was born on %s; the MAF household of %d is the address on 1 January %d.",
						   p.niss, DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(p.birth))),
						   year, year),
				 errhint("Leave out persons who were not registered at the address on 1 January.")));

	if (PG_ARGISNULL(4))
		maf_missing("has_im", &p, "whether the person has the IM decides the MAF social household.",
					"Give has_im true or false for every person.");
	p.has_im = PG_GETARG_BOOL(4) ? 1 : 0;
	p.basis = maf_read_basis(fcinfo, 5);
	if (p.has_im && p.basis < 0)
		maf_missing("im_basis", &p, "an IM beneficiary is left out of MAF social when the IM rests only on an integration allowance with the partner abatement (art. 37novies).",
					"Give the basis of the IM: benefit, income_survey, temporary_protection, integration_allowance, other or integration_allowance_abated.");
	if (PG_ARGISNULL(6))
		maf_missing("temporary_protection", &p, "persons under temporary protection may form MAF households of their own (Circ. O.A. 2024/245).",
					"Give temporary_protection true or false for every person.");
	p.tp = PG_GETARG_BOOL(6) ? 1 : 0;
	p.host = PG_ARGISNULL(7) ? -1 : (PG_GETARG_BOOL(7) ? 1 : 0);
	p.has_spouse = maf_read_niss_arg(fcinfo, 8, "spouse NISS", p.spouse);
	p.has_dependent_of = maf_read_niss_arg(fcinfo, 9, "dependent_of NISS", p.dependent_of);

	if (PG_ARGISNULL(0))
	{
		st = maf_state_new(aggcxt, year, 4);
	}
	else
	{
		st = (MafState *) PG_GETARG_POINTER(0);
		if (st->year != year)
			maf_year_mismatch(st->year, year);
	}
	old = MemoryContextSwitchTo(aggcxt);
	maf_state_reserve(st, 1);
	MemoryContextSwitchTo(old);
	st->persons[st->n++] = p;
	PG_RETURN_POINTER(st);
}

/* Combine: append the persons of the second state to the first. */
PG_FUNCTION_INFO_V1(inami_maf_household_combine);
Datum
inami_maf_household_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	MafState   *a;
	MafState   *b;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "inami_maf_household_combine called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	b = (MafState *) PG_GETARG_POINTER(1);
	if (PG_ARGISNULL(0))
	{
		a = maf_state_new(aggcxt, b->year, b->n);
	}
	else
	{
		a = (MafState *) PG_GETARG_POINTER(0);
		if (a->year != b->year)
			maf_year_mismatch(a->year, b->year);
	}
	old = MemoryContextSwitchTo(aggcxt);
	maf_state_reserve(a, b->n);
	MemoryContextSwitchTo(old);
	memcpy(a->persons + a->n, b->persons, b->n * sizeof(MafPerson));
	a->n += b->n;
	PG_RETURN_POINTER(a);
}

/* Serialize: year, count, then the persons as plain bytes. */
PG_FUNCTION_INFO_V1(inami_maf_household_serialize);
Datum
inami_maf_household_serialize(PG_FUNCTION_ARGS)
{
	MafState   *st;
	StringInfoData buf;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "inami_maf_household_serialize called in non-aggregate context");
	st = (MafState *) PG_GETARG_POINTER(0);
	pq_begintypsend(&buf);
	pq_sendint32(&buf, st->year);
	pq_sendint32(&buf, st->n);
	pq_sendbytes(&buf, (const char *) st->persons, st->n * sizeof(MafPerson));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize what inami_maf_household_serialize wrote. */
PG_FUNCTION_INFO_V1(inami_maf_household_deserialize);
Datum
inami_maf_household_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt;
	StringInfoData buf;
	MafState   *st;
	int32		year;
	int32		n;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "inami_maf_household_deserialize called in non-aggregate context");
	buf.data = VARDATA_ANY(b);
	buf.len = VARSIZE_ANY_EXHDR(b);
	buf.maxlen = buf.len;
	buf.cursor = 0;
	year = pq_getmsgint(&buf, 4);
	n = pq_getmsgint(&buf, 4);
	if (n < 0 || (Size) (buf.len - buf.cursor) != (Size) n * sizeof(MafPerson))
		elog(ERROR, "inami: malformed maf_household state");
	st = maf_state_new(aggcxt, year, n);
	memcpy(st->persons, pq_getmsgbytes(&buf, n * sizeof(MafPerson)), n * sizeof(MafPerson));
	st->n = n;
	pq_getmsgend(&buf);
	PG_RETURN_POINTER(st);
}

/* Order persons by NISS. */
static int
maf_person_cmp(const void *a, const void *b)
{
	return memcmp(((const MafPerson *) a)->niss, ((const MafPerson *) b)->niss, NISS_LEN);
}

/* Order a NISS key against a person. */
static int
maf_niss_cmp(const void *key, const void *b)
{
	return memcmp(key, ((const MafPerson *) b)->niss, NISS_LEN);
}

/* The index of the person with this NISS in the sorted array, or -1. */
static int
maf_find(const MafPerson *persons, int n, const char *niss)
{
	const MafPerson *p = bsearch(niss, persons, n, sizeof(MafPerson), maf_niss_cmp);

	return p ? (int) (p - persons) : -1;
}

/* True when person i is under 16 on 1 January; an error when that is unknown. */
static bool
maf_under_16(const MafPerson *p, int32 year, const char *why)
{
	if (!p->birth_known)
		maf_missing("a birth date", p, why,
					"Give birth_date: the NISS does not carry the birth date (month or day 00).");
	/* 16 or more on 1 January: born on or before 1 January, 16 years earlier */
	return p->birth > date2j(year - 16, 1, 1) - POSTGRES_EPOCH_JDATE;
}

/*
 * The element type of the result (inami.maf_member) and its row descriptor, cached in
 * fn_extra. Taken from the call, not found by name: the executor gives the final
 * function of an aggregate (nodeAgg.c, nodeWindowAgg.c: build_aggregate_finalfn_expr)
 * an expression whose result type is the aggregate's, inami.maf_member[].
 */
static MafResultType *
maf_result_type(FunctionCallInfo fcinfo)
{
	MafResultType *rt = fcinfo->flinfo->fn_extra;

	if (rt == NULL)
	{
		Oid			arraytype = get_fn_expr_rettype(fcinfo->flinfo);
		Oid			typid = OidIsValid(arraytype) ? get_element_type(arraytype) : InvalidOid;
		MemoryContext old;

		if (!OidIsValid(typid) || get_typtype(typid) != TYPTYPE_COMPOSITE)
			elog(ERROR, "inami: maf_household_final must return an array of a row type, not %s",
				 OidIsValid(arraytype) ? format_type_be(arraytype) : "an unknown type");
		old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);
		rt = palloc(sizeof(MafResultType));
		rt->elemtype = typid;
		rt->tupdesc = lookup_rowtype_tupdesc_copy(typid, -1);
		rt->tupdesc = BlessTupleDesc(rt->tupdesc);
		MemoryContextSwitchTo(old);
		fcinfo->flinfo->fn_extra = rt;
	}
	return rt;
}

/*
 * Split the persons (sorted by NISS) into MAF households: fills household[] (1 or 2),
 * reason[] and tp_only[] (per household number, index 1 and 2).
 */
static void
maf_split(const MafPerson *ps, int n, int32 year, int *household, MafReason *reason,
		  bool *tp_only)
{
	bool		any_tp = false;
	bool		any_host = false;
	bool		any_hosted_tp = false;
	bool	   *spouse_of_host;

	for (int i = 0; i < n; i++)
	{
		if (ps[i].tp)
		{
			any_tp = true;
			if (ps[i].host == 1)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a person under temporary protection cannot be a host-family member"),
						 errdetail("The person with NISS %.11s has temporary_protection and host_family both true.", ps[i].niss),
						 errhint("Set host_family false; a TP person married to or a dependent of a host-family member is told by spouse_niss or dependent_of.")));
		}
	}
	if (any_tp)
		for (int i = 0; i < n; i++)
		{
			if (ps[i].tp)
				continue;
			if (ps[i].host < 0)
				maf_missing("host_family", &ps[i],
							"at an address with persons under temporary protection, a person without it is either of a host family (two MAF households) or not.",
							"Give host_family true for the members of the family hosting the TP persons, false for the others.");
			if (ps[i].host == 1)
				any_host = true;
		}

	tp_only[1] = tp_only[2] = false;
	if (!any_host)
	{
		/* the whole address is one MAF household; TP-only when the others are children under 16 */
		tp_only[1] = any_tp;
		for (int i = 0; i < n; i++)
		{
			household[i] = 1;
			reason[i] = MAF_R_ADDRESS;
			if (any_tp && !ps[i].tp &&
				!maf_under_16(&ps[i], year, "at an address of TP persons, a person without TP under 16 keeps the TP rules, one of 16 or more ends them."))
				tp_only[1] = false;
		}
		return;
	}

	/*
	 * The persons a host-family member says they are married to. A host-family member
	 * registered as the dependent of a TP person has joined the TP person's household
	 * (D example 5): that is not a host family.
	 */
	spouse_of_host = palloc0(n * sizeof(bool));
	for (int i = 0; i < n; i++)
	{
		if (ps[i].tp || ps[i].host != 1)
			continue;
		if (ps[i].has_spouse)
		{
			int			s = maf_find(ps, n, ps[i].spouse);

			if (s >= 0)
				spouse_of_host[s] = true;
		}
		if (ps[i].has_dependent_of)
		{
			int			d = maf_find(ps, n, ps[i].dependent_of);

			if (d >= 0 && ps[d].tp)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("a host-family member cannot be the dependent of a person under temporary protection"),
						 errdetail("The person with NISS %.11s has host_family true and is a dependent of %.11s, who has temporary protection.",
								   ps[i].niss, ps[d].niss),
						 errhint("Set host_family false: a person registered as the dependent of a TP person is of that person's household (Circ. O.A. 2024/245, example 5).")));
		}
	}

	/* host family, and the TP persons married to or dependents of one of its members */
	for (int i = 0; i < n; i++)
	{
		const MafPerson *p = &ps[i];

		household[i] = 0;
		if (!p->tp && p->host == 1)
		{
			household[i] = 1;
			reason[i] = MAF_R_HOST;
		}
		else if (p->tp)
		{
			int			d = p->has_dependent_of ? maf_find(ps, n, p->dependent_of) : -1;

			household[i] = 2;
			reason[i] = MAF_R_TP_HOSTED;
			if (d >= 0 && !ps[d].tp && ps[d].host == 1)
			{
				household[i] = 1;
				reason[i] = MAF_R_TP_DEPENDENT;
			}
			else
			{
				int			s = p->has_spouse ? maf_find(ps, n, p->spouse) : -1;

				if (spouse_of_host[i] || (s >= 0 && !ps[s].tp && ps[s].host == 1))
				{
					household[i] = 1;
					reason[i] = MAF_R_TP_SPOUSE;
				}
			}
			if (household[i] == 2)
				any_hosted_tp = true;
		}
	}

	/* the children under 16 without TP who are not of the host family */
	for (int i = 0; i < n; i++)
	{
		if (household[i] == 0 &&
			!maf_under_16(&ps[i], year, "at a host-family address, a person without TP outside the host family must be a child under 16."))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a person of 16 or more without temporary protection is outside the host family"),
					 errdetail("The person with NISS %.11s has temporary_protection false, host_family false and is 16 or more on 1 January %d; Circ. O.A. 2024/245 places only children under 16 without TP beside the TP persons.",
							   ps[i].niss, year),
					 errhint("Set host_family true if the person belongs to the host family.")));
	}

	/*
	 * Each goes with the person it is a dependent of, once that person's household is
	 * known: a chain of dependents resolves in as many passes as it is long, whatever
	 * the order of the persons.
	 */
	for (bool progress = true; progress;)
	{
		CHECK_FOR_INTERRUPTS();
		progress = false;
		for (int i = 0; i < n; i++)
		{
			int			d;

			if (household[i] != 0 || !ps[i].has_dependent_of)
				continue;
			d = maf_find(ps, n, ps[i].dependent_of);
			if (d < 0 || household[d] == 0)
				continue;
			household[i] = household[d];
			reason[i] = ps[d].tp ? MAF_R_CHILD_FOLLOWS :
				(household[d] == 1 ? MAF_R_CHILD_OF_HOST : MAF_R_CHILD_HOSTED);
			progress = true;
		}
	}

	/* the others, and the dependents of one another: beside the hosted TP persons */
	for (int i = 0; i < n; i++)
	{
		if (household[i] != 0)
			continue;
		if (!any_hosted_tp)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a child under 16 without temporary protection has no MAF household"),
					 errdetail("The person with NISS %.11s is neither of the host family nor, through the persons it is a dependent of, of a household at the address, and no hosted TP person is left to form the second MAF household.",
							   ps[i].niss),
					 errhint("Give dependent_of (the NISS of the person the child is a dependent of), or host_family true.")));
		household[i] = 2;
		reason[i] = MAF_R_CHILD_HOSTED;
	}
	tp_only[2] = true;
}

/* Final: the MAF households of the address, one inami.maf_member per person. */
PG_FUNCTION_INFO_V1(inami_maf_household_final);
Datum
inami_maf_household_final(PG_FUNCTION_ARGS)
{
	MafState   *st;
	MafResultType *rt;
	MafPerson  *ps;
	int			n;
	int		   *household;
	MafReason  *reason;
	bool		tp_only[3];
	bool		used[3] = {false, false, false};
	int			renumber[3] = {0, 0, 0};
	Datum	   *elems;
	int			k;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "inami_maf_household_final called in non-aggregate context");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MafState *) PG_GETARG_POINTER(0);
	rt = maf_result_type(fcinfo);
	n = st->n;

	/* work on a sorted copy: the state stays as it is (the final function is read-only) */
	ps = palloc(n * sizeof(MafPerson));
	memcpy(ps, st->persons, n * sizeof(MafPerson));
	qsort(ps, n, sizeof(MafPerson), maf_person_cmp);
	for (int i = 1; i < n; i++)
		if (memcmp(ps[i - 1].niss, ps[i].niss, NISS_LEN) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the same person appears twice at one address"),
					 errdetail("NISS %.11s is given twice.", ps[i].niss),
					 errhint("Give each person of the address once (group by address and year).")));

	household = palloc(n * sizeof(int));
	reason = palloc(n * sizeof(MafReason));
	maf_split(ps, n, st->year, household, reason, tp_only);

	/* number the households that have members from 1 */
	for (int i = 0; i < n; i++)
		used[household[i]] = true;
	k = 0;
	for (int h = 1; h <= 2; h++)
		if (used[h])
			renumber[h] = ++k;

	elems = palloc(n * sizeof(Datum));
	k = 0;
	for (int h = 1; h <= 2; h++)
		for (int i = 0; i < n; i++)
		{
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};
			const MafPerson *p = &ps[i];

			if (household[i] != h)
				continue;
			CHECK_FOR_INTERRUPTS();
			values[0] = PointerGetDatum(cstring_to_text_with_len(p->niss, NISS_LEN));
			values[1] = Int32GetDatum(renumber[h]);
			values[2] = BoolGetDatum(tp_only[h]);
			values[3] = BoolGetDatum(p->has_im && p->basis != MAF_BASIS_ABATED);
			values[4] = PointerGetDatum(cstring_to_text(maf_reason_text[reason[i]]));
			elems[k++] = HeapTupleGetDatum(heap_form_tuple(rt->tupdesc, values, nulls));
		}
	Assert(k == n);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, rt->elemtype, -1, false, TYPALIGN_DOUBLE));
}
