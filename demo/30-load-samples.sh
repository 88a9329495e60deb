# Data exchanges, reading: sample Syst_01 and both Syst_04 shipments made by the
# generator, looked at with the readers before loading, loaded with load_flow_file, and
# the answer that counts per household. Sourced by tools/demo.sh ($SAMPLES, psql_demo).
for f in "syst01 --households 12" "syst04 --households 12 --shipment 1" "syst04 --households 12 --shipment 2"; do
	set -- $f
	name=$1
	[ "$name" = syst04 ] && name="syst04_$5"
	perl "$INAMI_WORK/bench/gen_flows.pl" --kind $f --seed 2024 --out "$SAMPLES/$name.xml"
done
chmod 644 "$SAMPLES"/*.xml
echo "sample files in $SAMPLES:"
ls -l "$SAMPLES"
psql_demo -v samples="$SAMPLES" <<'SQL'
\echo '-- read_syst01: what the Syst01 says, loading nothing (first households)'
SELECT request_number, requester_niss, niss, line
FROM inami.read_syst01(pg_read_file(:'samples' || '/syst01.xml')) LIMIT 8;
\echo '-- read_syst04: one row per member and IPCAL item (shipment 1, first rows)'
SELECT request_number, niss, return_code, household_total, item_no, ipcal_code, ipcal_amount
FROM inami.read_syst04(pg_read_file(:'samples' || '/syst04_1.xml')) LIMIT 10;
\echo '-- loading the three files (Syst01 first: Syst04 answers its households)'
SELECT inami.load_flow_file(:'samples' || '/syst01.xml') AS syst01_households;
SELECT inami.load_flow_file(:'samples' || '/syst04_1.xml') AS syst04_shipment1_households;
SELECT inami.load_flow_file(:'samples' || '/syst04_2.xml') AS syst04_shipment2_households;
SELECT file_id, kind, year, oa, income_year, shipment, record_count FROM inami.flow_file ORDER BY file_id;
\echo '-- the answer that counts: the latest shipment of each household'
SELECT a.request_number, a.shipment, a.household_total,
       (SELECT string_agg(shipment::text, ',' ORDER BY shipment) FROM inami.syst04_household h
        WHERE h.request_number = a.request_number) AS answered_in
FROM inami.syst04_answer a ORDER BY a.request_number;
\echo '-- loading shipment 1 again is refused (and says how to replace it)'
\set ON_ERROR_STOP 0
SELECT inami.load_flow_file(:'samples' || '/syst04_1.xml');
\set ON_ERROR_STOP 1
SQL
