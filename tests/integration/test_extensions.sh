#!/usr/bin/env bash
# Extensions on the real binary: health_check body and statuses, zpages pages, pprof's refusal
# of Go profiles, memory_ballast's warning.
source "$(dirname "$0")/lib.sh"

HC=$(free_port); ZP=$(free_port); PP=$(free_port); RX=$(free_port)
cat >"$TMP/c.yaml" <<YAML
receivers: {otlp: {protocols: {http: {endpoint: 127.0.0.1:$RX}}}}
exporters: {nop: }
extensions:
  health_check: {endpoint: 127.0.0.1:$HC, path: /health}
  zpages: {endpoint: 127.0.0.1:$ZP}
  pprof: {endpoint: 127.0.0.1:$PP}
  memory_ballast: {size_mib: 64}
service:
  extensions: [health_check, zpages, pprof, memory_ballast]
  pipelines: {traces: {receivers: [otlp], exporters: [nop]}}
  telemetry: {metrics: {level: none}}
YAML
start_collector "$TMP/log" --config "$TMP/c.yaml"
wait_port "$HC" && wait_port "$RX"

body=$(curl -s -m 5 "http://127.0.0.1:$HC/health")
check "health body" bash -c "echo '$body' | grep -Eq '^\{\"status\":\"Server available\",\"upSince\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[^\"]+Z\",\"uptime\":\"[0-9.]+(ms|s)\"\}$'"
check "health 200" expect_eq status "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HC/health")" 200
check "health other path 404" expect_eq status "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HC/nope")" 404
check "health POST 405" expect_eq status "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$HC/health")" 405
for page in servicez pipelinez extensionz featurez; do
  check "zpages $page" expect_eq status "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ZP/debug/$page")" 200
done
check "pipelinez lists the pipeline" bash -c "curl -s -m 5 http://127.0.0.1:$ZP/debug/pipelinez | grep -q 'traces: receivers \[otlp\] processors \[\] exporters \[nop\]'"
check "pprof index" expect_eq status "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PP/debug/pprof/")" 200
check "pprof profile refused" expect_eq status "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PP/debug/pprof/profile")" 501
check "memory_ballast warns" grep -q "memory_ballast was removed from otelcol" "$TMP/log"
stop_pid "$COLLECTOR_PID"
check "exit 0" expect_eq exit $? 0
finish
