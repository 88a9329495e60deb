# The report of a control year (tools/report.sh) on 1M households, against the plain
# count(*) GROUP BY reason over the same decisions. The decisions of two control years
# (REPORT_BENCH_HOUSEHOLDS each, default 1,000,000, OA 300) are inserted directly, with
# their Syst_01 households and Syst_04 answers (shipment 1), reproducibly (no random): every
# reason, sizes 1-4, rights ending over the months, 3% provisional (a third each: no
# answer, asked again, cadastral income); and a proactive flow of a tenth as
# many households each year, with G outcomes. Each figure is the median of BENCH_RUNS
# rounds, the contenders in turn.
report_n=${REPORT_BENCH_HOUSEHOLDS:-1000000}
report_gen() {
	local year=$1 n=$2
	bench_sql -v year="$year" -v n="$n" <<'SQL'
INSERT INTO inami.flow_file (kind, year, oa, income_year, shipment, source_name, record_count) VALUES
    ('Syst01', :year, '300', NULL, NULL, 'bench report Syst01 ' || :year, :n),
    ('Syst04', :year, NULL, :year - 2, 1, 'bench report Syst04 ' || :year, :n - :n / 100),
    ('Pro01', :year, '300', NULL, NULL, 'bench report Pro01 ' || :year, :n / 10);
INSERT INTO inami.control_run (kind, year, started_at, ended_at, status)
VALUES ('systematic_control', :year, now(), now(), 'succeeded'), ('proactive_flow', :year, now(), now(), 'succeeded');
CREATE TEMP TABLE rn AS
SELECT i, '300' || :year || lpad(i::text, 11, '0') AS request_number FROM generate_series(1, :n) AS i;
INSERT INTO inami.syst01_household (control_year, request_number, oa, requester_niss, file_id)
SELECT :year, request_number, '300', lpad(i::text, 11, '0'),
       (SELECT file_id FROM inami.flow_file WHERE source_name = 'bench report Syst01 ' || :year)
FROM rn;
-- i % 100: 0-54 KEEPSYST, 55-84 STOPSYST, 85-88 STOPFAM, 89-90 STOPDEATH, 91-92 STOPOA,
-- 93 STOPFISC, 94-96 KEEPADV, 97-99 KEEPDSH; i % 1000 < 30 provisional (a third each:
-- no answer, asked again, cadastral income).
INSERT INTO inami.control_decision (control_year, request_number, oa, reason, right_end, run_id,
                                    household_size, income_year, shipment, household_total, verdict,
                                    sends_feedback, provisional)
SELECT :year, rn.request_number, '300', r.reason,
       CASE WHEN r.reason LIKE 'KEEP%' THEN make_date(:year + 1, 12, 31)
            WHEN r.reason IN ('STOPSYST', 'STOPFISC') THEN make_date(:year, 12, 31)
            ELSE make_date(:year, 1 + rn.i % 12, 1 + rn.i % 28) END,
       (SELECT max(run_id) FROM inami.control_run WHERE kind = 'systematic_control' AND year = :year),
       1 + rn.i % 4, :year - 2,
       CASE WHEN rn.i % 1000 < 10 THEN NULL ELSE 1 END,
       CASE WHEN rn.i % 1000 < 20 THEN NULL ELSE 10000 + rn.i % 30000 END,
       CASE WHEN r.reason IN ('STOPSYST') THEN 'NOK' WHEN rn.i % 1000 < 20 THEN 'ONHOLD' ELSE 'OK' END,
       r.reason <> 'STOPOA' OR rn.i % 2 = 0, rn.i % 1000 < 30
FROM rn, LATERAL (SELECT CASE WHEN rn.i % 100 < 55 THEN 'KEEPSYST' WHEN rn.i % 100 < 85 THEN 'STOPSYST'
                              WHEN rn.i % 100 < 89 THEN 'STOPFAM' WHEN rn.i % 100 < 91 THEN 'STOPDEATH'
                              WHEN rn.i % 100 < 93 THEN 'STOPOA' WHEN rn.i % 100 < 94 THEN 'STOPFISC'
                              WHEN rn.i % 100 < 97 THEN 'KEEPADV' ELSE 'KEEPDSH' END AS reason) r;
-- The Syst_04 answers of shipment 1 (the October shipment is not loaded): every household
-- but those without an answer.
INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, file_id)
SELECT :year, request_number, 1, :year - 2, lpad(i::text, 11, '0'),
       (SELECT file_id FROM inami.flow_file WHERE source_name = 'bench report Syst04 ' || :year)
FROM rn WHERE i % 1000 >= 10;
-- The proactive flow: a tenth of the households, two members each, 40% OK, outcomes for
-- nine OK households in ten.
INSERT INTO inami.pro01_household (year, request_number, oa, requester_niss, file_id)
SELECT :year, request_number, '300', lpad(i::text, 11, '0'),
       (SELECT file_id FROM inami.flow_file WHERE source_name = 'bench report Pro01 ' || :year)
FROM rn WHERE i <= :n / 10;
INSERT INTO inami.pro01_member (year, request_number, niss)
SELECT :year, request_number, lpad((i * 10 + k)::text, 11, '0') FROM rn, generate_series(0, 1) AS k WHERE i <= :n / 10;
INSERT INTO inami.proactive_decision (year, request_number, code, run_id)
SELECT :year, request_number, CASE WHEN i % 5 < 2 THEN 'OK' WHEN i % 5 < 4 THEN 'NOK' ELSE 'ONHOLD' END,
       (SELECT max(run_id) FROM inami.control_run WHERE kind = 'proactive_flow' AND year = :year)
FROM rn WHERE i <= :n / 10;
INSERT INTO inami.proactive_outcome (year, request_number, niss, category, contacted)
SELECT :year, rn.request_number, m.niss, 1 + (rn.i / 5) % 6, 1 + (rn.i / 5) % 6 >= 3
FROM rn JOIN inami.pro01_member m ON m.year = :year AND m.request_number = rn.request_number
WHERE rn.i <= :n / 10 AND rn.i % 5 < 2 AND rn.i % 50 <> 0;
DROP TABLE rn;
SQL
}
report_gen 2023 "$report_n"
report_gen 2024 "$report_n"
bench_sql -c "VACUUM ANALYZE"
bench_sql -Atc "SELECT format('  %s decisions of 2024, %s of 2023, %s proactive outcomes',
       count(*) FILTER (WHERE control_year = 2024), count(*) FILTER (WHERE control_year = 2023),
       (SELECT count(*) FROM inami.proactive_outcome)) FROM inami.control_decision"

report_out=$(mktemp /tmp/inami-bench-report.XXXXXX.html)
report_floor="SELECT reason, count(*) FROM inami.control_decision WHERE control_year = 2024 AND oa = '300' GROUP BY reason"
declare -a report_runs_floor=() report_runs_report=()
for ((i = 0; i < ${BENCH_RUNS:-3}; i++)); do
	t0=$(date +%s%N); bench_sql -c "$report_floor" >/dev/null; t1=$(date +%s%N)
	report_runs_floor+=($(( (t1 - t0) / 1000000 )))
	t0=$(date +%s%N); bash "$INAMI_ROOT/tools/report.sh" 2024 300 --dbname postgres --out "$report_out" >/dev/null; t1=$(date +%s%N)
	report_runs_report+=($(( (t1 - t0) / 1000000 )))
done
report_f="count(*) GROUP BY reason, 2024 (psql)"
report_r="tools/report.sh 2024 300, the whole report"
BENCH_MS[$report_f]=$(printf '%s\n' "${report_runs_floor[@]}" | bench_median)
BENCH_MS[$report_r]=$(printf '%s\n' "${report_runs_report[@]}" | bench_median)
printf '  %-58s %8d ms  (%s)\n' "$report_f" "${BENCH_MS[$report_f]}" "${report_runs_floor[*]}"
printf '  %-58s %8d ms  (%s)\n' "$report_r" "${BENCH_MS[$report_r]}" "${report_runs_report[*]}"
bench_ratio "$report_r" "$report_f"
# Where the time goes: each view the report reads, for 2024 and OA 300.
bench_rounds \
	"report_control_year" "SELECT * FROM inami.report_control_year WHERE control_year = 2024 AND oa = '300'" \
	"report_decisions_by_reason" "SELECT * FROM inami.report_decisions_by_reason WHERE control_year = 2024 AND oa = '300'" \
	"report_decisions_by_right_end_month" "SELECT * FROM inami.report_decisions_by_right_end_month WHERE control_year = 2024 AND oa = '300'" \
	"report_decisions_by_verdict" "SELECT * FROM inami.report_decisions_by_verdict WHERE control_year = 2024 AND oa = '300'" \
	"report_decisions_by_household_size" "SELECT * FROM inami.report_decisions_by_household_size WHERE control_year = 2024 AND oa = '300'" \
	"report_provisional" "SELECT * FROM inami.report_provisional WHERE control_year = 2024 AND oa = '300'" \
	"report_proactive_statistics" "SELECT * FROM inami.report_proactive_statistics WHERE year = 2024"
ls -l "$report_out" | awk '{ printf "  the report: %s bytes\n", $5 }'
rm -f "$report_out"
# Leave the cluster as it was for the next benchmark (TRUNCATE when it holds nothing else:
# deleting two million households row by row, with their cascades, takes minutes).
if [ "$(bench_sql -Atc "SELECT count(*) FROM inami.flow_file WHERE source_name NOT LIKE 'bench report %'")" = 0 ]; then
	bench_sql -c "SET client_min_messages = warning" -c "TRUNCATE inami.flow_file, inami.control_run CASCADE" >/dev/null
else
	bench_sql -c "DELETE FROM inami.flow_file WHERE source_name LIKE 'bench report %'" >/dev/null
fi
bench_sql -c "VACUUM" >/dev/null
