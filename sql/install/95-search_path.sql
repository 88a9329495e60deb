------------------------------------------------------------------------------------------
-- The very last step, of an install as of an upgrade (CREATE OR REPLACE drops a function's
-- SET clause): the search_path of every PL/pgSQL function pinned
------------------------------------------------------------------------------------------

-- Every PL/pgSQL function runs with search_path = pg_catalog, pg_temp: a function or
-- operator of the same name in a schema the caller's search_path lists (one another role
-- can write to) can never stand in for a built-in. The SQL functions with a body are
-- BEGIN ATOMIC (bound when created), the RETURN ones too; the procedures, which commit
-- and so take no SET clause, pin it with set_config at the start of each transaction.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang
             WHERE p.pronamespace = 'inami'::regnamespace AND p.prokind = 'f' AND l.lanname = 'plpgsql'
    LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
    END LOOP;
END;
$$;
