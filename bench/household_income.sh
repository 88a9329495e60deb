# Household income (R3): household_income over 1M households (~2.6M members) and
# ipcal_income over ~6M IPCAL items, generated reproducibly (setseed). In one run, as
# ratios: against the floor (PostgreSQL's sum, grouped the same way), against the same
# rule in plain SQL, against a PL/pgSQL aggregate, and 2 parallel workers against 1.
# Grouped comparisons run serially (max_parallel_workers_per_gather = 0) so that every
# contender gets the same plan shape; the parallel ones are said below. Every query
# consumes every result: SELECT count(*), sum(x) FROM (...).
bench_sql <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_household, bench_member, bench_member_p, bench_item;
DROP AGGREGATE IF EXISTS bench_household_plpgsql(text, numeric, date, int);
DROP AGGREGATE IF EXISTS bench_ipcal_plpgsql(numeric, numeric, text);
DROP TYPE IF EXISTS bench_household_state;
DELETE FROM inami.ipcal_rule WHERE source = 'bench: sample rows, not the real annex';

-- Twelve sample IPCAL codes for tax year 2023 (the real list is operator data).
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
SELECT 2023, (1250 + i)::text, (ARRAY[1, 1, 1, 1, 1, 1, -1, -1, 0.1, 0.1, 0, 0])[i + 1],
       'bench sample code ' || i, 'bench: sample rows, not the real annex'
FROM generate_series(0, 11) AS i;

SELECT setseed(0.2024);
-- 1M households of 1 to 4 members (2.6 on average).
CREATE TABLE bench_household AS
SELECT h, 1 + (random() < 0.8)::int + (random() < 0.5)::int + (random() < 0.3)::int AS size
FROM generate_series(1, 1000000) AS h;
-- Members: 85 % answered "00" with an income, the others 01 03 04 10 11 99; 1 % without
-- a birth date; 0 to 3 IPCAL items per "00" member (2.7 on average).
CREATE TABLE bench_member AS
SELECT row_number() OVER () AS member, h AS household, x.rc AS return_code,
       CASE WHEN x.rc = '00' THEN round((random() * 45000 - 3000)::numeric, 2) END AS income,
       x.bd AS birth_date, 2022 AS income_year,
       CASE WHEN x.rc = '00' THEN 1 + (random() < 0.8)::int + (random() < 0.5)::int + (random() < 0.4)::int ELSE 0 END AS n_items
FROM bench_household, generate_series(1, size) AS k,
     LATERAL (SELECT CASE WHEN random() < 0.85 THEN '00'
                          ELSE (ARRAY['01', '03', '04', '10', '11', '99'])[1 + floor(random() * 6)::int] END AS rc,
                     CASE WHEN random() < 0.01 THEN NULL
                          ELSE '1935-01-01'::date + floor(random() * 32000)::int END AS bd,
                     k) AS x;
CREATE TABLE bench_item AS
SELECT member, (1250 + floor(random() * 12)::int)::text AS code, round((random() * 20000)::numeric, 2) AS amount
FROM bench_member, generate_series(1, n_items) AS k;
-- The same members, hash-partitioned by household (for partition-wise aggregation).
CREATE TABLE bench_member_p (LIKE bench_member) PARTITION BY HASH (household);
CREATE TABLE bench_member_p0 PARTITION OF bench_member_p FOR VALUES WITH (MODULUS 4, REMAINDER 0);
CREATE TABLE bench_member_p1 PARTITION OF bench_member_p FOR VALUES WITH (MODULUS 4, REMAINDER 1);
CREATE TABLE bench_member_p2 PARTITION OF bench_member_p FOR VALUES WITH (MODULUS 4, REMAINDER 2);
CREATE TABLE bench_member_p3 PARTITION OF bench_member_p FOR VALUES WITH (MODULUS 4, REMAINDER 3);
INSERT INTO bench_member_p SELECT * FROM bench_member;
VACUUM ANALYZE bench_household, bench_member, bench_member_p, bench_item;

-- R3 as a PL/pgSQL aggregate, what a user would write without the extension.
CREATE TYPE bench_household_state AS (total numeric, unknown boolean, year int, n bigint);
CREATE FUNCTION bench_household_step(s bench_household_state, rc text, inc numeric, bd date, y int)
RETURNS bench_household_state LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    s.n := s.n + 1;
    IF y IS NULL THEN
        s.unknown := true;
        RETURN s;
    END IF;
    IF s.year IS NULL THEN
        s.year := y;
    ELSIF s.year <> y THEN
        RAISE EXCEPTION 'household members have different income years'
            USING ERRCODE = 'invalid_parameter_value', DETAIL = format('%s and %s', s.year, y),
                  HINT = 'Group by household and income year.';
    END IF;
    IF rc = '00' THEN
        IF inc IS NULL THEN s.unknown := true; ELSE s.total := s.total + inc; END IF;
    ELSIF bd IS NULL OR bd <= make_date(y - 17, 1, 1) THEN
        s.unknown := true;
    END IF;
    RETURN s;
END;
$$;
CREATE FUNCTION bench_household_final(s bench_household_state) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF s.n = 0 OR s.unknown THEN RETURN NULL; END IF;
    RETURN greatest(s.total, 0.00);
END;
$$;
CREATE AGGREGATE bench_household_plpgsql(text, numeric, date, int) (
    SFUNC = bench_household_step, STYPE = bench_household_state,
    FINALFUNC = bench_household_final, INITCOND = '(0,f,,0)');

CREATE FUNCTION bench_ipcal_step(s numeric, amount numeric, factor numeric, code text)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF factor IS NULL THEN
        RAISE EXCEPTION 'IPCAL code "%" has no factor', code
            USING ERRCODE = 'object_not_in_prerequisite_state', DETAIL = 'inami.ipcal_rule has no row for it.',
                  HINT = 'Add the code to inami.ipcal_rule.';
    END IF;
    RETURN s + amount * factor;
END;
$$;
CREATE FUNCTION bench_ipcal_final(s numeric) RETURNS numeric LANGUAGE sql IMMUTABLE RETURN round(s, 2);
CREATE AGGREGATE bench_ipcal_plpgsql(numeric, numeric, text) (
    SFUNC = bench_ipcal_step, STYPE = numeric, FINALFUNC = bench_ipcal_final, INITCOND = '0');
SQL
bench_sql -c "SELECT (SELECT count(*) FROM bench_household) AS households, (SELECT count(*) FROM bench_member) AS members, (SELECT count(*) FROM bench_item) AS ipcal_items"

# The plain-SQL rule, checked against the aggregate before anything is timed.
HH_SQL="CASE WHEN min(income_year) <> max(income_year) THEN -1
             WHEN bool_or(CASE WHEN income_year IS NULL THEN true
                               WHEN return_code = '00' THEN income IS NULL
                               ELSE birth_date IS NULL OR birth_date <= make_date(income_year - 17, 1, 1) END)
             THEN NULL
             ELSE greatest(sum(CASE WHEN return_code = '00' THEN income ELSE 0 END), 0.00) END"
HH_C="inami.household_income(return_code, income, birth_date, income_year)"
bench_sql -c "SELECT count(*) AS households, count(x) AS known, count(*) FILTER (WHERE x IS DISTINCT FROM y OR x IS DISTINCT FROM z) AS differences
              FROM (SELECT household, $HH_C AS x, $HH_SQL AS y,
                           bench_household_plpgsql(return_code, income, birth_date, income_year) AS z
                    FROM bench_member GROUP BY household) s"

# work_mem large enough that no contender's hash table spills (2.2M groups for IPCAL).
# The contenders of one comparison run in turn, round after round (bench_rounds).
SERIAL="SET max_parallel_workers_per_gather = 0; SET work_mem = '1GB';"
PL_HH="bench_household_plpgsql(return_code, income, birth_date, income_year)"
bench_rounds \
	"R3 grouping alone: count(*) GROUP BY household" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT household, count(*) AS x FROM bench_member GROUP BY household) s" \
	"R3 floor: sum(income) GROUP BY household" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT household, sum(income) AS x FROM bench_member GROUP BY household) s" \
	"R3 household_income GROUP BY household" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT household, $HH_C AS x FROM bench_member GROUP BY household) s" \
	"R3 plain SQL rule GROUP BY household" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT household, $HH_SQL AS x FROM bench_member GROUP BY household) s" \
	"R3 PL/pgSQL aggregate GROUP BY household" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT household, $PL_HH AS x FROM bench_member GROUP BY household) s"
bench_ratio "R3 household_income GROUP BY household" "R3 floor: sum(income) GROUP BY household"
bench_ratio "R3 plain SQL rule GROUP BY household" "R3 household_income GROUP BY household"
bench_ratio "R3 PL/pgSQL aggregate GROUP BY household" "R3 household_income GROUP BY household"
bench_ratio "R3 household_income GROUP BY household" "R3 grouping alone: count(*) GROUP BY household"
# The most any aggregate could gain on PL/pgSQL here, even one that does nothing.
bench_ratio "R3 PL/pgSQL aggregate GROUP BY household" "R3 grouping alone: count(*) GROUP BY household"

# Ungrouped, serial: every member into one state, where the aggregate's own cost shows.
bench_rounds \
	"R3 scan alone: count(*) ungrouped, serial" "$SERIAL SELECT count(*) FROM bench_member" \
	"R3 floor: sum(income) ungrouped, serial" "$SERIAL SELECT sum(income) FROM bench_member" \
	"R3 household_income ungrouped, serial" "$SERIAL SELECT $HH_C FROM bench_member" \
	"R3 plain SQL rule ungrouped, serial" "$SERIAL SELECT $HH_SQL FROM bench_member" \
	"R3 PL/pgSQL aggregate ungrouped, serial" "$SERIAL SELECT $PL_HH FROM bench_member"
bench_ratio "R3 household_income ungrouped, serial" "R3 floor: sum(income) ungrouped, serial"
bench_ratio "R3 plain SQL rule ungrouped, serial" "R3 household_income ungrouped, serial"
bench_ratio "R3 PL/pgSQL aggregate ungrouped, serial" "R3 household_income ungrouped, serial"

# Parallel, ungrouped: one partial state per worker. The leader only gathers
# (parallel_leader_participation = off), so 1 worker = 1 process. The machine's own
# ceiling for 2 workers against 1: PostgreSQL's sum over the same rows.
PAR="SET parallel_leader_participation = off; SET parallel_setup_cost = 0; SET min_parallel_table_scan_size = 0;"
bench_rounds \
	"R3 floor: sum(income) ungrouped, 1 worker" "$PAR SET max_parallel_workers_per_gather = 1; SELECT sum(income) FROM bench_member" \
	"R3 floor: sum(income) ungrouped, 2 workers" "$PAR SET max_parallel_workers_per_gather = 2; SELECT sum(income) FROM bench_member" \
	"R3 household_income ungrouped, 1 worker" "$PAR SET max_parallel_workers_per_gather = 1; SELECT $HH_C FROM bench_member" \
	"R3 household_income ungrouped, 2 workers" "$PAR SET max_parallel_workers_per_gather = 2; SELECT $HH_C FROM bench_member"
bench_ratio "R3 floor: sum(income) ungrouped, 1 worker" "R3 floor: sum(income) ungrouped, 2 workers"
bench_ratio "R3 household_income ungrouped, 1 worker" "R3 household_income ungrouped, 2 workers"
bench_ratio "R3 household_income ungrouped, serial" "R3 household_income ungrouped, 2 workers"

# Parallel, grouped: partition-wise aggregation over 4 hash partitions by household.
PW="SET enable_partitionwise_aggregate = on; $PAR"
PW_Q="SELECT count(*), sum(x) FROM (SELECT household, $HH_C AS x FROM bench_member_p GROUP BY household) s"
bench_rounds \
	"R3 household_income partition-wise GROUP BY, serial" "$SERIAL SET enable_partitionwise_aggregate = on; $PW_Q" \
	"R3 household_income partition-wise GROUP BY, 1 worker" "$PW SET max_parallel_workers_per_gather = 1; $PW_Q" \
	"R3 household_income partition-wise GROUP BY, 2 workers" "$PW SET max_parallel_workers_per_gather = 2; $PW_Q"
bench_ratio "R3 household_income partition-wise GROUP BY, 1 worker" "R3 household_income partition-wise GROUP BY, 2 workers"
bench_ratio "R3 household_income partition-wise GROUP BY, serial" "R3 household_income partition-wise GROUP BY, 2 workers"

# ipcal_income over the ~6M items, grouped by member.
IP_C="inami.ipcal_income(code, amount, 2023)"
IP_SQL="round(sum(i.amount * r.factor), 2)"
IP_JOIN="bench_item i JOIN inami.ipcal_rule r ON r.tax_year = 2023 AND r.code = i.code"
IP_PL="bench_ipcal_plpgsql(i.amount, r.factor, i.code)"
IP_LEFT="bench_item i LEFT JOIN inami.ipcal_rule r ON r.tax_year = 2023 AND r.code = i.code"
bench_sql -c "SELECT count(*) AS members, count(*) FILTER (WHERE x IS DISTINCT FROM y OR x IS DISTINCT FROM z) AS differences
              FROM (SELECT member, inami.ipcal_income(i.code, i.amount, 2023) AS x, $IP_SQL AS y, $IP_PL AS z
                    FROM $IP_LEFT GROUP BY member) s"
bench_rounds \
	"IPCAL grouping alone: count(*) GROUP BY member" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT member, count(*) AS x FROM bench_item GROUP BY member) s" \
	"IPCAL floor: sum(amount) GROUP BY member" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT member, sum(amount) AS x FROM bench_item GROUP BY member) s" \
	"IPCAL ipcal_income GROUP BY member" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT member, $IP_C AS x FROM bench_item GROUP BY member) s" \
	"IPCAL sum(amount * factor) join GROUP BY member" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT member, $IP_SQL AS x FROM $IP_JOIN GROUP BY member) s" \
	"IPCAL PL/pgSQL aggregate (left join) GROUP BY member" \
	"$SERIAL SELECT count(*), sum(x) FROM (SELECT member, $IP_PL AS x FROM $IP_LEFT GROUP BY member) s"
bench_ratio "IPCAL ipcal_income GROUP BY member" "IPCAL floor: sum(amount) GROUP BY member"
bench_ratio "IPCAL sum(amount * factor) join GROUP BY member" "IPCAL ipcal_income GROUP BY member"
bench_ratio "IPCAL PL/pgSQL aggregate (left join) GROUP BY member" "IPCAL ipcal_income GROUP BY member"
bench_ratio "IPCAL ipcal_income GROUP BY member" "IPCAL grouping alone: count(*) GROUP BY member"
bench_ratio "IPCAL PL/pgSQL aggregate (left join) GROUP BY member" "IPCAL grouping alone: count(*) GROUP BY member"

bench_rounds \
	"IPCAL scan alone: count(*) ungrouped, serial" "$SERIAL SELECT count(*) FROM bench_item" \
	"IPCAL floor: sum(amount) ungrouped, serial" "$SERIAL SELECT sum(amount) FROM bench_item" \
	"IPCAL sum(amount * factor) join ungrouped, serial" "$SERIAL SELECT $IP_SQL FROM $IP_JOIN" \
	"IPCAL ipcal_income ungrouped, serial" "$SERIAL SELECT $IP_C FROM bench_item" \
	"IPCAL PL/pgSQL aggregate (left join) ungrouped, serial" "$SERIAL SELECT $IP_PL FROM $IP_LEFT"
bench_ratio "IPCAL ipcal_income ungrouped, serial" "IPCAL floor: sum(amount) ungrouped, serial"
bench_ratio "IPCAL sum(amount * factor) join ungrouped, serial" "IPCAL ipcal_income ungrouped, serial"
bench_ratio "IPCAL PL/pgSQL aggregate (left join) ungrouped, serial" "IPCAL ipcal_income ungrouped, serial"

bench_rounds \
	"IPCAL floor: sum(amount) ungrouped, 1 worker" "$PAR SET max_parallel_workers_per_gather = 1; SELECT sum(amount) FROM bench_item" \
	"IPCAL floor: sum(amount) ungrouped, 2 workers" "$PAR SET max_parallel_workers_per_gather = 2; SELECT sum(amount) FROM bench_item" \
	"IPCAL ipcal_income ungrouped, 1 worker" "$PAR SET max_parallel_workers_per_gather = 1; SELECT $IP_C FROM bench_item" \
	"IPCAL ipcal_income ungrouped, 2 workers" "$PAR SET max_parallel_workers_per_gather = 2; SELECT $IP_C FROM bench_item"
bench_ratio "IPCAL floor: sum(amount) ungrouped, 1 worker" "IPCAL floor: sum(amount) ungrouped, 2 workers"
bench_ratio "IPCAL ipcal_income ungrouped, 1 worker" "IPCAL ipcal_income ungrouped, 2 workers"
bench_ratio "IPCAL ipcal_income ungrouped, serial" "IPCAL ipcal_income ungrouped, 2 workers"

bench_sql <<'SQL'
DROP TABLE bench_household, bench_member, bench_member_p, bench_item;
DROP AGGREGATE bench_household_plpgsql(text, numeric, date, int);
DROP AGGREGATE bench_ipcal_plpgsql(numeric, numeric, text);
DROP FUNCTION bench_household_step, bench_household_final, bench_ipcal_step, bench_ipcal_final;
DROP TYPE bench_household_state;
DELETE FROM inami.ipcal_rule WHERE source = 'bench: sample rows, not the real annex';
SQL
