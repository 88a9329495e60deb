# Control runs: run_systematic_control on 100k and 1M households against the floor, the
# cheapest thing PostgreSQL does with the same rows: one INSERT ... SELECT joining the four
# input tables (Syst01 households and members, Syst04 answers and members) grouped by
# household into a bare table (no key, no constraint). Beside it, for the reading: the
# computation alone (systematic_candidates counted) and the write alone (the run's own
# rows into control_decision, its keys and constraints: as the first run writes them,
# inami._insert_select, and by a plain INSERT ... SELECT, per-row foreign-key checks). Contenders
# run in turn, round after round (BENCH_RUNS, default 3); 100k -> 1M (linear = 10x).
# The data are generated with SQL, reproducibly (no random):
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

# The floor: the four inputs joined member by member, grouped by household, into a bare
# table: what any control must at least read and write.
floor_join() {
	echo "TRUNCATE bench_join; INSERT INTO bench_join
SELECT h.control_year, h.request_number, min(h.oa), count(*), max(a.shipment), sum(cardinality(a.ipcal_code)),
       max(s.household_total), bool_and(a.return_code = '00')
FROM inami.syst01_household h
JOIN inami.syst01_member m ON m.control_year = h.control_year AND m.request_number = h.request_number
LEFT JOIN inami.syst04_member a ON a.control_year = m.control_year AND a.request_number = m.request_number AND a.niss = m.niss
LEFT JOIN inami.syst04_household s ON s.control_year = a.control_year AND s.request_number = a.request_number
                                   AND s.shipment = a.shipment
WHERE h.control_year = $1
GROUP BY h.control_year, h.request_number"
}
# Before every timed run (untimed): a checkpoint, so that no run pays for the writes of the
# one before it.
control_quiet() {
	bench_sql -c "CHECKPOINT"
}
# Before a first run (and the write alone): the year has no decision (deleted, vacuumed).
control_no_decisions() {
	bench_sql -c "DELETE FROM inami.control_decision WHERE control_year = $1" -c "VACUUM inami.control_decision"
	control_quiet
}
BENCH_TMP_PEAK=$(mktemp)
bench_sql -c "CREATE TABLE bench_join (control_year int, request_number text, oa text, member_rows bigint, shipment int,
                                       items bigint, household_total numeric, all_known boolean)"
for size in 100k 1M; do
	year=$([ "$size" = 100k ] && echo 2023 || echo 2024)
	# the run's own rows, for the write alone
	bench_sql -c "CALL inami.run_systematic_control($year)" -c "INSERT INTO bench_decisions SELECT * FROM inami.control_decision WHERE control_year = $year"
	bench_rounds_prep \
		"floor: INSERT ... SELECT joining the inputs, $size" control_quiet "$(floor_join "$year")" \
		"the computation alone (systematic_candidates), $size" control_quiet \
			"SELECT count(*) FROM inami.systematic_candidates($year)" \
		"the write alone (the run's rows into control_decision, as the first run writes them), $size" "control_no_decisions $year" \
			"SELECT inami._insert_select('inami.control_decision', 'SELECT * FROM bench_decisions WHERE control_year = $year')" \
		"the write alone by a plain INSERT, $size" "control_no_decisions $year" \
			"INSERT INTO inami.control_decision SELECT * FROM bench_decisions WHERE control_year = $year" \
		"run_systematic_control, $size, first run" "control_no_decisions $year" "CALL inami.run_systematic_control($year)" \
		"run_systematic_control, $size, rerun" control_quiet "CALL inami.run_systematic_control($year)"
	# the backend's private memory during a first run (peak RssAnon, sampled every 0.1 s)
	control_no_decisions "$year" >/dev/null
	bench_peak_rss control_mem >"$BENCH_TMP_PEAK" &
	PGAPPNAME=control_mem bench_sql -c "CALL inami.run_systematic_control($year)" >/dev/null
	wait
	printf '  run_systematic_control, %s, first run: peak RssAnon %d MB (work_mem %s)\n' "$size" \
		$(( $(cat "$BENCH_TMP_PEAK") / 1024 )) "$(bench_sql -Atc "SHOW work_mem")"
	bench_sql -Atc "SELECT format('  %s households, %s decisions, %s rows in the floor', (SELECT count(*) FROM inami.syst01_household WHERE control_year = $year),
	                (SELECT count(*) FROM inami.control_decision WHERE control_year = $year), (SELECT count(*) FROM bench_join))"
done
for size in 100k 1M; do
	floor="floor: INSERT ... SELECT joining the inputs, $size"
	bench_ratio "run_systematic_control, $size, first run" "$floor"
	bench_ratio "run_systematic_control, $size, rerun" "$floor"
	bench_ratio "the computation alone (systematic_candidates), $size" "$floor"
	bench_ratio "the write alone (the run's rows into control_decision, as the first run writes them), $size" "$floor"
	bench_ratio "the write alone by a plain INSERT, $size" "$floor"
done
bench_ratio "run_systematic_control, 1M, first run" "run_systematic_control, 100k, first run"
bench_ratio "run_systematic_control, 1M, rerun" "run_systematic_control, 100k, rerun"
bench_ratio "floor: INSERT ... SELECT joining the inputs, 1M" "floor: INSERT ... SELECT joining the inputs, 100k"
bench_sql -c "SELECT year, status, counts FROM inami.control_run ORDER BY run_id DESC LIMIT 2"
# Disk, for capacity planning: the tables of both years (1.1M households), indexes included.
bench_sql -c "SELECT c.relname, pg_size_pretty(pg_total_relation_size(c.oid)) AS total,
                     pg_size_pretty(pg_indexes_size(c.oid)) AS indexes
              FROM pg_class c WHERE c.oid IN ('inami.syst01_household'::regclass, 'inami.syst01_member'::regclass,
                  'inami.syst04_household'::regclass, 'inami.syst04_member'::regclass,
                  'inami.household_event'::regclass, 'inami.control_decision'::regclass) ORDER BY 1"
# Leave the cluster as it was for the next benchmark (flows loads a Syst01 of 2024 too).
# (TRUNCATE when the cluster holds nothing else: deleting 1.1M households row by row, with
# their cascades, takes minutes.)
bench_sql -c "DROP TABLE bench_join, bench_decisions" >/dev/null
rm -f "$BENCH_TMP_PEAK"
if [ "$(bench_sql -Atc "SELECT count(*) FROM inami.flow_file WHERE source_name NOT LIKE 'bench %'")" = 0 ]; then
	bench_sql -c "SET client_min_messages = warning" -c "TRUNCATE inami.flow_file, inami.control_run CASCADE" >/dev/null
else
	bench_sql -c "DELETE FROM inami.flow_file WHERE source_name LIKE 'bench %'" -c "DELETE FROM inami.control_run" >/dev/null
fi
bench_sql -c "VACUUM" >/dev/null
