#!/usr/bin/python3
"""The prometheus exporter scraped by a real Prometheus server.

genops-collector runs an OTLP/HTTP receiver and three prometheus exporters on free loopback
ports: `prometheus` (text format 0.0.4), `prometheus/om` (enable_open_metrics: Prometheus
negotiates OpenMetrics with it) and `prometheus/tls` (HTTPS, a certificate made by openssl at test
time). Prometheus (promharness.py) scrapes them every second as jobs "text", "om" and "tls". The test posts OTLP/JSON metrics (a monotonic cumulative genops.cost {USD} by genops.team,
a delta monotonic genops.tokens sent twice, a gauge, a histogram in ms, a non-monotonic sum) and
checks, through PromQL, the exact values on both jobs, that both targets are healthy (the
exposition parses), target_info, and the exporter's own HTTP answers (content type, 404, 405).
Everything is bounded in time; both processes are stopped and temp dirs removed in all paths."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import promharness  # noqa: E402
from testlib import wait_for  # noqa: E402

SRC = os.environ.get("GENOPS_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.environ.get("GENOPS_BIN") or os.path.join(SRC, "build", "bin")
COLLECTOR = os.path.join(BIN, "genops-collector")


def post(url, payload):
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def attrs(**kv):
    return [{"key": k.replace("_", "."), "value": {"stringValue": v}} for k, v in kv.items()]


def number_points(points, now_ns):
    return [{"asDouble": v, "startTimeUnixNano": str(now_ns - 10**10),
             "timeUnixNano": str(now_ns), "attributes": attrs(**a)} for v, a in points]


def payload(now_ns, tokens):
    metrics = [
        {"name": "genops.cost", "unit": "{USD}", "description": "AI cost in USD",
         "sum": {"aggregationTemporality": 2, "isMonotonic": True,
                 "dataPoints": number_points([
                     (1.25, {"genops_team": "platform", "genops_model": "gpt-4o"}),
                     (0.75, {"genops_team": "platform", "genops_model": "claude"}),
                     (0.5, {"genops_team": "research", "genops_model": "gpt-4o"})], now_ns)}},
        {"name": "genops.tokens", "unit": "{token}",
         "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                 "dataPoints": [{"asInt": str(tokens), "startTimeUnixNano": str(now_ns - 10**9),
                                 "timeUnixNano": str(now_ns),
                                 "attributes": attrs(genops_team="platform")}]}},
        {"name": "genops.budget.utilization", "unit": "{percent}",
         "gauge": {"dataPoints": number_points([(42.5, {"genops_team": "platform"})], now_ns)}},
        {"name": "http.server.duration", "unit": "ms",
         "histogram": {"aggregationTemporality": 2, "dataPoints": [{
             "count": "4", "sum": 31.5, "bucketCounts": ["1", "2", "1"],
             "explicitBounds": [5, 10], "timeUnixNano": str(now_ns),
             "startTimeUnixNano": str(now_ns - 10**10)}]}},
        {"name": "queue.depth", "unit": "1",
         "sum": {"aggregationTemporality": 2, "isMonotonic": False,
                 "dataPoints": [{"asInt": "-3", "timeUnixNano": str(now_ns)}]}},
    ]
    return {"resourceMetrics": [{
        "resource": {"attributes": attrs(service_name="chat") + [
            {"key": "host.name", "value": {"stringValue": "gpu-1"}}]},
        "scopeMetrics": [{"scope": {"name": "genops", "version": "1.0"}, "metrics": metrics}]}]}


def by_label(rows, label):
    return {r[0].get(label): r[1] for r in rows}


def main():
    if not promharness.available():
        print(f"SKIP: {promharness.PROMETHEUS_BIN} not installed")
        return 0
    failures = []
    tmp = tempfile.mkdtemp(prefix="genops-promexp-")
    proc = None
    prom = None
    try:
        rport, pport, oport, tport, mport = (promharness.free_port() for _ in range(5))
        crt, key = os.path.join(tmp, "server.crt"), os.path.join(tmp, "server.key")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                        "-out", crt, "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                       check=True, capture_output=True, timeout=60)
        cfg = os.path.join(tmp, "config.yaml")
        with open(cfg, "w") as f:
            f.write(f"""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:{rport}
exporters:
  prometheus:
    endpoint: 127.0.0.1:{pport}
    const_labels:
      deployment: e2e
  prometheus/om:
    endpoint: 127.0.0.1:{oport}
    enable_open_metrics: true
    namespace: om
  prometheus/tls:
    endpoint: 127.0.0.1:{tport}
    tls:
      cert_file: {crt}
      key_file: {key}
service:
  pipelines:
    metrics:
      receivers: [otlp]
      exporters: [prometheus, prometheus/om, prometheus/tls]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {mport}
""")
        errf = open(os.path.join(tmp, "stderr.log"), "wb")
        proc = subprocess.Popen([COLLECTOR, "--config", cfg], stdout=errf, stderr=errf)
        errf.close()

        def ports_open():
            for p in (rport, pport, oport, tport):
                try:
                    socket.create_connection(("127.0.0.1", p), timeout=0.2).close()
                except OSError:
                    if proc.poll() is not None:
                        raise AssertionError("collector exited early")
                    return False
            return True
        wait_for(ports_open, 15, "the collector ports")

        # the exporter's own HTTP answers
        with urllib.request.urlopen(f"http://127.0.0.1:{pport}/metrics", timeout=5) as r:
            ctype = r.headers.get("Content-Type")
            if ctype != "text/plain; version=0.0.4; charset=utf-8":
                failures.append(f"content type {ctype!r}")
        for path, method, want in (("/other", "GET", 404), ("/metrics", "POST", 405)):
            try:
                req = urllib.request.Request(f"http://127.0.0.1:{pport}{path}", method=method,
                                             data=b"" if method == "POST" else None)
                urllib.request.urlopen(req, timeout=5)
                failures.append(f"{method} {path}: 200, want {want}")
            except urllib.error.HTTPError as e:
                if e.code != want:
                    failures.append(f"{method} {path}: {e.code}, want {want}")
        req = urllib.request.Request(f"http://127.0.0.1:{oport}/metrics",
                                     headers={"Accept": "application/openmetrics-text"})
        with urllib.request.urlopen(req, timeout=5) as r:
            body = r.read().decode()
            if not r.headers.get("Content-Type", "").startswith("application/openmetrics-text"):
                failures.append("OpenMetrics not served when asked for")
            if not body.endswith("# EOF\n"):
                failures.append("OpenMetrics body does not end with # EOF")

        now = time.time_ns()
        assert post(f"http://127.0.0.1:{rport}/v1/metrics", payload(now, 100)) == 200
        assert post(f"http://127.0.0.1:{rport}/v1/metrics", payload(now + 10**9, 50)) == 200

        prom = promharness.Prometheus(scrape_targets={
            "text": [f"127.0.0.1:{pport}"],
            "om": [f"127.0.0.1:{oport}"],
            "tls": {"targets": [f"127.0.0.1:{tport}"], "scheme": "https", "ca_file": crt}})
        prom.start()
        prom.wait_targets_up(timeout=30)

        for job, ns in (("text", ""), ("om", "om_"), ("tls", "")):
            rows = prom.wait_query(f'sum by (genops_team) ({ns}genops_cost_total{{job="{job}"}})',
                                   lambda r: len(r) == 2, timeout=30)
            got = by_label(rows, "genops_team")
            if got != {"platform": 2.0, "research": 0.5}:
                failures.append(f"{job}: cost by team {got}")
            rows = prom.query(f'{ns}genops_tokens_total{{job="{job}"}}')
            if [v for _, v in rows] != [150.0]:
                failures.append(f"{job}: delta tokens accumulated to {rows}")
            rows = prom.query(f'{ns}genops_budget_utilization{{job="{job}"}}')
            if [v for _, v in rows] != [42.5]:
                failures.append(f"{job}: budget utilization {rows}")
            rows = prom.query(f'{ns}http_server_duration_milliseconds_bucket{{job="{job}"}}')
            got = by_label(rows, "le")
            if got != {"5": 1.0, "10": 3.0, "+Inf": 4.0} and \
                    got != {"5.0": 1.0, "10.0": 3.0, "+Inf": 4.0}:
                failures.append(f"{job}: histogram buckets {got}")
            rows = prom.query(f'{ns}http_server_duration_milliseconds_count{{job="{job}"}}')
            if [v for _, v in rows] != [4.0]:
                failures.append(f"{job}: histogram count {rows}")
            rows = prom.query(f'{ns}queue_depth{{job="{job}"}}')
            if [v for _, v in rows] != [-3.0]:
                failures.append(f"{job}: non-monotonic sum as gauge {rows}")
            rows = prom.query(f'{ns}target_info{{job="{job}"}}')
            if len(rows) != 1 or rows[0][0].get("host_name") != "gpu-1" \
                    or rows[0][0].get("exported_job") != "chat":
                failures.append(f"{job}: target_info {rows}")
            # metric type as Prometheus saw it
            meta = prom.api("targets/metadata",
                            {"match_target": f'{{job="{job}"}}',
                             "metric": f"{ns}genops_cost" if job == "om"
                             else f"{ns}genops_cost_total"})
            if not meta or meta[0].get("type") != "counter":
                failures.append(f"{job}: cost metadata {meta}")
        rows = prom.query('genops_cost_total{job="text",genops_team="platform",'
                          'genops_model="gpt-4o"}')
        if len(rows) != 1 or rows[0][0].get("deployment") != "e2e" \
                or rows[0][0].get("otel_scope_name") != "genops" \
                or rows[0][0].get("exported_job") != "chat":
            failures.append(f"labels of one series: {rows}")

        # the exporter counted what it stored in the collector's self-metrics
        with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as r:
            selfm = r.read().decode()
        want = 'otelcol_exporter_sent_metric_points_total{exporter="prometheus"} 14'
        if want not in selfm:
            failures.append("self-metrics: " + "; ".join(
                l for l in selfm.splitlines() if "sent_metric_points" in l))
    except Exception as e:  # report with the logs below
        failures.append(f"{type(e).__name__}: {e}")
    finally:
        if prom is not None:
            if failures:
                print("prometheus log:\n" + prom.log())
            prom.stop()
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
                failures.append("collector did not stop on SIGTERM")
            if proc.returncode not in (0, None) and not failures:
                failures.append(f"collector exited with {proc.returncode}")
        try:
            with open(os.path.join(tmp, "stderr.log"), errors="replace") as f:
                if "Sanitizer" in f.read():
                    failures.append("sanitizer report in the collector's stderr")
        except OSError:
            pass
        if failures:
            try:
                with open(os.path.join(tmp, "stderr.log"), errors="replace") as f:
                    print("collector stderr:\n" + f.read()[-4000:])
            except OSError:
                pass
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL:", f)
    if not failures:
        print("OK: prometheus exporter scraped by Prometheus (text, OpenMetrics, HTTPS)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
