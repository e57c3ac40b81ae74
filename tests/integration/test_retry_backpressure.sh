#!/usr/bin/env bash
# Exporter helper behaviour seen from outside, with the real binary:
#  1. retry: data accepted while the next hop is down is delivered once it comes up, exactly
#     once (otlphttp for traces, otlp/gRPC for logs, short retry intervals);
#  2. backpressure: sending_queue {queue_size: 2, num_consumers: 1} with the next hop down: once
#     the queue is full the receiver answers HTTP 503 (google.rpc.Status body) and gRPC
#     UNAVAILABLE, counted in otelcol_exporter_enqueue_failed_spans and receiver refused_spans;
#  3. drop_on_overflow: true: the same overflow answers 200 / OK and the drops are counted.
source "$(dirname "$0")/lib.sh"
GRPC_SEND="$(dirname "$0")/otlp_grpc.py"

# ---- 1. retry until the sink comes up -----------------------------------------------------------
SINK_HTTP=$(free_port) SINK_GRPC=$(free_port) SINK_MET=$(free_port)
A_HTTP=$(free_port) A_MET=$(free_port)
RETRY='retry_on_failure: {initial_interval: 100ms, randomization_factor: 0, multiplier: 1.5, max_interval: 300ms, max_elapsed_time: 60s}'
cat >"$TMP/a.yaml" <<Y
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$A_HTTP"}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:$SINK_HTTP
    timeout: 2s
    $RETRY
  otlp:
    endpoint: 127.0.0.1:$SINK_GRPC
    tls: {insecure: true}
    timeout: 2s
    $RETRY
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
    logs: {receivers: [otlp], exporters: [otlp]}
  telemetry:
    metrics:
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $A_MET}}}}]
Y
start_collector "$TMP/a.log" --config "$TMP/a.yaml" --shutdown-timeout 5s
A_PID=$COLLECTOR_PID
wait_port "$A_HTTP" && wait_port "$A_MET"
check "retry: traces queued while the sink is down" expect_eq "POST" "$(post_json "$A_HTTP" /v1/traces "$(json_traces 5 retry)")" 200
check "retry: logs queued while the sink is down" expect_eq "POST" "$(post_json "$A_HTTP" /v1/logs "$(json_logs 3 retry)")" 200
sleep 1 # several attempts fail meanwhile
scrape "$A_MET" >"$TMP/a1.prom"
check "retry: nothing sent while down" expect_eq "sent" "$(metric_in "$TMP/a1.prom" otelcol_exporter_sent_spans_total)" 0
check "retry: nothing dropped while down" expect_eq "send_failed" \
  "$(($(metric_in "$TMP/a1.prom" otelcol_exporter_send_failed_spans_total) + $(metric_in "$TMP/a1.prom" otelcol_exporter_send_failed_log_records_total)))" 0

cat >"$TMP/sink.yaml" <<Y
receivers:
  otlp:
    protocols:
      grpc: {endpoint: "127.0.0.1:$SINK_GRPC"}
      http: {endpoint: "127.0.0.1:$SINK_HTTP"}
exporters:
  file: {path: "$TMP/sink.jsonl", flush_interval: 0}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [file]}
    logs: {receivers: [otlp], exporters: [file]}
  telemetry:
    metrics:
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $SINK_MET}}}}]
Y
start_collector "$TMP/sink.log" --config "$TMP/sink.yaml"
SINK_PID=$COLLECTOR_PID
wait_port "$SINK_HTTP" && wait_port "$SINK_GRPC"
delivered() { [ "$(count_items "$TMP/sink.jsonl" all)" = "5 0 3" ]; }
check "retry: delivered once the sink is up" wait_until 15 delivered
sleep 0.7 # a duplicate delivery would show up now
check "retry: delivered exactly once" expect_eq "spans points logs" "$(count_items "$TMP/sink.jsonl" all)" "5 0 3"
scrape "$A_MET" >"$TMP/a2.prom"
check "retry: A sent 5 spans" expect_eq "sent spans" "$(metric_in "$TMP/a2.prom" otelcol_exporter_sent_spans_total 'exporter="otlphttp"')" 5
check "retry: A sent 3 log records" expect_eq "sent logs" "$(metric_in "$TMP/a2.prom" otelcol_exporter_sent_log_records_total 'exporter="otlp"')" 3
check "retry: A dropped nothing" expect_eq "send_failed" \
  "$(($(metric_in "$TMP/a2.prom" otelcol_exporter_send_failed_spans_total) + $(metric_in "$TMP/a2.prom" otelcol_exporter_send_failed_log_records_total)))" 0
check "retry: A stops with exit 0" stop_pid "$A_PID"
check "retry: sink stops with exit 0" stop_pid "$SINK_PID"

# ---- 2./3. a full sending queue -------------------------------------------------------------------
overflow() { # overflow NAME EXTRA_QUEUE_YAML WANT_HTTP WANT_GRPC
  local name=$1 down http grpc met codes c
  down=$(free_port) http=$(free_port) grpc=$(free_port) met=$(free_port)
  cat >"$TMP/q.yaml" <<Y
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:$http"}
      grpc: {endpoint: "127.0.0.1:$grpc"}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:$down
    retry_on_failure: {initial_interval: 30s, max_interval: 30s}
    sending_queue: {queue_size: 2, num_consumers: 1$2}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlphttp]}
  telemetry:
    metrics:
      readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $met}}}}]
Y
  start_collector "$TMP/q-$name.log" --config "$TMP/q.yaml" --shutdown-timeout 2s
  local pid=$COLLECTOR_PID
  wait_port "$http" && wait_port "$grpc" && wait_port "$met"
  # The first batch is taken by the only consumer (which then waits 30 s to retry); wait until
  # it has left the queue so the next two fill it exactly.
  check "$name: request 1 accepted" expect_eq "POST 1" "$(post_json "$http" /v1/traces "$(json_traces 2 q1)")" 200
  check "$name: consumer holds request 1" wait_until 10 metric_is "$met" otelcol_exporter_queue_size "" 0
  check "$name: request 2 queued" expect_eq "POST 2" "$(post_json "$http" /v1/traces "$(json_traces 2 q2)")" 200
  check "$name: request 3 queued" expect_eq "POST 3" "$(post_json "$http" /v1/traces "$(json_traces 2 q3)")" 200
  check "$name: queue full" metric_is "$met" otelcol_exporter_queue_size "" 2
  c=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 10 -X POST -H 'Content-Type: application/json' \
    --data-binary "$(json_traces 2 q4)" "http://127.0.0.1:$http/v1/traces" || true)
  check "$name: HTTP answer when full" expect_eq "POST 4" "$c" "$3"
  if [ "$3" = 503 ]; then
    check "$name: 503 carries a Status body" grep -q '"message"' "$TMP/body"
  fi
  codes=$("$PY" "$GRPC_SEND" "$grpc" 2 3 "$name" 10 | tr '\n' ' ')
  check "$name: gRPC answers when full" expect_eq "gRPC" "$codes" "$4 $4 "
  scrape "$met" >"$TMP/q.prom"
  # overflowed: 2 spans over HTTP + 2 calls x 3 spans over gRPC
  check "$name: enqueue_failed counts the overflow" expect_eq "enqueue_failed_spans" \
    "$(metric_in "$TMP/q.prom" otelcol_exporter_enqueue_failed_spans_total 'exporter="otlphttp"')" 8
  if [ "$3" = 503 ]; then
    check "$name: receiver refused 2 over HTTP" expect_eq "refused http" \
      "$(metric_in "$TMP/q.prom" otelcol_receiver_refused_spans_total 'transport="http"')" 2
    check "$name: receiver refused 6 over gRPC" expect_eq "refused grpc" \
      "$(metric_in "$TMP/q.prom" otelcol_receiver_refused_spans_total 'transport="grpc"')" 6
    check "$name: receiver accepted 6" expect_eq "accepted" \
      "$(metric_in "$TMP/q.prom" otelcol_receiver_accepted_spans_total)" 6
  else
    check "$name: receiver accepted all 14" expect_eq "accepted" \
      "$(metric_in "$TMP/q.prom" otelcol_receiver_accepted_spans_total)" 14
    check "$name: receiver refused none" expect_eq "refused" \
      "$(metric_in "$TMP/q.prom" otelcol_receiver_refused_spans_total)" 0
  fi
  check "$name: nothing sent" expect_eq "sent" "$(metric_in "$TMP/q.prom" otelcol_exporter_sent_spans_total)" 0
  local t0=$SECONDS
  check "$name: stops with exit 0 (drops the queue at the deadline)" stop_pid "$pid" 15
  check "$name: drain bounded by --shutdown-timeout" test $((SECONDS - t0)) -le 6
  check "$name: dropped items logged at shutdown" grep -qiE "drop" "$TMP/q-$name.log"
}
overflow backpressure "" 503 UNAVAILABLE
overflow drop ", drop_on_overflow: true" 200 OK

if [ "$FAILED" -gt 0 ] || [ -n "${IT_VERBOSE:-}" ]; then tail -n 30 "$TMP"/*.log >&2; fi
finish
