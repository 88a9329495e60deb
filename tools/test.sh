#!/usr/bin/env bash
# Run every test suite of inami: pg_regress (with pgTAP inside), isolation and TAP, each in
# throwaway PostgreSQL instances. As root on Debian 12: installs what is missing, builds,
# installs, runs, and ends with one line "N passed, N failed". With arguments, runs only
# the suites named (tools/test.sh maf 010_upgrade control_concurrency).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
require_root
install_packages
build_install

work=$(stage_tree)

# Fuzz the reader for INAMI_FUZZ_SECONDS (60) and read the generated hostile documents:
# the fuzzing run is one test, each hostile document's assertions are TAP lines.
fuzz_step() {
	say "fuzzing the reader for ${INAMI_FUZZ_SECONDS:-60} s, then the generated hostile documents"
	if FUZZ_OUT="$work/fuzz" bash "$INAMI_ROOT/test/fuzz/run.sh" "${INAMI_FUZZ_SECONDS:-60}" >"$work/fuzz.log" 2>&1; then
		grep -E "^(ok|not ok|#)" "$work/fuzz.log" >>"$work/installcheck.log" || true
		echo "test fuzz_flow ... ok" | tee -a "$work/installcheck.log"
	else
		cat "$work/fuzz.log"
		grep -E '^(ok|not ok)' "$work/fuzz.log" >>"$work/installcheck.log" || true
		echo "test fuzz_flow ... FAILED" | tee -a "$work/installcheck.log"
		status=1
	fi
}
# INAMI_KEEP=1 keeps the copy (results/, logs) for a developer to read.
[ -n "${INAMI_KEEP:-}" ] && echo "test tree kept in $work" || trap 'rm -rf "$work"' EXIT
status=0
if [ $# -gt 0 ]; then
	# Some suites only, by name: a pg_regress suite (sql/NAME.sql), an isolation spec
	# (test/specs/NAME.spec) or a TAP test (test/t/NAME.pl).
	regress="" iso="" tap="" fuzz=""
	for s in "$@"; do
		s=$(basename "$s"); s=${s%.*}
		if [ "$s" = fuzz ]; then fuzz=1
		elif [ -f "$INAMI_ROOT/sql/$s.sql" ]; then regress="$regress $s"
		elif [ -f "$INAMI_ROOT/test/specs/$s.spec" ]; then iso="$iso $s"
		elif [ -f "$INAMI_ROOT/test/t/$s.pl" ]; then tap="$tap test/t/$s.pl"
		else echo "no suite named $s" >&2; exit 2; fi
	done
	say "running:$regress$iso$tap${fuzz:+ fuzz}"
	: >"$work/installcheck.log"
	if [ -n "$regress$iso$tap" ]; then
		as_postgres "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' PROVE_FLAGS=--verbose installcheck \
			REGRESS='$regress' ISOLATION='$iso' PROVE_TESTS='$tap' $( [ -n "$tap" ] || echo TAP_TESTS=)" 2>&1 | tee "$work/installcheck.log" || status=$?
	fi
	[ -z "$fuzz" ] || fuzz_step
	[ -f "$work/regression.diffs" ] && { say "regression.diffs"; cat "$work/regression.diffs"; }
	[ -f "$work/output_iso/regression.diffs" ] && { say "isolation regression.diffs"; cat "$work/output_iso/regression.diffs"; }
	perl "$INAMI_ROOT/tools/count-tests.pl" "$work" "$status"
	exit
fi
say "running the test suites (pg_regress, isolation, TAP)"
as_postgres "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' PROVE_FLAGS=--verbose installcheck" 2>&1 | tee "$work/installcheck.log" || status=$?
# The suites share one database, in alphabetical order. In another, flows_hostile then
# control_scenario, the server crashed once (systematic_households freed memory a B-tree
# scan still used, over the dead rows the first suite leaves): run that order too, in an
# instance of its own; it counts as one test.
say "pg_regress: flows_hostile then control_scenario, in one instance"
if as_postgres "cd '$work' && make -s PG_CONFIG='$PG_CONFIG' installcheck REGRESS='flows_hostile control_scenario' ISOLATION= TAP_TESTS= EXTRA_REGRESS_OPTS=--outputdir=order" >"$work/order.log" 2>&1; then
	echo "test order_flows_hostile_then_control_scenario ... ok" | tee -a "$work/installcheck.log"
else
	cat "$work/order.log" "$work/order/regression.diffs" 2>/dev/null
	echo "test order_flows_hostile_then_control_scenario ... FAILED" | tee -a "$work/installcheck.log"
	status=1
fi
# The reader outside the server: a bounded fuzzing run (INAMI_FUZZ_SECONDS, 60 by default)
# and the generated hostile documents (test/fuzz/run.sh), each a test.
fuzz_step
# The Debian package, last (installing it replaces the build above): built from a clean
# clone of HEAD, installed with apt, checked on a throwaway cluster.
say "the Debian package (tools/deb.sh --check)"
bash "$INAMI_ROOT/tools/deb.sh" --check "$work" 2>&1 | tee -a "$work/installcheck.log" || status=1
[ -f "$work/regression.diffs" ] && { say "regression.diffs"; cat "$work/regression.diffs"; }
[ -f "$work/output_iso/regression.diffs" ] && { say "isolation regression.diffs"; cat "$work/output_iso/regression.diffs"; }

perl "$INAMI_ROOT/tools/count-tests.pl" "$work" "$status"
