/*
 * shard.c
 *		The one hash that places a household on a shard. The sharded tables of a
 *		coordinator are partitioned by hash with the operator class inami.text_shard_ops,
 *		whose support functions are these; inami.shard_of computes the same partition
 *		number from SQL (a loader splitting a file, a DBA checking where a row went).
 *
 *		PostgreSQL's own text hash (hashtext) reads the bytes as machine words, so its
 *		value depends on the platform's byte order and may change between major versions:
 *		a shard's rows would no longer be where the coordinator looks for them. This hash
 *		is defined here once: FNV-1a (64 bits) over the key's bytes (UTF-8, as stored),
 *		seeded by XOR into the offset basis, finished with MurmurHash3's fmix64 so that
 *		every bit of the key moves the low bits the modulus keeps.
 */
#include "postgres.h"

#include "catalog/partition.h"
#include "common/hashfn.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "inami.h"


/* FNV-1a 64 over len bytes, with seed folded into the basis, then fmix64. */
static uint64
shard_hash(const char *key, int len, uint64 seed)
{
	uint64		h = UINT64CONST(0xcbf29ce484222325) ^ seed;

	for (int i = 0; i < len; i++)
	{
		h ^= (unsigned char) key[i];
		h *= UINT64CONST(0x100000001b3);
	}
	h ^= h >> 33;
	h *= UINT64CONST(0xff51afd7ed558ccd);
	h ^= h >> 33;
	h *= UINT64CONST(0xc4ceb9fe1a85ec53);
	h ^= h >> 33;
	return h;
}

/*
 * Equal keys must hash alike: under a nondeterministic collation keys of different bytes
 * compare equal, and the hash of their bytes would send them to different shards.
 */
static void
check_collation(Oid collid)
{
	if (OidIsValid(collid) && !get_collation_isdeterministic(collid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("inami.text_shard_ops cannot hash keys under a nondeterministic collation"),
				 errdetail("The key's collation is \"%s\", which compares keys of different bytes as equal.",
						   get_collation_name(collid)),
				 errhint("Shard on a column with a deterministic collation (the default, or \"C\").")));
}

/* Hash support function 1 of inami.text_shard_ops: the low 32 bits of the seed-0 hash. */
PG_FUNCTION_INFO_V1(inami_shard_hash);
Datum
inami_shard_hash(PG_FUNCTION_ARGS)
{
	text	   *key = PG_GETARG_TEXT_PP(0);

	check_collation(PG_GET_COLLATION());
	PG_RETURN_INT32((int32) (uint32) shard_hash(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), 0));
}

/* Hash support function 2 of inami.text_shard_ops: the seeded 64-bit hash. */
PG_FUNCTION_INFO_V1(inami_shard_hash_extended);
Datum
inami_shard_hash_extended(PG_FUNCTION_ARGS)
{
	text	   *key = PG_GETARG_TEXT_PP(0);
	uint64		seed = (uint64) PG_GETARG_INT64(1);

	check_collation(PG_GET_COLLATION());
	PG_RETURN_INT64((int64) shard_hash(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), seed));
}

/*
 * inami.shard_of(key, shards): the remainder of the hash partition (MODULUS shards) that
 * holds key, computed as PostgreSQL routes a row of a table partitioned by hash on one
 * column: the support function with the partition seed, combined into a zero row hash.
 */
PG_FUNCTION_INFO_V1(inami_shard_of);
Datum
inami_shard_of(PG_FUNCTION_ARGS)
{
	text	   *key = PG_GETARG_TEXT_PP(0);
	int32		shards = PG_GETARG_INT32(1);

	check_collation(PG_GET_COLLATION());
	inami_check_shards(shards);

	PG_RETURN_INT32(inami_shard_position(VARDATA_ANY(key), VARSIZE_ANY_EXHDR(key), shards));
}

/* A number of shards is 1 to INAMI_MAX_SHARDS. */
void
inami_check_shards(int shards)
{
	if (shards < 1 || shards > INAMI_MAX_SHARDS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of shards must be between 1 and %d", INAMI_MAX_SHARDS),
				 errdetail("The number of shards given is %d.", shards),
				 errhint("Give the number of shards of the cluster: SELECT count(*) FROM inami.shard;")));
}

/* shard_of over len bytes of key, for 1 to INAMI_MAX_SHARDS shards (the caller checks). */
int
inami_shard_position(const char *key, int len, int shards)
{
	uint64		row_hash = hash_combine64(0, shard_hash(key, len, HASH_PARTITION_SEED));

	Assert(shards >= 1 && shards <= INAMI_MAX_SHARDS);
	return (int) (row_hash % (uint64) shards);
}
