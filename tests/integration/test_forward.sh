#!/usr/bin/env bash
# Two real collectors in a row. A (OTLP/HTTP in -> batch -> five exporters) forwards every
# signal to B over five routes at once:
#   grpc        otlp exporter, plain gRPC (tls.insecure), gzip
#   grpc-zstd   otlp exporter, http:// endpoint, zstd
#   http-proto  otlphttp, protobuf, gzip
#   http-json   otlphttp, JSON, gzip
#   http-none   otlphttp, JSON, no compression
# B has one otlp receiver per route, each in its own pipelines ending in its own file exporter.
# Known traces, metrics and logs are POSTed to A as OTLP/JSON; every route's file must contain
# exactly them (counts, names, ids, attributes, values), and the self-metrics agree:
# A accepted == each A exporter sent == B receiver accepted (right transport) == B file sent.
source "$(dirname "$0")/lib.sh"

NS=5 NM=4 NL=3 # spans, metric points, log records sent
ROUTES="grpc grpc-zstd http-proto http-json http-none"
declare -A PORT EXP TRANSPORT
EXP[grpc]='otlp/grpc: {endpoint: "127.0.0.1:@P@", tls: {insecure: true}}'
EXP[grpc-zstd]='otlp/grpc-zstd: {endpoint: "http://127.0.0.1:@P@", compression: zstd}'
EXP[http-proto]='otlphttp/http-proto: {endpoint: "http://127.0.0.1:@P@", encoding: proto, compression: gzip}'
EXP[http-json]='otlphttp/http-json: {endpoint: "http://127.0.0.1:@P@", encoding: json, compression: gzip}'
EXP[http-none]='otlphttp/http-none: {endpoint: "http://127.0.0.1:@P@", encoding: json, compression: none}'
TRANSPORT=([grpc]=grpc [grpc-zstd]=grpc [http-proto]=http [http-json]=http [http-none]=http)

# ---- B: one receiver, pipeline set and file per route ----------------------------------------
B_MET=$(free_port)
{
  echo "receivers:"
  for r in $ROUTES; do
    PORT[$r]=$(free_port)
    echo "  otlp/$r: {protocols: {${TRANSPORT[$r]}: {endpoint: \"127.0.0.1:${PORT[$r]}\"}}}"
  done
  echo "exporters:"
  for r in $ROUTES; do echo "  file/$r: {path: \"$TMP/out-$r.jsonl\", flush_interval: 0}"; done
  echo "service:"
  echo "  pipelines:"
  for r in $ROUTES; do
    for s in traces metrics logs; do echo "    $s/$r: {receivers: [otlp/$r], exporters: [file/$r]}"; done
  done
  echo "  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $B_MET}}}}]}}"
} >"$TMP/b.yaml"
start_collector "$TMP/b.log" --config "$TMP/b.yaml"
B_PID=$COLLECTOR_PID

# ---- A: OTLP/HTTP in -> batch -> all five exporters ----------------------------------------------
A_HTTP=$(free_port) A_MET=$(free_port)
list=""
for r in $ROUTES; do list="$list${list:+, }${EXP[$r]%%:*}"; done
{
  echo "receivers: {otlp: {protocols: {http: {endpoint: \"127.0.0.1:$A_HTTP\"}}}}"
  echo "processors: {batch: {timeout: 100ms}}"
  echo "exporters:"
  for r in $ROUTES; do echo "  ${EXP[$r]//@P@/${PORT[$r]}}"; done
  echo "service:"
  echo "  pipelines:"
  for s in traces metrics logs; do echo "    $s: {receivers: [otlp], processors: [batch], exporters: [$list]}"; done
  echo "  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $A_MET}}}}]}}"
} >"$TMP/a.yaml"
start_collector "$TMP/a.log" --config "$TMP/a.yaml"
A_PID=$COLLECTOR_PID
for r in $ROUTES; do wait_port "${PORT[$r]}"; done
wait_port "$B_MET" && wait_port "$A_HTTP" && wait_port "$A_MET"

content_ok() { # content_ok FILE PREFIX: names, attributes and resource of what B wrote
  "$PY" - "$1" "$2" "$NS" "$NM" "$NL" <<'PY'
import json, sys
path, p, ns, nm, nl = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
spans, points, logs, ok = [], [], [], True
for line in open(path).read().splitlines():
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        svc = {a["key"]: a["value"] for a in rs["resource"]["attributes"]}["service.name"]
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                spans.append((svc["stringValue"], ss["scope"]["name"], s))
    for rm in d.get("resourceMetrics", []):
        for sm in rm["scopeMetrics"]:
            for m in sm["metrics"]:
                points += [(m["name"], dp) for dp in m["gauge"]["dataPoints"]]
    for rl in d.get("resourceLogs", []):
        for sl in rl["scopeLogs"]:
            logs += sl["logRecords"]
names = sorted(s["name"] for _, _, s in spans)
if names != sorted("%s-%d" % (p, i) for i in range(ns)):
    print("  span names", names); ok = False
for svc, scope, s in spans:
    i = int(s["name"].rsplit("-", 1)[1])
    attrs = {a["key"]: a["value"] for a in s.get("attributes", [])}
    want_tid = "%032x" % (0x5b8efff798038103d269b633813fc60c + i)
    if (svc, scope, s["traceId"], s["kind"], s["endTimeUnixNano"], attrs.get("gen_ai.request.model"),
            attrs.get("seq")) != ("itest", "itest", want_tid, 3, str(1767225601000000000 + i),
                                  {"stringValue": "gpt-4o"}, {"intValue": str(i)}):
        print("  span", svc, scope, s); ok = False
if sorted(int(dp["asInt"]) for _, dp in points) != list(range(nm)) or \
        {n for n, _ in points} != {p + ".gauge"}:
    print("  points", points); ok = False
if sorted(r["body"]["stringValue"] for r in logs) != sorted("%s-%d" % (p, i) for i in range(nl)) or \
        any(r.get("severityText") != "INFO" or r.get("severityNumber") != 9 for r in logs):
    print("  logs", logs); ok = False
sys.exit(0 if ok else 1)
PY
}

all_sent() { # every A exporter reports every item sent
  local r id
  scrape "$A_MET" >"$TMP/a.prom"
  for r in $ROUTES; do
    id=${EXP[$r]%%:*}
    [ "$(metric_in "$TMP/a.prom" otelcol_exporter_sent_spans_total "exporter=\"$id\"")" = $NS ] &&
      [ "$(metric_in "$TMP/a.prom" otelcol_exporter_sent_metric_points_total "exporter=\"$id\"")" = $NM ] &&
      [ "$(metric_in "$TMP/a.prom" otelcol_exporter_sent_log_records_total "exporter=\"$id\"")" = $NL ] || return 1
  done
}
all_written() { # every route's file holds the expected items
  local r
  for r in $ROUTES; do [ "$(count_items "$TMP/out-$r.jsonl" all)" = "$NS $NM $NL" ] || return 1; done
}

check "traces accepted" expect_eq "POST traces" "$(post_json "$A_HTTP" /v1/traces "$(json_traces $NS fwd)")" 200
check "metrics accepted" expect_eq "POST metrics" "$(post_json "$A_HTTP" /v1/metrics "$(json_metrics $NM fwd)")" 200
check "logs accepted" expect_eq "POST logs" "$(post_json "$A_HTTP" /v1/logs "$(json_logs $NL fwd)")" 200
check "A reports everything sent on every route" wait_until 15 all_sent
wait_until 10 all_written || true
sleep 0.3 # anything extra (a duplicate) would arrive now
scrape "$A_MET" >"$TMP/a.prom"
scrape "$B_MET" >"$TMP/b.prom"
for item in "spans:$NS" "metric_points:$NM" "log_records:$NL"; do
  n=${item#*:} item=${item%:*}
  check "A accepted $item" expect_eq "A accepted $item" \
    "$(metric_in "$TMP/a.prom" "otelcol_receiver_accepted_${item}_total" 'transport="http"')" "$n"
  check "A send_failed $item" expect_eq "A send_failed" \
    "$(metric_in "$TMP/a.prom" "otelcol_exporter_send_failed_${item}_total")" 0
done
for r in $ROUTES; do
  id=${EXP[$r]%%:*}
  check "$r: B wrote exactly what was sent" expect_eq "spans points logs" "$(count_items "$TMP/out-$r.jsonl" all)" "$NS $NM $NL"
  check "$r: content" content_ok "$TMP/out-$r.jsonl" fwd
  for item in "spans:$NS" "metric_points:$NM" "log_records:$NL"; do
    n=${item#*:} item=${item%:*}
    check "$r: A $id sent $item" expect_eq "A sent $item" \
      "$(metric_in "$TMP/a.prom" "otelcol_exporter_sent_${item}_total" "exporter=\"$id\"")" "$n"
    check "$r: B accepted $item over ${TRANSPORT[$r]}" expect_eq "B accepted $item" \
      "$(metric_in "$TMP/b.prom" "otelcol_receiver_accepted_${item}_total" "receiver=\"otlp/$r\",transport=\"${TRANSPORT[$r]}\"")" "$n"
    check "$r: B file sent $item" expect_eq "B sent $item" \
      "$(metric_in "$TMP/b.prom" "otelcol_exporter_sent_${item}_total" "exporter=\"file/$r\"")" "$n"
  done
done
check "A stops cleanly" stop_pid "$A_PID"
check "B stops cleanly" stop_pid "$B_PID"

if [ "$FAILED" -gt 0 ] || [ -n "${IT_VERBOSE:-}" ]; then tail -n 20 "$TMP/a.log" "$TMP/b.log" >&2; fi
finish
