# Data exchanges (issue 6): loading a generated Syst_04 (shipment 1) into the inami tables,
#  - load_flow_file (streamed reader, checks, batches through COPY's insert path),
#  - the floor: bench/flow2csv (libxml2 xmlTextReader, as xmllint --stream; no checks)
#    writing two CSV files, then COPY of each into the same tables,
#  - what a user would write: xmltable over pg_read_file (the households, the members and
#    their items gathered with array_agg, in one statement),
# and the backend's private memory (peak RssAnon, sampled every 0.1 s; VmHWM counts the
# shared buffers the load touches, so it is not the figure) while loading.
# FLOWS_HOUSEHOLDS (default 200000, about 110 MB) sets the size; FLOWS_XMLTABLE=0 skips
# xmltable (it needs several GB of memory on large files); FLOWS_RUNS (default 3) rounds
# of the three loads, the median of each printed (FLOWS_RUNS=1 for a 1 GB file).
FLOWS_HOUSEHOLDS=${FLOWS_HOUSEHOLDS:-200000}
fdir=$(mktemp -d /tmp/inami-flows.XXXXXX)
chown postgres:postgres "$fdir"
chmod 755 "$fdir"
say "generating $FLOWS_HOUSEHOLDS households (Syst01, Syst04 shipment 1) into $fdir"
perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst01 --households "$FLOWS_HOUSEHOLDS" --out "$fdir/syst01.xml"
perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst04 --households "$FLOWS_HOUSEHOLDS" --out "$fdir/syst04.xml"
cc -O2 -o "$fdir/flow2csv" "$INAMI_ROOT/bench/flow2csv.c" $(xml2-config --cflags --libs)
chmod 644 "$fdir"/*.xml
printf '  Syst04 file: %d MB\n' $(( $(stat -c %s "$fdir/syst04.xml") / 1048576 ))
bench_sql -c "SELECT inami.load_flow_file('$fdir/syst01.xml')" >/dev/null

# flows_peak_rss APP: the peak RssAnon (kB) of the backend whose application_name is APP,
# sampled until it ends; printed on stdout.
flows_peak_rss() {
	local app=$1 pid="" peak=0 v
	for _ in $(seq 1 600); do
		pid=$(bench_sql -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = '$app'")
		[ -n "$pid" ] && break
		sleep 0.05
	done
	while [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; do
		v=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$v" ] && [ "$v" -gt "$peak" ] && peak=$v
		sleep 0.1
	done
	echo "$peak"
}

# flows_run LABEL APP CMD: time CMD once, sampling the memory of backend APP; the times of
# the rounds go to FLOWS_TIMES[LABEL], the highest peak to FLOWS_PEAK[LABEL].
declare -A FLOWS_TIMES FLOWS_PEAK
flows_run() {
	local label=$1 app=$2 cmd=$3 t0 t1 peakfile ms kb
	peakfile=$(mktemp)
	# every load starts from empty Syst_04 tables (after a DELETE, the dead index entries
	# of the load before would slow the next one)
	bench_sql -c "TRUNCATE inami.syst04_member, inami.syst04_household; DELETE FROM inami.flow_file WHERE kind = 'Syst04'; CHECKPOINT" >/dev/null
	flows_peak_rss "$app" >"$peakfile" &
	local sampler=$!
	t0=$(date +%s%N)
	eval "$cmd"
	t1=$(date +%s%N)
	wait "$sampler"
	ms=$(( (t1 - t0) / 1000000 ))
	kb=$(cat "$peakfile")
	FLOWS_TIMES[$label]+="$ms "
	[ "$kb" -gt "${FLOWS_PEAK[$label]:-0}" ] && FLOWS_PEAK[$label]=$kb
	printf '  round %d  %-50s %8d ms  peak RssAnon %6d MB\n' "$round" "$label" "$ms" $(( kb / 1024 ))
	rm -f "$peakfile"
}

# flows_median LABEL: the median of its rounds into BENCH_MS[LABEL], printed.
flows_median() {
	local label=$1 n
	n=$(wc -w <<<"${FLOWS_TIMES[$label]}")
	BENCH_MS[$label]=$(tr ' ' '\n' <<<"${FLOWS_TIMES[$label]}" | sed '/^$/d' | sort -n | sed -n "$(( (n + 1) / 2 ))p")
	printf '  %-58s %8d ms  (median of %d: %s) peak RssAnon %6d MB\n' "$label" "${BENCH_MS[$label]}" "$n" \
		"$(sed 's/ $//' <<<"${FLOWS_TIMES[$label]}")" $(( ${FLOWS_PEAK[$label]} / 1024 ))
}

# FLOWS_RUNS rounds (default 3), each loading the file the three ways in turn, so that
# the machine's noise falls on the three alike.
for round in $(seq 1 "${FLOWS_RUNS:-3}"); do
	flows_run "load_flow_file" "flows_load" \
		"PGAPPNAME=flows_load bench_sql -c \"SELECT inami.load_flow_file('$fdir/syst04.xml')\" >/dev/null"
	n_loaded=$(bench_sql -Atc "SELECT count(*) FROM inami.syst04_ipcal")

	flows_run "floor: flow2csv (xmlTextReader) + COPY" "flows_copy" "
		id=\$(bench_sql -Atc \"INSERT INTO inami.flow_file (kind, year, income_year, shipment, source_name, record_count)
			VALUES ('Syst04', 2024, 2022, 1, 'copy', 0) RETURNING file_id\" | head -1)
		'$fdir/flow2csv' '$fdir/syst04.xml' '$fdir/h.csv' '$fdir/m.csv' \"\$id\"
		chmod 644 '$fdir'/*.csv
		PGAPPNAME=flows_copy bench_sql -c \"COPY inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, household_total, file_id) FROM '$fdir/h.csv' CSV\" \
			-c \"COPY inami.syst04_member (control_year, request_number, shipment, niss, return_code, tax_sheet, cadastral_income, personal_total, ipcal_code, ipcal_amount) FROM '$fdir/m.csv' CSV\" >/dev/null"
	[ "$(bench_sql -Atc "SELECT count(*) FROM inami.syst04_ipcal")" = "$n_loaded" ] || echo "  the floor loaded another number of items!"

	if [ "${FLOWS_XMLTABLE:-1}" = 1 ]; then
		flows_run "xmltable over pg_read_file" "flows_xmltable" "PGAPPNAME=flows_xmltable bench_sql >/dev/null <<SQL
WITH f AS (INSERT INTO inami.flow_file (kind, year, income_year, shipment, source_name, record_count)
           VALUES ('Syst04', 2024, 2022, 1, 'xmltable', 0) RETURNING file_id),
d AS MATERIALIZED (SELECT xmlparse(document pg_read_file('$fdir/syst04.xml')) AS x),
h AS (INSERT INTO inami.syst04_household (control_year, request_number, shipment, income_year, requester_niss, household_total, file_id)
      SELECT 2024, t.request_number, 1, 2022, t.requester_niss, t.household_total, f.file_id
      FROM f, d, xmltable(XMLNAMESPACES('urn:be:inami:flows:1' AS i), '/i:Syst04/i:Household' PASSING d.x
           COLUMNS request_number text PATH '@requestNumber', requester_niss text PATH 'i:Requester/@niss',
                   household_total numeric PATH 'i:HouseholdTotal') AS t),
i AS (SELECT x.request_number, x.niss, array_agg(x.code ORDER BY x.pos) AS codes, array_agg(x.amount ORDER BY x.pos) AS amounts
      FROM d, xmltable(XMLNAMESPACES('urn:be:inami:flows:1' AS i), '/i:Syst04/i:Household/i:Member/i:Ipcal' PASSING d.x
           COLUMNS pos FOR ORDINALITY, request_number text PATH '../../@requestNumber', niss text PATH '../@niss',
                   code text PATH '@code', amount numeric PATH '@amount') AS x
      GROUP BY x.request_number, x.niss)
INSERT INTO inami.syst04_member (control_year, request_number, shipment, niss, return_code, tax_sheet, cadastral_income, personal_total,
                                 ipcal_code, ipcal_amount)
SELECT 2024, t.request_number, 1, t.niss, t.return_code, t.tax_sheet, t.ci, t.pt, coalesce(i.codes, '{}'), coalesce(i.amounts, '{}')
FROM d CROSS JOIN xmltable(XMLNAMESPACES('urn:be:inami:flows:1' AS i), '/i:Syst04/i:Household/i:Member' PASSING d.x
     COLUMNS request_number text PATH '../@requestNumber', niss text PATH '@niss', return_code text PATH '@returnCode',
             tax_sheet text PATH 'i:TaxSheet', ci numeric PATH 'i:CadastralIncome', pt numeric PATH 'i:PersonalTotal') AS t
LEFT JOIN i ON i.request_number = t.request_number AND i.niss = t.niss;
SQL"
		[ "$(bench_sql -Atc "SELECT count(*) FROM inami.syst04_ipcal")" = "$n_loaded" ] || echo "  xmltable loaded another number of items!"
	fi
done
say "medians"
for label in "load_flow_file" "floor: flow2csv (xmlTextReader) + COPY" "xmltable over pg_read_file"; do
	[ -n "${FLOWS_TIMES[$label]:-}" ] && flows_median "$label"
done

bench_ratio "load_flow_file" "floor: flow2csv (xmlTextReader) + COPY"
[ "${FLOWS_XMLTABLE:-1}" = 1 ] && bench_ratio "xmltable over pg_read_file" "load_flow_file"
bench_sql -c "DELETE FROM inami.flow_file" >/dev/null
rm -rf "$fdir"
