# Data exchanges: loading a generated Syst04 (shipment 1) into the inami tables, against
#  - the floor, the cheapest thing PostgreSQL does with the same rows: `xmllint --stream
#    --noout` over the file (libxml2's streamed reader, what load_flow_file parses with)
#    plus a COPY of the same rows (CSV written beforehand by bench/flow2csv, untimed) into
#    tables of the same shape that keep only their primary keys (the indexes the queries
#    need), no foreign key, no CHECK;
#  - the same COPY into inami's own tables (every constraint): what the constraints cost a
#    plain COPY (FLOWS_COPY_INAMI=0 skips it);
#  - what a user would write: xmltable over pg_read_file (the households, the members and
#    their items gathered with array_agg, in one statement; FLOWS_XMLTABLE=0 skips it: it
#    needs several GB of memory on large files);
# and the backend's private memory (peak RssAnon, sampled every 0.1 s; VmHWM counts the
# shared buffers the load touches, so it is not the figure) while loading.
# FLOWS_HOUSEHOLDS (default 200000, about 110 MB) sets the size; FLOWS_RUNS (default 3)
# rounds, each running every contender in turn; the median of each is printed.
FLOWS_HOUSEHOLDS=${FLOWS_HOUSEHOLDS:-200000}
# FLOWS_DIR=DIR keeps the generated files in DIR (made if missing) and uses them again when
# they are there (generating 1M households takes minutes); otherwise a temporary directory.
fdir=${FLOWS_DIR:-$(mktemp -d /tmp/inami-flows.XXXXXX)}
mkdir -p "$fdir"
chown postgres:postgres "$fdir"
chmod 755 "$fdir"
if [ -z "${FLOWS_DIR:-}" ] || [ ! -s "$fdir/syst04.xml" ] || [ "$(cat "$fdir/households" 2>/dev/null)" != "$FLOWS_HOUSEHOLDS" ]; then
	say "generating $FLOWS_HOUSEHOLDS households (Syst01, Syst04 shipment 1) into $fdir"
	perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst01 --households "$FLOWS_HOUSEHOLDS" --out "$fdir/syst01.xml"
	perl "$INAMI_ROOT/bench/gen_flows.pl" --kind syst04 --households "$FLOWS_HOUSEHOLDS" --out "$fdir/syst04.xml"
	echo "$FLOWS_HOUSEHOLDS" >"$fdir/households"
fi
cc -O2 -o "$fdir/flow2csv" "$INAMI_ROOT/bench/flow2csv.c" $(xml2-config --cflags --libs)
chmod 644 "$fdir"/*.xml
printf '  Syst04 file: %d MB\n' $(( $(stat -c %s "$fdir/syst04.xml") / 1048576 ))
bench_sql -c "SELECT inami.load_flow_file('$fdir/syst01.xml')" >/dev/null

# flows_run LABEL APP CMD: time CMD once, sampling the memory of backend APP; the times of
# the rounds go to FLOWS_TIMES[LABEL], the highest peak to FLOWS_PEAK[LABEL].
declare -A FLOWS_TIMES FLOWS_PEAK
flows_run() {
	local label=$1 app=$2 cmd=$3 t0 t1 peakfile ms kb
	peakfile=$(mktemp)
	# every load starts from empty Syst_04 tables (after a DELETE, the dead index entries
	# of the load before would slow the next one)
	bench_sql -c "TRUNCATE inami.syst04_member, inami.syst04_household; DELETE FROM inami.flow_file WHERE kind = 'Syst04'; CHECKPOINT" >/dev/null
	bench_peak_rss "$app" >"$peakfile" &
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

# The floor's tables: inami's columns (types, NOT NULL, defaults), the primary key only.
bench_sql >/dev/null <<'SQL'
DROP SCHEMA IF EXISTS floor CASCADE;
CREATE SCHEMA floor;
CREATE TABLE floor.syst04_household (LIKE inami.syst04_household INCLUDING DEFAULTS);
ALTER TABLE floor.syst04_household ADD PRIMARY KEY (control_year, request_number, shipment);
CREATE TABLE floor.syst04_member (LIKE inami.syst04_member INCLUDING DEFAULTS);
ALTER TABLE floor.syst04_member ADD PRIMARY KEY (control_year, request_number, shipment, niss);
SQL
fid=$(bench_sql -Atc "INSERT INTO inami.flow_file (kind, year, income_year, shipment, source_name, record_count)
	VALUES ('Syst04', 2024, 2022, 1, 'copy', 0) RETURNING file_id" | head -1)
"$fdir/flow2csv" "$fdir/syst04.xml" "$fdir/h.csv" "$fdir/m.csv" "$fid"
chmod 644 "$fdir"/*.csv
flows_copy() {
	bench_sql -c "COPY $1.syst04_household (control_year, request_number, shipment, income_year, requester_niss, household_total, file_id) FROM '$fdir/h.csv' CSV" \
		-c "COPY $1.syst04_member (control_year, request_number, shipment, niss, return_code, tax_sheet, cadastral_income, personal_total, ipcal_code, ipcal_amount) FROM '$fdir/m.csv' CSV" >/dev/null
}

# FLOWS_RUNS rounds (default 3), each running the contenders in turn, so that the
# machine's noise falls on them alike. Every load starts from empty tables (flows_run).
for round in $(seq 1 "${FLOWS_RUNS:-3}"); do
	flows_run "load_flow_file" "flows_load" \
		"PGAPPNAME=flows_load bench_sql -c \"SELECT inami.load_flow_file('$fdir/syst04.xml')\" >/dev/null"
	n_loaded=$(bench_sql -Atc "SELECT count(*) FROM inami.syst04_ipcal")

	t0=$(date +%s%N)
	xmllint --stream --noout "$fdir/syst04.xml"
	t1=$(date +%s%N)
	FLOWS_TIMES["xmllint --stream --noout"]+="$(( (t1 - t0) / 1000000 )) "
	FLOWS_PEAK["xmllint --stream --noout"]=0
	printf '  round %d  %-50s %8d ms\n' "$round" "xmllint --stream --noout" $(( (t1 - t0) / 1000000 ))

	bench_sql -c "TRUNCATE floor.syst04_member, floor.syst04_household; CHECKPOINT" >/dev/null
	flows_run "COPY into primary-key-only tables" "flows_copy" "PGAPPNAME=flows_copy flows_copy floor"
	[ "$(bench_sql -Atc "SELECT sum(cardinality(ipcal_code)) FROM floor.syst04_member")" = "$n_loaded" ] || echo "  the floor loaded another number of items!"

	if [ "${FLOWS_COPY_INAMI:-1}" = 1 ]; then
		# the file's row first (flows_run deleted it): one row, the foreign key's target
		flows_run "COPY into inami's tables (every constraint)" "flows_copy" "
			bench_sql -c \"INSERT INTO inami.flow_file (file_id, kind, year, income_year, shipment, source_name, record_count)
				OVERRIDING SYSTEM VALUE VALUES ($fid, 'Syst04', 2024, 2022, 1, 'copy', 0)\" >/dev/null
			PGAPPNAME=flows_copy flows_copy inami"
		[ "$(bench_sql -Atc "SELECT count(*) FROM inami.syst04_ipcal")" = "$n_loaded" ] || echo "  COPY loaded another number of items!"
	fi

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
for label in "load_flow_file" "xmllint --stream --noout" "COPY into primary-key-only tables" \
	"COPY into inami's tables (every constraint)" "xmltable over pg_read_file"; do
	[ -n "${FLOWS_TIMES[$label]:-}" ] && flows_median "$label"
done
BENCH_MS["floor: xmllint --stream + COPY into primary-key-only tables"]=$((BENCH_MS["xmllint --stream --noout"] + BENCH_MS["COPY into primary-key-only tables"]))
printf '  %-58s %8d ms\n' "floor: xmllint --stream + COPY into primary-key-only tables" \
	"${BENCH_MS["floor: xmllint --stream + COPY into primary-key-only tables"]}"
bench_ratio "load_flow_file" "floor: xmllint --stream + COPY into primary-key-only tables"
[ "${FLOWS_COPY_INAMI:-1}" = 1 ] && bench_ratio "COPY into inami's tables (every constraint)" "COPY into primary-key-only tables"
[ "${FLOWS_XMLTABLE:-1}" = 1 ] && bench_ratio "xmltable over pg_read_file" "load_flow_file"
bench_sql -c "DELETE FROM inami.flow_file; DROP SCHEMA floor CASCADE" >/dev/null
rm -f "$fdir"/*.csv "$fdir/flow2csv"
[ -n "${FLOWS_DIR:-}" ] || rm -rf "$fdir"
