/*
 * flows_read.h
 *		What the loader of flows_read.c lends to the sharded loading (flow_split.c): the
 *		file a reader streams, the reader's callbacks and the raising of its errors.
 */
#ifndef INAMI_FLOWS_READ_H
#define INAMI_FLOWS_READ_H

#include "postgres.h"

#include "flow_parse.h"

/* What a reader streams: a file of the server, or a large object (fd -1). */
typedef struct FlowFile
{
	int			fd;
	int			saved_errno;	/* of the read that failed; 0 while none did */
	ErrorData  *error;			/* an error of the source, raised once out of libxml2 */
} FlowFile;

extern bool inami_flow_niss_ok(const char *s, int len);
extern void inami_flow_watch_interrupts(FlowParser *p);
extern void inami_flow_file_open(const char *path, FlowFile *f);
extern int	inami_flow_file_read(void *ctx, char *buf, int len);
extern void inami_flow_raise(FlowParser *p, const char *source, const FlowFile *file) pg_attribute_noreturn();
extern void inami_flow_reader_out_of_memory(const char *what) pg_attribute_noreturn();

#endif							/* INAMI_FLOWS_READ_H */
