"""prometheusremotewrite exporter end to end through the real binary.

1. A real Prometheus (promharness.py, --web.enable-remote-write-receiver, loopback): OTLP/HTTP JSON
   metrics in -> prometheusremotewrite -> /api/v1/write; exact PromQL results for a counter,
   a histogram, a gauge, target_info and external labels; a delta sum must not arrive.
2. A Python remote-write sink: request headers (X-Scope-OrgID, Content-Encoding, version, type,
   User-Agent), the snappy + protobuf body decoded (labels sorted, __name__, external label),
   splitting by max_batch_size_bytes, retry of a 503 without re-sending the requests of the batch
   that were already accepted, and no retry of a 400.
Bounded waits; everything started is stopped in finally."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promharness  # noqa: E402
from testlib import check, failures, free_port, snappy_block_decode, stop, wait_port  # noqa: E402

BIN = os.path.join(os.environ["GENOPS_BIN"], "genops-collector")


def check_clean_exit(name, rc, log):
    if log is None:
        check(False, "%s: collector did not start" % name)
        return
    with open(log) as f:
        text = f.read()
    check(rc == 0 and "Sanitizer" not in text, "%s: collector exited cleanly (rc %s)" % (name, rc))


# ---- collector ------------------------------------------------------------------------------

def start_collector(tmp, name, exporter_yaml, metrics_port=None):
    port = free_port()
    telemetry = ("readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: %d}}}}]"
                 % metrics_port) if metrics_port else "level: none"
    cfg = os.path.join(tmp, name + ".yaml")
    with open(cfg, "w") as f:
        f.write("""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  prometheusremotewrite:
%s
service:
  telemetry:
    metrics:
      %s
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheusremotewrite]
""" % (port, exporter_yaml, telemetry))
    log = open(os.path.join(tmp, name + ".log"), "w")
    proc = subprocess.Popen([BIN, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    if not wait_port(port):
        stop(proc)
        raise RuntimeError("collector did not start; see " + log.name)
    return proc, port, log.name


def kv(k, v):
    if isinstance(v, str):
        return {"key": k, "value": {"stringValue": v}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"intValue": str(v)}}


def metrics_body(now_ns):
    ts = str(now_ns)
    start = str(now_ns - 60 * 10**9)

    def num(attrs, v):
        d = {"attributes": [kv(k, x) for k, x in attrs.items()], "startTimeUnixNano": start,
             "timeUnixNano": ts}
        d["asDouble" if isinstance(v, float) else "asInt"] = v if isinstance(v, float) else str(v)
        return d

    return {"resourceMetrics": [{
        "resource": {"attributes": [kv("service.name", "chatbot"),
                                    kv("service.namespace", "ai"),
                                    kv("service.instance.id", "pod-1"),
                                    kv("deployment.environment", "prod")]},
        "scopeMetrics": [{"scope": {"name": "genops"}, "metrics": [
            {"name": "genops.cost", "unit": "1", "description": "cost in USD",
             "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
                 num({"genops.team": "search", "genops.model": "gpt-4o"}, 1.5),
                 num({"genops.team": "search", "genops.model": "claude"}, 2.25),
                 num({"genops.team": "support", "genops.model": "gpt-4o"}, 4.0)]}},
            {"name": "genops.budget.remaining", "unit": "1",
             "gauge": {"dataPoints": [num({"genops.team": "search"}, 0.75)]}},
            {"name": "genops.request.latency", "unit": "s",
             "histogram": {"aggregationTemporality": 2, "dataPoints": [{
                 "attributes": [kv("genops.team", "search")], "startTimeUnixNano": start,
                 "timeUnixNano": ts, "count": "10", "sum": 7.5,
                 "bucketCounts": ["2", "5", "3"], "explicitBounds": [0.25, 1.0]}]}},
            {"name": "genops.tokens.delta", "unit": "1",
             "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [
                 num({"genops.team": "search"}, 100)]}},
        ]}]}]}


def post_metrics(port, body):
    req = urllib.request.Request("http://127.0.0.1:%d/v1/metrics" % port,
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def value_by(rows, label):
    return {m.get(label): v for m, v in rows}


def test_prometheus(tmp):
    col = log = rc = None
    try:
        with promharness.Prometheus(remote_write_receiver=True) as prom:
            col, port, log = start_collector(tmp, "col-prom", """
    endpoint: %s
    external_labels:
      cluster: production
    headers:
      X-Scope-OrgID: tenant-a
    retry_on_failure:
      max_elapsed_time: 10s
""" % prom.remote_write_url)
            now_ns = time.time_ns()
            check(post_metrics(port, metrics_body(now_ns)) == 200,
                  "prometheus: OTLP POST accepted")
            rows = prom.wait_query("sum by (genops_team) (genops_cost_total)",
                                   lambda r: len(r) == 2, timeout=15)
            check(value_by(rows, "genops_team") == {"search": 3.75, "support": 4.0},
                  "prometheus: sum by (genops_team) (genops_cost_total) = search 3.75, support 4 "
                  "(got %s)" % value_by(rows, "genops_team"))
            rows = prom.query('genops_cost_total{genops_team="support"}')
            m = rows[0][0] if len(rows) == 1 else {}
            check(m.get("cluster") == "production" and m.get("job") == "ai/chatbot" and
                  m.get("instance") == "pod-1" and m.get("genops_model") == "gpt-4o",
                  "prometheus: counter labels (external label, job, instance, attribute) %s" % m)
            rows = prom.query("genops_budget_remaining_ratio")  # unit "1" on a gauge
            check(len(rows) == 1 and rows[0][1] == 0.75,
                  "prometheus: gauge genops_budget_remaining_ratio 0.75")
            rows = prom.query("genops_request_latency_seconds_bucket")
            check(value_by(rows, "le") == {"0.25": 2.0, "1": 7.0, "+Inf": 10.0},
                  "prometheus: histogram buckets cumulative with +Inf (got %s)"
                  % value_by(rows, "le"))
            rows = prom.query("genops_request_latency_seconds_sum")
            check(len(rows) == 1 and rows[0][1] == 7.5, "prometheus: histogram _sum")
            rows = prom.query("genops_request_latency_seconds_count")
            check(len(rows) == 1 and rows[0][1] == 10, "prometheus: histogram _count")
            rows = prom.query("target_info")
            ti = rows[0][0] if len(rows) == 1 else {}
            check(ti.get("deployment_environment") == "prod" and ti.get("job") == "ai/chatbot"
                  and ti.get("instance") == "pod-1" and "service_name" not in ti and
                  ti.get("cluster") == "production", "prometheus: target_info %s" % ti)
            rows = prom.query('{__name__=~"genops_tokens.*"}')
            check(rows == [], "prometheus: delta sum dropped")
            with open(log) as f:
                text = f.read()
            check(text.count("invalid temporality and type combination") == 1 and
                  "genops.tokens.delta" in text,
                  "prometheus: delta drop logged with the metric name")
            rc = stop(col)
            col = None
    finally:
        if col:
            rc = stop(col)
    check_clean_exit("prometheus", rc, log)


# ---- sink -----------------------------------------------------------------------------------

def pb_fields(buf):
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = varint(buf, pos)
        elif wt == 1:
            v = buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            ln, pos = varint(buf, pos)
            v = buf[pos:pos + ln]
            pos += ln
        else:
            raise ValueError("wire type %d" % wt)
        yield num, v


def varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7f) << shift
        shift += 7
        if b < 0x80:
            return v, pos


def decode_write_request(raw):
    import struct
    series = []
    for num, v in pb_fields(raw):
        if num != 1:
            continue
        labels, samples = [], []
        for n2, v2 in pb_fields(v):
            if n2 == 1:
                d = dict(pb_fields(v2))
                labels.append((d.get(1, b"").decode(), d.get(2, b"").decode()))
            elif n2 == 2:
                d = dict(pb_fields(v2))
                samples.append((struct.unpack("<d", d[1])[0] if 1 in d else 0.0, d.get(2, 0)))
        series.append((labels, samples))
    return series


class Sink:
    def __init__(self, ssl_context=None):
        self.requests = []  # (headers, raw body, status answered)
        self.script = []    # statuses to answer, in order; then 204
        self.times = []     # arrival time of each request
        self.lock = threading.Lock()
        sink = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink.lock:
                    status = sink.script.pop(0) if sink.script else 204
                    sink.requests.append((dict(self.headers), body, status))
                    sink.times.append(time.monotonic())
                msg = b"" if status < 300 else b"bad things happened\nsecond line"
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(msg)))
                self.end_headers()
                self.wfile.write(msg)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        if ssl_context:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, n, secs=10):
        end = time.time() + secs
        while time.time() < end:
            with self.lock:
                if len(self.requests) >= n:
                    return True
            time.sleep(0.05)
        return False

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def scrape(port):
    """Self-metrics as {"name{labels}": value}."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            out[k] = float(v)
    return out


def test_sink(tmp):
    sink = Sink()
    col = log = None
    mport = free_port()
    try:
        col, port, log = start_collector(tmp, "col-sink", """
    endpoint: http://127.0.0.1:%d/api/v1/push
    external_labels:
      cluster: production
    headers:
      X-Scope-OrgID: tenant-a
      User-Agent: not-allowed
    target_info:
      enabled: false
    max_batch_size_bytes: 400
    retry_on_failure:
      initial_interval: 50ms
      max_interval: 100ms
      max_elapsed_time: 5s
""" % sink.port, metrics_port=mport)
        # 1st request OK, 2nd 503 (retried: the 1st must not be sent again), then OK
        sink.script = [204, 503]
        post_metrics(port, metrics_body(time.time_ns()))
        # 3 counter + 1 gauge + 2 histogram (_sum/_count) + 3 buckets = 9 series
        got_all = False
        end = time.time() + 10
        while time.time() < end and not got_all:
            with sink.lock:
                ok = [r for r in sink.requests if r[2] < 300]
                names = [l for r in ok for s in decode_write_request(snappy_block_decode(r[1]))
                         for l in s[0] if l[0] == "__name__"]
            got_all = len(names) >= 9
            time.sleep(0.05)
        with sink.lock:
            reqs = list(sink.requests)
        h = reqs[0][0] if reqs else {}
        check(h.get("X-Scope-OrgID") == "tenant-a", "sink: X-Scope-OrgID sent")
        check(h.get("Content-Encoding") == "snappy", "sink: Content-Encoding snappy")
        check(h.get("Content-Type") == "application/x-protobuf", "sink: Content-Type")
        check(h.get("X-Prometheus-Remote-Write-Version") == "0.1.0", "sink: version header")
        check(h.get("User-Agent", "").startswith("genops-collector/"),
              "sink: User-Agent (a configured one is ignored)")
        check(len(reqs) >= 3 and reqs[1][2] == 503, "sink: several requests (split), one 503")
        ok = [r for r in reqs if r[2] < 300]
        decoded = [decode_write_request(snappy_block_decode(r[1])) for r in ok]
        raws = [snappy_block_decode(r[1]) for r in ok]
        check(all(len(raw) <= 400 or len(d) == 1 for raw, d in zip(raws, decoded)),
              "sink: each request within max_batch_size_bytes (or a single series)")
        allseries = [s for d in decoded for s in d]
        keys = [tuple(s[0]) for s in allseries]
        check(len(keys) == 9 and len(set(keys)) == 9,
              "sink: 9 series, none sent twice after the retry (got %d, %d distinct)"
              % (len(keys), len(set(keys))))
        check(all([l[0] for l in s[0]] == sorted(l[0] for l in s[0]) for s in allseries),
              "sink: labels sorted by name")
        check(all(dict(s[0]).get("cluster") == "production" and "__name__" in dict(s[0])
                  for s in allseries), "sink: __name__ and external label on every series")
        names = sorted(dict(s[0])["__name__"] for s in allseries)
        check("genops_cost_total" in names and "genops_request_latency_seconds_bucket" in names
              and not any(n.startswith("genops_tokens") for n in names)
              and "target_info" not in names, "sink: names %s" % sorted(set(names)))
        cnt = [s for s in allseries if dict(s[0])["__name__"] == "genops_cost_total"
               and dict(s[0]).get("genops_model") == "claude"]
        check(len(cnt) == 1 and cnt[0][1][0][0] == 2.25 and cnt[0][1][0][1] > 0,
              "sink: counter sample value and ms timestamp")

        # self-metrics: 6 points in, the delta one failed; translation counters
        m = scrape(mport)
        lab = '{exporter="prometheusremotewrite"}'
        check(m.get("otelcol_exporter_sent_metric_points_total" + lab) == 5 and
              m.get("otelcol_exporter_send_failed_metric_points_total" + lab) == 1,
              "sink: sent 5 / failed 1 metric points (%s, %s)"
              % (m.get("otelcol_exporter_sent_metric_points_total" + lab),
                 m.get("otelcol_exporter_send_failed_metric_points_total" + lab)))
        check(m.get("otelcol_exporter_prometheusremotewrite_translated_time_series_total" + lab)
              == 9 and
              m.get("otelcol_exporter_prometheusremotewrite_failed_translations_total" + lab) == 1
              and m.get("otelcol_exporter_prometheusremotewrite_sent_batches_total" + lab)
              == len(reqs),
              "sink: translated_time_series 9, failed_translations 1, sent_batches = requests")

        # 400: permanent, not retried, logged with the body's first line
        n0 = len(reqs)
        sink.script = [400]
        post_metrics(port, {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
            {"name": "g", "gauge": {"dataPoints": [{"asDouble": 1.0,
                                                    "timeUnixNano": str(time.time_ns())}]}}]}]}]})
        sink.wait(n0 + 1)
        time.sleep(1.0)
        with sink.lock:
            after = sink.requests[n0:]
        check(len(after) == 1 and after[0][2] == 400, "sink: HTTP 400 not retried (%d requests)"
              % len(after))
        with open(log) as f:
            text = f.read()
        check("HTTP status 400: bad things happened" in text and "second line" not in text,
              "sink: 400 logged with the first line of the body")
        check(text.count("invalid temporality and type combination") == 1,
              "sink: the delta drop is logged once although the batch was retried")
        check('"User-Agent" cannot be changed' in text, "sink: configured User-Agent warned about")

        # 429 with Retry-After: 1 -> retried about a second later
        n0 = len(sink.requests)
        sink.script = [429]
        post_metrics(port, {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
            {"name": "g", "gauge": {"dataPoints": [{"asDouble": 2.0,
                                                    "timeUnixNano": str(time.time_ns())}]}}]}]}]})
        sink.wait(n0 + 2, secs=10)
        with sink.lock:
            st = [r[2] for r in sink.requests[n0:]]
            dt = sink.times[n0 + 1] - sink.times[n0] if len(sink.times) >= n0 + 2 else 0
        check(st == [429, 204] and 0.8 <= dt <= 5, "sink: 429 retried after Retry-After "
              "(%s, %.2fs)" % (st, dt))
    finally:
        rc = stop(col)
        sink.close()
    check_clean_exit("sink", rc, log)


def test_tls(tmp):
    """HTTPS endpoint: verified with tls.ca_file; refused (and retried) without it."""
    import ssl
    crt, key = os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", crt, "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    # the first case also runs without the queue: the export happens on the receiver's thread
    for name, tls, want in (("tls-ok", "      ca_file: %s\n    remote_write_queue:\n"
                                       "      enabled: false\n" % crt, 1),
                            ("tls-unknown-ca", "      min_version: \"1.2\"\n", 0)):
        sink = Sink(ctx)
        col = log = None
        try:
            col, port, log = start_collector(tmp, name, """
    endpoint: https://127.0.0.1:%d/api/v1/push
    tls:
%s    target_info:
      enabled: false
    retry_on_failure:
      max_elapsed_time: 1s
""" % (sink.port, tls))
            status = post_metrics(port, {"resourceMetrics": [{"scopeMetrics": [{"metrics": [
                {"name": "g", "gauge": {"dataPoints": [
                    {"asDouble": 3.0, "timeUnixNano": str(time.time_ns())}]}}]}]}]})
            if want:
                # without the queue the request is answered after the delivery
                with sink.lock:
                    check(status == 200 and len(sink.requests) == 1,
                          "%s: delivered before the OTLP request was answered" % name)
            else:
                time.sleep(2)
            with sink.lock:
                reqs = list(sink.requests)
            ok = len(reqs) == want
            if want and ok:
                series = decode_write_request(snappy_block_decode(reqs[0][1]))
                ok = [dict(x[0]).get("__name__") for x in series] == ["g"]
            check(ok, "%s: %d request(s) received over HTTPS, want %d" % (name, len(reqs), want))
            if not want:
                with open(log) as f:
                    text = f.read()
                check("dropping data" in text and ("SSL" in text or "certificate" in text),
                      "%s: certificate error logged and the batch dropped after retries" % name)
            rc = stop(col)
            col = None
        finally:
            if col:
                rc = stop(col)
            sink.close()
        check_clean_exit(name, rc, log)


def test_config(tmp):
    cfg = os.path.join(tmp, "wal.yaml")
    with open(cfg, "w") as f:
        f.write("""receivers:
  otlp:
    protocols:
      http:
exporters:
  prometheusremotewrite:
    endpoint: http://127.0.0.1:1/api/v1/write
    wal:
      directory: ./prom_rw
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheusremotewrite]
""")
    p = subprocess.run([BIN, "validate", "--config", cfg], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 1 and "wal.yaml:8:5: error:" in p.stderr and
          "not supported in this build" in p.stderr, "config: wal refused with file:line:col (%s)"
          % p.stderr.strip())


def main():
    tmp = tempfile.mkdtemp(prefix="genops-prw-")
    try:
        test_config(tmp)
        test_sink(tmp)
        test_tls(tmp)
        if promharness.available():
            test_prometheus(tmp)
        else:
            print("SKIP prometheus: %s not installed" % promharness.PROMETHEUS_BIN)
    finally:
        if not failures:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("logs kept in", tmp)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
