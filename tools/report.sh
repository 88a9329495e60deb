#!/usr/bin/env bash
# The report of a control year, one self-contained HTML file (tools/report.py):
#   tools/report.sh YEAR OA [--out FILE] [--dbname CONNINFO]
# Connects like psql (PGHOST, PGPORT, PGDATABASE, PGUSER or --dbname) and prints the path
# of the file it wrote. Needs Debian's python3-matplotlib and python3-psycopg (PACKAGES
# in tools/common.sh).
set -euo pipefail
exec /usr/bin/python3 "$(dirname "${BASH_SOURCE[0]}")/report.py" "$@"
