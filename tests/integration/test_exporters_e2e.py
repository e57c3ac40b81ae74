#!/usr/bin/python3
"""End to end through the real binary: OTLP/HTTP in -> otlphttp, file, debug and logging exporters.

Starts a loopback HTTP sink (scripted: first /v1/traces answer is 503 + Retry-After: 1, then 200),
runs genops-collector on free ports, sends traces and logs as OTLP/JSON, and checks:
  - the sink receives gzip'd protobuf that parses as the sent data, with the configured header,
    after the exporter honoured Retry-After;
  - the file exporter wrote one OTLP/JSON request per line with the span;
  - the debug exporter (detailed) and the logging alias (loglevel: info -> normal) wrote to stderr;
  - the self-metrics count the sent items.
Everything is bounded in time and stopped at the end."""
import gzip
import http.server
import json
import shutil
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import free_port, wait_for  # noqa: E402

SRC = os.environ.get("GENOPS_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("GENOPS_BIN") or os.path.join(SRC, "build", "bin")
COLLECTOR = os.path.join(BIN, "genops-collector")


def compile_protos(out_dir):
    proto_dir = os.path.join(SRC, "proto")
    files = []
    for root, _, names in os.walk(proto_dir):
        files += [os.path.relpath(os.path.join(root, n), proto_dir) for n in names
                  if n.endswith(".proto")]
    subprocess.run(["protoc", "-I", proto_dir, "-I", "/usr/include", "--python_out", out_dir]
                   + sorted(files), check=True)
    sys.path.insert(0, out_dir)


class Sink(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr):
        super().__init__(addr, SinkHandler)
        self.lock = threading.Lock()
        self.requests = []  # (path, headers, body, time)
        self.traces_calls = 0


class SinkHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        srv = self.server
        with srv.lock:
            srv.requests.append((self.path, dict(self.headers), body, time.monotonic()))
            first_traces = self.path == "/v1/traces" and srv.traces_calls == 0
            if self.path == "/v1/traces":
                srv.traces_calls += 1
        if first_traces:
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()


def post(url, payload):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def main():
    failures = []
    tmp = tempfile.mkdtemp(prefix="genops-e2e-")
    compile_protos(tmp)
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

    sink = Sink(("127.0.0.1", 0))
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    rport, mport = free_port(), free_port()
    out_file = os.path.join(tmp, "out.json")
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write(f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{rport}
exporters:
  otlphttp:
    endpoint: http://127.0.0.1:{sink.server_address[1]}
    headers:
      X-Scope-OrgID: tenant-e2e
    retry_on_failure:
      initial_interval: 10ms
      max_interval: 50ms
    sending_queue:
      num_consumers: 2
  file:
    path: {out_file}
    flush_interval: 10ms
  debug:
    verbosity: detailed
  logging/alt:
    loglevel: info
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp, file, debug]
    logs:
      receivers: [otlp]
      exporters: [otlphttp, logging/alt]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {mport}
""")
    err_path = os.path.join(tmp, "stderr.log")
    errf = open(err_path, "wb")
    proc = subprocess.Popen([COLLECTOR, "--config", cfg], stdout=errf, stderr=errf)
    try:
        def port_open():
            try:
                socket.create_connection(("127.0.0.1", rport), timeout=0.2).close()
                return True
            except OSError:
                return proc.poll() is not None and sys.exit("collector exited early")
        wait_for(port_open, 10, "the receiver port")

        traces = {"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name",
                                         "value": {"stringValue": "e2e-svc"}}]},
            "scopeSpans": [{"scope": {"name": "e2e"}, "spans": [{
                "traceId": "5b8efff798038103d269b633813fc60c",
                "spanId": "eee19b7ec3c1b174",
                "name": "e2e-span", "kind": 2,
                "startTimeUnixNano": "1700000000000000000",
                "endTimeUnixNano": "1700000001000000000",
                "attributes": [{"key": "genops.cost", "value": {"doubleValue": 0.25}}]}]}]}]}
        t0 = time.monotonic()
        assert post(f"http://127.0.0.1:{rport}/v1/traces", traces) == 200
        logs = {"resourceLogs": [{"resource": {}, "scopeLogs": [{"logRecords": [{
            "timeUnixNano": "1700000000000000000", "severityNumber": 9,
            "body": {"stringValue": "e2e log line"}}]}]}]}
        assert post(f"http://127.0.0.1:{rport}/v1/logs", logs) == 200

        def traces_ok():
            with sink.lock:
                return [r for r in sink.requests if r[0] == "/v1/traces"]
        got = wait_for(lambda: len(traces_ok()) >= 2 and traces_ok(), 10, "the retried traces")
        path, headers, body, at = got[1]
        hl = {k.lower(): v for k, v in headers.items()}
        if at - got[0][3] < 0.9:
            failures.append(f"Retry-After not honoured: retried after {at - got[0][3]:.3f}s")
        if hl.get("content-encoding") != "gzip":
            failures.append(f"content-encoding {hl.get('content-encoding')}")
        if hl.get("content-type") != "application/x-protobuf":
            failures.append(f"content-type {hl.get('content-type')}")
        if hl.get("x-scope-orgid") != "tenant-e2e":
            failures.append("configured header missing")
        req = trace_service_pb2.ExportTraceServiceRequest()
        req.ParseFromString(gzip.decompress(body))
        span = req.resource_spans[0].scope_spans[0].spans[0]
        if span.name != "e2e-span" or span.span_id.hex() != "eee19b7ec3c1b174":
            failures.append(f"unexpected span {span}")
        if req.resource_spans[0].resource.attributes[0].value.string_value != "e2e-svc":
            failures.append("resource attribute lost")

        def logs_ok():
            with sink.lock:
                return [r for r in sink.requests if r[0] == "/v1/logs"]
        lg = wait_for(logs_ok, 10, "the logs request")[0]
        lreq = logs_service_pb2.ExportLogsServiceRequest()
        lreq.ParseFromString(gzip.decompress(lg[2]))
        if lreq.resource_logs[0].scope_logs[0].log_records[0].body.string_value != "e2e log line":
            failures.append("log body lost")

        def file_line():
            try:
                with open(out_file) as f:
                    data = f.read()
            except OSError:
                return None
            return data if data.endswith("\n") else None
        data = wait_for(file_line, 10, "the file exporter output")
        lines = data.splitlines()
        if len(lines) != 1:
            failures.append(f"file: {len(lines)} lines")
        obj = json.loads(lines[0])
        if obj["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"] != "e2e-span":
            failures.append("file: span missing")

        def metrics():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=2) as r:
                    return r.read().decode()
            except OSError:
                return None
        text = wait_for(metrics, 10, "self-metrics")
        want = ['otelcol_exporter_sent_spans_total{exporter="otlphttp"} 1',
                'otelcol_exporter_sent_spans_total{exporter="file"} 1',
                'otelcol_exporter_sent_log_records_total{exporter="otlphttp"} 1']
        for w in want:
            if w not in text and w.replace("_total", "") not in text:
                failures.append("self-metrics: missing " + w)
        if time.monotonic() - t0 > 8:
            failures.append("too slow")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -9
        errf.close()
        sink.shutdown()
    with open(err_path, "rb") as f:
        err = f.read().decode(errors="replace")
    shutil.rmtree(tmp, ignore_errors=True)
    if rc != 0:
        failures.append(f"collector exit status {rc}")
    for w in ["\tTraces\t{", '"resource spans": 1, "spans": 1}', "ResourceSpans #0",
              "    Name           : e2e-span", "     -> genops.cost: Double(0.25)",
              "\tLogs\t{", "\ne2e log line\n"]:
        if w not in err:
            failures.append("stderr: missing " + repr(w))
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print("---- collector output ----\n" + err[-4000:])
        return 1
    print("ok: otlphttp (retry-after, gzip, headers), file, debug, logging, self-metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
