#!/usr/bin/env bash
# The reader of the exchange files (src/flow_parse.c) outside the server, in two parts:
# 1. the libFuzzer target, built with AddressSanitizer and UBSan, for $1 seconds (default
#    60) from the corpus, then once over every input of crashes-fixed/ (the crashes found
#    and fixed, kept as regression tests);
# 2. hostile.c: generated hostile documents (a million attributes, 256 MB of comments, ...),
#    each with the SQLSTATE it must end with and a bound on the peak memory (TAP output).
# Needs clang and libclang-rt-14-dev (Debian 12: tools/common.sh installs them). The corpus
# grows in a copy under $FUZZ_OUT, where a crash is written too; exits non-zero when the
# fuzzer finds a crash, a leak or a timeout, or when a hostile document fails its test.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root="$here/../.."
out=${FUZZ_OUT:-/tmp/inami-fuzz}
mkdir -p "$out/corpus"
cp -n "$here"/corpus/* "$out/corpus/" 2>/dev/null || true
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$root/src" \
	$(xml2-config --cflags) "$here/fuzz_flow.c" "$root/src/flow_parse.c" $(xml2-config --libs) -o "$out/fuzz_flow"
clang -g -O2 -Wall -Werror -I"$root/src" $(xml2-config --cflags) \
	"$here/hostile.c" "$root/src/flow_parse.c" $(xml2-config --libs) -o "$out/hostile"

echo "# fuzzing the reader for ${1:-60} s (log: $out/fuzz.log)"
status=0
"$out/fuzz_flow" -max_total_time="${1:-60}" -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
	-dict="$here/flows.dict" -artifact_prefix="$out/" "$out/corpus" >"$out/fuzz.log" 2>&1 || status=$?
"$out/fuzz_flow" -runs=0 -artifact_prefix="$out/" "$here"/crashes-fixed/* >>"$out/fuzz.log" 2>&1 || status=$?
if [ "$status" -ne 0 ]; then
	tail -n 40 "$out/fuzz.log"
	echo "# the input that failed is in $out/ (crash-*, leak-*, timeout-*): add it to crashes-fixed/ once fixed"
fi
grep -E '^(#[0-9]+ *DONE|Done [0-9]+ runs)' "$out/fuzz.log" | sed 's/^/# /' || true
"$out/hostile" || status=$?
exit "$status"
