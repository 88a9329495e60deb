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
} Chunks;

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
	return (int) n;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FlowParser *p;
	Chunks		c;
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
		p = flow_open_io(chunk_read, &c, niss_check_digits);
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
	}
	flow_close(p);
	return 0;
}
