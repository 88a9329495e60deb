/*
 * hostile.c
 *		Generated hostile documents through the exchange-file reader (src/flow_parse.c),
 *		outside the server: a start tag of a million attributes, hundreds of megabytes of
 *		comments, processing instructions, CDATA or white space, a value of 256 MB, a
 *		million namespace declarations, an interrupt in the middle of a large file. The
 *		documents are made on the fly by the read callback (the generator holds none of
 *		them), so their size costs nothing but the reader's own work. Each must end with
 *		the SQLSTATE expected, and the peak memory of the process (getrusage) must stay
 *		within a bound whatever the size. Prints TAP; the time of each is a comment.
 *
 *	test/fuzz/run.sh builds and runs it after the fuzzing run.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "flow_parse.h"

#define MB (1024L * 1024L)
#define MEMORY_BOUND (64 * MB)	/* growth of the peak resident memory */

/* A document: head, then units generated until total bytes, then tail. */
typedef struct Gen
{
	const char *head;
	const char *unit;			/* printf format taking the unit's index */
	long		total;			/* bytes of units (at least) */
	const char *tail;
	/* state */
	int			part;			/* 0 head, 1 units, 2 tail, 3 end */
	long		index;
	long		done;
	char		pending[256];
	size_t		pending_len;
	size_t		pending_pos;
	long		reads;
	long		interrupt_at;	/* the read from which an interrupt is pending; 0: none */
} Gen;

static void
gen_refill(Gen *g)
{
	const char *s = "";

	g->pending_pos = 0;
	g->pending_len = 0;
	while (g->pending_len == 0 && g->part < 3)
	{
		if (g->part == 0)
			s = g->head, g->part = 1;
		else if (g->part == 1 && g->done < g->total)
		{
			int			n = snprintf(g->pending, sizeof(g->pending), g->unit, g->index++);

			g->pending_len = (size_t) n;
			g->done += n;
			return;
		}
		else if (g->part == 1)
			s = g->tail, g->part = 2;
		else
			g->part = 3;
		if (g->part <= 2 && s)
		{
			g->pending_len = strlen(s) < sizeof(g->pending) ? strlen(s) : sizeof(g->pending) - 1;
			memcpy(g->pending, s, g->pending_len);
		}
	}
}

static int
gen_read(void *ctx, char *buf, int len)
{
	Gen		   *g = ctx;
	int			n = 0;

	g->reads++;
	while (n < len)
	{
		size_t		k;

		if (g->pending_pos == g->pending_len)
		{
			gen_refill(g);
			if (g->pending_len == 0)
				break;
		}
		k = g->pending_len - g->pending_pos;
		if (k > (size_t) (len - n))
			k = len - n;
		memcpy(buf + n, g->pending + g->pending_pos, k);
		g->pending_pos += k;
		n += (int) k;
	}
	return n;
}

static bool
gen_pending(void *ctx)
{
	Gen		   *g = ctx;

	return g->interrupt_at > 0 && g->reads >= g->interrupt_at;
}

/* Any 11 digits pass: the check digits are not what these documents test. */
static bool
niss_any(const char *s, int len)
{
	return true;
}

static long
peak_rss(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss * 1024L;
}

static int	test_no = 0;
static int	failures = 0;

static void
ok(bool pass, const char *name)
{
	printf("%s %d - %s\n", pass ? "ok" : "not ok", ++test_no, name);
	if (!pass)
		failures++;
}

/* Read the document of g to its end; expect is a SQLSTATE, or NULL for a clean end. */
static void
run(const char *name, Gen *g, const char *expect)
{
	FlowParser *p = flow_open_io(gen_read, g, niss_any);
	long		before = peak_rss();
	struct timespec t0,
				t1;
	long		records = 0;
	int			r;
	char		label[200];
	const char *got;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (p == NULL)
	{
		ok(false, name);
		return;
	}
	flow_set_tick(p, NULL, g);	/* no tick: its context is the interrupt's */
	flow_set_interrupt(p, gen_pending);
	while ((r = flow_next(p)) == 1)
		records++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	got = r < 0 ? flow_error(p)->sqlstate : "none";
	snprintf(label, sizeof(label), "%s: %s", name, expect ? expect : "read to its end");
	ok(expect ? strcmp(got, expect) == 0 : r == 0, label);
	if (r < 0 && (expect == NULL || strcmp(got, expect) != 0))
		printf("# got %s: %s (%s)\n", got, flow_error(p)->message, flow_error(p)->detail);
	snprintf(label, sizeof(label), "%s: the peak memory grows by less than %ld MB", name, MEMORY_BOUND / MB);
	ok(peak_rss() - before < MEMORY_BOUND, label);
	printf("# %s: %ld records, %.3f s, %ld bytes generated, peak memory +%ld kB\n", name, records,
		   (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, g->done,
		   (peak_rss() - before) / 1024);
	flow_close(p);
}

#define SYST01 "<Syst01 xmlns=\"urn:be:inami:flows:1\" controlYear=\"2024\" oa=\"300\">"
/* a comment of 64 bytes: 1 MiB of them is exactly the limit */
#define COMMENT64 "<!--" "ccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" "-->"
#define HOUSEHOLD "<Household requestNumber=\"300202485073003328\"><Requester niss=\"85073003328\"/><Member niss=\"85073003328\"/></Household>\n"

int
main(void)
{
	struct
	{
		const char *name;
		Gen			g;
		const char *expect;
	}			cases[] = {
		{"a root tag of a million attributes",
		{"<Syst01 xmlns=\"urn:be:inami:flows:1\" controlYear=\"2024\" oa=\"300\"", " a%ld=\"x\"", 12 * MB, "/>"}, "2200N"},
		{"a record tag of a million attributes",
		{SYST01 "<Household requestNumber=\"300202485073003328\"", " a%ld=\"x\"", 12 * MB, "/></Syst01>"}, "2200N"},
		{"a million namespace declarations",
		{"<Syst01 xmlns=\"urn:be:inami:flows:1\" controlYear=\"2024\" oa=\"300\"", " xmlns:p%ld=\"urn:x\"", 24 * MB, "/>"}, "2200N"},
		{"an attribute value of 256 MB",
		{SYST01 "<Household requestNumber=\"", "3333333333333333", 256 * MB, "\"/></Syst01>"}, "2200N"},
		{"256 MB of comments before the root",
		{"", "<!-- comment %ld -->\n", 256 * MB, SYST01 "</Syst01>"}, "54000"},
		{"256 MB of comments inside the root",
		{SYST01, "<!-- comment %ld -->\n", 256 * MB, "</Syst01>"}, "54000"},
		{"256 MB of comments after the root",
		{SYST01 "</Syst01>", "<!-- comment %ld -->\n", 256 * MB, ""}, "54000"},
		{"one comment of 256 MB",
		{SYST01 "<!--", "cccccccccccccccc", 256 * MB, "--></Syst01>"}, "54000"},
		{"256 MB of processing instructions",
		{SYST01, "<?pi %ld?>\n", 256 * MB, "</Syst01>"}, "54000"},
		{"a CDATA section of 256 MB",
		{SYST01 "<![CDATA[", "cccccccccccccccc", 256 * MB, "]]></Syst01>"}, "2200N"},
		{"256 MB of white space",
		{SYST01, "                ", 256 * MB, "</Syst01>"}, "2200N"},
		{"an element name of 256 MB",
		{SYST01 "<H", "HHHHHHHHHHHHHHHH", 256 * MB, "/></Syst01>"}, "2200N"},
		{"1 MiB of comments in all, the limit itself",
		{SYST01, COMMENT64, MB, "</Syst01>"}, NULL},
		{"500,000 households (59 MB)",
		{SYST01, HOUSEHOLD, 500000L * (sizeof(HOUSEHOLD) - 1), "</Syst01>"}, NULL},
		{"500,000 households, an interrupt at the 1000th chunk",
		{SYST01, HOUSEHOLD, 500000L * (sizeof(HOUSEHOLD) - 1), "</Syst01>", .interrupt_at = 1000}, "57014"},
	};
	int			n = (int) (sizeof(cases) / sizeof(cases[0]));

	printf("1..%d\n", 2 * n);
	for (int i = 0; i < n; i++)
		run(cases[i].name, &cases[i].g, cases[i].expect);
	return failures ? 1 : 0;
}
