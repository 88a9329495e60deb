------------------------------------------------------------------------------------------
-- Scale-out: a coordinator and shards (postgres_fdw foreign partitions, dblink commands)
--
-- Households live on shards, placed by one hash of their key (inami.shard_of, the
-- operator class inami.text_shard_ops); the coordinator holds tables partitioned by that
-- hash whose partitions are postgres_fdw foreign tables. With the server option
-- extensions 'inami', grouped aggregates run on the shards. A shipped function reads the
-- SHARD's parameter tables, so every node must run the same version with the same
-- parameter rows: add_shard and check_shards compare them and refuse a difference.
------------------------------------------------------------------------------------------

-- The hash: defined in src/shard.c, the same on every platform and version.
CREATE FUNCTION inami._shard_hash(key text) RETURNS int
AS 'MODULE_PATHNAME', 'inami_shard_hash'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._shard_hash(text) IS
'Hash support function 1 of inami.text_shard_ops: the low 32 bits of the shard hash of key with seed 0.';

CREATE FUNCTION inami._shard_hash_extended(key text, seed bigint) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_shard_hash_extended'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami._shard_hash_extended(text, bigint) IS
'Hash support function 2 of inami.text_shard_ops: the 64-bit shard hash of key (FNV-1a over its bytes, seeded, finished by MurmurHash3 fmix64).';

CREATE OPERATOR CLASS inami.text_shard_ops FOR TYPE text USING hash AS
    OPERATOR 1 pg_catalog.= (text, text),
    FUNCTION 1 inami._shard_hash(text),
    FUNCTION 2 inami._shard_hash_extended(text, bigint);
COMMENT ON OPERATOR CLASS inami.text_shard_ops USING hash IS
'The hash partitioning of the sharded tables: PARTITION BY HASH (key inami.text_shard_ops) places a row where inami.shard_of(key, shards) says, on every platform and version.';

CREATE FUNCTION inami.shard_of(key text, shards int) RETURNS int
AS 'MODULE_PATHNAME', 'inami_shard_of'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION inami.shard_of(text, int) IS
'The shard (0 to shards - 1, the position of inami.shard) that holds key: the remainder of the hash partition of a table partitioned by HASH (key inami.text_shard_ops) with MODULUS shards. The hash is over the bytes of key: the same on every platform and version.';

-- Every parameter table (a table of the extension with a shipped column), its row count
-- and a digest of its rows: two nodes whose answers are equal compute with the same
-- parameters. The text of a row depends on the output settings: pinned here.
CREATE FUNCTION inami.parameter_fingerprint()
RETURNS TABLE (table_name text, row_count bigint, digest text)
LANGUAGE plpgsql STABLE
SET DateStyle = 'ISO, YMD' SET IntervalStyle = 'postgres' SET TimeZone = 'UTC' SET extra_float_digits = 1
AS $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass
             FROM pg_catalog.pg_extension e
             CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)
             JOIN pg_catalog.pg_class c ON c.oid = x.oid
             WHERE e.extname = 'inami'
               AND EXISTS (SELECT 1 FROM pg_catalog.pg_attribute a
                           WHERE a.attrelid = c.oid AND a.attname = 'shipped' AND NOT a.attisdropped)
             ORDER BY c.relname
    LOOP
        table_name := t::text;
        EXECUTE pg_catalog.format(
            'SELECT count(*), pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to('
            'coalesce(pg_catalog.string_agg(r::text, E''\n'' ORDER BY r::text), ''''), ''UTF8'')), ''hex'') '
            'FROM %s AS r', t)
        INTO row_count, digest;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.parameter_fingerprint() IS
'Every parameter table of inami (schema-qualified name), its number of rows and the SHA-256 of its rows'' text in order: equal on two nodes when their parameter rows are equal. inami.add_shard and inami.check_shards compare it between the coordinator and each shard.';

-- The shards of this coordinator, in the order of their hash partitions.
CREATE TABLE inami.shard (
    name text PRIMARY KEY,
    position int NOT NULL UNIQUE CHECK (position >= 0),
    added_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE inami.shard IS
'The shards of this coordinator (inami.add_shard): name is the foreign server''s, position the remainder of its hash partitions (inami.shard_of(key, count) = position).';
COMMENT ON COLUMN inami.shard.name IS 'The shard''s foreign server (postgres_fdw), made by inami.add_shard.';
COMMENT ON COLUMN inami.shard.position IS 'The remainder of the shard''s hash partitions: it holds the keys k with inami.shard_of(k, shards) = position.';
COMMENT ON COLUMN inami.shard.added_at IS 'When the shard was added.';
SELECT pg_catalog.pg_extension_config_dump('inami.shard', '');

-- The tables partitioned over the shards (inami.create_sharded_table).
CREATE TABLE inami.sharded_table (
    schema_name text NOT NULL,
    table_name text NOT NULL,
    shard_key text NOT NULL CHECK (pg_catalog.btrim(shard_key) <> ''),
    created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (schema_name, table_name)
);
COMMENT ON TABLE inami.sharded_table IS
'The tables of this coordinator partitioned by hash of shard_key over the shards (inami.create_sharded_table): one foreign partition per shard, a table of the same name on each shard.';
COMMENT ON COLUMN inami.sharded_table.schema_name IS 'Schema of the table, on the coordinator and on each shard.';
COMMENT ON COLUMN inami.sharded_table.table_name IS 'Name of the table, on the coordinator (partitioned) and on each shard; its partitions are table_name_SHARD.';
COMMENT ON COLUMN inami.sharded_table.shard_key IS 'The text column whose hash (inami.text_shard_ops) places each row.';
COMMENT ON COLUMN inami.sharded_table.created_at IS 'When the table was sharded.';
SELECT pg_catalog.pg_extension_config_dump('inami.sharded_table', '');

-- Ids that name a shard's rows in results (file_id, run_id, event_id, ...) are unique over
-- the cluster: each shard draws them from a range of its own, taken when it is added.
-- Only the next value moves (setval, kept by pg_dump like the rows): the run procedures
-- and tables stay as they are.
CREATE FUNCTION inami._shard_take_id_range(shard_position int) RETURNS int
LANGUAGE plpgsql STRICT AS $$
DECLARE
    s record;
    base bigint := (shard_position::bigint + 1) * 1000000000000;
    last bigint;
    n int := 0;
BEGIN
    FOR s IN SELECT pg_catalog.pg_get_serial_sequence(c.oid::regclass::text, a.attname) AS seq
             FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
             WHERE c.relnamespace = 'inami'::regnamespace AND c.relkind = 'r' AND a.attidentity <> ''
             ORDER BY 1
    LOOP
        SELECT q.last_value INTO last FROM pg_catalog.pg_sequences q
        WHERE q.schemaname = 'inami' AND pg_catalog.format('inami.%I', q.sequencename) = s.seq;
        IF last IS NULL OR last < base THEN
            PERFORM pg_catalog.setval(s.seq, base, false);
        ELSIF last >= base + 1000000000000 THEN
            RAISE EXCEPTION 'the ids of % are past the range of shard position %', s.seq, shard_position
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = pg_catalog.format('The last id drawn is %s; the range of position %s ends at %s.', last, shard_position, base + 999999999999),
                      HINT = 'Add this node at the position its ids were drawn for, or start from an empty node.';
        END IF;
        n := n + 1;
    END LOOP;
    RETURN n;
END;
$$;
COMMENT ON FUNCTION inami._shard_take_id_range(int) IS
'Run on a shard by inami.add_shard: every identity of inami''s tables draws its next ids from (position + 1) x 10^12 on, so that ids are unique over the cluster (10^12 per shard). Returns the number of identities moved into the range.';

-- The schema where dblink is installed (the shard commands run through it).
CREATE FUNCTION inami._dblink_schema() RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    s text;
BEGIN
    SELECT n.nspname INTO s FROM pg_catalog.pg_extension e
    JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'dblink';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the coordinator needs the extension dblink'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'inami runs its commands on the shards through dblink, which is not installed in this database.',
                  HINT = 'CREATE EXTENSION dblink; (it comes with PostgreSQL''s contrib modules).';
    END IF;
    RETURN s;
END;
$$;
COMMENT ON FUNCTION inami._dblink_schema() IS
'The schema of the dblink extension in this database; an error when it is not installed.';

-- Close the dblink connections named, whatever happened on them: closing one rolls back
-- the transaction it left open on its shard; one already gone is no error.
CREATE FUNCTION inami._dblink_close(dbl text, conns text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    c text;
BEGIN
    FOREACH c IN ARRAY coalesce(conns, '{}')
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        EXCEPTION WHEN OTHERS THEN
            NULL;
        END;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami._dblink_close(text, text[]) IS
'Internal to the coordinator: closes the dblink connections named (dblink in schema dbl), each in turn, an error on one ignored; closing one rolls back what it left open on its shard.';

-- One shard against this node: same extension version, same library, same parameter
-- rows. Every difference is an error naming the table and the shard.
CREATE FUNCTION inami._check_shard(shard text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    mine text;
    theirs text;
    lib text;
    d record;
BEGIN
    SELECT e.extversion INTO mine FROM pg_catalog.pg_extension e WHERE e.extname = 'inami';
    BEGIN
        EXECUTE pg_catalog.format(
            'SELECT v FROM %I.dblink($1, $q$SELECT (SELECT extversion FROM pg_catalog.pg_extension '
            'WHERE extname = ''inami'')$q$) AS t(v text)', dbl)
        INTO theirs USING shard;
    EXCEPTION WHEN sqlclient_unable_to_establish_sqlconnection THEN
        GET STACKED DIAGNOSTICS lib = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'shard "%" cannot be reached', shard
            USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                  DETAIL = lib,
                  HINT = pg_catalog.format('Start the shard, or correct the options of its foreign server: ALTER SERVER %I OPTIONS (SET host ''...'');', shard);
    END;
    IF theirs IS NULL THEN
        RAISE EXCEPTION 'shard "%" has no inami extension', shard
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('The database the foreign server %I connects to has no extension inami; this coordinator runs inami %s.', shard, mine),
                  HINT = pg_catalog.format('On the shard: CREATE EXTENSION inami VERSION %L;', mine);
    END IF;
    EXECUTE pg_catalog.format('SELECT l FROM %I.dblink($1, ''SELECT inami.version()'') AS t(l text)', dbl)
    INTO lib USING shard;
    IF theirs <> mine OR lib <> inami.version() THEN
        RAISE EXCEPTION 'shard "%" runs inami %, the coordinator inami %', shard, theirs, mine
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('Extension version %s with library %s on the shard, %s with library %s on the coordinator: a function shipped to the shard would compute with other rules.',
                                             theirs, lib, mine, inami.version()),
                  HINT = 'Install the same inami on every node and run ALTER EXTENSION inami UPDATE where it is older.';
    END IF;
    EXECUTE pg_catalog.format(
        'SELECT coalesce(c.table_name, s.table_name) AS table_name, c.row_count AS my_rows, s.row_count AS their_rows, '
        'c.digest AS my_digest, s.digest AS their_digest '
        'FROM inami.parameter_fingerprint() AS c FULL JOIN %I.dblink($1, ''SELECT * FROM inami.parameter_fingerprint()'') '
        'AS s(table_name text, row_count bigint, digest text) ON s.table_name = c.table_name '
        'WHERE c.digest IS DISTINCT FROM s.digest ORDER BY 1 LIMIT 1', dbl)
    INTO d USING shard;
    IF d.table_name IS NOT NULL THEN
        RAISE EXCEPTION 'parameter table % differs on shard "%"', d.table_name, shard
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s rows with digest %s on the shard, %s rows with digest %s on the coordinator: a function shipped to the shard would compute with other parameters.',
                                             coalesce(d.their_rows::text, 'no table'), coalesce(d.their_digest, '-'),
                                             coalesce(d.my_rows::text, 'no table'), coalesce(d.my_digest, '-')),
                  HINT = pg_catalog.format('Make the rows of %s equal on every node (the publication inami_parameters of the coordinator, subscribed on each shard, keeps them so), then check again: SELECT * FROM inami.check_shards();', d.table_name);
    END IF;
END;
$$;
COMMENT ON FUNCTION inami._check_shard(text) IS
'Compares one shard (a foreign server) with this node: extension version, library version and every parameter table''s fingerprint; an error naming the first difference.';

CREATE FUNCTION inami.check_shards()
RETURNS TABLE (shard text, "position" int, inami_version text, parameter_tables int,
               max_prepared_transactions int, prepared_loads int)
LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    FOR s IN SELECT h.name, h.position FROM inami.shard h ORDER BY h.position
    LOOP
        PERFORM inami._check_shard(s.name);
        shard := s.name;
        "position" := s.position;
        inami_version := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'inami');
        parameter_tables := (SELECT count(*) FROM inami.parameter_fingerprint());
        EXECUTE pg_catalog.format(
            'SELECT * FROM %I.dblink($1, $q$SELECT pg_catalog.current_setting(''max_prepared_transactions'')::int, '
            '(SELECT count(*) FROM pg_catalog.pg_prepared_xacts WHERE gid LIKE ''inami\_load:%%'' AND database = pg_catalog.current_database())::int$q$) '
            'AS t(m int, p int)', inami._dblink_schema())
        INTO max_prepared_transactions, prepared_loads USING s.name;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.check_shards() IS
'Checks every shard of this coordinator against it (same inami version, same parameter rows): one row per shard when all agree, an error naming the shard and the table at the first difference. Also the shard''s max_prepared_transactions (0: inami.load_flow_file_sharded commits there without two-phase commit) and its sharded loads left prepared (inami.prepared_loads lists them).';

-- conninfo's keywords: user and password go to the user mapping, the others to the server.
CREATE FUNCTION inami._conninfo_options(conninfo text, for_user boolean) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    m text[];
    opts text[] := '{}';
    rest text := conninfo;
    v text;
BEGIN
    FOR m IN SELECT pg_catalog.regexp_matches(conninfo,
                 '([A-Za-z_]+)\s*=\s*(''(?:[^''\\]|\\.)*''|[^\s'']+)', 'g')
    LOOP
        v := m[2];
        IF v LIKE '''%' THEN
            v := pg_catalog.regexp_replace(pg_catalog.substr(v, 2, pg_catalog.length(v) - 2), '\\(.)', '\1', 'g');
        END IF;
        IF (m[1] IN ('user', 'password')) = for_user THEN
            opts := opts || pg_catalog.format('%I %L', m[1], v);
        END IF;
        rest := pg_catalog.replace(rest, m[1] || '=' || m[2], '');
    END LOOP;
    IF pg_catalog.btrim(rest) <> '' THEN
        RAISE EXCEPTION 'cannot read the connection string of a shard'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('What is not a keyword=value pair: %s.', pg_catalog.btrim(rest)),
                  HINT = 'Give keyword=value pairs separated by spaces, e.g. ''host=/var/run/postgresql port=5433 dbname=inami''.';
    END IF;
    RETURN pg_catalog.array_to_string(opts, ', ');
END;
$$;
COMMENT ON FUNCTION inami._conninfo_options(text, boolean) IS
'The keyword=value pairs of a libpq connection string as OPTIONS of a foreign server (for_user false) or of its user mapping (user and password, for_user true).';

CREATE FUNCTION inami.add_shard(name text, conninfo text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    pos int;
    server_opts text := inami._conninfo_options(conninfo, false);
    user_opts text := inami._conninfo_options(conninfo, true);
    max_prepared int;
BEGIN
    PERFORM inami._dblink_schema();
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_data_wrapper w WHERE w.fdwname = 'postgres_fdw') THEN
        RAISE EXCEPTION 'the coordinator needs the extension postgres_fdw'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'The sharded tables are partitions on postgres_fdw foreign tables; postgres_fdw is not installed in this database.',
                  HINT = 'CREATE EXTENSION postgres_fdw; (it comes with PostgreSQL''s contrib modules).';
    END IF;
    IF EXISTS (SELECT 1 FROM inami.sharded_table) THEN
        RAISE EXCEPTION 'cannot add a shard once tables are sharded'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('%s tables are partitioned over the %s shards: their rows are placed by the number of shards.',
                                             (SELECT count(*) FROM inami.sharded_table), (SELECT count(*) FROM inami.shard)),
                  HINT = 'Add every shard first, then create the sharded tables (inami.create_sharded_table); moving rows to a new shard is not supported.';
    END IF;
    SELECT count(*) INTO pos FROM inami.shard;
    EXECUTE pg_catalog.format('CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (%s%sextensions ''inami'', async_capable ''true'', fetch_size ''10000'')',
                              name, server_opts, CASE WHEN server_opts <> '' THEN ', ' ELSE '' END);
    EXECUTE pg_catalog.format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I%s',
                              name, CASE WHEN user_opts <> '' THEN pg_catalog.format(' OPTIONS (%s)', user_opts) ELSE '' END);
    -- Checked through the server just made: on an error, nothing of it stays.
    PERFORM inami._check_shard(name);
    -- Its ids drawn from a range of its own (a commit on the shard: taken again harmlessly
    -- if this transaction fails).
    EXECUTE pg_catalog.format('SELECT n FROM %I.dblink($1, $2) AS t(n int)', inami._dblink_schema())
    USING name, pg_catalog.format('SELECT inami._shard_take_id_range(%s)', pos);
    INSERT INTO inami.shard (name, position) VALUES (name, pos);
    EXECUTE pg_catalog.format('SELECT m FROM %I.dblink($1, $q$SELECT pg_catalog.current_setting(''max_prepared_transactions'')::int$q$) AS t(m int)',
                              inami._dblink_schema())
    INTO max_prepared USING name;
    IF max_prepared = 0 THEN
        RAISE NOTICE 'shard "%" runs with max_prepared_transactions = 0', name
            USING DETAIL = 'inami.load_flow_file_sharded commits a file on such a shard without two-phase commit: a shard failing while the shards commit leaves the file on those that committed.',
                  HINT = 'Set max_prepared_transactions (e.g. 10) in the shard''s postgresql.conf and restart it.';
    END IF;
    RETURN pos;
END;
$$;
COMMENT ON FUNCTION inami.add_shard(text, text) IS
'Adds a shard to this coordinator: a postgres_fdw foreign server named name (options from conninfo, extensions ''inami'', async_capable), a user mapping for the current user (user and password of conninfo), after checking that the shard runs the same inami version with the same parameter rows (an error names the table and the shard, and nothing is added). Returns the shard''s position. Needs dblink and postgres_fdw on the coordinator.';

CREATE FUNCTION inami.create_sharded_table(name text, columns text, shard_key text) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    parts text[] := pg_catalog.parse_ident(name);
    sch text;
    tab text;
    n int;
    s record;
    conns text[] := '{}';
    c text;
BEGIN
    IF pg_catalog.cardinality(parts) = 1 THEN
        sch := 'public'; tab := parts[1];
    ELSIF pg_catalog.cardinality(parts) = 2 THEN
        sch := parts[1]; tab := parts[2];
    ELSE
        RAISE EXCEPTION 'a sharded table is named table or schema.table'
            USING ERRCODE = 'invalid_name',
                  DETAIL = pg_catalog.format('The name given is %s.', name),
                  HINT = 'Give the name without a database: schema.table.';
    END IF;
    SELECT count(*) INTO n FROM inami.shard;
    IF n = 0 THEN
        RAISE EXCEPTION 'this coordinator has no shard'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('inami.shard is empty; %I.%I would have no partition.', sch, tab),
                  HINT = 'Add the shards first: SELECT inami.add_shard(''shard1'', ''host=... port=... dbname=...'');';
    END IF;
    -- The coordinator's part first (errors in columns or shard_key end here); the shards'
    -- tables in one open transaction each, committed when every shard has made its table.
    EXECUTE pg_catalog.format('CREATE TABLE %I.%I (%s) PARTITION BY HASH (%I inami.text_shard_ops)',
                              sch, tab, columns, shard_key);
    FOR s IN SELECT h.name, h.position FROM inami.shard h ORDER BY h.position
    LOOP
        EXECUTE pg_catalog.format('CREATE FOREIGN TABLE %I.%I PARTITION OF %I.%I FOR VALUES WITH (MODULUS %s, REMAINDER %s) '
                                  'SERVER %I OPTIONS (schema_name %L, table_name %L)',
                                  sch, tab || '_' || s.name, sch, tab, n, s.position, s.name, sch, tab);
    END LOOP;
    BEGIN
        FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
        LOOP
            c := 'inami_shard_ddl_' || s.name;
            EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', dbl) USING c, s.name;
            conns := conns || c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''BEGIN'')', dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl)
                USING c, pg_catalog.format('CREATE TABLE %I.%I (%s)', sch, tab, columns);
        END LOOP;
        FOREACH c IN ARRAY conns
        LOOP
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''COMMIT'')', dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        END LOOP;
    EXCEPTION WHEN OTHERS THEN
        -- Closing a connection rolls back its open transaction.
        FOREACH c IN ARRAY conns
        LOOP
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1)', dbl) USING c;
        END LOOP;
        RAISE;
    END;
    INSERT INTO inami.sharded_table (schema_name, table_name, shard_key) VALUES (sch, tab, shard_key);
    RETURN n;
END;
$$;
COMMENT ON FUNCTION inami.create_sharded_table(text, text, text) IS
'Creates a table sharded by household: on each shard a table name (columns), on the coordinator a table name (columns) partitioned by HASH (shard_key inami.text_shard_ops) whose partitions name_SHARD are foreign tables on the shards (a row goes to the shard inami.shard_of(shard_key, shards)). shard_key is a text column; columns may not hold a unique or primary key (foreign partitions have no index). Returns the number of shards.';


-- The coordinator's log of the runs it started on the shards: one row per shard and run,
-- with the shard's own run log row (gathered when the shard answered) or the error that
-- stopped it there.
CREATE TABLE inami.shard_run (
    sharded_run bigint NOT NULL,
    shard text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('systematic_control', 'proactive_flow')),
    year int NOT NULL CHECK (year BETWEEN 1990 AND 2200),
    shard_run_id bigint,
    started_at timestamptz NOT NULL,
    ended_at timestamptz NOT NULL CHECK (ended_at >= started_at),
    status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
    counts jsonb,
    error_sqlstate text CHECK (error_sqlstate ~ '^[0-9A-Z]{5}$'),
    error_message text,
    PRIMARY KEY (sharded_run, shard),
    CHECK ((status = 'failed') = (error_message IS NOT NULL))
);
COMMENT ON TABLE inami.shard_run IS
'The coordinator''s log of its sharded control runs (inami.run_systematic_control_sharded, inami.run_proactive_flow_sharded): one row per run and shard, with the shard''s run id, counts and status from its inami.control_run, or the error that stopped the run on that shard (failed: rerun that shard).';
COMMENT ON COLUMN inami.shard_run.sharded_run IS 'Numbers one sharded run (the same for all its shards).';
COMMENT ON COLUMN inami.shard_run.shard IS 'The shard (inami.shard).';
COMMENT ON COLUMN inami.shard_run.kind IS 'systematic_control or proactive_flow.';
COMMENT ON COLUMN inami.shard_run.year IS 'Control year (systematic), year (proactive).';
COMMENT ON COLUMN inami.shard_run.started_at IS 'When the coordinator started the run on the shard.';
COMMENT ON COLUMN inami.shard_run.ended_at IS 'When the coordinator saw it end.';
COMMENT ON COLUMN inami.shard_run.status IS 'succeeded, or failed (the shard must be run again).';
COMMENT ON COLUMN inami.shard_run.counts IS 'The counts of the shard''s run (its inami.control_run.counts).';
COMMENT ON COLUMN inami.shard_run.error_sqlstate IS 'SQLSTATE of the error that failed the run on the shard.';
COMMENT ON COLUMN inami.shard_run.error_message IS 'Message (with detail) of the error that failed the run on the shard, or of the connection that failed.';
COMMENT ON COLUMN inami.shard_run.shard_run_id IS 'The run_id of the run in the shard''s inami.control_run; NULL when the run never started there.';
CREATE SEQUENCE inami.shard_run_seq;
COMMENT ON SEQUENCE inami.shard_run_seq IS 'Numbers the sharded runs (inami.shard_run.sharded_run).';
SELECT pg_catalog.pg_extension_config_dump('inami.shard_run', '');
SELECT pg_catalog.pg_extension_config_dump('inami.shard_run_seq', '');

-- Starts kind's procedure for year on the shards (all, or those named) at once through
-- dblink_send_query, waits for all, logs each into inami.shard_run and commits, then
-- raises the first failure naming the shards to rerun. The coordinator's lock of the kind
-- and year is held until every shard has ended: one sharded run of a year at a time.
CREATE PROCEDURE inami._run_sharded(kind text, year int, shards text[])
LANGUAGE plpgsql AS $$
DECLARE
    dbl text;
    run bigint;
    s record;
    c text;
    conns text[] := '{}';
    before bigint;
    started timestamptz;
    failed text[] := '{}';
    first_error text;
    first_state text;
    unknown text;
    st text; msg text; det text;
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    dbl := inami._dblink_schema();
    IF year IS NULL THEN
        RAISE EXCEPTION 'year must be between 1990 and 2200'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = 'The year given is NULL.',
                  HINT = 'Give the control year (systematic control) or the year of the proactive flow, e.g. 2024.';
    END IF;
    PERFORM inami._check_year(year, 'year');
    SELECT pg_catalog.string_agg(u, ', ') INTO unknown
    FROM pg_catalog.unnest(shards) AS u WHERE u NOT IN (SELECT h.name FROM inami.shard h);
    IF unknown IS NOT NULL OR NOT EXISTS (SELECT 1 FROM inami.shard) THEN
        RAISE EXCEPTION 'no shard named %', coalesce(unknown, 'in inami.shard')
            USING ERRCODE = 'undefined_object',
                  DETAIL = pg_catalog.format('The shards of this coordinator: %s.',
                                             coalesce((SELECT pg_catalog.string_agg(h.name, ', ' ORDER BY h.position) FROM inami.shard h), 'none')),
                  HINT = 'Name shards of inami.shard, or give NULL for all of them.';
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock(inami._control_lock_key(kind), year);
    -- Every shard must compute with the rules and parameters of the coordinator.
    FOR s IN SELECT h.name FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        PERFORM inami._check_shard(s.name);
    END LOOP;
    run := pg_catalog.nextval('inami.shard_run_seq');
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.inami_shard_run_start (shard text, conn text, before bigint, started timestamptz, error text, state text);
    TRUNCATE pg_temp.inami_shard_run_start;
    -- Started on every shard before any is waited for.
    FOR s IN SELECT h.name FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        c := 'inami_run_' || s.name;
        started := pg_catalog.clock_timestamp();
        BEGIN
            -- A connection an interrupted run of this session left open is closed first.
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1) WHERE $1 = ANY (%I.dblink_get_connections())', dbl, dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', dbl) USING c, s.name;
            conns := conns || c;
            EXECUTE pg_catalog.format('SELECT b FROM %I.dblink($1, %L) AS t(b bigint)', dbl,
                                      'SELECT coalesce(max(run_id), 0) FROM inami.control_run')
            INTO before USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_send_query($1, $2)', dbl)
            USING c, pg_catalog.format('CALL inami.%I(%s)',
                                       CASE kind WHEN 'systematic_control' THEN 'run_systematic_control' ELSE 'run_proactive_flow' END, year);
            INSERT INTO pg_temp.inami_shard_run_start VALUES (s.name, c, before, started, NULL, NULL);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
            INSERT INTO pg_temp.inami_shard_run_start VALUES (s.name, NULL, NULL, started, pg_catalog.concat_ws(E'\n', msg, 'DETAIL: ' || nullif(det, '')), st);
        END;
    END LOOP;
    -- Waited for, each; then its run log row gathered.
    FOR s IN SELECT * FROM pg_temp.inami_shard_run_start ORDER BY shard
    LOOP
        st := s.state; msg := s.error; det := NULL;
        IF s.conn IS NOT NULL THEN
            BEGIN
                EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1) AS t(status text)', dbl) USING s.conn;
                EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1) AS t(status text)', dbl) USING s.conn;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
                msg := pg_catalog.concat_ws(E'\n', msg, 'DETAIL: ' || nullif(det, ''));
            END;
        END IF;
        INSERT INTO inami.shard_run (sharded_run, shard, kind, year, started_at, ended_at, status, error_sqlstate, error_message)
        VALUES (run, s.shard, kind, year, s.started, pg_catalog.clock_timestamp(),
                CASE WHEN msg IS NULL THEN 'succeeded' ELSE 'failed' END,
                CASE WHEN msg IS NOT NULL THEN coalesce(nullif(st, ''), 'XX000') END, msg);
        -- The shard's own log row: its run id, counts, and its status when it answers (on a
        -- connection of its own: the run's may be left in any state by an error).
        IF s.conn IS NOT NULL THEN
            BEGIN
                EXECUTE pg_catalog.format(
                    'UPDATE inami.shard_run r SET shard_run_id = t.run_id, counts = t.counts, '
                    'status = CASE WHEN t.status = ''succeeded'' AND r.status = ''succeeded'' THEN ''succeeded'' ELSE ''failed'' END, '
                    'error_sqlstate = coalesce(r.error_sqlstate, t.error_sqlstate, CASE WHEN t.status <> ''succeeded'' THEN ''XX000'' END), '
                    'error_message = coalesce(r.error_message, t.error_message, CASE WHEN t.status <> ''succeeded'' THEN ''the run is '' || t.status || '' on the shard'' END) '
                    'FROM %I.dblink($1, $2) AS t(run_id bigint, status text, counts jsonb, error_sqlstate text, error_message text) '
                    'WHERE r.sharded_run = $3 AND r.shard = $4', dbl)
                USING s.shard,
                      pg_catalog.format('SELECT run_id, status, counts, error_sqlstate, error_message FROM inami.control_run '
                                        'WHERE kind = %L AND year = %s AND run_id > %s ORDER BY run_id DESC LIMIT 1', kind, year, s.before),
                      run, s.shard;
            EXCEPTION WHEN OTHERS THEN
                NULL;  -- the shard stopped answering: what its run returned stays logged
            END;
        END IF;
    END LOOP;
    -- Every connection closed, whatever happened on it.
    PERFORM inami._dblink_close(dbl, conns);
    SELECT pg_catalog.array_agg(r.shard ORDER BY r.shard), (pg_catalog.array_agg(r.error_message ORDER BY r.shard))[1],
           (pg_catalog.array_agg(r.error_sqlstate ORDER BY r.shard))[1]
    INTO failed, first_error, first_state
    FROM inami.shard_run r WHERE r.sharded_run = run AND r.status = 'failed';
    COMMIT;
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF failed IS NOT NULL THEN
        RAISE EXCEPTION 'the % of % failed on shard %', pg_catalog.replace(kind, '_', ' '), year, pg_catalog.array_to_string(failed, ', ')
            USING ERRCODE = 'external_routine_exception',
                  DETAIL = pg_catalog.format('On shard %s: %s', failed[1], first_error),
                  HINT = pg_catalog.format('The other shards completed (inami.shard_run, sharded_run %s). Once the shard is back, run it again: CALL inami.%s_sharded(%s, %L); a rerun leaves the decisions already made as they are.',
                                           run, CASE kind WHEN 'systematic_control' THEN 'run_systematic_control' ELSE 'run_proactive_flow' END,
                                           year, failed::text);
    END IF;
END;
$$;
COMMENT ON PROCEDURE inami._run_sharded(text, int, text[]) IS
'Internal to the sharded control runs: checks the shards, holds the coordinator''s lock of kind and year, starts the run on every shard (or those named) at once through dblink_send_query, waits for all, logs each into inami.shard_run, commits, and raises the failure naming the shards to rerun.';

CREATE PROCEDURE inami.run_systematic_control_sharded(control_year int, shards text[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    CALL inami._run_sharded('systematic_control', control_year, shards);
END;
$$;
COMMENT ON PROCEDURE inami.run_systematic_control_sharded(int, text[]) IS
'R4 on a coordinator: CALL inami.run_systematic_control(control_year) on every shard (or on those named) at once, after checking that each runs the same inami with the same parameter rows; one run of a year at a time over the cluster (the coordinator''s lock). Logs each shard''s run into inami.shard_run and commits (call it outside a transaction block); a failure on a shard is an error naming the shards to rerun, the others keep their decisions.';

CREATE PROCEDURE inami.run_proactive_flow_sharded(year int, shards text[] DEFAULT NULL)
LANGUAGE plpgsql AS $$
BEGIN
    CALL inami._run_sharded('proactive_flow', year, shards);
END;
$$;
COMMENT ON PROCEDURE inami.run_proactive_flow_sharded(int, text[]) IS
'R5 on a coordinator: CALL inami.run_proactive_flow(year) on every shard (or on those named) at once, as inami.run_systematic_control_sharded does for the systematic control.';

-- The coordinator's documents: each shard writes its part with the node's own writer, the
-- parts are merged in request-number order (as one node writes them: C collation). The
-- records are empty elements, one per line, indented by two spaces (src/xml_writer.c).
CREATE FUNCTION inami._sharded_document(writer text, year int, oa text, root_name text, item_name text)
RETURNS xml
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    s record;
    doc text;
    root text;
    shard_root text;
    first_shard text;
    items text[] := '{}';
BEGIN
    IF NOT EXISTS (SELECT 1 FROM inami.shard) THEN
        RAISE EXCEPTION 'this coordinator has no shard'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('inami.%s_sharded merges the documents of the shards; inami.shard is empty.', writer),
                  HINT = pg_catalog.format('On one node, call inami.%s instead.', writer);
    END IF;
    FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
    LOOP
        EXECUTE pg_catalog.format('SELECT d FROM %I.dblink($1, $2) AS t(d text)', dbl) INTO doc
        USING s.name, pg_catalog.format('SELECT inami.%I(%s, %L)::text', writer, year, oa);
        shard_root := pg_catalog.substring(doc, '^<' || root_name || '[^>]*?(?=/?>)');
        IF root IS NULL THEN
            root := shard_root;
            first_shard := s.name;
        ELSIF root <> shard_root THEN
            RAISE EXCEPTION 'the shards write different % documents', root_name
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      DETAIL = pg_catalog.format('Shard %s writes %s>, shard %s writes %s>.', first_shard, root, s.name, shard_root),
                      HINT = 'Load every file of the year on every shard (its households go to their shards, the file itself to all), then run the year again.';
        END IF;
        items := items || ARRAY(SELECT m[1] FROM pg_catalog.regexp_matches(doc, '(<' || item_name || ' [^>]*/>)', 'g') AS m);
    END LOOP;
    RETURN (SELECT CASE WHEN count(*) = 0 THEN root || '/>'
                        ELSE root || E'>\n' || pg_catalog.string_agg('  ' || i, E'\n'
                                 ORDER BY pg_catalog.substring(i, 'requestNumber="([0-9]+)"') COLLATE "C")
                             || E'\n</' || root_name || '>' END
            FROM pg_catalog.unnest(items) AS i)::xml;
END;
$$;
COMMENT ON FUNCTION inami._sharded_document(text, int, text, text, text) IS
'Internal to the coordinator''s writers: writer(year, oa) on every shard, its item_name records merged in request-number order under the root the shards agree on.';

CREATE FUNCTION inami.syst05_document_sharded(control_year int, oa text) RETURNS xml
LANGUAGE sql STRICT
RETURN inami._sharded_document('syst05_document', control_year, oa, 'Syst05', 'Feedback');
COMMENT ON FUNCTION inami.syst05_document_sharded(int, text) IS
'R4 on a coordinator: the Syst_05 of control_year for oa over the whole cluster, as inami.syst05_document writes it on one node: every shard''s Feedback records merged in request-number order. A shard''s error (provisional decisions, ...) is the error.';

CREATE FUNCTION inami.pro04_document_sharded(year int, oa text) RETURNS xml
LANGUAGE sql STRICT
RETURN inami._sharded_document('pro04_document', year, oa, 'Pro04', 'Result');
COMMENT ON FUNCTION inami.pro04_document_sharded(int, text) IS
'R5 on a coordinator: the Pro_04 of year for oa over the whole cluster, as inami.pro04_document writes it on one node: every shard''s Result records merged in request-number order; an error when the shards disagree on the shipment.';

-- explain_decision of the shard that holds the household.
CREATE FUNCTION inami.explain_decision_sharded(request_number text, control_year int)
RETURNS TABLE (step int, what text, value text, rule text)
LANGUAGE plpgsql STRICT AS $$
DECLARE
    n int := (SELECT count(*) FROM inami.shard);
    target text;
BEGIN
    SELECT h.name INTO target FROM inami.shard h WHERE h.position = inami.shard_of($1, n);
    IF target IS NULL THEN
        RAISE EXCEPTION 'this coordinator has no shard'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = 'inami.explain_decision_sharded asks the shard that holds the household; inami.shard is empty.',
                  HINT = 'On one node, call inami.explain_decision instead.';
    END IF;
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT * FROM %I.dblink($1, $2) AS t(step int, what text, value text, rule text)', inami._dblink_schema())
    USING target, pg_catalog.format('SELECT * FROM inami.explain_decision(%L, %s)', $1, $2);
END;
$$;
COMMENT ON FUNCTION inami.explain_decision_sharded(text, int) IS
'R4 on a coordinator: inami.explain_decision(request_number, control_year) run on the shard that holds the household (inami.shard_of(request_number, shards)).';

-- The operator's parameter rows of the coordinator, published for the shards to subscribe
-- to (logical replication): every parameter table, rows not shipped (the shipped ones come
-- with CREATE EXTENSION on each node). A filtered publication replicates an UPDATE or
-- DELETE only when the replica identity covers the filter's column: FULL.
CREATE FUNCTION inami.publish_parameters(publication name DEFAULT 'inami_parameters') RETURNS int
LANGUAGE plpgsql STRICT AS $$
DECLARE
    t text;
    tables text[] := '{}';
BEGIN
    IF pg_catalog.current_setting('wal_level') <> 'logical' THEN
        RAISE EXCEPTION 'the coordinator must run with wal_level = logical to publish its parameters'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  DETAIL = pg_catalog.format('wal_level is %s.', pg_catalog.current_setting('wal_level')),
                  HINT = 'ALTER SYSTEM SET wal_level = logical; then restart the coordinator.';
    END IF;
    FOR t IN SELECT f.table_name FROM inami.parameter_fingerprint() f ORDER BY 1
    LOOP
        EXECUTE pg_catalog.format('ALTER TABLE %s REPLICA IDENTITY FULL', t);
        tables := tables || pg_catalog.format('%s WHERE (NOT shipped)', t);
    END LOOP;
    EXECUTE pg_catalog.format('CREATE PUBLICATION %I FOR TABLE %s', publication, pg_catalog.array_to_string(tables, ', '));
    RETURN pg_catalog.cardinality(tables);
END;
$$;
COMMENT ON FUNCTION inami.publish_parameters(name) IS
'On a coordinator: publishes the operator''s rows (not shipped) of every parameter table (REPLICA IDENTITY FULL, so that updates and deletes replicate too) as publication; each shard subscribes to it, and every node computes with the same parameters. Needs wal_level = logical. Returns the number of tables published.';

-- Sharded loading. The coordinator reads the file ONCE, with the one streamed reader
-- (inami._split_flow_file, in C): each shard receives only its part, an exchange document
-- of the same kind with only its households (Pro_03 persons, keyed by NISS, go to every
-- shard), written into a large object made on the shard through dblink, in bounded chunks,
-- inside the shard's open transaction. Each shard loads its part with the one-node loader
-- (inami._load_flow_part, streamed from the large object), which makes every check of a
-- one-node load on it; the coordinator judges on the whole file what a part cannot tell (a
-- Syst04 none of whose households a Syst01 lists), then commits every shard, or none.
CREATE FUNCTION inami._split_flow_file(path text, dblink_schema text, shard_names text[], connections text[],
                                       positions int[], shards int,
                                       OUT kind text, OUT records bigint, OUT parts oid[], OUT part_records bigint[])
AS 'MODULE_PATHNAME', 'inami_split_flow_file'
LANGUAGE C STRICT;
COMMENT ON FUNCTION inami._split_flow_file(text, text, text[], text[], int[], int) IS
'Run by inami.load_flow_file_sharded on the coordinator: reads the file at path once (streamed, checked by the reader) and writes each shard''s part (the same root, the households inami.shard_of places on the shard at that position of shards; Pro03 persons to every shard) into a new large object on the shard, through the dblink connection named (in its open transaction), 1 MB at a time. Returns the kind of the file, its records, and for each shard given the large object of its part and the records in it. Refuses Syst05 and Pro04 files.';

CREATE FUNCTION inami._load_flow_lo(part oid, source text, name text) RETURNS bigint
AS 'MODULE_PATHNAME', 'inami_load_flow_lo'
LANGUAGE C STRICT;
COMMENT ON FUNCTION inami._load_flow_lo(oid, text, text) IS
'The loader of inami.load_flow_file over the document in the large object part (streamed): the same checks and tables; source names the document in messages, name is the source_name of its inami.flow_file row. Returns the records loaded.';

-- On a shard: the sharded loads it committed through two-phase commit, by the name of
-- their prepared transaction. The coordinator writes the row into the load's transaction
-- before PREPARE TRANSACTION: a load whose part is still prepared on one shard and whose
-- row is committed on another was decided (commit the rest); with no row anywhere, it
-- was not (roll back). inami.prepared_loads reads them.
CREATE TABLE inami.shard_load (
    gid text PRIMARY KEY CHECK (gid LIKE 'inami\_load:%' AND pg_catalog.octet_length(gid) < 200),
    source_name text NOT NULL CHECK (pg_catalog.btrim(source_name) <> ''),
    loaded_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE inami.shard_load IS
'On a shard: one row per sharded load (inami.load_flow_file_sharded) committed here through two-phase commit, written in the load''s transaction before it was prepared. A part still prepared on another shard under the same load (gid up to its last colon) was decided: COMMIT PREPARED it (inami.prepared_loads says so).';
COMMENT ON COLUMN inami.shard_load.gid IS 'The prepared transaction''s name on this shard: inami_load:<coordinator database oid>:<coordinator transaction>.<microseconds>:<shard name>.';
COMMENT ON COLUMN inami.shard_load.source_name IS 'The coordinator''s path of the file (the source_name of its inami.flow_file row).';
COMMENT ON COLUMN inami.shard_load.loaded_at IS 'When the load''s transaction started on this shard.';
SELECT pg_catalog.pg_extension_config_dump('inami.shard_load', '');

CREATE FUNCTION inami._load_flow_part(part oid, path text, shard_position int, shards int,
                                      OUT kind text, OUT kept bigint, OUT listed bigint)
LANGUAGE plpgsql AS $$
DECLARE
    file bigint;
BEGIN
    -- A Syst04 none of whose households a Syst01 here lists is the coordinator's to judge,
    -- on the whole file; every other check is made here, as on one node.
    PERFORM pg_catalog.set_config('inami.flow_load_part', 'on', true);
    kept := inami._load_flow_lo(part, pg_catalog.format('the part of %s for shard position %s of %s', path, shard_position, shards), path);
    PERFORM pg_catalog.set_config('inami.flow_load_part', 'off', true);
    PERFORM pg_catalog.lo_unlink(part);
    file := pg_catalog.currval(pg_catalog.pg_get_serial_sequence('inami.flow_file', 'file_id'));
    SELECT f.kind INTO kind FROM inami.flow_file f WHERE f.file_id = file;
    IF kind IN ('Syst05', 'Pro04') THEN
        RAISE EXCEPTION 'a % file is not loaded on the shards', kind
            USING ERRCODE = 'feature_not_supported',
                  DETAIL = pg_catalog.format('%s answers households one by one; each shard lists only its own. The file: %s.', kind, path),
                  HINT = 'Load it on the shard of each household: its lines for the households of inami.shard_of(request_number, shards) = position, with inami.load_flow on that shard.';
    END IF;
    IF kind = 'Syst04' THEN
        SELECT count(*) INTO listed FROM inami.syst04_household h
        WHERE h.file_id = file AND EXISTS (SELECT 1 FROM inami.syst01_household s
                                           WHERE s.control_year = h.control_year AND s.request_number = h.request_number);
    END IF;
END;
$$;
COMMENT ON FUNCTION inami._load_flow_part(oid, text, int, int) IS
'Run on a shard by inami.load_flow_file_sharded, in a transaction it commits once every shard has loaded: loads the part of the file at path that the coordinator wrote into the large object part (the households of the shard at shard_position, Pro_03 persons whole) with the one-node loader, every check of a one-node load made on it but for a Syst04 whose households this node lists none of (judged by the coordinator on the whole file); the file''s row in inami.flow_file names path. Drops the large object. Returns the kind of the file, the households (or persons) loaded and, for a Syst04, how many of them a Syst01 here lists.';

CREATE FUNCTION inami.load_flow_file_sharded(path text, shards text[] DEFAULT NULL)
RETURNS TABLE (shard text, kept bigint)
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    n int := (SELECT count(*) FROM inami.shard);
    s record;
    c text;
    conns text[] := '{}';
    names text[] := '{}';
    live text[] := '{}';
    positions int[] := '{}';
    split_kind text;
    split_records bigint;
    split_parts oid[];
    split_sent bigint[];
    failed text[] := '{}';
    first_error text;
    first_state text;
    msg text; det text; st text;
    unknown text;
    k text;
    l bigint;
    committed text[] := '{}';
    two_phase int;
    no_two_phase text[] := '{}';
    load_id text;
    gid text;
    prepared text[] := '{}';
    prepared_gids text[] := '{}';
    kept_prepared text[] := '{}';
    left_prepared text[] := '{}';
    i int;
BEGIN
    SELECT pg_catalog.string_agg(u, ', ') INTO unknown
    FROM pg_catalog.unnest(shards) AS u WHERE u NOT IN (SELECT h.name FROM inami.shard h);
    IF unknown IS NOT NULL OR n = 0 THEN
        RAISE EXCEPTION 'no shard named %', coalesce(unknown, 'in inami.shard')
            USING ERRCODE = 'undefined_object',
                  DETAIL = pg_catalog.format('The shards of this coordinator: %s.',
                                             coalesce((SELECT pg_catalog.string_agg(h.name, ', ' ORDER BY h.position) FROM inami.shard h), 'none')),
                  HINT = 'Name shards of inami.shard, or give NULL for all of them.';
    END IF;
    FOR s IN SELECT h.name FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        PERFORM inami._check_shard(s.name);
    END LOOP;
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.inami_flow_part (shard text, conn text, sent bigint, kind text, kept bigint, listed bigint);
    TRUNCATE pg_temp.inami_flow_part;
    -- A connection to every shard, each in a transaction left open.
    FOR s IN SELECT h.name, h.position FROM inami.shard h WHERE shards IS NULL OR h.name = ANY (shards) ORDER BY h.position
    LOOP
        c := 'inami_load_' || s.name;
        BEGIN
            EXECUTE pg_catalog.format('SELECT %I.dblink_disconnect($1) WHERE $1 = ANY (%I.dblink_get_connections())', dbl, dbl) USING c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_connect($1, $2)', dbl) USING c, s.name;
            conns := conns || c;
            EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''BEGIN'')', dbl) USING c;
            -- Two-phase commit needs prepared transactions on every shard of the load.
            EXECUTE pg_catalog.format('SELECT v FROM %I.dblink($1, $q$SELECT pg_catalog.current_setting(''max_prepared_transactions'')::int$q$) AS t(v int)', dbl)
            INTO two_phase USING c;
            IF two_phase = 0 THEN
                no_two_phase := no_two_phase || s.name;
            END IF;
            names := names || s.name;
            live := live || c;
            positions := positions || s.position;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
            failed := failed || s.name;
            first_state := coalesce(first_state, st);
            first_error := coalesce(first_error, pg_catalog.format('On shard %s: %s', s.name, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
        END;
    END LOOP;
    IF pg_catalog.cardinality(failed) = 0 THEN
        -- The file read once, here; each shard's part into a large object there. A failure
        -- (the file, a shard) is the error: every shard's transaction is rolled back.
        BEGIN
            SELECT f.kind, f.records, f.parts, f.part_records INTO split_kind, split_records, split_parts, split_sent
            FROM inami._split_flow_file(path, dbl, names, live, positions, n) f;
        EXCEPTION WHEN OTHERS OR query_canceled THEN
            PERFORM inami._dblink_close(dbl, conns);
            RAISE;
        END;
        -- Every shard loads its part at once.
        FOR i IN 1 .. pg_catalog.cardinality(names)
        LOOP
            c := live[i];
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_send_query($1, $2)', dbl)
                USING c, pg_catalog.format('SELECT * FROM inami._load_flow_part(%s, %L, %s, %s)', split_parts[i], path, positions[i], n);
                INSERT INTO pg_temp.inami_flow_part VALUES (names[i], c, split_sent[i], NULL, NULL, NULL);
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                failed := failed || names[i];
                first_state := coalesce(first_state, st);
                first_error := coalesce(first_error, pg_catalog.format('On shard %s: %s', names[i], pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
            END;
        END LOOP;
    END IF;
    FOR s IN SELECT * FROM pg_temp.inami_flow_part p ORDER BY p.shard
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1) AS t(kind text, kept bigint, listed bigint)', dbl)
            INTO k, kept, l USING s.conn;
            EXECUTE pg_catalog.format('SELECT * FROM %I.dblink_get_result($1, false) AS t(kind text, kept bigint, listed bigint)', dbl) USING s.conn;
            -- the shard loaded what it was sent, no more, no less
            IF kept IS DISTINCT FROM s.sent THEN
                RAISE EXCEPTION 'shard % loaded % records of the % of its part', s.shard, kept, s.sent
                    USING ERRCODE = 'internal_error';
            END IF;
            UPDATE pg_temp.inami_flow_part p SET kind = k, kept = load_flow_file_sharded.kept, listed = l WHERE p.shard = s.shard;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
            failed := failed || s.shard;
            first_state := coalesce(first_state, st);
            first_error := coalesce(first_error, pg_catalog.format('On shard %s: %s', s.shard, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
        END;
    END LOOP;
    -- On the whole file: a Syst04 is refused when no Syst01 of the cluster lists any of its
    -- households (the one-node check; loading it on the shards named only, the others'
    -- parts are already in).
    IF pg_catalog.cardinality(failed) = 0 AND shards IS NULL AND split_kind = 'Syst04' AND split_records > 0
       AND (SELECT sum(p.listed) FROM pg_temp.inami_flow_part p) = 0 THEN
        PERFORM inami._dblink_close(dbl, conns);
        RAISE EXCEPTION 'Syst04 answers no household that a Syst01 lists'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = pg_catalog.format('None of the %s households of %s is in a loaded Syst01 of its control year on any shard.',
                                             split_records, path),
                  HINT = 'Load the Syst01 of that control year first (inami.load_flow_file_sharded), or check that this file is of the right control year. No shard loaded the file.';
    END IF;
    -- Every shard's part committed when every shard has loaded it; otherwise none is. With
    -- prepared transactions on every shard: PREPARE TRANSACTION on each (a failure rolls
    -- back those prepared), then COMMIT PREPARED on each; a shard that fails then keeps its
    -- part prepared, to be committed there. Without: COMMIT on each in turn.
    IF pg_catalog.cardinality(failed) = 0 AND pg_catalog.cardinality(no_two_phase) = 0 THEN
        load_id := pg_catalog.format('inami_load:%s:%s.%s', (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()),
                                     pg_catalog.pg_current_xact_id(), (pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000000)::bigint);
        FOR s IN SELECT * FROM pg_temp.inami_flow_part p ORDER BY p.shard
        LOOP
            gid := load_id || ':' || s.shard;
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl)
                USING s.conn, pg_catalog.format('INSERT INTO inami.shard_load (gid, source_name) VALUES (%L, %L)', gid, path);
                EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl)
                USING s.conn, pg_catalog.format('PREPARE TRANSACTION %L', gid);
                prepared := prepared || s.shard;
                prepared_gids := prepared_gids || gid;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                failed := failed || s.shard;
                first_state := coalesce(first_state, st);
                first_error := coalesce(first_error, pg_catalog.format('On shard %s, preparing: %s', s.shard, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
            END;
            EXIT WHEN pg_catalog.cardinality(failed) > 0;
        END LOOP;
        FOR i IN 1 .. pg_catalog.cardinality(prepared)
        LOOP
            c := (SELECT p.conn FROM pg_temp.inami_flow_part p WHERE p.shard = prepared[i]);
            BEGIN
                IF pg_catalog.cardinality(failed) > 0 THEN
                    EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl) USING c, pg_catalog.format('ROLLBACK PREPARED %L', prepared_gids[i]);
                ELSE
                    EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, $2)', dbl) USING c, pg_catalog.format('COMMIT PREPARED %L', prepared_gids[i]);
                    committed := committed || prepared[i];
                END IF;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                IF pg_catalog.cardinality(failed) > 0 THEN
                    left_prepared := left_prepared || pg_catalog.format('ROLLBACK PREPARED %L; on shard %s', prepared_gids[i], prepared[i]);
                ELSE
                    kept_prepared := kept_prepared || prepared[i];
                    left_prepared := left_prepared || pg_catalog.format('COMMIT PREPARED %L; on shard %s', prepared_gids[i], prepared[i]);
                    first_state := coalesce(first_state, st);
                    first_error := coalesce(first_error, pg_catalog.format('On shard %s, committing its prepared part %s: %s.', prepared[i], prepared_gids[i],
                                                                          pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
                END IF;
            END;
        END LOOP;
    ELSIF pg_catalog.cardinality(failed) = 0 THEN
        RAISE WARNING 'the file % is committed on the shards in turn, without two-phase commit', path
            USING ERRCODE = '01000',
                  DETAIL = pg_catalog.format('Shards %s run with max_prepared_transactions = 0: a shard failing while the shards commit leaves the file on those that committed.',
                                             pg_catalog.array_to_string(no_two_phase, ', ')),
                  HINT = 'Set max_prepared_transactions (e.g. 10) in the postgresql.conf of those shards and restart them: the shards then prepare their parts first and commit all or none.';
        FOR s IN SELECT * FROM pg_temp.inami_flow_part p ORDER BY p.shard
        LOOP
            BEGIN
                EXECUTE pg_catalog.format('SELECT %I.dblink_exec($1, ''COMMIT'')', dbl) USING s.conn;
                committed := committed || s.shard;
            EXCEPTION WHEN OTHERS THEN
                GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL, st = RETURNED_SQLSTATE;
                failed := failed || s.shard;
                first_state := coalesce(first_state, st);
                first_error := coalesce(first_error, pg_catalog.format('On shard %s, committing: %s', s.shard, pg_catalog.concat_ws(' ', msg, NULLIF(det, ''))));
            END;
        END LOOP;
    END IF;
    -- Closing a connection rolls back what it left open.
    PERFORM inami._dblink_close(dbl, conns);
    IF pg_catalog.cardinality(kept_prepared) > 0 THEN
        RAISE EXCEPTION 'the file % is prepared but not committed on shard %', path, pg_catalog.array_to_string(kept_prepared, ', ')
            USING ERRCODE = 'external_routine_exception',
                  DETAIL = first_error || pg_catalog.format(' Every shard had prepared its part; %s committed. The part of %s is kept prepared on it.',
                                                            coalesce(NULLIF(pg_catalog.array_to_string(committed, ', '), ''), 'none'),
                                                            pg_catalog.array_to_string(kept_prepared, ', ')),
                  HINT = CASE WHEN pg_catalog.cardinality(committed) > 0
                              THEN pg_catalog.format('The load is decided: once the shard is back, finish it there: %s (SELECT * FROM inami.prepared_loads(); lists what is left). Do not load the file again.',
                                                     pg_catalog.array_to_string(left_prepared, ' '))
                              ELSE 'No shard has committed its part yet: finish every part the same way, as SELECT * FROM inami.prepared_loads(); says once every shard is back (it rolls back a load no shard committed; then load the file again).' END;
    END IF;
    IF pg_catalog.cardinality(failed) > 0 THEN
        RAISE EXCEPTION 'the file % was not loaded on shard %', path, pg_catalog.array_to_string(failed, ', ')
            USING ERRCODE = 'external_routine_exception',
                  DETAIL = first_error || CASE WHEN pg_catalog.cardinality(committed) = 0
                                               THEN ' No shard loaded the file.'
                                               ELSE pg_catalog.format(' Shards %s committed their part before the failure.', pg_catalog.array_to_string(committed, ', ')) END,
                  HINT = CASE WHEN pg_catalog.cardinality(left_prepared) > 0
                              THEN pg_catalog.format('A part stays prepared where it could not be rolled back: once the shard is back, %s Then fix the cause and load the file again.',
                                                     pg_catalog.array_to_string(left_prepared, ' '))
                              WHEN pg_catalog.cardinality(committed) = 0
                              THEN 'Fix the cause, then load the file again.'
                              ELSE pg_catalog.format('Once the cause is fixed, load it on those shards only: SELECT * FROM inami.load_flow_file_sharded(%L, %L); (a shard that has the file already refuses it: this shipment is already loaded).', path, failed::text) END;
    END IF;
    FOR s IN SELECT p.shard, p.kept FROM pg_temp.inami_flow_part p ORDER BY p.shard
    LOOP
        shard := s.shard;
        kept := s.kept;
        RETURN NEXT;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION inami.load_flow_file_sharded(text, text[]) IS
'On a coordinator: loads an exchange file (Syst01, Syst04, Pro01, Pro03) of the coordinator''s server on every shard (or on those named). The coordinator reads it once (streamed) and sends each shard only its part (its households; Pro_03 persons, keyed by NISS, to every shard) into a large object there, in chunks; each shard loads its part with the one-node loader and its checks (the file row in its flow_file). A Syst04 none of whose households a Syst01 lists is judged on the whole file. The shards commit when all have loaded their part: a failure leaves the file on none (unless a shard fails while committing; the error names the shards to load it on). No shard reads the file. Returns the households (or persons) each shard loaded.';

-- The sharded loads left prepared on the shards (the coordinator stopped between PREPARE
-- TRANSACTION and COMMIT PREPARED, or a shard failed at COMMIT PREPARED), and what to do
-- with each: a load one shard committed (its inami.shard_load row) was decided, its other
-- parts are committed; a load no shard committed is rolled back.
CREATE FUNCTION inami.prepared_loads()
RETURNS TABLE (shard text, gid text, prepared timestamptz, committed_elsewhere boolean, finish text)
LANGUAGE plpgsql AS $$
DECLARE
    dbl text := inami._dblink_schema();
    s record;
    msg text;
    loads text[];
    found text[];
    decided text[] := '{}';
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS pg_temp.inami_prepared_load (shard text, gid text, prepared timestamptz, load text);
    TRUNCATE pg_temp.inami_prepared_load;
    FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
    LOOP
        BEGIN
            EXECUTE pg_catalog.format(
                'INSERT INTO pg_temp.inami_prepared_load SELECT $1, t.gid, t.prepared, '
                'pg_catalog.split_part(t.gid, '':'', 1) || '':'' || pg_catalog.split_part(t.gid, '':'', 2) || '':'' || pg_catalog.split_part(t.gid, '':'', 3) '
                'FROM %I.dblink($1, $q$SELECT gid, prepared FROM pg_catalog.pg_prepared_xacts '
                'WHERE gid LIKE ''inami\_load:%%'' AND database = pg_catalog.current_database()$q$) AS t(gid text, prepared timestamptz)', dbl)
            USING s.name;
        EXCEPTION WHEN sqlclient_unable_to_establish_sqlconnection THEN
            GET STACKED DIAGNOSTICS msg = PG_EXCEPTION_DETAIL;
            RAISE EXCEPTION 'shard "%" cannot be reached', s.name
                USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection',
                      DETAIL = pg_catalog.concat_ws(' ', NULLIF(msg, ''), 'Whether it holds a prepared load, or committed a load prepared on another shard, cannot be told without it.'),
                      HINT = 'Start the shard, then list again: SELECT * FROM inami.prepared_loads();';
        END;
    END LOOP;
    SELECT pg_catalog.array_agg(DISTINCT p.load) INTO loads FROM pg_temp.inami_prepared_load p;
    IF loads IS NULL THEN
        RETURN;
    END IF;
    -- The loads some shard committed: their inami.shard_load row is there.
    FOR s IN SELECT h.name FROM inami.shard h ORDER BY h.position
    LOOP
        EXECUTE pg_catalog.format('SELECT pg_catalog.array_agg(t.load) FROM %I.dblink($1, $2) AS t(load text)', dbl)
        INTO found
        USING s.name, pg_catalog.format(
            'SELECT DISTINCT l FROM (SELECT pg_catalog.split_part(gid, '':'', 1) || '':'' || pg_catalog.split_part(gid, '':'', 2) || '':'' '
            '|| pg_catalog.split_part(gid, '':'', 3) AS l FROM inami.shard_load) x WHERE l = ANY (%L::text[])', loads);
        decided := decided || coalesce(found, '{}');
    END LOOP;
    -- A load of this database whose transaction is still in progress is still committing
    -- its parts: nothing to finish by hand (finish NULL).
    RETURN QUERY
    SELECT p.shard, p.gid, p.prepared, p.load = ANY (decided),
           CASE WHEN pg_catalog.split_part(p.gid, ':', 2) = (SELECT d.oid::text FROM pg_catalog.pg_database d
                                                               WHERE d.datname = pg_catalog.current_database())
                     AND pg_catalog.pg_xact_status(pg_catalog.split_part(pg_catalog.split_part(p.gid, ':', 3), '.', 1)::xid8)
                         = 'in progress'
                THEN NULL
                ELSE pg_catalog.format('%s PREPARED %L', CASE WHEN p.load = ANY (decided) THEN 'COMMIT' ELSE 'ROLLBACK' END, p.gid) END
    FROM pg_temp.inami_prepared_load p ORDER BY p.gid;
END;
$$;
COMMENT ON FUNCTION inami.prepared_loads() IS
'On a coordinator: the parts of sharded loads (inami.load_flow_file_sharded) left prepared on its shards (pg_prepared_xacts, gid inami_load:...), one row per shard and part, with the statement that finishes each, to run on that shard: COMMIT PREPARED when another shard committed the same load (its inami.shard_load row: the load was decided), ROLLBACK PREPARED when none did (the coordinator stopped before the commit phase; load the file again); NULL while the load that prepared it is still running (its transaction on this coordinator in progress). Every shard must be reachable.';
