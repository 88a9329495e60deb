# Reports: the report of the sample control year (step 40) for its OA, one self-contained
# HTML file written outside the throwaway tree (it outlives the demo): open it in a
# browser, or print it on A4. INAMI_REPORT=FILE writes it elsewhere. Sourced by
# tools/demo.sh (psql_demo).
read -r report_year report_oa < <(psql_demo -At -F ' ' -c \
	"SELECT control_year, oa FROM inami.report_control_year ORDER BY control_year DESC, households DESC LIMIT 1")
report_file=${INAMI_REPORT:-/tmp/inami-demo-report-$report_year-$report_oa.html}
bash "$INAMI_ROOT/tools/report.sh" "$report_year" "$report_oa" --dbname postgres --out "$report_file" >/dev/null
echo "the report of control year $report_year, OA $report_oa: $report_file"
