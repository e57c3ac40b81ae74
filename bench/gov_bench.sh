#!/usr/bin/env bash
# bench/gov_bench.sh - CPU cost of the governance processor and connector per span, against the
# pass-through work (decode + encode) of the core benchmark (fwd-http vs fwd-gov-http).
#
#   bench/gov_bench.sh [-i ITERATIONS] [-c] [-s SPANS]
#
# Generates the core benchmark's payload (1000 spans, seed 1, fixed base time) with the harness's
# otlp_payload.py into a temporary directory, then runs build/tests/gov_bench on it:
#   default  CPU time per span (best of 5 rounds) of base, proc, full, and their differences;
#   -c       instructions per span under valgrind --tool=callgrind for each mode (repeatable under
#            machine load, unlike time): two runs per mode (ITERATIONS and 2 x ITERATIONS,
#            default 2) and the difference divided by the extra spans, so setup cancels out.
# Environment: HARNESS (default ../shared/bench relative to the project root), GENOPS_BUILD
# (default build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
BUILD=${GENOPS_BUILD:-$ROOT/build}
ITERS="" CG=0 SPANS=1000
while getopts "i:cs:h" opt; do
  case $opt in
    i) ITERS=$OPTARG ;; c) CG=1 ;; s) SPANS=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
die() { echo "gov_bench.sh: $*" >&2; exit 2; }
[ -r "$HARNESS/otlp_payload.py" ] || die "no harness at $HARNESS (set HARNESS)"
[ -x "$BUILD/tests/gov_bench" ] || die "no $BUILD/tests/gov_bench (build first)"
[[ $SPANS =~ ^[0-9]+$ && $SPANS -ge 1 ]] || die "-s must be a positive integer"
TMP=$(mktemp -d /tmp/genops-govbench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
python3 "$HARNESS/otlp_payload.py" --spans "$SPANS" --seed 1 \
  --base-time-ns 1767225600000000000 -o "$TMP/payload.pb" >/dev/null 2>&1

if [ "$CG" = 0 ]; then
  exec "$BUILD/tests/gov_bench" "$TMP/payload.pb" "${ITERS:-100}" all
fi
command -v valgrind >/dev/null || die "valgrind not found"
N=${ITERS:-2}
irefs() { # mode iterations -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
    "$BUILD/tests/gov_bench" "$TMP/payload.pb" "$2" "$1" 2>&1 >/dev/null |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p; s/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d , | head -1
}
declare -A per
for m in base proc full; do
  a=$(irefs "$m" "$N") b=$(irefs "$m" $((2 * N)))
  per[$m]=$(((b - a) / (N * SPANS)))
  printf '%-5s %8d instructions/span\n' "$m" "${per[$m]}"
done
printf 'processor %d, connector %d instructions/span; (full-base)/base %d %%\n' \
  $((per[proc] - per[base])) $((per[full] - per[proc])) \
  $((100 * (per[full] - per[base]) / per[base]))
