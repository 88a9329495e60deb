/*
 * flow_parse.c
 *		The one streamed reader of the exchange files, shared by every flow: walks the
 *		document with libxml2's xmlTextReader one record at a time (the document is never
 *		built, so memory stays flat), checks the structure and every value on the way, and
 *		hands each record to the caller. Pure libxml2 and C: no backend code, so the
 *		fuzzer of test/fuzz/ runs it outside the server; errors are returned, not raised
 *		(flows_read.c raises them).
 *
 * Hostile input: any DOCTYPE is refused (so no entity is ever declared, let alone
 * expanded), external entities load nothing, no network, no XInclude, no
 * XML_PARSE_HUGE; a scanner ahead of libxml2 caps every tag, CDATA section and text run
 * (FLOW_MAX_MARKUP) and the comments and PIs of a document (FLOW_MAX_COMMENTS), and stops
 * the reading between two chunks when the caller has an interrupt to serve; attribute
 * values and texts are capped (FLOW_MAX_ATTR, FLOW_MAX_TEXT), depth is capped by the
 * format (FLOW_MAX_DEPTH), members and items per record too; attributes are unqualified,
 * as the schemas say. doc/security.md lists the limits with their tests.
 */
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>

#include "flow_parse.h"

/* Where a text element's value goes. */
typedef enum TextTarget
{
	TT_NONE,
	TT_HOUSEHOLD_TOTAL,
	TT_TAX_SHEET,
	TT_CADASTRAL,
	TT_PERSONAL
} TextTarget;

struct FlowParser
{
	xmlTextReaderPtr reader;
	xmlExternalEntityLoader saved_loader;
	flow_read_fn read;
	void	   *read_ctx;
	int			read_failed;
	size_t		bytes_read;		/* by the read callback, for a read error's detail */
	const char *mem;			/* memory input, read through mem_read */
	size_t		mem_len;
	size_t		mem_pos;
	int			lx_state;		/* the byte scanner (scan_bytes): LX_* */
	int			lx_aux;
	size_t		lx_len;			/* bytes of the current tag, text run, ... */
	size_t		lx_comments;	/* bytes of comments and PIs so far */
	int			lx_line;
	int			lx_start_line;	/* where the current construct began */
	bool		lx_root;		/* a start tag was seen */
	bool		limit_hit;
	bool		interrupted;
	flow_pending_fn interrupt_pending;
	bool		doctype;
	flow_niss_fn niss_ok;
	flow_tick_fn tick;
	void	   *tick_ctx;
	bool		header_done;
	bool		root_closed;
	bool		failed;
	bool		xml_error_seen;
	char		xml_error[200];
	int			xml_error_line;
	FlowHeader	header;
	FlowRecord	rec;
	FlowError	err;
	/* inside a record */
	bool		seen_requester;
	const char *level2;			/* element open at depth 2, or NULL */
	TextTarget	text_target;
	const char *text_element;
	char		text[FLOW_MAX_TEXT + 1];
	int			text_len;
};

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

static const char *const kind_names[] = {"Syst01", "Syst04", "Syst05", "Pro01", "Pro03", "Pro04"};

/* The line of the node the reader is on (the parser itself reads ahead). */
static int
current_line(FlowParser *p)
{
	xmlNodePtr	node;

	if (p->reader == NULL)
		return 0;
	node = xmlTextReaderCurrentNode(p->reader);
	/* on an attribute the reader's node is an xmlAttr, which has no line: its element */
	if (node != NULL && node->type == XML_ATTRIBUTE_NODE)
		node = node->parent;
	/* a node keeps its line in 16 bits: from line 65,535 on, the parser's own line */
	if (node != NULL && (node->type == XML_ELEMENT_NODE || node->type == XML_TEXT_NODE ||
						 node->type == XML_COMMENT_NODE || node->type == XML_PI_NODE) &&
		node->line > 0 && node->line < 65535)
		return (int) node->line;
	return xmlTextReaderGetParserLineNumber(p->reader);
}

/*
 * Cut s (NUL-terminated, written by snprintf into size bytes) back to the last whole
 * UTF-8 character when it filled the buffer: a message cut in the middle of one is not
 * valid in the database's encoding, and a client in another encoding then gets a
 * conversion error instead of the message.
 */
static void
utf8_clip(char *s, size_t size)
{
	size_t		n = strlen(s);
	size_t		start;
	int			want;
	unsigned char lead;

	if (n + 1 < size || n == 0)
		return;
	start = n;
	while (start > 0 && ((unsigned char) s[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
	{
		s[0] = '\0';
		return;
	}
	lead = (unsigned char) s[start - 1];
	want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	if ((int) (n - (start - 1)) < want)
		s[start - 1] = '\0';
}

/*
 * The length of the valid UTF-8 character at s (RFC 3629: no overlong form, no surrogate,
 * nothing past U+10FFFF), or 0. Reads no further than a NUL.
 */
static int
utf8_char_len(const unsigned char *s)
{
	unsigned char c = s[0];
	unsigned char lo;
	unsigned char hi;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF)
	{
		lo = c == 0xE0 ? 0xA0 : 0x80;
		hi = c == 0xED ? 0x9F : 0xBF;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		lo = c == 0xF0 ? 0x90 : 0x80;
		hi = c == 0xF4 ? 0x8F : 0xBF;
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80 ? 4 : 0;
	}
	return 0;
}

/*
 * A message the server raises must be valid UTF-8 (utf8_clip), and whole: libxml2 quotes
 * bytes of the input in its messages whatever they are, so each byte that does not start
 * a valid character becomes '?'.
 */
static void
utf8_tidy(char *s, size_t size)
{
	unsigned char *u = (unsigned char *) s;

	utf8_clip(s, size);
	while (*u)
	{
		int			n = utf8_char_len(u);

		if (n == 0)
		{
			*u = '?';
			n = 1;
		}
		u += n;
	}
}

/* Record an error (the first one wins); returns -1 for the caller to return. */
static int
fail(FlowParser *p, const char *sqlstate, const char *hint, const char *fmt_detail,
	 const char *message,...)
__attribute__((format(printf, 5, 6)));

static int
fail(FlowParser *p, const char *sqlstate, const char *hint, const char *detail,
	 const char *message,...)
{
	va_list		ap;

	if (p->failed)
		return -1;
	p->failed = true;
	memcpy(p->err.sqlstate, sqlstate, 5);
	p->err.sqlstate[5] = '\0';
	p->err.line = current_line(p);
	va_start(ap, message);
	vsnprintf(p->err.message, sizeof(p->err.message), message, ap);
	va_end(ap);
	snprintf(p->err.detail, sizeof(p->err.detail), "%s", detail ? detail : "");
	snprintf(p->err.hint, sizeof(p->err.hint), "%s", hint ? hint : "");
	utf8_tidy(p->err.message, sizeof(p->err.message));
	utf8_tidy(p->err.detail, sizeof(p->err.detail));
	utf8_tidy(p->err.hint, sizeof(p->err.hint));
	return -1;
}

/* Like fail, with a detail built from a format. */
static int
failf(FlowParser *p, const char *sqlstate, const char *hint, const char *message,
	  const char *fmt,...)
__attribute__((format(printf, 5, 6)));

static int
failf(FlowParser *p, const char *sqlstate, const char *hint, const char *message,
	  const char *fmt,...)
{
	char		detail[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	utf8_tidy(detail, sizeof(detail));
	return fail(p, sqlstate, hint, detail, "%s", message);
}

/* Copy at most 40 bytes of a value into buf for a message, replacing controls. */
static const char *
shown(const char *s, char *buf, size_t size)
{
	size_t		n = 0;

	for (; s && *s && n + 4 < size && n < 40; s++)
		buf[n++] = ((unsigned char) *s < 0x20 || *s == '"') ? '?' : *s;
	/* never cut a UTF-8 character in two: back to its first byte */
	while (n > 0 && s && ((unsigned char) *s & 0xC0) == 0x80)
	{
		s--;
		n--;
	}
	if (s && *s)
	{
		buf[n++] = '.';
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = '\0';
	return buf;
}

/* The order of xsd/common.xsd, which the reader enforces as the schemas do. */
#define HOUSEHOLD_ORDER "Inside <Household>: <Requester>, then <HouseholdTotal> if any, then the members (xsd/common.xsd)."
#define MEMBER_ORDER "Inside <Member>: <TaxSheet>, the <Ipcal> items, <CadastralIncome>, <PersonalTotal>, each optional, in that order (xsd/common.xsd)."

typedef enum MemberStage
{
	MEMBER_START,
	MEMBER_TAX_SHEET,
	MEMBER_IPCAL,				/* the only one that repeats */
	MEMBER_CADASTRAL,
	MEMBER_PERSONAL
} MemberStage;

/* Move member m to stage (element name): refused when it comes out of order or twice. */
static int
member_stage(FlowParser *p, FlowMember *m, MemberStage stage, const char *name)
{
	char		b[64];

	if ((int) stage == m->stage && stage != MEMBER_IPCAL)
		return failf(p, "2200N", MEMBER_ORDER, "element given twice", "<%s> of member %s.",
					 shown(name, b, sizeof(b)), m->niss);
	if ((int) stage < m->stage)
		return failf(p, "2200N", MEMBER_ORDER, "element out of order", "<%s> late in member %s.",
					 shown(name, b, sizeof(b)), m->niss);
	m->stage = stage;
	return 0;
}

/* libxml2's errors: keep the first one with its line, never print. */
static void
xml_error_handler(void *arg, xmlErrorPtr error)
{
	FlowParser *p = arg;
	size_t		n;

	if (error == NULL || error->level == XML_ERR_WARNING || p->xml_error_seen)
		return;
	p->xml_error_seen = true;
	p->xml_error_line = error->line;
	snprintf(p->xml_error, sizeof(p->xml_error), "%s", error->message ? error->message : "unknown error");
	utf8_tidy(p->xml_error, sizeof(p->xml_error));
	n = strlen(p->xml_error);
	while (n > 0 && (p->xml_error[n - 1] == '\n' || p->xml_error[n - 1] == ' '))
		p->xml_error[--n] = '\0';
}

/* External entities load nothing (belt and braces: DOCTYPE is refused anyway). */
static xmlParserInputPtr
refuse_entity_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	return NULL;
}

/* States of the byte scanner. */
enum
{
	LX_TEXT, LX_LT, LX_TAG, LX_QUOTED, LX_PI, LX_BANG, LX_BANG_DASH, LX_COMMENT, LX_CDATA, LX_DECL
};

/* Stop the reading with a limit's error, at the line where the construct began. */
static bool
scan_limit(FlowParser *p, const char *sqlstate, const char *message, const char *hint,
		   const char *fmt, size_t limit)
{
	char		detail[512];

	snprintf(detail, sizeof(detail), fmt, limit, p->lx_start_line);
	fail(p, sqlstate, hint, detail, "%s", message);
	p->err.line = p->lx_start_line;
	p->limit_hit = true;
	return false;
}

#define TAG_HINT "The tags of an exchange file are short (a few attributes of at most 256 bytes each); this file is not one of them."

/*
 * Look at every byte as it streams in, before libxml2 parses it, and stop the reading
 * when a construct outgrows what an exchange file needs: libxml2 2.9 checks the
 * attributes of one start tag against each other (quadratic) inside one
 * xmlTextReaderRead, where no interrupt is checked, and keeps every comment and
 * processing instruction it meets outside PostgreSQL's memory accounting. So a start or
 * end tag, a CDATA section, a run of text between tags each stay under FLOW_MAX_MARKUP
 * bytes, and the comments and processing instructions of a document under
 * FLOW_MAX_COMMENTS bytes in all. Before the root element, "<!" anything but a comment
 * (a DOCTYPE) stops the reading before libxml2 sees it, so no DTD is ever parsed.
 * Returns false when the reading stops.
 */
static bool
scan_bytes(FlowParser *p, const char *buf, int n)
{
	for (int i = 0; i < n; i++)
	{
		char		c = buf[i];

		if (c == '\n')
			p->lx_line++;
		p->lx_len++;
		switch (p->lx_state)
		{
			case LX_TEXT:
				if (c == '<')
				{
					p->lx_state = LX_LT;
					p->lx_len = 1;
					p->lx_start_line = p->lx_line;
				}
				else if (p->lx_len > FLOW_MAX_MARKUP)
					return scan_limit(p, "2200N", "text too long",
									  "Exchange files hold short values and line breaks between their tags; this file is not one of them.",
									  "More than %zu bytes of text without a tag, from line %d.", FLOW_MAX_MARKUP);
				continue;
			case LX_LT:
				if (c == '?')
					p->lx_state = LX_PI;
				else if (c == '!')
					p->lx_state = LX_BANG;
				else
				{
					if (c != '/')
						p->lx_root = true;
					p->lx_state = LX_TAG;
				}
				p->lx_aux = 0;
				if (p->lx_state == LX_PI)
					p->lx_comments += 2;
				continue;
			case LX_TAG:
				if (c == '"' || c == '\'')
				{
					p->lx_state = LX_QUOTED;
					p->lx_aux = c;
				}
				else if (c == '>')
					p->lx_state = LX_TEXT;
				break;
			case LX_QUOTED:
				if (c == p->lx_aux)
					p->lx_state = LX_TAG;
				break;
			case LX_DECL:
				if (c == '>')
					p->lx_state = LX_TEXT;
				break;
			case LX_CDATA:
				if (p->lx_aux >= 2 && c == '>')
					p->lx_state = LX_TEXT;
				p->lx_aux = (c == ']') ? p->lx_aux + 1 : 0;
				break;
			case LX_BANG:
			case LX_BANG_DASH:
				if (c == '-')
				{
					p->lx_state = p->lx_state == LX_BANG ? LX_BANG_DASH : LX_COMMENT;
					p->lx_comments += p->lx_state == LX_COMMENT ? 4 : 0;
				}
				else if (!p->lx_root)
				{
					p->doctype = true;
					return false;
				}
				else
					p->lx_state = (c == '[' && p->lx_state == LX_BANG) ? LX_CDATA : LX_DECL;
				p->lx_aux = 0;
				continue;
			case LX_PI:
			case LX_COMMENT:
				if (++p->lx_comments > FLOW_MAX_COMMENTS)
					return scan_limit(p, "54000", "too many bytes of comments and processing instructions",
									  "Exchange files carry records, not comments: remove the comments and processing instructions, or keep them short.",
									  "They pass %zu bytes in all at the one that starts at line %d.", FLOW_MAX_COMMENTS);
				if (p->lx_state == LX_PI)
				{
					if (p->lx_aux && c == '>')
						p->lx_state = LX_TEXT;
					p->lx_aux = (c == '?');
				}
				else
				{
					if (p->lx_aux >= 2 && c == '>')
						p->lx_state = LX_TEXT;
					p->lx_aux = (c == '-') ? p->lx_aux + 1 : 0;
				}
				if (p->lx_state == LX_TEXT)
					p->lx_len = 0;
				continue;
		}
		/* a tag, a CDATA section or another declaration */
		if (p->lx_state == LX_TEXT)
			p->lx_len = 0;
		else if (p->lx_len > FLOW_MAX_MARKUP)
			return scan_limit(p, "2200N", "tag too long", TAG_HINT,
							  "More than %zu bytes in the tag (or CDATA section) that starts at line %d.", FLOW_MAX_MARKUP);
	}
	return true;
}

/* The I/O callback of xmlReaderForIO: the caller's chunks, the prolog scanned. */
static int
io_read(void *ctx, char *buf, int len)
{
	FlowParser *p = ctx;
	int			n;

	if (p->doctype || p->limit_hit || p->interrupted)
		return -1;
	/* the caller's interrupts, between two chunks: libxml2 then stops on a read error */
	if (p->interrupt_pending && p->interrupt_pending(p->tick_ctx))
	{
		p->interrupted = true;
		return -1;
	}
	if (p->mem)
	{
		size_t		left = p->mem_len - p->mem_pos;

		n = left < (size_t) len ? (int) left : len;
		memcpy(buf, p->mem + p->mem_pos, n);
		p->mem_pos += n;
	}
	else
		n = p->read(p->read_ctx, buf, len);
	if (n < 0)
	{
		p->read_failed = 1;
		return -1;
	}
	p->bytes_read += n;
	if (!scan_bytes(p, buf, n))
		return -1;
	return n;
}

static int
io_close(void *ctx)
{
	return 0;
}

/* XML_PARSE_NONET, and none of NOENT, DTDLOAD, DTDATTR, XINCLUDE, HUGE. */
#define FLOW_XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOCDATA | XML_PARSE_COMPACT)

static FlowParser *
flow_new(flow_niss_fn niss_ok)
{
	FlowParser *p = calloc(1, sizeof(FlowParser));

	if (p == NULL)
		return NULL;
	xmlInitParser();
	p->niss_ok = niss_ok;
	p->lx_line = 1;
	p->saved_loader = xmlGetExternalEntityLoader();
	xmlSetExternalEntityLoader(refuse_entity_loader);
	return p;
}

/* Bytes of a reader's own state, which flow_open_* allocate: for an out-of-memory error. */
size_t
flow_parser_size(void)
{
	return sizeof(FlowParser);
}

/* A reader over a buffer in memory (UTF-8 whatever the declaration says). */
FlowParser *
flow_open_memory(const char *buf, size_t len, flow_niss_fn niss_ok)
{
	FlowParser *p = flow_new(niss_ok);

	if (p == NULL)
		return NULL;
	if (len > INT32_MAX)
	{
		failf(p, "54000", "Load it with load_flow_file.", "document too large for memory",
			  "The document has %zu bytes, more than %d.", len, INT32_MAX);
		return p;
	}
	p->mem = buf ? buf : "";
	p->mem_len = len;
	p->reader = xmlReaderForIO(io_read, io_close, p, NULL, "UTF-8", FLOW_XML_OPTIONS);
	if (p->reader == NULL)
		fail(p, "53200", "The server is short of memory; try again when it is less loaded.",
			 "libxml2 could not allocate its text reader.", "could not create the XML reader");
	else
		xmlTextReaderSetStructuredErrorHandler(p->reader, xml_error_handler, p);
	return p;
}

/* A reader pulling chunks through read (a file streamed, never slurped). */
FlowParser *
flow_open_io(flow_read_fn read, void *read_ctx, flow_niss_fn niss_ok)
{
	FlowParser *p = flow_new(niss_ok);

	if (p == NULL)
		return NULL;
	p->read = read;
	p->read_ctx = read_ctx;
	/* UTF-8 whatever the file declares: the scanner of the prolog reads UTF-8 bytes */
	p->reader = xmlReaderForIO(io_read, io_close, p, NULL, "UTF-8", FLOW_XML_OPTIONS);
	if (p->reader == NULL)
		fail(p, "53200", "The server is short of memory; try again when it is less loaded.",
			 "libxml2 could not allocate its text reader.", "could not create the XML reader");
	else
		xmlTextReaderSetStructuredErrorHandler(p->reader, xml_error_handler, p);
	return p;
}

void
flow_set_tick(FlowParser *p, flow_tick_fn tick, void *ctx)
{
	p->tick = tick;
	p->tick_ctx = ctx;
}

/* pending is called with the tick's context. */
void
flow_set_interrupt(FlowParser *p, flow_pending_fn pending)
{
	p->interrupt_pending = pending;
}

/* Free the reader and put libxml2's entity loader back. */
void
flow_close(FlowParser *p)
{
	if (p == NULL)
		return;
	if (p->reader)
		xmlFreeTextReader(p->reader);
	xmlSetExternalEntityLoader(p->saved_loader);
	free(p);
}

const FlowHeader *
flow_header(const FlowParser *p)
{
	return &p->header;
}

const FlowRecord *
flow_record(const FlowParser *p)
{
	return &p->rec;
}

const FlowError *
flow_error(const FlowParser *p)
{
	return &p->err;
}

/* ---- values ---- */

/* True when s is exactly n ASCII digits. */
static bool
all_digits(const char *s, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return s[n] == '\0';
}

/* An amount: optional minus, 1-15 digits, optional dot and 1-2 digits; 0 when good. */
int
flow_parse_amount(const char *s, int64_t *cents)
{
	int64_t		units = 0,
				frac = 0;
	bool		neg = false;
	int			digits = 0,
				fdigits = 0;

	if (*s == '-')
	{
		neg = true;
		s++;
	}
	while (*s >= '0' && *s <= '9')
	{
		if (++digits > 15)
			return -2;
		units = units * 10 + (*s++ - '0');
	}
	if (digits == 0)
		return -1;
	if (*s == '.')
	{
		s++;
		while (*s >= '0' && *s <= '9')
		{
			if (++fdigits > 2)
				return -1;
			frac = frac * 10 + (*s++ - '0');
		}
		if (fdigits == 0)
			return -1;
		if (fdigits == 1)
			frac *= 10;
	}
	if (*s != '\0')
		return -1;
	*cents = units * 100 + frac;
	if (neg)
		*cents = -*cents;
	return 0;
}

/* An ISO date YYYY-MM-DD that exists. */
static bool
valid_date(const char *s)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				m,
				d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = atoi(s);
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return false;
	return true;
}

/* A NISS attribute: 11 digits with valid check digits, copied to out. */
static int
take_niss(FlowParser *p, const char *element, const char *value, char *out)
{
	char		b[64];

	if (!all_digits(value, 11))
		return failf(p, "22P02", "Write the NISS as 11 digits, without dots, dashes or spaces.",
					 "invalid NISS", "<%s niss=\"%s\">: 11 digits expected.", element, shown(value, b, sizeof(b)));
	if (p->niss_ok && !p->niss_ok(value, 11))
		return failf(p, "22P02", "Check the NISS against the national register (inami.niss_is_valid); a typing error is the usual cause.",
					 "invalid NISS", "<%s niss=\"%s\">: wrong check digits or impossible birth date.", element, value);
	memcpy(out, value, 12);
	return 0;
}

/* An amount text or attribute into cents. */
static int
take_amount(FlowParser *p, const char *element, const char *value, int64_t *out)
{
	char		b[64];
	int			r = flow_parse_amount(value, out);

	if (r == -2)
		return failf(p, "22003", "Amounts have at most 15 digits before the dot.",
					 "amount out of range", "<%s> \"%s\".", element, shown(value, b, sizeof(b)));
	if (r != 0)
		return failf(p, "22P02", "Write amounts with a dot and at most two decimals, e.g. -1234.50; no thousands separator, no exponent.",
					 "invalid amount", "<%s> \"%s\".", element, shown(value, b, sizeof(b)));
	return 0;
}

/* ---- attributes ---- */

/* The attributes an element may carry (NULL-terminated); values copied into vals. */
static int
read_attributes(FlowParser *p, const char *element, const char *const *names,
				char vals[][FLOW_MAX_ATTR + 1], bool *present)
{
	int			n = 0;
	int			r;
	char		b[64],
				c[64];

	while (names[n])
		present[n++] = false;
	while ((r = xmlTextReaderMoveToNextAttribute(p->reader)) == 1)
	{
		const char *name;
		const char *ns;
		const char *value;
		size_t		len;
		int			i;

		if (xmlTextReaderIsNamespaceDecl(p->reader))
			continue;
		ns = (const char *) xmlTextReaderConstNamespaceUri(p->reader);
		name = (const char *) xmlTextReaderConstLocalName(p->reader);
		if (ns != NULL)
		{
			/* xsi:schemaLocation and the like: allowed, ignored */
			if (strcmp(ns, XSI_NS) == 0)
				continue;
			/*
			 * The schemas' attributes are unqualified: a qualified one (f:amount beside
			 * amount) is not the same attribute for a validator, and must not stand in
			 * for it here.
			 */
			return failf(p, "2200N", "The attributes of the exchange formats have no prefix: write amount=\"...\", not f:amount=\"...\" (xsd/common.xsd, attributeFormDefault=\"unqualified\").",
						 "qualified attribute", "Attribute \"%s\" of <%s> is in namespace \"%s\".",
						 shown((const char *) xmlTextReaderConstName(p->reader), b, sizeof(b)), element,
						 shown(ns, c, sizeof(c)));
		}
		if (name == NULL)
			return failf(p, "2200N", "Every attribute of the formats (their schemas in xsd/) has a name; fix the file at the source.",
						 "attribute without a name", "An attribute of <%s> has no name.", element);
		for (i = 0; names[i]; i++)
			if (strcmp(names[i][0] == '?' ? names[i] + 1 : names[i], name) == 0)
				break;
		if (names[i] == NULL)
			return failf(p, "2200N", "Remove the attribute: the format (its schema in xsd/) does not have it.",
						 "unknown attribute", "Attribute \"%s\" of <%s>.", shown(name, b, sizeof(b)), element);
		if (present[i])
			return failf(p, "2200N", "Give each attribute once.", "attribute given twice",
						 "Attribute \"%s\" of <%s>.", shown(name, b, sizeof(b)), element);
		value = (const char *) xmlTextReaderConstValue(p->reader);
		if (value == NULL)
			value = "";
		len = strlen(value);
		if (len > FLOW_MAX_ATTR)
			return failf(p, "2200N", "Attribute values of the exchange formats are short; this file is not one of them.",
						 "attribute value too long", "Attribute \"%s\" of <%s> has %zu bytes; at most %d are accepted.",
						 name, element, len, FLOW_MAX_ATTR);
		memcpy(vals[i], value, len + 1);
		present[i] = true;
	}
	if (r < 0)
		return -1;				/* a libxml2 error, reported by the caller */
	xmlTextReaderMoveToElement(p->reader);
	for (int i = 0; names[i]; i++)
		if (!present[i] && names[i][0] != '?')
			return failf(p, "2200N", "Every attribute of the formats is required unless its schema in xsd/ marks it optional.",
						 "missing attribute", "<%s> has no \"%s\" attribute.", element, names[i]);
	return 0;
}

/* An integer year-like attribute within bounds. */
static int
take_int(FlowParser *p, const char *element, const char *attr, const char *value, int lo, int hi, int *out)
{
	char		b[64];
	int			len = (int) strlen(value);

	if (len < 1 || len > 4 || !all_digits(value, len) || atoi(value) < lo || atoi(value) > hi)
		return failf(p, "22P02", "Write the value as digits within the range given.",
					 "invalid attribute value", "<%s %s=\"%s\">: a number from %d to %d expected.",
					 element, attr, shown(value, b, sizeof(b)), lo, hi);
	*out = atoi(value);
	return 0;
}

/* ---- reading ---- */

/* Report the reader's failure: a libxml2 error, an I/O error or truncation. */
static int
reader_failed(FlowParser *p)
{
	if (p->failed)
		return -1;
	if (p->interrupted)
		return fail(p, "57014", "The statement was cancelled (pg_cancel_backend, statement_timeout) or the session is ending; nothing was loaded.",
					"The reading stopped between two chunks of the document.",
					"canceling statement: an interrupt came while reading the exchange file");
	if (p->doctype)
		return fail(p, "2200M", "Exchange files never carry a DOCTYPE: remove it (DOCTYPEs are refused before any of them is parsed, so that no entity is declared, loaded or expanded).",
					"The document has a <!DOCTYPE> (or another <! declaration) before its root element.",
					"DOCTYPE is not allowed in an exchange file");
	if (p->read_failed)
		return failf(p, "58030", "Check that the file is readable by the server and was not changed while loading.",
					 "could not read the file", "The read failed after %zu bytes, at line %d.",
					 p->bytes_read, current_line(p));
	if (p->bytes_read == 0 && !p->read_failed)
		return fail(p, "2200M", "Send a document whose root is one of Syst01, Syst04, Syst05, Pro01, Pro03, Pro04.",
					"The document has 0 bytes.", "exchange file has no root element: the file is empty");
	if (p->xml_error_seen)
	{
		char		detail[512];

		snprintf(detail, sizeof(detail), "libxml2 says at line %d: %s.", p->xml_error_line, p->xml_error);
		utf8_tidy(detail, sizeof(detail));
		fail(p, "2200M", "The file is not well-formed XML (bad UTF-8, truncated file, mismatched tags or an entity problem); fix it at the source and send it again.",
			 detail, "exchange file is not well-formed XML");
		p->err.line = p->xml_error_line;
		return -1;
	}
	return fail(p, "2200M", "The file is not well-formed XML; fix it at the source.", NULL,
				"exchange file is not well-formed XML");
}

/* Read one node; -1 on error, 0 at the end. */
static int
next_node(FlowParser *p)
{
	int			r = xmlTextReaderRead(p->reader);

	if (r < 0 || p->read_failed || p->doctype || (r == 1 && p->xml_error_seen))
		return reader_failed(p);
	return r;
}

/* Checks common to every element: namespace and depth. */
static int
check_element(FlowParser *p, const char *name, int depth)
{
	const char *ns = (const char *) xmlTextReaderConstNamespaceUri(p->reader);
	char		b[64],
				c[64];

	if (ns == NULL || strcmp(ns, FLOW_NS) != 0)
		return failf(p, "2200N", "Exchange files use the namespace urn:be:inami:flows:1 on every element (xmlns=\"urn:be:inami:flows:1\" on the root).",
					 "wrong namespace", "Element <%s> is in namespace \"%s\".", shown(name, b, sizeof(b)),
					 ns ? shown(ns, c, sizeof(c)) : "(none)");
	if (depth > FLOW_MAX_DEPTH)
		return failf(p, "2200N", "No exchange format nests deeper than Root/Household/Member/Ipcal.",
					 "elements nested too deep", "Element <%s> at depth %d.", shown(name, b, sizeof(b)), depth);
	return 0;
}

/* Read up to the root element and its attributes. 0 when good. */
int
flow_read_header(FlowParser *p)
{
	static const char *const syst_attrs[] = {"controlYear", "oa", NULL};
	static const char *const syst04_attrs[] = {"controlYear", "incomeYear", "shipment", NULL};
	static const char *const pro_attrs[] = {"year", "oa", NULL};
	static const char *const pro03_attrs[] = {"year", "incomeYear", "shipment", NULL};
	static const char *const pro04_attrs[] = {"year", "shipment", NULL};
	char		vals[3][FLOW_MAX_ATTR + 1];
	bool		present[3];
	const char *const *names;
	const char *name;
	char		b[64];
	int			k;

	if (p->failed)
		return -1;
	if (p->header_done)
		return 0;
	for (;;)
	{
		int			r = next_node(p);
		int			type;

		if (r < 0)
			return -1;
		if (r == 0)
			return fail(p, "2200M", "Send a document whose root is one of Syst01, Syst04, Syst05, Pro01, Pro03, Pro04.",
						NULL, "exchange file has no root element");
		type = xmlTextReaderNodeType(p->reader);
		if (type == XML_READER_TYPE_DOCUMENT_TYPE)
			return fail(p, "2200M", "Exchange files never carry a DOCTYPE: remove it (DOCTYPEs are refused so that no entity is declared or expanded).",
						"The document has a <!DOCTYPE> declaration.", "DOCTYPE is not allowed in an exchange file");
		if (type == XML_READER_TYPE_ELEMENT)
			break;
		if (type != XML_READER_TYPE_COMMENT && type != XML_READER_TYPE_PROCESSING_INSTRUCTION &&
			type != XML_READER_TYPE_WHITESPACE && type != XML_READER_TYPE_SIGNIFICANT_WHITESPACE)
			return failf(p, "2200N", NULL, "unexpected content before the root element", "Node of type %d.", type);
	}
	name = (const char *) xmlTextReaderConstLocalName(p->reader);
	if (name == NULL)
		name = "";
	for (k = 0; k < 6; k++)
		if (strcmp(name, kind_names[k]) == 0)
			break;
	if (k == 6)
		return failf(p, "2200N", "The root element must be one of Syst01, Syst04, Syst05, Pro01, Pro03, Pro04 in namespace urn:be:inami:flows:1.",
					 "unknown root element", "The root element is <%s>.", shown(name, b, sizeof(b)));
	if (check_element(p, name, 0) < 0)
		return -1;
	p->header.kind = (FlowKind) k;
	p->header.kind_name = kind_names[k];
	switch (p->header.kind)
	{
		case FLOW_SYST01:
		case FLOW_SYST05:
			names = syst_attrs;
			break;
		case FLOW_PRO01:
			names = pro_attrs;
			break;
		case FLOW_SYST04:
			names = syst04_attrs;
			break;
		case FLOW_PRO03:
			names = pro03_attrs;
			break;
		default:
			names = pro04_attrs;
			break;
	}
	if (read_attributes(p, name, names, vals, present) < 0)
		return p->failed ? -1 : reader_failed(p);
	if (take_int(p, name, names[0], vals[0], 1990, 2200, &p->header.year) < 0)
		return -1;
	for (int i = 1; names[i]; i++)
	{
		if (strcmp(names[i], "oa") == 0)
		{
			if (!all_digits(vals[i], 3))
				return failf(p, "22P02", "The OA code is three digits, e.g. 300.", "invalid OA code",
							 "<%s oa=\"%s\">.", name, shown(vals[i], b, sizeof(b)));
			memcpy(p->header.oa, vals[i], 4);
		}
		else if (strcmp(names[i], "incomeYear") == 0)
		{
			if (take_int(p, name, names[i], vals[i], 1990, 2200, &p->header.income_year) < 0)
				return -1;
			if (p->header.income_year != p->header.year - 2)
				return failf(p, "22023", "The incomes are those of the year two years before the control year.",
							 "incomeYear must be the year minus 2", "<%s %s=\"%d\" incomeYear=\"%d\">.",
							 name, names[0], p->header.year, p->header.income_year);
		}
		else if (take_int(p, name, names[i], vals[i], 1, 9, &p->header.shipment) < 0)
			return -1;
	}
	p->header_done = true;
	if (xmlTextReaderIsEmptyElement(p->reader))
		p->root_closed = true;
	return 0;
}

/* The request number of the record: 18 digits, OA + year + requester NISS. */
static int
check_request_number(FlowParser *p, const char *element)
{
	const FlowHeader *h = &p->header;
	FlowRecord *rec = &p->rec;
	char		year[5];
	char		b[64];

	if (!all_digits(rec->request_number, 18))
		return failf(p, "22P02", "The request number is OA (3 digits) + year of transmission (4) + NISS of the requester (11).",
					 "invalid request number", "<%s requestNumber=\"%s\">: 18 digits expected.",
					 element, shown(rec->request_number, b, sizeof(b)));
	snprintf(year, sizeof(year), "%04d", h->year);
	if (memcmp(rec->request_number + 3, year, 4) != 0)
		return failf(p, "22023", "The request number carries the year of transmission, which is the control year (Syst) or the year (Pro) of the file.",
					 "request number of another year", "<%s requestNumber=\"%s\"> in a file of year %d.",
					 element, rec->request_number, h->year);
	if ((h->kind == FLOW_SYST01 || h->kind == FLOW_PRO01) && memcmp(rec->request_number, h->oa, 3) != 0)
		return failf(p, "22023", "The request number starts with the OA code of the file that sends the household.",
					 "request number of another OA", "<%s requestNumber=\"%s\"> in a file of OA %s.",
					 element, rec->request_number, h->oa);
	/*
	 * The request number ends with the requester's NISS at the time of the request. In a
	 * Syst_04 the requester may carry a newer NISS: the SCA answers under it and the
	 * request number, which never changes, keeps the old one (E 2.2, 2.4).
	 */
	if (rec->requester[0] != '\0' && memcmp(rec->request_number + 7, rec->requester, 11) != 0 &&
		h->kind != FLOW_SYST04)
		return failf(p, "22023", "The request number ends with the NISS of the requester (<Requester niss>).",
					 "request number does not end with the requester's NISS", "<%s requestNumber=\"%s\"> with <Requester niss=\"%s\">.",
					 element, rec->request_number, rec->requester);
	if ((rec->requester[0] == '\0' || memcmp(rec->request_number + 7, rec->requester, 11) != 0) &&
		p->niss_ok && !p->niss_ok(rec->request_number + 7, 11))
		return failf(p, "22P02", "The request number ends with the NISS of the requester: check it.",
					 "invalid NISS in the request number", "<%s requestNumber=\"%s\">.", element, rec->request_number);
	return 0;
}

/* The checks made when a record closes. */
static int
finish_record(FlowParser *p)
{
	FlowRecord *rec = &p->rec;
	FlowKind	kind = p->header.kind;
	const char *element = (kind == FLOW_SYST05 ? "Feedback" : kind == FLOW_PRO03 ? "Person" :
						   kind == FLOW_PRO04 ? "Result" : "Household");
	int			i;

	if (kind != FLOW_PRO03 && check_request_number(p, element) < 0)
		return -1;
	if (kind == FLOW_SYST01 || kind == FLOW_PRO01 || kind == FLOW_SYST04)
	{
		bool		listed = false;
		bool		all_known = true;

		if (!p->seen_requester)
			return failf(p, "2200N", "Every household has one <Requester niss=\"...\"/>.",
						 "household without a requester", "<Household requestNumber=\"%s\"> at line %d.",
						 rec->request_number, rec->line);
		if (rec->n_members == 0)
			return failf(p, "2200N", "Every household lists its members, the requester too.",
						 "household without members", "<Household requestNumber=\"%s\"> at line %d.",
						 rec->request_number, rec->line);
		for (i = 0; i < rec->n_members; i++)
		{
			if (strcmp(rec->members[i].niss, rec->requester) == 0)
				listed = true;
			if (kind == FLOW_SYST04 && strcmp(rec->members[i].return_code, "00") != 0)
				all_known = false;
		}
		if (!listed && kind != FLOW_SYST04)
			return failf(p, "22023", "List the requester among the members too (<Member niss=\"...\"/>).",
						 "requester not listed among the members", "<Household requestNumber=\"%s\"> at line %d: requester %s.",
						 rec->request_number, rec->line, rec->requester);
		if (!listed && kind == FLOW_SYST04)
			return failf(p, "22023", "The SCA answers for every member of the Syst01 household, the requester too.",
						 "requester not listed among the members", "<Household requestNumber=\"%s\"> at line %d: requester %s.",
						 rec->request_number, rec->line, rec->requester);
		if (rec->has_total && !all_known)
			return failf(p, "22023", "HouseholdTotal is sent only when the income of every member is known (return code 00).",
						 "household total with a member whose income is not known", "<Household requestNumber=\"%s\"> at line %d.",
						 rec->request_number, rec->line);
	}
	if (kind == FLOW_PRO03 && rec->n_members != 1)
		return failf(p, "2200N", "Every <Person> carries one niss attribute.",
					 "person without a NISS", "<Person> read with %d NISS values; one expected.", rec->n_members);
	return 0;
}

/* Start an element at depth >= 1. */
static int
start_element(FlowParser *p, const char *name, int depth, bool empty)
{
	static const char *const household_attrs[] = {"requestNumber", NULL};
	static const char *const niss_attrs[] = {"niss", NULL};
	static const char *const member04_attrs[] = {"niss", "returnCode", NULL};
	static const char *const ipcal_attrs[] = {"code", "amount", NULL};
	static const char *const feedback_attrs[] = {"requestNumber", "reason", "rightEnd", NULL};
	static const char *const result_attrs[] = {"requestNumber", "code", NULL};
	char		vals[3][FLOW_MAX_ATTR + 1];
	bool		present[3];
	FlowKind	kind = p->header.kind;
	FlowRecord *rec = &p->rec;
	char		b[64];
	const char *parent = depth == 1 ? p->header.kind_name : depth == 2 ? "record" : p->level2;

	if (check_element(p, name, depth) < 0)
		return -1;
	if (p->text_target != TT_NONE)
		return failf(p, "2200N", "This element holds a value only.", "unexpected element",
					 "<%s> inside <%s>.", shown(name, b, sizeof(b)), p->text_element);

	if (depth == 1)
	{
		const char *expect = (kind == FLOW_SYST05 ? "Feedback" : kind == FLOW_PRO03 ? "Person" :
							  kind == FLOW_PRO04 ? "Result" : "Household");

		if (strcmp(name, expect) != 0)
			return failf(p, "2200N", "See the schemas of the formats in xsd/: each kind has one record element.",
						 "unknown element", "<%s> inside <%s>; expected <%s>.", shown(name, b, sizeof(b)),
						 p->header.kind_name, expect);
		memset(rec, 0, offsetof(FlowRecord, members));
		rec->n_members = 0;
		rec->n_items = 0;
		rec->line = current_line(p);
		p->seen_requester = false;
		p->level2 = NULL;
		switch (kind)
		{
			case FLOW_SYST01:
			case FLOW_PRO01:
			case FLOW_SYST04:
				if (read_attributes(p, name, household_attrs, vals, present) < 0)
					return p->failed ? -1 : reader_failed(p);
				snprintf(rec->request_number, sizeof(rec->request_number), "%s", vals[0]);
				if (strlen(vals[0]) != 18)
					return failf(p, "22P02", "The request number is OA (3 digits) + year of transmission (4) + NISS of the requester (11).",
								 "invalid request number", "<%s requestNumber=\"%s\">: 18 digits expected.",
								 name, shown(vals[0], b, sizeof(b)));
				break;
			case FLOW_SYST05:
				if (read_attributes(p, name, feedback_attrs, vals, present) < 0)
					return p->failed ? -1 : reader_failed(p);
				if (strlen(vals[0]) != 18)
					return failf(p, "22P02", "The request number is OA (3 digits) + year of transmission (4) + NISS of the requester (11).",
								 "invalid request number", "<%s requestNumber=\"%s\">: 18 digits expected.",
								 name, shown(vals[0], b, sizeof(b)));
				memcpy(rec->request_number, vals[0], 19);
				{
					static const char *const reasons[] = {"KEEPSYST", "STOPSYST", "STOPFAM", "STOPOA", "STOPDEATH",
					"STOPFISC", "KEEPADV", "KEEPDSH", NULL};
					int			i;

					for (i = 0; reasons[i]; i++)
						if (strcmp(reasons[i], vals[1]) == 0)
							break;
					if (reasons[i] == NULL)
						return failf(p, "22P02", "The reasons are KEEPSYST, STOPSYST, STOPFAM, STOPOA, STOPDEATH, STOPFISC, KEEPADV, KEEPDSH.",
									 "invalid feedback reason", "<Feedback reason=\"%s\">.", shown(vals[1], b, sizeof(b)));
					strcpy(rec->reason, reasons[i]);
				}
				if (present[2])
				{
					if (!valid_date(vals[2]))
						return failf(p, "22007", "Write dates as ISO 8601 YYYY-MM-DD, a day that exists.",
									 "invalid date", "<Feedback rightEnd=\"%s\">.", shown(vals[2], b, sizeof(b)));
					memcpy(rec->right_end, vals[2], 11);
				}
				break;
			case FLOW_PRO04:
				if (read_attributes(p, name, result_attrs, vals, present) < 0)
					return p->failed ? -1 : reader_failed(p);
				if (strlen(vals[0]) != 18)
					return failf(p, "22P02", "The request number is OA (3 digits) + year of transmission (4) + NISS of the requester (11).",
								 "invalid request number", "<%s requestNumber=\"%s\">: 18 digits expected.",
								 name, shown(vals[0], b, sizeof(b)));
				memcpy(rec->request_number, vals[0], 19);
				if (strcmp(vals[1], "OK") != 0 && strcmp(vals[1], "NOK") != 0 && strcmp(vals[1], "ONHOLD") != 0)
					return failf(p, "22P02", "The codes of Pro_04 are OK, NOK and ONHOLD.", "invalid result code",
								 "<Result code=\"%s\">.", shown(vals[1], b, sizeof(b)));
				strcpy(rec->code, vals[1]);
				break;
			case FLOW_PRO03:
				{
					FlowMember *m = &rec->members[0];

					if (read_attributes(p, name, member04_attrs, vals, present) < 0)
						return p->failed ? -1 : reader_failed(p);
					memset(m, 0, sizeof(*m));
					if (take_niss(p, name, vals[0], m->niss) < 0)
						return -1;
					if (!all_digits(vals[1], 2))
						return failf(p, "22P02", "Return codes are two digits: 00 income known, others not.",
									 "invalid return code", "<Person returnCode=\"%s\">.", shown(vals[1], b, sizeof(b)));
					memcpy(m->return_code, vals[1], 3);
					m->line = rec->line;
					rec->n_members = 1;
					p->level2 = "Person";
				}
				break;
		}
		return 0;
	}

	if (depth == 2 && (kind == FLOW_SYST01 || kind == FLOW_PRO01 || kind == FLOW_SYST04))
	{
		p->level2 = NULL;
		if (strcmp(name, "Requester") == 0)
		{
			if (p->seen_requester)
				return failf(p, "2200N", "A household has one requester.", "second requester",
							 "<Household requestNumber=\"%s\">.", rec->request_number);
			if (rec->n_members > 0 || rec->has_total)
				return failf(p, "2200N", HOUSEHOLD_ORDER, "element out of order",
							 "<Requester> after <%s> in <Household requestNumber=\"%s\">.",
							 rec->has_total ? "HouseholdTotal" : "Member", rec->request_number);
			if (read_attributes(p, name, niss_attrs, vals, present) < 0)
				return p->failed ? -1 : reader_failed(p);
			if (take_niss(p, name, vals[0], rec->requester) < 0)
				return -1;
			p->seen_requester = true;
			p->level2 = "Requester";
			return 0;
		}
		if (strcmp(name, "Member") == 0)
		{
			FlowMember *m;

			if (rec->n_members >= FLOW_MAX_MEMBERS)
				return failf(p, "54000", "No household has that many members; the file is not an exchange file.",
							 "too many members", "<Household requestNumber=\"%s\"> has more than %d members.",
							 rec->request_number, FLOW_MAX_MEMBERS);
			m = &rec->members[rec->n_members];
			memset(m, 0, sizeof(*m));
			m->line = current_line(p);
			m->first_item = rec->n_items;
			if (read_attributes(p, name, kind == FLOW_SYST04 ? member04_attrs : niss_attrs, vals, present) < 0)
				return p->failed ? -1 : reader_failed(p);
			if (take_niss(p, name, vals[0], m->niss) < 0)
				return -1;
			for (int i = 0; i < rec->n_members; i++)
				if (strcmp(rec->members[i].niss, m->niss) == 0)
					return failf(p, "23505", "List each member once.", "member listed twice",
								 "<Household requestNumber=\"%s\">: member %s.", rec->request_number, m->niss);
			if (kind == FLOW_SYST04)
			{
				if (!all_digits(vals[1], 2))
					return failf(p, "22P02", "Return codes are two digits: 00 income known, others not.",
								 "invalid return code", "<Member niss=\"%s\" returnCode=\"%s\">.", m->niss,
								 shown(vals[1], b, sizeof(b)));
				memcpy(m->return_code, vals[1], 3);
			}
			rec->n_members++;
			p->level2 = "Member";
			return 0;
		}
		if (kind == FLOW_SYST04 && strcmp(name, "HouseholdTotal") == 0)
		{
			if (rec->has_total)
				return failf(p, "2200N", NULL, "second HouseholdTotal", "<Household requestNumber=\"%s\">.",
							 rec->request_number);
			if (rec->n_members > 0)
				return failf(p, "2200N", HOUSEHOLD_ORDER, "element out of order",
							 "<HouseholdTotal> after <Member> in <Household requestNumber=\"%s\">.",
							 rec->request_number);
			p->level2 = "HouseholdTotal";
			p->text_target = TT_HOUSEHOLD_TOTAL;
		}
		else
			return failf(p, "2200N", "See the schemas of the formats in xsd/.", "unknown element",
						 "<%s> inside <Household>.", shown(name, b, sizeof(b)));
	}
	else if ((depth == 2 && kind == FLOW_PRO03) ||
			 (depth == 3 && kind == FLOW_SYST04 && p->level2 && strcmp(p->level2, "Member") == 0))
	{
		FlowMember *m = &rec->members[rec->n_members - 1];

		if (strcmp(name, "Ipcal") == 0)
		{
			FlowItem   *it;

			if (member_stage(p, m, MEMBER_IPCAL, name) < 0)
				return -1;
			if (strcmp(m->return_code, "00") != 0)
				return failf(p, "22023", "IPCAL items come only with return code 00 (income known).",
							 "IPCAL item with a return code other than 00", "<Member niss=\"%s\" returnCode=\"%s\">.",
							 m->niss, m->return_code);
			if (rec->n_items >= FLOW_MAX_ITEMS)
				return failf(p, "54000", "No household has that many IPCAL items; the file is not an exchange file.",
							 "too many IPCAL items", "More than %d items in one record.", FLOW_MAX_ITEMS);
			if (read_attributes(p, name, ipcal_attrs, vals, present) < 0)
				return p->failed ? -1 : reader_failed(p);
			it = &rec->items[rec->n_items];
			if (!all_digits(vals[0], 4))
				return failf(p, "22P02", "IPCAL codes are four digits, e.g. 1250.", "invalid IPCAL code",
							 "<Ipcal code=\"%s\">.", shown(vals[0], b, sizeof(b)));
			memcpy(it->code, vals[0], 5);
			if (take_amount(p, "Ipcal amount", vals[1], &it->amount) < 0)
				return -1;
			rec->n_items++;
			m->n_items++;
			if (!empty)
			{
				p->text_target = TT_NONE;
				p->text_element = "Ipcal";
			}
			return 0;
		}
		if (kind == FLOW_SYST04 && strcmp(name, "TaxSheet") == 0)
			p->text_target = TT_TAX_SHEET;
		else if (kind == FLOW_SYST04 && strcmp(name, "CadastralIncome") == 0)
			p->text_target = TT_CADASTRAL;
		else if (kind == FLOW_SYST04 && strcmp(name, "PersonalTotal") == 0)
			p->text_target = TT_PERSONAL;
		else
			return failf(p, "2200N", "See the schemas of the formats in xsd/.", "unknown element",
						 "<%s> inside <%s>.", shown(name, b, sizeof(b)), kind == FLOW_PRO03 ? "Person" : "Member");
		if (member_stage(p, m, p->text_target == TT_TAX_SHEET ? MEMBER_TAX_SHEET :
						 p->text_target == TT_CADASTRAL ? MEMBER_CADASTRAL : MEMBER_PERSONAL, name) < 0)
			return -1;
	}
	else
		return failf(p, "2200N", "See the schemas of the formats in xsd/.", "unknown element",
					 "<%s> inside <%s> at depth %d.", shown(name, b, sizeof(b)), parent ? parent : "?", depth);

	/* a text element */
	p->text_element = name;
	p->text_len = 0;
	p->text[0] = '\0';
	if (empty)
		return failf(p, "22P02", "Leave the element out rather than empty.", "empty value", "<%s/>.", name);
	return 0;
}

/* The text of a value element is complete. */
static int
end_text(FlowParser *p)
{
	FlowRecord *rec = &p->rec;
	FlowMember *m = rec->n_members > 0 ? &rec->members[rec->n_members - 1] : NULL;
	char	   *s = p->text;
	int			n = p->text_len;

	/* collapse surrounding white space, as XML Schema does for decimals */
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s == '\0')
		return failf(p, "22P02", "Leave the element out rather than empty.", "empty value", "<%s>.", p->text_element);
	switch (p->text_target)
	{
		case TT_HOUSEHOLD_TOTAL:
			if (take_amount(p, "HouseholdTotal", s, &rec->total) < 0)
				return -1;
			rec->has_total = true;
			break;
		case TT_CADASTRAL:
			if (take_amount(p, "CadastralIncome", s, &m->cadastral) < 0)
				return -1;
			m->has_cadastral = true;
			break;
		case TT_PERSONAL:
			if (take_amount(p, "PersonalTotal", s, &m->personal) < 0)
				return -1;
			m->has_personal = true;
			break;
		case TT_TAX_SHEET:
			for (char *c = s; *c; c++)
				if (!((*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
					  *c == '-' || *c == '/' || *c == '.'))
				{
					char		b[64];

					return failf(p, "22P02", "Tax sheet numbers are letters, digits, '-', '/' and '.'.",
								 "invalid tax sheet number", "<TaxSheet>%s</TaxSheet>.", shown(s, b, sizeof(b)));
				}
			memmove(m->tax_sheet, s, strlen(s) + 1);
			break;
		case TT_NONE:
			break;
	}
	p->text_target = TT_NONE;
	return 0;
}

/* Append character data to the open value element, or refuse it elsewhere. */
static int
add_text(FlowParser *p)
{
	const char *v = (const char *) xmlTextReaderConstValue(p->reader);
	size_t		len = v ? strlen(v) : 0;

	if (p->text_target == TT_NONE)
	{
		for (size_t i = 0; i < len; i++)
			if (v[i] != ' ' && v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
			{
				char		b[64];

				return failf(p, "2200N", "Only the value elements (amounts, TaxSheet) hold text.",
							 "unexpected text", "\"%s\".", shown(v + i, b, sizeof(b)));
			}
		return 0;
	}
	if (p->text_len + len > FLOW_MAX_TEXT)
		return failf(p, "2200N", "Values of the exchange formats are short; this file is not one of them.",
					 "value too long", "<%s> holds more than %d bytes.", p->text_element, FLOW_MAX_TEXT);
	memcpy(p->text + p->text_len, v, len);
	p->text_len += (int) len;
	p->text[p->text_len] = '\0';
	return 0;
}

/*
 * Read the next record into flow_record(): 1 when there is one, 0 at the end of the
 * document, -1 on error (flow_error says which).
 */
int
flow_next(FlowParser *p)
{
	unsigned	nodes = 0;

	if (!p->header_done && flow_read_header(p) < 0)
		return -1;
	if (p->failed)
		return -1;
	for (;;)
	{
		int			r;
		int			type;
		int			depth;

		if (p->tick && (++nodes & 4095) == 0)
			p->tick(p->tick_ctx);
		r = next_node(p);
		if (r < 0)
			return -1;
		if (r == 0)
		{
			if (!p->root_closed)
				return failf(p, "2200M", "The file is truncated; send it again complete.",
							 "exchange file ends before its root element closes",
							 "The document ends without </%s>.", p->header.kind_name);
			return 0;
		}
		type = xmlTextReaderNodeType(p->reader);
		depth = xmlTextReaderDepth(p->reader);
		switch (type)
		{
			case XML_READER_TYPE_ELEMENT:
				{
					const char *name = (const char *) xmlTextReaderConstLocalName(p->reader);
					bool		empty = xmlTextReaderIsEmptyElement(p->reader);

					if (p->root_closed || depth < 1)
					{
						char		b[64];

						return failf(p, "2200M", "An exchange file holds one root element and nothing after it; fix the file at the source.",
									 "content after the root element", "<%s> after </%s>.",
									 shown(name ? name : "", b, sizeof(b)), p->header.kind_name);
					}
					if (start_element(p, name ? name : "", depth, empty) < 0)
						return -1;
					if (empty && depth == 1)
					{
						if (finish_record(p) < 0)
							return -1;
						return 1;
					}
					if (empty && depth == 2)
						p->level2 = NULL;
					break;
				}
			case XML_READER_TYPE_END_ELEMENT:
				if (depth == 0)
					p->root_closed = true;
				else if (depth == 1)
				{
					if (p->text_target != TT_NONE && end_text(p) < 0)
						return -1;
					if (finish_record(p) < 0)
						return -1;
					return 1;
				}
				else
				{
					if (p->text_target != TT_NONE && end_text(p) < 0)
						return -1;
					if (depth == 2 && p->header.kind != FLOW_PRO03)
						p->level2 = NULL;
				}
				break;
			case XML_READER_TYPE_TEXT:
			case XML_READER_TYPE_CDATA:
			case XML_READER_TYPE_WHITESPACE:
			case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
				if (add_text(p) < 0)
					return -1;
				break;
			case XML_READER_TYPE_COMMENT:
			case XML_READER_TYPE_PROCESSING_INSTRUCTION:
				break;
			case XML_READER_TYPE_DOCUMENT_TYPE:
				return fail(p, "2200M", "Exchange files never carry a DOCTYPE: remove it.",
							"The document has a <!DOCTYPE> declaration.", "DOCTYPE is not allowed in an exchange file");
			default:
				return failf(p, "2200N", "Exchange files hold elements, attributes and values only.",
							 "unexpected XML content", "Node of type %d at depth %d.", type, depth);
		}
	}
}
