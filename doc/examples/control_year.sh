#!/bin/sh
# A control year from a shell script with psql: run the control, stop on an error with the
# run log's reason, write the Syst_05 to a file.
#
#   sh control_year.sh YEAR OA OUT.xml      (PGHOST, PGPORT, PGDATABASE, PGUSER as for psql)
set -eu
year=$1 oa=$2 out=$3

# psql -c runs each command on its own, outside a transaction block, as the CALL needs;
# -v ON_ERROR_STOP=1 makes psql exit 3 on an error (otherwise it goes on and exits 0).
if ! psql -X -q -v ON_ERROR_STOP=1 -c "CALL inami.run_systematic_control($year)"; then
	psql -X -At -c "SELECT 'run ' || run_id || ' failed: ' || error_sqlstate || ' ' || error_message
	                FROM inami.control_run WHERE kind = 'systematic_control' AND year = $year
	                ORDER BY run_id DESC LIMIT 1" >&2
	exit 1
fi
psql -X -At -c "SELECT reason || ': ' || count(*) FROM inami.control_decision
                WHERE control_year = $year GROUP BY reason ORDER BY reason"
# Variables (:year, :'oa') are quoted by psql itself: read from standard input, not -c.
psql -X -At -v ON_ERROR_STOP=1 -v year="$year" -v oa="$oa" -o "$out" <<'SQL'
SELECT inami.syst05_document(:year, :'oa');
SQL
echo "Syst05 of OA $oa written to $out"
