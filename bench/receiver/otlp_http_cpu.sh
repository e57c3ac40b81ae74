#!/usr/bin/env bash
# CPU cost of the OTLP/HTTP receive path (HTTP/1.1 parse, body read, protobuf decode into a batch,
# consumer hand-off, response) measured on the component harness with one worker and a no-op
# consumer, loaded by wrk over loopback. Prints spans per CPU-second of the receiver process.
#
#   bench/receiver/otlp_http_cpu.sh [seconds] [connections]
#   GLIBC_TUNABLES=... bench/receiver/otlp_http_cpu.sh    # try allocator settings
#
# Needs: build/tests/otlp_receiver_harness (normal CMake build), wrk, /usr/bin/python3.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${GENOPS_BUILD:-$SRC/build}
SECS=${1:-5}
CONNS=${2:-16}
TMP=$(mktemp -d)
trap 'kill $HP 2>/dev/null || true; rm -rf "$TMP"' EXIT

# 100 spans, 5 string attributes each, one resource (22 KB request)
/usr/bin/python3 - "$TMP/body.bin" "$SRC" <<'PY'
import sys
sys.path.insert(0, sys.argv[2] + "/tests/component")
from otlp_harness import field_len, field_varint, field_fixed64
def attr(k, v): return field_len(9, field_len(1, k) + field_len(2, field_len(1, v)))
spans = []
for i in range(100):
    span = (field_len(1, bytes(range(16))) + field_len(2, (i + 1).to_bytes(8, "big")) +
            field_len(5, b"chat gpt-4o completion") + field_varint(6, 3) + field_fixed64(7, 1000) +
            field_fixed64(8, 2000) + attr(b"gen_ai.system", b"openai") +
            attr(b"gen_ai.request.model", b"gpt-4o") + attr(b"genops.team", b"search") +
            attr(b"genops.customer_id", b"cust-42") + attr(b"http.route", b"/v1/chat"))
    spans.append(field_len(2, span))
scope = field_len(1, field_len(1, b"scope")) + b"".join(spans)
res = field_len(1, field_len(1, field_len(1, b"service.name") + field_len(2, field_len(1, b"svc"))))
open(sys.argv[1], "wb").write(field_len(1, res + field_len(2, scope)))
PY
cat > "$TMP/post.lua" <<LUA
local f = io.open("$TMP/body.bin", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/x-protobuf"
LUA

mkfifo "$TMP/in"
"$BUILD/tests/otlp_receiver_harness" --http --workers "${WORKERS:-1}" < "$TMP/in" > "$TMP/out" 2>/dev/null &
HP=$!
exec 3> "$TMP/in"
for _ in $(seq 50); do grep -q READY "$TMP/out" && break; sleep 0.1; done
PORT=$(sed -n 's/READY http=\([0-9]*\).*/\1/p' "$TMP/out")
T0=$(awk '{print $14 + $15}' /proc/$HP/stat)
wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$TMP/post.lua" "http://127.0.0.1:$PORT/v1/traces" | grep -E "Requests/sec|Latency"
T1=$(awk '{print $14 + $15}' /proc/$HP/stat)
echo stats >&3
sleep 0.3
SPANS=$(sed -n 's/STATS traces=\([0-9]*\).*/\1/p' "$TMP/out")
HWM=$(awk '/VmHWM/ {print $2}' /proc/$HP/status)
echo quit >&3
exec 3>&-
wait $HP || true
TICKS=$((T1 - T0))
echo "spans=$SPANS cpu_seconds=$(awk "BEGIN{print $TICKS/100}") spans_per_cpu_second=$(awk "BEGIN{printf \"%d\", $SPANS*100/($TICKS>0?$TICKS:1)}") peak_rss_kib=$HWM"
