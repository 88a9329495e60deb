# Control runs (issue 7): run_systematic_control on 100k and 1M households against one
# INSERT ... SELECT of as many rows (the floor: writing the decisions and nothing else),
# and 100k -> 1M (linear = 10x). The data are generated with SQL, reproducibly (no random):
# household i has 1 to 3 members (an adult requester, an adult, a child), 90% answered in
# shipment 1, 5% answered "03" in shipment 1 and "00" in shipment 2, 5% never answered;
# one or two IPCAL items per known member; 1% have a composition change.
bench_gen() {
	local year=$1 n=$2
	bench_sql -v year="$year" -v n="$n" <<'SQL'
CREATE TEMP TABLE g AS
SELECT i, 1 + i % 3 AS size,
       (date '1940-01-01' + (i % 20000))::date AS born1,
       (date '1945-01-01' + (i * 7 % 20000))::date AS born2,
       (date '2006-01-01' + (i % 3000))::date AS born3,
       (i / 20000) + 1 AS serial
FROM generate_series(1, :n) AS i;
CREATE TEMP TABLE gm AS
SELECT g.i, k, b AS born, nine || lpad((97 - ((CASE WHEN b >= '2000-01-01' THEN '2' ELSE '' END || nine)::bigint % 97))::text, 2, '0') AS niss
FROM g, LATERAL (VALUES (1, g.born1), (2, g.born2), (3, g.born3)) AS m(k, b),
     LATERAL (SELECT to_char(b, 'YYMMDD') || lpad((100 * (k - 1) + g.serial)::text, 3, '0') AS nine) x
WHERE k <= g.size;
INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
    ('Syst01', :year, '300', NULL, NULL, 'bench Syst01 ' || :year, :n),
    ('Syst04', :year, NULL, :year - 2, 1, 'bench Syst04 1 ' || :year, :n),
    ('Syst04', :year, NULL, :year - 2, 2, 'bench Syst04 2 ' || :year, :n);
CREATE TEMP TABLE gf AS SELECT kind || coalesce(shipment, 0) AS k, file_id FROM inami.flow_file WHERE year = :year;
INSERT INTO inami.syst01_household
SELECT :year, '300' || :year || m.niss, '300', m.niss, (SELECT file_id FROM gf WHERE k = 'Syst010') FROM gm m WHERE m.k = 1;
INSERT INTO inami.syst01_member SELECT :year, '300' || :year || r.niss, m.niss FROM gm m JOIN gm r ON r.i = m.i AND r.k = 1;
-- answers: shipment 1 for i % 20 <> 0; i % 20 = 1 again in shipment 2 ("03" first); i % 20 = 0 never.
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
SELECT :year, '300' || :year || m.niss, s, :year - 2, m.niss, (SELECT file_id FROM gf WHERE k = 'Syst04' || s)
FROM gm m, generate_series(1, 2) AS s
WHERE m.k = 1 AND m.i % 20 <> 0 AND (s = 1 OR m.i % 20 = 1);
-- IPCAL items of a "00": '1250' of 5,000 to 37,767; a quarter of them also '1460' of 100.00.
INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, ipcal_code, ipcal_amount)
SELECT :year, '300' || :year || r.niss, s, m.niss, c.code,
       CASE WHEN c.code <> '00' THEN '{}'::text[] WHEN hashtext(m.niss) % 4 = 0 THEN '{1250,1460}'::text[]
            ELSE '{1250}'::text[] END,
       CASE WHEN c.code <> '00' THEN '{}'::numeric[]
            WHEN hashtext(m.niss) % 4 = 0 THEN ARRAY[5000 + (hashtext(m.niss) & 32767), 100.00]
            ELSE ARRAY[5000 + (hashtext(m.niss) & 32767)]::numeric[] END
FROM gm m JOIN gm r ON r.i = m.i AND r.k = 1, generate_series(1, 2) AS s,
     LATERAL (SELECT CASE WHEN m.k = 3 THEN '01' WHEN s = 1 AND m.i % 20 = 1 THEN '03' ELSE '00' END AS code) c
WHERE m.i % 20 <> 0 AND (s = 1 OR m.i % 20 = 1);
INSERT INTO inami.household_event (control_year, request_number, event, event_date)
SELECT :year, '300' || :year || m.niss, 'composition_change', make_date(:year, 1 + m.i % 12, 1)
FROM gm m WHERE m.k = 1 AND m.i % 100 = 7;
DROP TABLE g, gm, gf;
SQL
}

bench_sql <<'SQL'
INSERT INTO inami.im_ceiling (income_year, base, per_member, source)
VALUES (2021, 23303.84, 4314.18, 'bench: the 2022 figures reused for income year 2021')
ON CONFLICT DO NOTHING;
INSERT INTO inami.ipcal_rule (tax_year, code, factor, label, source)
SELECT t, c, f, 'bench', 'bench row' FROM unnest(ARRAY[2022, 2023]) AS t,
       (VALUES ('1250', 1), ('1460', -1)) AS r(c, f)
ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS bench_floor (LIKE inami.control_decision INCLUDING DEFAULTS);
CREATE TABLE IF NOT EXISTS bench_decisions (LIKE inami.control_decision);
SQL
bench_gen 2023 100000
bench_gen 2024 1000000
bench_sql -c "VACUUM ANALYZE"
# What the runs decide from (systematic_households, one C pass) must equal the SQL form
# (systematic_members grouped by household), household by household: checked at 100k.
bench_sql -Atc "WITH c AS (SELECT request_number, oa, household_size, income_year, shipment, sent_total,
                            household_total, cadastral_income FROM inami.systematic_households(2023)),
s AS (SELECT m.request_number, min(m.oa), count(*)::int, min(m.income_year), min(m.shipment), min(m.sent_total),
             inami.household_income(m.return_code, m.income, m.birth_date, m.income_year), sum(m.cadastral_income)
      FROM inami.systematic_members(2023) m GROUP BY m.request_number)
SELECT format('  systematic_households = grouped systematic_members: %s households, %s differ',
              (SELECT count(*) FROM c),
              (SELECT count(*) FROM (SELECT * FROM c EXCEPT ALL SELECT * FROM s) a)
              + (SELECT count(*) FROM (SELECT * FROM s EXCEPT ALL SELECT * FROM c) b))"

# Floor A: the decisions into a bare copy of the table (no key, no constraint), six columns.
# Floor B: replace the year's rows of inami.control_decision (six columns), with its
# primary key, CHECKs and the two foreign keys (Syst_01 household, run log).
# Floor C: one INSERT ... SELECT of the very rows the run wrote (every column) into
# inami.control_decision, the year's rows deleted and vacuumed before (untimed): writing
# the decisions and nothing else.
FLOOR_A="TRUNCATE bench_floor; INSERT INTO bench_floor (control_year, request_number, oa, reason, right_end, run_id)
SELECT control_year, request_number, oa, 'KEEPSYST', make_date(control_year + 1, 12, 31), 1
FROM inami.syst01_household WHERE control_year ="
floor_b() {
	echo "BEGIN; DELETE FROM inami.control_decision WHERE control_year = $1;
INSERT INTO inami.control_decision (control_year, request_number, oa, reason, right_end, run_id)
SELECT control_year, request_number, oa, 'KEEPSYST', make_date(control_year + 1, 12, 31),
       (SELECT max(run_id) FROM inami.control_run)
FROM inami.syst01_household WHERE control_year = $1; COMMIT;"
}
FLOOR_C="INSERT INTO inami.control_decision SELECT * FROM bench_decisions WHERE control_year ="
# Before every timed run (untimed): a checkpoint, so that no run pays for the writes of the
# one before it (floor B writes a million rows: its checkpoint would slow what follows).
control_quiet() {
	bench_sql -c "CHECKPOINT"
}
# Before a first run (and floor C): the year has no decision (deleted and vacuumed).
control_no_decisions() {
	bench_sql -c "DELETE FROM inami.control_decision WHERE control_year = $1" -c "VACUUM inami.control_decision"
	control_quiet
}
bench_sql -c "INSERT INTO inami.control_run (kind, year, ended_at, status) VALUES ('systematic_control', 2023, clock_timestamp(), 'succeeded')"
for size in 100k 1M; do
	year=$([ "$size" = 100k ] && echo 2023 || echo 2024)
	bench_time "floor A: INSERT ... SELECT $size rows, bare table" "$FLOOR_A $year" control_quiet
	bench_time "floor B: replace $size rows of control_decision" "$(floor_b "$year")" control_quiet
	bench_time "candidates alone (the computation), $size" "SELECT count(*) FROM inami.systematic_candidates($year)" control_quiet
	bench_time "run_systematic_control, $size, first run" "CALL inami.run_systematic_control($year)" "control_no_decisions $year"
	bench_time "run_systematic_control, $size, rerun" "CALL inami.run_systematic_control($year)" control_quiet
	bench_sql -c "INSERT INTO bench_decisions SELECT * FROM inami.control_decision WHERE control_year = $year"
	bench_time "floor C: INSERT ... SELECT the run's $size rows" "$FLOOR_C $year" "control_no_decisions $year"
done
for size in 100k 1M; do
	for run in "first run" rerun; do
		bench_ratio "run_systematic_control, $size, $run" "floor A: INSERT ... SELECT $size rows, bare table"
		bench_ratio "run_systematic_control, $size, $run" "floor B: replace $size rows of control_decision"
		bench_ratio "run_systematic_control, $size, $run" "floor C: INSERT ... SELECT the run's $size rows"
	done
	bench_ratio "candidates alone (the computation), $size" "floor A: INSERT ... SELECT $size rows, bare table"
done
bench_ratio "run_systematic_control, 1M, first run" "run_systematic_control, 100k, first run"
bench_ratio "run_systematic_control, 1M, rerun" "run_systematic_control, 100k, rerun"
bench_ratio "floor B: replace 1M rows of control_decision" "floor B: replace 100k rows of control_decision"
bench_ratio "floor C: INSERT ... SELECT the run's 1M rows" "floor C: INSERT ... SELECT the run's 100k rows"
bench_sql -c "SELECT year, status, counts FROM inami.control_run ORDER BY run_id DESC LIMIT 2"
# Leave the cluster as it was for the next benchmark (flows loads a Syst01 of 2024 too).
# (TRUNCATE when the cluster holds nothing else: deleting 1.1M households row by row, with
# their cascades, takes minutes.)
bench_sql -c "DROP TABLE bench_floor, bench_decisions" >/dev/null
if [ "$(bench_sql -Atc "SELECT count(*) FROM inami.flow_file WHERE source_name NOT LIKE 'bench %'")" = 0 ]; then
	bench_sql -c "SET client_min_messages = warning" -c "TRUNCATE inami.flow_file, inami.control_run CASCADE" >/dev/null
else
	bench_sql -c "DELETE FROM inami.flow_file WHERE source_name LIKE 'bench %'" -c "DELETE FROM inami.control_run" >/dev/null
fi
bench_sql -c "VACUUM" >/dev/null
