#!/usr/bin/env bash
# Run every test suite of inami: pg_regress (with pgTAP inside), isolation and TAP, each in
# throwaway PostgreSQL instances. As root on Debian 12: installs what is missing, builds,
# installs, runs, and ends with one line "N passed, N failed".
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root
install_packages
build_install

work=$(stage_tree)
# INAMI_KEEP=1 keeps the copy (results/, logs) for a developer to read.
[ -n "${INAMI_KEEP:-}" ] && echo "test tree kept in $work" || trap 'rm -rf "$work"' EXIT
say "running the test suites (pg_regress, isolation, TAP)"
status=0
as_postgres "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' PROVE_FLAGS=--verbose installcheck" 2>&1 | tee "$work/installcheck.log" || status=$?
[ -f "$work/regression.diffs" ] && { say "regression.diffs"; cat "$work/regression.diffs"; }
[ -f "$work/output_iso/regression.diffs" ] && { say "isolation regression.diffs"; cat "$work/output_iso/regression.diffs"; }

perl "$INAMI_ROOT/tools/count-tests.pl" "$work" "$status"
