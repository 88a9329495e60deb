#!/usr/bin/env bash
# Build and run the libFuzzer target of the exchange-file reader for $1 seconds (default
# 60) with AddressSanitizer; needs clang and libclang-rt-14-dev (Debian 12). Crashes are
# written to test/fuzz/crash-*; the corpus grows in a temporary copy.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root="$here/../.."
out=${FUZZ_OUT:-/tmp/inami-fuzz}
mkdir -p "$out/corpus"
cp -n "$here"/corpus/* "$out/corpus/" 2>/dev/null || true
clang -g -O1 -fsanitize=fuzzer,address,undefined -I"$root/src" $(xml2-config --cflags) \
	"$here/fuzz_flow.c" "$root/src/flow_parse.c" $(xml2-config --libs) -o "$out/fuzz_flow"
cd "$here"
"$out/fuzz_flow" -max_total_time="${1:-60}" -max_len=65536 -rss_limit_mb=1024 -timeout=10 \
	-dict="$here/flows.dict" "$out/corpus"
