#!/usr/bin/env bash
# Two real collectors in a row: A (otlp/HTTP in -> batch -> otlp or otlphttp out) forwards to
# B (otlp in -> file exporter). Known traces, metrics and logs are POSTed to A as OTLP/JSON; B's
# file must contain exactly them (counts, names, attributes), and the self-metrics of both agree
# (A accepted == A sent == B accepted == B written).
source "$(dirname "$0")/lib.sh"

NS=5 NM=4 NL=3 # spans, metric points, log records sent per variant

start_b() { # start_b OUTFILE: B with gRPC + HTTP receivers and a file exporter
  B_GRPC=$(free_port) B_HTTP=$(free_port) B_MET=$(free_port)
  cat >"$TMP/b.yaml" <<Y
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$B_GRPC"}
      http: {endpoint: "127.0.0.1:$B_HTTP"}
exporters:
  file: {path: "$1", flush_interval: 0}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
    metrics: {receivers: [otlp], exporters: [file]}
    logs: {receivers: [otlp], exporters: [file]}
  telemetry:
    metrics:
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $B_MET}}}}]
Y
  start_collector "$TMP/b.log" --config "$TMP/b.yaml"
  B_PID=$COLLECTOR_PID
  wait_port "$B_GRPC" && wait_port "$B_HTTP" && wait_port "$B_MET"
}

start_a() { # start_a EXPORTER_ID EXPORTER_YAML
  A_HTTP=$(free_port) A_MET=$(free_port)
  cat >"$TMP/a.yaml" <<Y
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$A_HTTP"}
processors:
  batch: {timeout: 100ms}
exporters:
  $1: $2
service:
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [$1]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [$1]}
    logs: {receivers: [otlp], processors: [batch], exporters: [$1]}
  telemetry:
    metrics:
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $A_MET}}}}]
Y
  start_collector "$TMP/a.log" --config "$TMP/a.yaml"
  A_PID=$COLLECTOR_PID
  wait_port "$A_HTTP" && wait_port "$A_MET"
}

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

all_written() { [ "$(count_items "$1" all)" = "$NS $NM $NL" ]; } # all_written FILE

all_sent() { # all_sent PORT EXPORTER: A's exporter reports every item sent
  scrape "$1" >"$TMP/a.prom"
  [ "$(metric_in "$TMP/a.prom" otelcol_exporter_sent_spans_total "exporter=\"$2\"")" = $NS ] &&
    [ "$(metric_in "$TMP/a.prom" otelcol_exporter_sent_metric_points_total "exporter=\"$2\"")" = $NM ] &&
    [ "$(metric_in "$TMP/a.prom" otelcol_exporter_sent_log_records_total "exporter=\"$2\"")" = $NL ]
}

variant() { # variant NAME EXPORTER_ID EXPORTER_YAML B_TRANSPORT
  local name=$1 out="$TMP/out-$1.jsonl"
  rm -f "$out"
  start_b "$out"
  local ex=${3//@B_GRPC@/$B_GRPC}
  start_a "$2" "${ex//@B_HTTP@/$B_HTTP}"
  check "$name: traces accepted" expect_eq "POST traces" "$(post_json "$A_HTTP" /v1/traces @"$TMP/traces.json")" 200
  check "$name: metrics accepted" expect_eq "POST metrics" "$(post_json "$A_HTTP" /v1/metrics @"$TMP/metrics.json")" 200
  check "$name: logs accepted" expect_eq "POST logs" "$(post_json "$A_HTTP" /v1/logs @"$TMP/logs.json")" 200
  check "$name: A reports everything sent" wait_until 15 all_sent "$A_MET" "$2"
  wait_until 10 all_written "$out" || true
  sleep 0.3 # anything extra (a duplicate) would arrive now
  check "$name: B wrote exactly what was sent" expect_eq "spans points logs" "$(count_items "$out" all)" "$NS $NM $NL"
  check "$name: content" content_ok "$out" fwd
  scrape "$A_MET" >"$TMP/a.prom"
  scrape "$B_MET" >"$TMP/b.prom"
  local item n
  for item in "spans:$NS" "metric_points:$NM" "log_records:$NL"; do
    n=${item#*:} item=${item%:*}
    check "$name: A accepted $item" expect_eq "A accepted $item" \
      "$(metric_in "$TMP/a.prom" "otelcol_receiver_accepted_${item}_total" 'transport="http"')" "$n"
    check "$name: A sent $item" expect_eq "A sent $item" \
      "$(metric_in "$TMP/a.prom" "otelcol_exporter_sent_${item}_total" "exporter=\"$2\"")" "$n"
    check "$name: A send_failed $item" expect_eq "A send_failed" \
      "$(metric_in "$TMP/a.prom" "otelcol_exporter_send_failed_${item}_total")" 0
    check "$name: B accepted $item over $4" expect_eq "B accepted $item" \
      "$(metric_in "$TMP/b.prom" "otelcol_receiver_accepted_${item}_total" "transport=\"$4\"")" "$n"
    check "$name: B file sent $item" expect_eq "B sent $item" \
      "$(metric_in "$TMP/b.prom" "otelcol_exporter_sent_${item}_total" 'exporter="file"')" "$n"
  done
  check "$name: A stops cleanly" stop_pid "$A_PID"
  check "$name: B stops cleanly" stop_pid "$B_PID"
  if [ "$FAILED" -gt 0 ]; then tail -n 20 "$TMP/a.log" "$TMP/b.log" >&2; fi
}

# The same known bodies for every variant (each variant has its own B and output file).
json_traces $NS fwd >"$TMP/traces.json"
json_metrics $NM fwd >"$TMP/metrics.json"
json_logs $NL fwd >"$TMP/logs.json"

variant grpc otlp '{endpoint: "127.0.0.1:@B_GRPC@", tls: {insecure: true}}' grpc
variant grpc-zstd otlp '{endpoint: "http://127.0.0.1:@B_GRPC@", compression: zstd}' grpc
variant http-proto-gzip otlphttp '{endpoint: "http://127.0.0.1:@B_HTTP@", encoding: proto, compression: gzip}' http
variant http-json-gzip otlphttp '{endpoint: "http://127.0.0.1:@B_HTTP@", encoding: json, compression: gzip}' http
variant http-json-none otlphttp '{endpoint: "http://127.0.0.1:@B_HTTP@", encoding: json, compression: none}' http

finish
