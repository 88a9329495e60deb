/*
 * inami.c
 *		Module entry point of the inami extension: the version, and the settings
 *		(inami.*) registered when the library is loaded.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "inami.h"

PG_MODULE_MAGIC;

/* inami.flow_progress_every: records between two progress NOTICEs of a load; 0 for none */
int			inami_flow_progress_every = 100000;

/* inami.flow_load_part: the load is one shard's part of a file (sharded loading) */
bool		inami_flow_load_part = false;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("inami.flow_progress_every",
							"Records of an exchange file between two progress NOTICEs of a load (0: none).",
							"inami.load_flow and inami.load_flow_file send a NOTICE each time this many "
							"more records of the file are read.",
							&inami_flow_progress_every,
							100000, 0, INT_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("inami.flow_load_part",
							 "Loads an exchange file as one shard's part of it (sharded loading).",
							 "Set by inami.load_flow_file_sharded on each shard for the transaction of its "
							 "load: a Syst04 none of whose households a Syst01 here lists is not refused "
							 "by the shard; the coordinator judges that on the whole file.",
							 &inami_flow_load_part,
							 false,
							 PGC_SUSET, GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);
	/* inami.progress: its shared memory, when preloaded */
	inami_progress_init();
	/* a refusal names the level needed: in every backend that loads the library */
	inami_privileges_init();
	/* any other inami.* name is a typo: refused, not kept as a placeholder */
	MarkGUCPrefixReserved("inami");
}

PG_FUNCTION_INFO_V1(inami_version);
Datum
inami_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(INAMI_VERSION));
}
