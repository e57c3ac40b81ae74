#!/usr/bin/env bash
# memory_limiter in the real binary. One process, two pipelines with their own receivers:
#  - tight: limit_mib 2, below the RSS the process already has -> every request is refused with
#    HTTP 503 / gRPC UNAVAILABLE, counted in otelcol_processor_refused_* and the receiver's
#    refused counters, and nothing reaches the exporter;
#  - generous: limit_mib 4000 -> 200 and the data is written.
source "$(dirname "$0")/lib.sh"
GRPC_SEND="$(dirname "$0")/otlp_grpc.py"

T_HTTP=$(free_port) T_GRPC=$(free_port) G_HTTP=$(free_port) MET=$(free_port)
cat >"$TMP/config.yaml" <<Y
receivers:
  otlp/tight:
    protocols:
      http: {endpoint: "127.0.0.1:$T_HTTP"}
      grpc: {endpoint: "127.0.0.1:$T_GRPC"}
  otlp/generous:
    protocols:
      http: {endpoint: "127.0.0.1:$G_HTTP"}
processors:
  memory_limiter/tight: {check_interval: 100ms, limit_mib: 2, spike_limit_mib: 1}
  memory_limiter/generous: {check_interval: 100ms, limit_mib: 4000, spike_limit_mib: 800}
exporters:
  file/tight: {path: "$TMP/tight.jsonl", flush_interval: 0}
  file/generous: {path: "$TMP/generous.jsonl", flush_interval: 0}
service:
  pipelines:
    traces/tight: {receivers: [otlp/tight], processors: [memory_limiter/tight], exporters: [file/tight]}
    logs/tight: {receivers: [otlp/tight], processors: [memory_limiter/tight], exporters: [file/tight]}
    traces/generous: {receivers: [otlp/generous], processors: [memory_limiter/generous], exporters: [file/generous]}
  telemetry:
    metrics:
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $MET}}}}]
Y
start_collector "$TMP/collector.log" --config "$TMP/config.yaml"
PID=$COLLECTOR_PID
wait_port "$T_HTTP" && wait_port "$T_GRPC" && wait_port "$G_HTTP" && wait_port "$MET"
rss_mib=$(($(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status") / 1024))
echo "  RSS at start: $rss_mib MiB (tight limit: 2 MiB)"
check "RSS is above the tight limit" test "$rss_mib" -gt 2

refused() { [ "$(post_json "$T_HTTP" /v1/traces "$(json_traces 1 probe)")" = 503 ]; }
# The checker samples every 100 ms; the first refusal must come within a few samples.
check "tight: refusing within 5 s" wait_until 5 refused
probes=$(metric "$MET" otelcol_processor_refused_spans_total 'processor="memory_limiter/tight"')
c=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
  --data-binary "$(json_traces 5 tight)" "http://127.0.0.1:$T_HTTP/v1/traces" || true)
check "tight: traces -> 503" expect_eq "status" "$c" 503
check "tight: 503 body is a Status" "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not d.get("message"))' "$TMP/body"
check "tight: logs -> 503" expect_eq "status" "$(post_json "$T_HTTP" /v1/logs "$(json_logs 3 tight)")" 503
codes=$("$PY" "$GRPC_SEND" "$T_GRPC" 2 4 tight 10 | tr '\n' ' ')
check "tight: gRPC -> UNAVAILABLE" expect_eq "gRPC" "$codes" "UNAVAILABLE UNAVAILABLE "

check "generous: traces -> 200" expect_eq "status" "$(post_json "$G_HTTP" /v1/traces "$(json_traces 7 generous)")" 200
check "generous: data written" wait_until 10 items_are "$TMP/generous.jsonl" traces 7

scrape "$MET" >"$TMP/m.prom"
check "refused_spans counts HTTP and gRPC (probes $probes + 5 + 8)" expect_eq "refused spans" \
  "$(metric_in "$TMP/m.prom" otelcol_processor_refused_spans_total 'processor="memory_limiter/tight"')" $((probes + 13))
check "refused_log_records counts 3" expect_eq "refused logs" \
  "$(metric_in "$TMP/m.prom" otelcol_processor_refused_log_records_total 'processor="memory_limiter/tight"')" 3
check "receiver refused the same spans" expect_eq "receiver refused" \
  "$(metric_in "$TMP/m.prom" otelcol_receiver_refused_spans_total 'receiver="otlp/tight"')" $((probes + 13))
check "receiver accepted none on tight" expect_eq "receiver accepted" \
  "$(metric_in "$TMP/m.prom" otelcol_receiver_accepted_spans_total 'receiver="otlp/tight"')" 0
check "generous limiter refused nothing" expect_eq "refused" \
  "$(metric_in "$TMP/m.prom" otelcol_processor_refused_spans_total 'processor="memory_limiter/generous"')" 0
check "generous limiter accepted 7" expect_eq "accepted" \
  "$(metric_in "$TMP/m.prom" otelcol_processor_accepted_spans_total 'processor="memory_limiter/generous"')" 7
check "nothing reached the tight exporter" expect_eq "tight output" "$(count_items "$TMP/tight.jsonl" all)" "0 0 0"
check "limit crossing logged" grep -qiE "memory.*(limit|usage)" "$TMP/collector.log"
check "stops with exit 0" stop_pid "$PID"

if [ "$FAILED" -gt 0 ] || [ -n "${IT_VERBOSE:-}" ]; then tail -n 30 "$TMP/collector.log" >&2; fi
finish
