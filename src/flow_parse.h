/*
 * flow_parse.h
 *		The streamed reader of the INAMI exchange files (Syst01, Syst04, Syst05, Pro01,
 *		Pro03, Pro04): pure libxml2, no PostgreSQL backend code, so that the fuzzer
 *		(test/fuzz/) runs it outside the server. The backend side is flows_read.c.
 */
#ifndef FLOW_PARSE_H
#define FLOW_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_NS "urn:be:inami:flows:1"
#define FLOW_MAX_ATTR 256		/* bytes of an attribute value */
#define FLOW_MAX_TEXT 64		/* bytes of an element's text (amounts, tax sheet) */
#define FLOW_MAX_DEPTH 3		/* root 0, record 1, member 2, item 3 */
#define FLOW_MAX_MEMBERS 64		/* members of one household */
#define FLOW_MAX_ITEMS 512		/* IPCAL items of one household or person */
#define FLOW_MAX_MARKUP 4096	/* bytes of a tag, a CDATA section, a text run */
#define FLOW_MAX_COMMENTS (1024 * 1024) /* bytes of comments and PIs of a document */

typedef enum FlowKind
{
	FLOW_SYST01,
	FLOW_SYST04,
	FLOW_SYST05,
	FLOW_PRO01,
	FLOW_PRO03,
	FLOW_PRO04
} FlowKind;

/* What the root element says. */
typedef struct FlowHeader
{
	FlowKind	kind;
	const char *kind_name;		/* "Syst01", ... */
	int			year;			/* controlYear or year */
	char		oa[4];			/* "" when the kind has none */
	int			income_year;	/* 0 when none */
	int			shipment;		/* 0 when none */
} FlowHeader;

typedef struct FlowItem
{
	char		code[5];
	int64_t		amount;			/* cents */
} FlowItem;

typedef struct FlowMember
{
	char		niss[12];
	char		return_code[3]; /* "" for Syst01/Pro01 */
	char		tax_sheet[FLOW_MAX_TEXT + 1];	/* "" when absent */
	bool		has_cadastral;
	int64_t		cadastral;
	bool		has_personal;
	int64_t		personal;
	int			stage;			/* last MemberStage seen: elements come in order */
	int			first_item;		/* index into FlowRecord.items */
	int			n_items;
	int			line;
} FlowMember;

/* One record: a Household (Syst01, Syst04, Pro01), Feedback (Syst05), Person (Pro03,
 * in members[0]) or Result (Pro04). */
typedef struct FlowRecord
{
	int			line;
	char		request_number[19];
	char		requester[12];
	bool		has_total;
	int64_t		total;
	char		reason[16];		/* Syst05 */
	char		right_end[11];	/* Syst05, "" when absent */
	char		code[8];		/* Pro04 */
	int			n_members;
	FlowMember	members[FLOW_MAX_MEMBERS];
	int			n_items;
	FlowItem	items[FLOW_MAX_ITEMS];
} FlowRecord;

/* An error, kept for the caller to raise: SQLSTATE, message, detail, hint. */
typedef struct FlowError
{
	char		sqlstate[6];
	int			line;
	char		message[256];
	char		detail[512];
	char		hint[256];
} FlowError;

/* Reads up to len bytes into buf; returns the count, 0 at end, -1 on error. */
typedef int (*flow_read_fn) (void *ctx, char *buf, int len);

/* True when an 11-digit string has valid NISS check digits and birth date. */
typedef bool (*flow_niss_fn) (const char *s, int len);

/* Called every few thousand nodes, so the caller may check for interrupts. */
typedef void (*flow_tick_fn) (void *ctx);

/*
 * Called between two chunks of input, inside libxml2: true when the caller has an
 * interrupt to serve. The reading then stops (flow_error says 57014) and the caller
 * serves it once out of libxml2.
 */
typedef bool (*flow_pending_fn) (void *ctx);

typedef struct FlowParser FlowParser;

extern FlowParser *flow_open_memory(const char *buf, size_t len, flow_niss_fn niss_ok);
extern FlowParser *flow_open_io(flow_read_fn read, void *read_ctx, flow_niss_fn niss_ok);
extern size_t flow_parser_size(void);
extern void flow_set_tick(FlowParser *p, flow_tick_fn tick, void *ctx);
extern void flow_set_interrupt(FlowParser *p, flow_pending_fn pending);
extern int	flow_read_header(FlowParser *p);
extern int	flow_next(FlowParser *p);
extern const FlowHeader *flow_header(const FlowParser *p);
extern const FlowRecord *flow_record(const FlowParser *p);
extern const FlowError *flow_error(const FlowParser *p);
extern void flow_close(FlowParser *p);
extern int	flow_parse_amount(const char *s, int64_t *cents);

#endif							/* FLOW_PARSE_H */
