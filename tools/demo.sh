#!/usr/bin/env bash
# The main job, from nothing: as root on Debian 12, install what is missing, build and
# install inami, start a throwaway PostgreSQL cluster as the postgres user, run every step
# of demo/ in order (NN-name.sh is sourced, NN-name.sql goes through psql) and print what
# each step shows. The cluster is stopped and removed at the end.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# inami in shared_preload_libraries: inami.progress shows the loads and runs (without it,
# everything else works the same and the view stays empty).
setup_throwaway "shared_preload_libraries = 'inami'"
say "throwaway cluster on port $PGPORT, socket $PGHOST"

# What the steps share: where the files the server reads go, and how to run SQL.
export SAMPLES="$work/demo/samples" INAMI_WORK="$work"
as_postgres "mkdir -p '$SAMPLES'"
psql_demo() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
psql_demo -c "CREATE EXTENSION inami"

for step in "$work"/demo/[0-9]*; do
	say "demo step $(basename "$step")"
	case "$step" in
		*.sh) source "$step" ;;
		*.sql) psql_demo -v samples="$SAMPLES" -f "$step" ;;
	esac
done
say "demo finished"
