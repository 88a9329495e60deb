/*
 * niss.c
 *		R9: the NISS (Belgian national register number) YYMMDD SSS CC, and R4's
 *		request number built on it.
 *
 * CC = 97 - (the first nine digits mod 97); for births from 2000 on the nine digits
 * are prefixed with 2. Bis numbers add 20 or 40 to the month; a month or day of 00
 * leaves that part of the birth date unknown.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/rangetypes.h"
#include "utils/typcache.h"

#include "inami.h"

/* Why a string is not a NISS, or NISS_OK. */
typedef enum NissProblem
{
	NISS_OK,
	NISS_NOT_11_DIGITS,
	NISS_BAD_CHECK_DIGITS,
	NISS_BAD_BIRTH_DATE
} NissProblem;

/* Read a NISS; fills out when it is valid. */
static NissProblem
niss_read(const char *s, int len, InamiNiss *out)
{
	int64		first9 = 0;
	int			check;
	int			yy,
				mm,
				dd;

	if (len != 11)
		return NISS_NOT_11_DIGITS;
	for (int i = 0; i < 11; i++)
		if (s[i] < '0' || s[i] > '9')
			return NISS_NOT_11_DIGITS;

	for (int i = 0; i < 9; i++)
		first9 = first9 * 10 + (s[i] - '0');
	check = (s[9] - '0') * 10 + (s[10] - '0');
	yy = (s[0] - '0') * 10 + (s[1] - '0');
	mm = (s[2] - '0') * 10 + (s[3] - '0');
	dd = (s[4] - '0') * 10 + (s[5] - '0');

	/* the two centuries give check digits 68 apart (2 x 10^9 mod 97): at most one fits */
	if (97 - (2000000000 + first9) % 97 == check)
		out->year = 2000 + yy;
	else if (97 - first9 % 97 == check)
		out->year = 1900 + yy;
	else
		return NISS_BAD_CHECK_DIGITS;

	if (mm >= 40)
		mm -= 40;				/* bis number, sex known */
	else if (mm >= 20)
		mm -= 20;				/* bis number, sex unknown */
	if (mm > 12 || dd > 31)
		return NISS_BAD_BIRTH_DATE;
	if (mm > 0 && dd > day_tab[isleap(out->year)][mm - 1])
		return NISS_BAD_BIRTH_DATE;
	out->month = mm;
	out->day = dd;
	return NISS_OK;
}

/* True when s (len bytes, not terminated) is a valid NISS; fills out. */
bool
inami_niss_parse(const char *s, int len, InamiNiss *out)
{
	return niss_read(s, len, out) == NISS_OK;
}

/* An error naming what when s is not a valid NISS; returns what it says. */
void
inami_niss_check(const char *s, int len, const char *what, InamiNiss *out)
{
	InamiNiss	scratch;
	NissProblem problem = niss_read(s, len, out ? out : &scratch);
	char	   *value;

	if (problem == NISS_OK)
		return;
	value = pnstrdup(s, pg_mbcliplen(s, len, 64));
	switch (problem)
	{
		case NISS_NOT_11_DIGITS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("%s must be 11 digits", what),
					 errdetail("The value given is \"%s\" (%d characters).", value, pg_mbstrlen_with_len(s, len)),
					 errhint("Write the NISS as 11 digits, without dots, dashes or spaces.")));
			break;
		case NISS_BAD_CHECK_DIGITS:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("%s has wrong check digits", what),
					 errdetail("The value given is \"%s\": its last two digits match neither 97 - (first nine digits mod 97) nor the same with the 2 prefix of births from 2000 on.",
							   value),
					 errhint("Check the NISS against the national register; a typing error is the usual cause.")));
			break;
		case NISS_BAD_BIRTH_DATE:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("%s has an impossible birth date", what),
					 errdetail("The value given is \"%s\": month %.2s, day %.2s.", value, s + 2, s + 4),
					 errhint("The month is 01-12 (plus 20 or 40 for bis numbers) or 00, the day a day of that month or 00.")));
			break;
		case NISS_OK:
			break;
	}
}

PG_FUNCTION_INFO_V1(inami_niss_is_valid);
Datum
inami_niss_is_valid(PG_FUNCTION_ARGS)
{
	text	   *niss = PG_GETARG_TEXT_PP(0);
	InamiNiss	parsed;

	PG_RETURN_BOOL(inami_niss_parse(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), &parsed));
}

PG_FUNCTION_INFO_V1(inami_niss_birth_date);
Datum
inami_niss_birth_date(PG_FUNCTION_ARGS)
{
	text	   *niss = PG_GETARG_TEXT_PP(0);
	InamiNiss	parsed;

	inami_niss_check(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), "NISS", &parsed);
	if (parsed.month == 0 || parsed.day == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(date2j(parsed.year, parsed.month, parsed.day) - POSTGRES_EPOCH_JDATE);
}

/*
 * A birth date that tells right whether the person is under `age` on `on_day`: the NISS's
 * own; when the NISS leaves the month or the day unknown (00), the first possible day,
 * provided every possible day gives the same answer (a child born "in 2010" is under 18
 * on 1 January 2023 whatever the day). False when the possible days disagree.
 */
/* The first and the last day a NISS allows as birth date (one day when it gives it all). */
static void
niss_birth_bounds(const InamiNiss *niss, DateADT *first, DateADT *last)
{
	int			last_month = niss->month ? niss->month : 12;
	int			last_day = niss->day ? niss->day : day_tab[isleap(niss->year)][last_month - 1];

	*first = date2j(niss->year, niss->month ? niss->month : 1, niss->day ? niss->day : 1) - POSTGRES_EPOCH_JDATE;
	*last = date2j(niss->year, last_month, last_day) - POSTGRES_EPOCH_JDATE;
}

bool
inami_niss_age_date(const InamiNiss *niss, int age, DateADT on_day, DateADT *out)
{
	int			y,
				m,
				d;
	DateADT		first,
				last,
				birthday;

	niss_birth_bounds(niss, &first, &last);
	/* the day `age` years before on_day (28 February for a 29th in a common year) */
	j2date(on_day + POSTGRES_EPOCH_JDATE, &y, &m, &d);
	y -= age;
	d = Min(d, day_tab[isleap(y)][m - 1]);
	birthday = date2j(y, m, d) - POSTGRES_EPOCH_JDATE;
	/* under age on on_day <=> born after birthday; the same for first and last? */
	if ((first > birthday) != (last > birthday))
		return false;
	*out = first;
	return true;
}

PG_FUNCTION_INFO_V1(inami_niss_birth_date_for_age);
Datum
inami_niss_birth_date_for_age(PG_FUNCTION_ARGS)
{
	text	   *niss = PG_GETARG_TEXT_PP(0);
	int32		age = PG_GETARG_INT32(1);
	DateADT		on_day = PG_GETARG_DATEADT(2);
	InamiNiss	parsed;
	DateADT		born;

	inami_niss_check(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), "NISS", &parsed);
	if (age < 0 || age > 200 || DATE_NOT_FINITE(on_day) || on_day < -POSTGRES_EPOCH_JDATE + 1 + 200 * 366)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("age or day out of range"),
				 errdetail("Age %d on %s.", age, DatumGetCString(DirectFunctionCall1(date_out, DateADTGetDatum(on_day)))),
				 errhint("Give an age from 0 to 200 and a finite day.")));
	if (!inami_niss_age_date(&parsed, age, on_day, &born))
		PG_RETURN_NULL();
	PG_RETURN_DATEADT(born);
}

PG_FUNCTION_INFO_V1(inami_niss_birth_range);
/* The days a valid NISS allows as birth date: one day, a month or a year (month or day 00). */
Datum
inami_niss_birth_range(PG_FUNCTION_ARGS)
{
	text	   *niss = PG_GETARG_TEXT_PP(0);
	InamiNiss	parsed;
	DateADT		first,
				last;
	RangeBound	lower = {0},
				upper = {0};

	inami_niss_check(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), "NISS", &parsed);
	niss_birth_bounds(&parsed, &first, &last);
	lower.val = DateADTGetDatum(first);
	lower.inclusive = true;
	lower.lower = true;
	upper.val = DateADTGetDatum(last + 1);
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(make_range(lookup_type_cache(DATERANGEOID, TYPECACHE_RANGE_INFO),
								 &lower, &upper, false));
}

/* True when s (len bytes) is exactly n ASCII digits. */
bool
inami_all_digits(const char *s, int len, int n)
{
	if (len != n)
		return false;
	for (int i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * is_digits(value, n): the CHECK of the tables' codes and numbers (NISS 11, request number
 * 18, OA 3, return code 2, IPCAL code 4). A regular expression did the same at about
 * ten times the cost, a tenth of a file's load.
 */
PG_FUNCTION_INFO_V1(inami_is_digits);
Datum
inami_is_digits(PG_FUNCTION_ARGS)
{
	text	   *value = PG_GETARG_TEXT_PP(0);

	PG_RETURN_BOOL(inami_all_digits(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value), PG_GETARG_INT32(1)));
}

/* An error (22P02) unless the OA code is three ASCII digits; returns it as a C string. */
char *
inami_oa_check(text *oa)
{
	const char *s = VARDATA_ANY(oa);
	int			len = VARSIZE_ANY_EXHDR(oa);

	if (!inami_all_digits(s, len, 3))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("OA code must be 3 digits"),
				 errdetail("The value given is \"%s\".", pnstrdup(s, pg_mbcliplen(s, len, 64))),
				 errhint("Give the insurer's code as three digits, for example '300'.")));
	return pnstrdup(s, 3);
}

PG_FUNCTION_INFO_V1(inami_request_number);
Datum
inami_request_number(PG_FUNCTION_ARGS)
{
	char	   *oa = inami_oa_check(PG_GETARG_TEXT_PP(0));
	int32		year = PG_GETARG_INT32(1);
	text	   *niss = PG_GETARG_TEXT_PP(2);

	inami_check_year(year, "year of transmission");
	inami_niss_check(VARDATA_ANY(niss), VARSIZE_ANY_EXHDR(niss), "requester NISS", NULL);

	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s%04d%.11s", oa, year, VARDATA_ANY(niss))));
}
