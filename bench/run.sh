#!/usr/bin/env bash
# bench/run.sh - reproducible load runs of genops-collector on the shared OTLP load harness.
#
#   bench/run.sh [-r REPS] [-d SECS] [-c CONCS] [-o RESULTS.jsonl] [SCENARIO...]
#
# Scenarios (default: all but fb-*; "fb" = the Fluent-Bit-equivalent set):
#   ingest-http   OTLP/HTTP protobuf -> nop              (bench/configs/ingest-nop.yaml)
#   ingest-grpc   OTLP/gRPC -> nop                        (ingest-nop.yaml)
#   fwd-http      OTLP/HTTP -> batch -> otlp (gRPC) -> sink collector (forward-otlp.yaml, sink.yaml)
#   fwd-grpc      OTLP/gRPC -> batch -> otlp (gRPC) -> sink collector
#   fwd-gov-http, fwd-gov-grpc  the same with the governance processor and connector
#                 (forward-governance.yaml): compare CPU per span with fwd-http / fwd-grpc
#   fwd-lean-http, fwd-lean-grpc  the same with forward-otlp-lean.yaml (2 consumers, 2-batch queue,
#                 block_on_overflow)
#   fwd-pysink    OTLP/HTTP -> batch -> otlphttp -> the harness's otlp_sink.py
#                 (forward-otlphttp-pysink.yaml; the shape of Fluent Bit's "forward -> otlp_sink.py")
#   fb            = ingest-http ingest-grpc fwd-pysink with the Fluent Bit rows' settings
#                   (1000-span payload, concurrency 4,16, 20 s, 3 reps)
#
# Options: -r repetitions (default 3), -d seconds of load per run (default 20, 1..120),
# (process logs go next to the results file, in <results>.logs/)
# -c concurrencies (default 4,16), -o results file (default bench/results/run-<utc>.jsonl),
# -D seconds to follow the drain (default 60 for forward scenarios, 10 for ingest),
# -O port offset added to every port (default 0: 4317/4318 in, 14317-14319 sink, 18888 sink
# metrics), to keep clear of other collectors on the same machine. The script refuses to start
# when any of its ports is already listening.
# Environment: HARNESS (default ../shared/bench relative to the project root), GENOPS_BIN
# (default build/bin), MALLOC/extra env for the collector via COLLECTOR_ENV="K=V ...".
#
# Every target is 127.0.0.1 (checked here and again by load.sh); every run is bounded in time
# (run_matrix.py bounds each load.sh, and this script runs under a global timeout); every
# process is started by run_matrix.py and stopped by its own PID.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${HARNESS:-$ROOT/../shared/bench}
BIN=${GENOPS_BIN:-$ROOT/build/bin}
REPS=3 DUR=20 CONCS=4,16 OUT="" DRAIN="" OFF=0
while getopts "r:d:c:o:D:O:h" opt; do
  case $opt in
    r) REPS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONCS=$OPTARG ;; o) OUT=$OPTARG ;; D) DRAIN=$OPTARG ;; O) OFF=$OPTARG ;;
    h) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
die() { echo "run.sh: $*" >&2; exit 2; }
[[ $REPS =~ ^[0-9]+$ && $REPS -ge 1 && $REPS -le 10 ]] || die "-r must be 1..10"
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 120 ]] || die "-d must be 1..120"
[[ $CONCS =~ ^[0-9,]+$ ]] || die "-c must be a comma list of integers"
[[ $OFF =~ ^[0-9]+$ && $OFF -le 40000 ]] || die "-O must be 0..40000"
[ -x "$HARNESS/run_matrix.py" ] || [ -r "$HARNESS/run_matrix.py" ] || die "no harness at $HARNESS"
[ -x "$BIN/genops-collector" ] || die "no $BIN/genops-collector (build first)"

SCEN=("$@")
[ ${#SCEN[@]} -gt 0 ] || SCEN=(ingest-http ingest-grpc fwd-http fwd-grpc)
if [ "${SCEN[0]}" = fb ]; then SCEN=(ingest-http ingest-grpc fwd-pysink); DUR=20 CONCS=4,16 REPS=3; fi

# Refuse non-loopback endpoints in every config this script uses.
for f in "$ROOT"/bench/configs/*.yaml; do
  if grep -E '^\s*(endpoint|traces_endpoint|host)\s*:' "$f" |
    grep -vqE ':\s*(http://)?(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?(/.*)?\s*$'; then
    die "non-loopback endpoint in $f"
  fi
done

TMP=$(mktemp -d /tmp/genops-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
OUT=${OUT:-$ROOT/bench/results/run-$(date -u +%Y%m%dT%H%M%SZ).jsonl}
mkdir -p "$(dirname "$OUT")"
python3 "$HARNESS/otlp_payload.py" --spans 1000 --seed 1 --base-time-ns 1767225600000000000 \
  -o "$TMP/t1000.pb"
python3 "$HARNESS/otlp_payload.py" --spans 1000 --seed 1 --base-time-ns 1767225600000000000 \
  --format grpc -o "$TMP/t1000.grpc"

# Configs with the port offset applied (loopback already checked above).
mkdir -p "$TMP/cfg"
P_GRPC=$((4317 + OFF)) P_HTTP=$((4318 + OFF)) P_SINK=$((14317 + OFF)) P_PY=$((14319 + OFF))
for f in "$ROOT"/bench/configs/*.yaml; do
  sed -E -e "s/127\.0\.0\.1:(4317|4318|14317|14318|14319)\b/127.0.0.1:__P\1__/g" \
    -e "s/port: 18888/port: __P18888__/" "$f" |
    perl -pe 's/__P(\d+)__/$1 + '"$OFF"'/ge' >"$TMP/cfg/$(basename "$f")"
done
for p in $P_GRPC $P_HTTP $P_SINK $((14318 + OFF)) $P_PY $((18888 + OFF)); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then die "port $p is in use (try -O)"; fi
done

ENVP=""
[ -z "${COLLECTOR_ENV:-}" ] || ENVP="env $COLLECTOR_ENV "
COL="$ENVP$BIN/genops-collector --config"
CFG=$TMP/cfg
# Whole script bounded: per run duration + drain + 2 min of slack.
# gRPC runs skip load.sh's probe (-n): the probe parses a grpc-message header that the harness
# assumes is always there, and we (like grpc-go) send none on success. Forward runs are checked
# by the sink's count instead (bench/RESULTS.md).
run() { # label kind target payload drain [run_matrix args...]
  local label=$1 kind=$2 target=$3 payload=$4 drain=$5
  shift 5
  local la=()
  [ "$kind" = http ] || la=(--load-args=-n)
  local n
  n=$(($(tr ',' '\n' <<<"$CONCS" | grep -c .) * REPS))
  timeout -k 10 $((n * (DUR + drain + 120))) python3 "$HARNESS/run_matrix.py" \
    --label "$label" --kind "$kind" --target "$target" --payload "$payload" \
    --conc "$CONCS" --reps "$REPS" --duration "$DUR" --drain "$drain" \
    --results "$OUT" --logdir "${OUT%.jsonl}.logs" "${la[@]}" "$@"
}
for s in "${SCEN[@]}"; do
  case $s in
    ingest-http) run genops-ingest-nop http 127.0.0.1:$P_HTTP "$TMP/t1000.pb" "${DRAIN:-10}" \
      --start "$COL $CFG/ingest-nop.yaml" --wait-port $P_HTTP ;;
    ingest-grpc) run genops-ingest-nop grpc 127.0.0.1:$P_GRPC "$TMP/t1000.grpc" "${DRAIN:-10}" \
      --start "$COL $CFG/ingest-nop.yaml" --wait-port $P_GRPC ;;
    fwd-http) run genops-fwd-sink http 127.0.0.1:$P_HTTP "$TMP/t1000.pb" "${DRAIN:-60}" \
      --sidecar "$BIN/genops-collector --config $CFG/sink.yaml" \
      --start "$COL $CFG/forward-otlp.yaml" --wait-port $P_SINK --wait-port $P_HTTP ;;
    fwd-grpc) run genops-fwd-sink grpc 127.0.0.1:$P_GRPC "$TMP/t1000.grpc" "${DRAIN:-60}" \
      --sidecar "$BIN/genops-collector --config $CFG/sink.yaml" \
      --start "$COL $CFG/forward-otlp.yaml" --wait-port $P_SINK --wait-port $P_GRPC ;;
    fwd-gov-http) run genops-fwd-gov-sink http 127.0.0.1:$P_HTTP "$TMP/t1000.pb" "${DRAIN:-60}" \
      --sidecar "$BIN/genops-collector --config $CFG/sink.yaml" \
      --start "$COL $CFG/forward-governance.yaml" --wait-port $P_SINK --wait-port $P_HTTP ;;
    fwd-gov-grpc) run genops-fwd-gov-sink grpc 127.0.0.1:$P_GRPC "$TMP/t1000.grpc" "${DRAIN:-60}" \
      --sidecar "$BIN/genops-collector --config $CFG/sink.yaml" \
      --start "$COL $CFG/forward-governance.yaml" --wait-port $P_SINK --wait-port $P_GRPC ;;
    fwd-lean-http) run genops-fwd-lean-sink http 127.0.0.1:$P_HTTP "$TMP/t1000.pb" "${DRAIN:-60}" \
      --sidecar "$BIN/genops-collector --config $CFG/sink.yaml" \
      --start "$COL $CFG/forward-otlp-lean.yaml" --wait-port $P_SINK --wait-port $P_HTTP ;;
    fwd-lean-grpc) run genops-fwd-lean-sink grpc 127.0.0.1:$P_GRPC "$TMP/t1000.grpc" "${DRAIN:-60}" \
      --sidecar "$BIN/genops-collector --config $CFG/sink.yaml" \
      --start "$COL $CFG/forward-otlp-lean.yaml" --wait-port $P_SINK --wait-port $P_GRPC ;;
    fwd-pysink) run genops-fwd-pysink http 127.0.0.1:$P_HTTP "$TMP/t1000.pb" "${DRAIN:-120}" \
      --sidecar "python3 $HARNESS/otlp_sink.py --port $P_PY" \
      --start "$COL $CFG/forward-otlphttp-pysink.yaml" --wait-port $P_PY --wait-port $P_HTTP ;;
    *) die "unknown scenario $s" ;;
  esac
done
echo
echo "results: $OUT"
python3 "$HARNESS/run_matrix.py" --summarize "$OUT"
