/*
 * fuzz_flow.c
 *		libFuzzer target of the exchange-file reader (src/flow_parse.c), run outside the
 *		server: the reader is pure libxml2 and C, so no backend shim is needed; the NISS
 *		check that the server takes from niss.c is a stand-in here (mod 97, both
 *		centuries). The first input byte picks the path: whole buffer in memory, or
 *		streamed through the read callback in chunks of 1 to 256 bytes.
 *
 *	bash test/fuzz/run.sh [seconds]
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow_parse.h"

/* The NISS check digits, as niss.c computes them (birth date not checked here). */
static bool
niss_check_digits(const char *s, int len)
{
	long long	first9 = 0;
	int			check;

	if (len != 11)
		return false;
	for (int i = 0; i < 9; i++)
		first9 = first9 * 10 + (s[i] - '0');
	check = (s[9] - '0') * 10 + (s[10] - '0');
	return 97 - first9 % 97 == check || 97 - (2000000000LL + first9) % 97 == check;
}

typedef struct Chunks
{
	const uint8_t *data;
	size_t		size;
	size_t		pos;
	int			chunk;
	int			reads;
	int			interrupt_at;	/* the read from which an interrupt is pending; 0: none */
	bool		interrupted;
} Chunks;

/* The server's interrupt check, as the reader sees it between two chunks. */
static bool
chunk_pending(void *ctx)
{
	Chunks	   *c = ctx;

	if (c->interrupt_at > 0 && c->reads >= c->interrupt_at)
		c->interrupted = true;
	return c->interrupted;
}

/* True when s is valid UTF-8: the server raises these texts in its encoding. */
static bool
valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *) s;

	while (*u)
	{
		int			n = *u < 0x80 ? 0 : (*u & 0xE0) == 0xC0 ? 1 : (*u & 0xF0) == 0xE0 ? 2 : (*u & 0xF8) == 0xF0 ? 3 : -1;

		if (n < 0)
			return false;
		u++;
		for (int i = 0; i < n; i++, u++)
			if ((*u & 0xC0) != 0x80)
				return false;
	}
	return true;
}

/* A read callback giving the input in small chunks, as a file would. */
static int
chunk_read(void *ctx, char *buf, int len)
{
	Chunks	   *c = ctx;
	size_t		n = c->size - c->pos;

	if (n > (size_t) c->chunk)
		n = c->chunk;
	if (n > (size_t) len)
		n = len;
	memcpy(buf, c->data + c->pos, n);
	c->pos += n;
	c->reads++;
	return (int) n;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FlowParser *p;
	Chunks		c = {0};
	int			r;
	long		records = 0;

	if (size < 1)
		return 0;
	if (data[0] & 1)
	{
		c.data = data + 1;
		c.size = size - 1;
		c.pos = 0;
		c.chunk = 1 + (data[0] >> 1) * 2;
		c.reads = 0;
		c.interrupted = false;
		/* one input in four also gets an interrupt after a few chunks */
		c.interrupt_at = (data[0] & 6) == 6 ? 1 + (data[0] >> 3) : 0;
		p = flow_open_io(chunk_read, &c, niss_check_digits);
		if (p != NULL)
		{
			flow_set_tick(p, NULL, &c);
			flow_set_interrupt(p, chunk_pending);
		}
	}
	else
		p = flow_open_memory((const char *) data + 1, size - 1, niss_check_digits);
	if (p == NULL)
		return 0;
	while ((r = flow_next(p)) == 1)
	{
		const FlowRecord *rec = flow_record(p);

		/* touch what a caller reads */
		if (rec->n_members < 0 || rec->n_members > FLOW_MAX_MEMBERS || rec->n_items > FLOW_MAX_ITEMS)
			abort();
		for (int m = 0; m < rec->n_members; m++)
			if (strlen(rec->members[m].niss) != 11 ||
				rec->members[m].first_item + rec->members[m].n_items > rec->n_items)
				abort();
		records++;
	}
	if (r < 0)
	{
		const FlowError *e = flow_error(p);

		/* every error has a SQLSTATE of 5 characters and a message, never XX000 */
		if (strlen(e->sqlstate) != 5 || e->message[0] == '\0' || strcmp(e->sqlstate, "XX000") == 0)
			abort();
		/* and what the server raises is valid UTF-8, cut on a character if cut */
		if (!valid_utf8(e->message) || !valid_utf8(e->detail) || !valid_utf8(e->hint))
			abort();
	}
	/* an interrupt the reader saw stops it: it never reads on to a clean end */
	else if ((data[0] & 1) && c.interrupted)
		abort();
	flow_close(p);
	return 0;
}
