# Shared helpers for integration tests (sourced). Every test runs on loopback with free ports,
# bounded in time, and stops what it starts (trap cleanup EXIT).
set -euo pipefail

: "${GENOPS_BIN:?GENOPS_BIN must point to the bin directory of a build}"
COLLECTOR="$GENOPS_BIN/genops-collector"
PY=/usr/bin/python3 # Debian python (grpcio, protobuf, yaml); starts fast
TMP=$(mktemp -d -t genops-it.XXXXXX)
PIDS=()
PASSED=0
FAILED=0

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && { timeout 10 tail -s 0.05 --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true; }
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# free_port: prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
wait_port() {
  local port=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $port did not open within ${secs}s" >&2
  return 1
}

# start_collector LOG ARGS...: starts the collector in the background, sets COLLECTOR_PID.
start_collector() {
  local log=$1
  shift
  "$COLLECTOR" "$@" >"$log" 2>&1 &
  COLLECTOR_PID=$!
  PIDS+=("$COLLECTOR_PID")
}

# stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL; returns the exit status.
stop_pid() {
  local pid=$1 secs=${2:-15} rc=0
  kill -TERM "$pid" 2>/dev/null || return 0
  timeout "$secs" tail -s 0.05 --pid="$pid" -f /dev/null 2>/dev/null || { kill -9 "$pid" 2>/dev/null; return 124; }
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

check() { # check NAME COMMAND...: runs a check, counts it
  local name=$1
  shift
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    echo "FAIL: $name" >&2
  fi
}

expect_eq() { # expect_eq WHAT GOT WANT
  if [ "$2" != "$3" ]; then
    echo "  $1: got '$2', want '$3'" >&2
    return 1
  fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# ---- more helpers -----------------------------------------------------------------------------

LOADGEN="$GENOPS_BIN/genops-loadgen"

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds; 1 on timeout.
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 20; i++)); do
    "$@" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# wait_log FILE REGEX [SECONDS]: waits until FILE contains a line matching REGEX (grep -E).
wait_log() {
  wait_until "${3:-10}" grep -qE "$2" "$1" || { echo "  '$2' not seen in $1 within ${3:-10}s" >&2; return 1; }
}

# http_code URL [CURL ARGS...]: prints the HTTP status (000 when the connection failed).
http_code() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url" || true
}

# post_json PORT PATH BODY: POSTs OTLP/JSON (BODY, or @FILE), prints the HTTP status.
post_json() {
  http_code "http://127.0.0.1:$1$2" -X POST -H 'Content-Type: application/json' --data-binary "$3"
}

# scrape PORT: prints the collector's self-metrics (Prometheus text).
scrape() { curl -s --max-time 5 "http://127.0.0.1:$1/metrics"; }

# metric_in FILE NAME [LABEL_SUBSTRING]: sums the Prometheus samples of NAME in FILE (a saved
# scrape) whose label set contains LABEL_SUBSTRING (e.g. 'exporter="otlp"'); 0 when none.
metric_in() {
  awk -v n="$2" -v l="${3:-}" '
    $1 == n || index($1, n "{") == 1 { if (l == "" || index($1, l) > 0) s += $NF }
    END { printf "%d\n", s }' "$1"
}

# metric PORT NAME [LABEL_SUBSTRING]: metric_in over a fresh scrape.
metric() { scrape "$1" | metric_in /dev/stdin "$2" "${3:-}"; }

# metric_is PORT NAME LABELS WANT: true when metric(...) prints WANT (for wait_until).
metric_is() { [ "$(metric "$1" "$2" "$3")" = "$4" ]; }

# count_items FILE SIGNAL: counts spans / data points / log records in a file exporter's OTLP
# JSON lines output (0 when the file does not exist yet). SIGNAL "all" prints "SPANS POINTS LOGS".
count_items() {
  "$PY" - "$1" "$2" <<'PY'
import json, sys
path, sig = sys.argv[1], sys.argv[2]
n = {"traces": 0, "metrics": 0, "logs": 0}
try:
    lines = open(path).read().splitlines()
except FileNotFoundError:
    lines = []
for line in lines:
    if not line.strip():
        continue
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            n["traces"] += len(ss.get("spans", []))
    for rl in d.get("resourceLogs", []):
        for sl in rl.get("scopeLogs", []):
            n["logs"] += len(sl.get("logRecords", []))
    for rm in d.get("resourceMetrics", []):
        for sm in rm.get("scopeMetrics", []):
            for m in sm.get("metrics", []):
                for k in ("gauge", "sum", "histogram", "exponentialHistogram", "summary"):
                    if k in m:
                        n["metrics"] += len(m[k].get("dataPoints", []))
print("%d %d %d" % (n["traces"], n["metrics"], n["logs"]) if sig == "all" else n[sig])
PY
}

# items_are FILE SIGNAL WANT: true when count_items prints WANT (for wait_until).
items_are() { [ "$(count_items "$1" "$2")" = "$3" ]; }

# health_ok PORT [PATH]: true when the health_check extension answers 200.
health_ok() { [ "$(http_code "http://127.0.0.1:$1${2:-/}")" = 200 ]; }

# vm_hwm_kib PID: peak resident set size of PID in KiB.
vm_hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# OTLP/JSON request bodies with N items named PREFIX-0..N-1 (service.name = SERVICE).
json_traces() { # json_traces N PREFIX [SERVICE]
  "$PY" - "$1" "$2" "${3:-itest}" <<'PY'
import json, sys
n, p, svc = int(sys.argv[1]), sys.argv[2], sys.argv[3]
spans = [{"traceId": "%032x" % (0x5b8efff798038103d269b633813fc60c + i),
          "spanId": "%016x" % (0xeee19b7ec3c1b174 + i), "name": "%s-%d" % (p, i), "kind": 3,
          "startTimeUnixNano": str(1767225600000000000 + i),
          "endTimeUnixNano": str(1767225601000000000 + i),
          "attributes": [{"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                         {"key": "seq", "value": {"intValue": str(i)}}]} for i in range(n)]
print(json.dumps({"resourceSpans": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": svc}}]},
    "scopeSpans": [{"scope": {"name": "itest"}, "spans": spans}]}]}))
PY
}
json_metrics() { # json_metrics N PREFIX: one gauge with N data points
  "$PY" - "$1" "$2" <<'PY'
import json, sys
n, p = int(sys.argv[1]), sys.argv[2]
pts = [{"timeUnixNano": str(1767225600000000000 + i), "asInt": str(i),
        "attributes": [{"key": "seq", "value": {"intValue": str(i)}}]} for i in range(n)]
print(json.dumps({"resourceMetrics": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "itest"}}]},
    "scopeMetrics": [{"metrics": [{"name": p + ".gauge", "unit": "1",
                                   "gauge": {"dataPoints": pts}}]}]}]}))
PY
}
json_logs() { # json_logs N PREFIX
  "$PY" - "$1" "$2" <<'PY'
import json, sys
n, p = int(sys.argv[1]), sys.argv[2]
recs = [{"timeUnixNano": str(1767225600000000000 + i), "severityNumber": 9,
         "severityText": "INFO", "body": {"stringValue": "%s-%d" % (p, i)}} for i in range(n)]
print(json.dumps({"resourceLogs": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "itest"}}]},
    "scopeLogs": [{"logRecords": recs}]}]}))
PY
}

# start_bg LOG COMMAND...: starts COMMAND in the background (stopped by cleanup), sets BG_PID.
start_bg() {
  local log=$1
  shift
  "$@" >"$log" 2>&1 &
  BG_PID=$!
  PIDS+=("$BG_PID")
}

# quiet COMMAND...: runs COMMAND with its output discarded (for check).
quiet() { "$@" >/dev/null 2>&1; }
