"""End to end through the real binary: OTLP/HTTP JSON spans and logs that already carry genops.*
attributes -> traces/logs pipelines exporting to the governance, count and sum connectors ->
metrics pipeline (batch processor) -> file exporter. Checks the metric values in the file exactly,
and that the governance connector's final flush at shutdown still reaches the file through the
metrics pipeline's batch processor. Loopback, free ports, bounded in time."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, failures, free_port, wait_port  # noqa: E402

BIN = os.path.join(os.environ["GENOPS_BIN"], "genops-collector")


def kv(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


def span(i, attrs, events=(), end=1764990000000000000):
    return {"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "01020304050607%02x" % i,
            "name": "chat", "kind": 3, "startTimeUnixNano": str(end - 1000),
            "endTimeUnixNano": str(end + i),
            "attributes": [kv(k, v) for k, v in attrs.items()],
            "events": [{"name": n, "timeUnixNano": str(end),
                        "attributes": [kv(k, v) for k, v in a.items()]} for n, a in events]}


def post(port, path, body):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def attrs(lst):
    out = {}
    for a in lst or []:
        v = a["value"]
        out[a["key"]] = next(iter(v.values())) if v else None
    return out


def points(lines, name):
    """[(line index, labels dict, value, data point)] of every data point of metric name."""
    out = []
    for i, l in enumerate(lines):
        for rm in l.get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                for m in sm.get("metrics", []):
                    if m["name"] != name:
                        continue
                    body = m.get("sum") or m.get("gauge") or m.get("histogram")
                    for dp in body.get("dataPoints", []):
                        v = dp.get("asDouble", dp.get("asInt"))
                        if isinstance(v, str):
                            v = int(v)
                        out.append((i, attrs(dp.get("attributes")), v, dp, m))
    return out


def latest(lines, name, labels):
    """Value of the last data point of name whose labels equal labels (dict)."""
    found = [p for p in points(lines, name) if p[1] == labels]
    return found[-1] if found else None


def read(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(x) for x in f if x.strip()]


def main():
    tmp = tempfile.mkdtemp(prefix="genops-conn-")
    out = os.path.join(tmp, "metrics.json")
    port = free_port()
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write("""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
connectors:
  governance:
    metrics_flush_interval: 1s
  count:
  sum:
    spans:
      cost.by.team:
        source_attribute: genops.cost.total
        conditions: ['attributes["genops.cost.status"] != "unpriced"']
        attributes: [{key: genops.team, default_value: none}]
processors:
  batch:
    timeout: 100ms
exporters:
  file:
    path: %s
    flush_interval: 0s
service:
  pipelines:
    metrics:
      receivers: [governance, count, sum]
      processors: [batch]
      exporters: [file]
    traces:
      receivers: [otlp]
      exporters: [governance, count, sum]
    logs:
      receivers: [otlp]
      exporters: [governance]
""" % (port, out))
    log = open(os.path.join(tmp, "collector.log"), "w")
    proc = subprocess.Popen([BIN, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    base = {"genops.cost.provider": "openai", "genops.cost.model": "gpt-4o",
            "genops.governance.processed": True}
    try:
        check(wait_port(port), "collector listens")
        spans = []
        for i in range(7):
            spans.append(span(i, dict(base, **{"genops.team": "a", "genops.cost.total": 0.1,
                                               "genops.tokens.input": 100,
                                               "genops.tokens.output": 50})))
        for i in range(7, 10):
            spans.append(span(i, dict(base, **{"genops.team": "b", "genops.cost.total": 0.25,
                                               "genops.tokens.input": 10})))
        spans.append(span(10, {"genops.team": "b", "genops.cost.status": "unpriced",
                               "genops.cost.provider": "acme", "genops.cost.model": "x-1",
                               "genops.governance.processed": True},
                          events=[("genops.policy.evaluated", {"genops.policy.name": "models",
                                                               "genops.policy.result": "blocked"}),
                                  ("genops.budget.evaluated",
                                   {"genops.budget.name": "monthly", "genops.budget.window": "2026-12",
                                    "genops.budget.limit": 100.0, "genops.budget.used": 2.5,
                                    "genops.budget.utilization": 2.5})]))
        body = {"resourceSpans": [{
            "resource": {"attributes": [kv("service.name", "app"), kv("genops.environment", "prod")]},
            "scopeSpans": [{"scope": {"name": "genops"}, "spans": spans}]}]}
        check(post(port, "/v1/traces", body) == 200, "spans accepted")
        logs = {"resourceLogs": [{"resource": {"attributes": [kv("service.name", "app")]},
                                  "scopeLogs": [{"logRecords": [{
                                      "timeUnixNano": "1764990000000000000",
                                      "attributes": [kv("genops.team", "c"),
                                                     kv("genops.cost.total", 1.5)]}]}]}]}
        check(post(port, "/v1/logs", logs) == 200, "logs accepted")

        a = {"genops.team": "a", "genops.environment": "prod", "genops.cost.provider": "openai",
             "genops.cost.model": "gpt-4o"}
        b = dict(a, **{"genops.team": "b"})
        c = {"genops.team": "c"}
        lines = []
        end = time.time() + 10
        while time.time() < end:
            lines = read(out)
            p = latest(lines, "genops.cost", c)
            if p and latest(lines, "genops.cost", a) and latest(lines, "trace.span.count", {}):
                break
            time.sleep(0.1)
        p = latest(lines, "genops.cost", a)
        check(p is not None and p[2] == 0.7, "genops.cost{team=a} == 0.7 exactly (%s)" %
              (p and p[2]))
        if p:
            check(p[4].get("unit") == "{USD}" and p[4]["sum"].get("isMonotonic") is True and
                  p[4]["sum"].get("aggregationTemporality") in (2, "AGGREGATION_TEMPORALITY_CUMULATIVE"),
                  "genops.cost is a cumulative monotonic sum in {USD}")
            check(int(p[3].get("startTimeUnixNano", 0)) > 0, "cost has a start time")
        p = latest(lines, "genops.cost", b)
        check(p is not None and p[2] == 0.75, "genops.cost{team=b} == 0.75 (%s)" % (p and p[2]))
        p = latest(lines, "genops.cost", c)
        check(p is not None and p[2] == 1.5, "genops.cost from logs {team=c} == 1.5 (%s)" %
              (p and p[2]))
        p = latest(lines, "genops.tokens", dict(a, type="input"))
        check(p is not None and p[2] == 700, "tokens input team a == 700 (%s)" % (p and p[2]))
        p = latest(lines, "genops.tokens", dict(a, type="output"))
        check(p is not None and p[2] == 350, "tokens output team a == 350 (%s)" % (p and p[2]))
        p = latest(lines, "genops.tokens", dict(b, type="input"))
        check(p is not None and p[2] == 30, "tokens input team b == 30 (%s)" % (p and p[2]))
        p = latest(lines, "genops.operations", a)
        check(p is not None and p[2] == 7, "operations team a == 7 (%s)" % (p and p[2]))
        p = latest(lines, "genops.unpriced_operations",
                   {"genops.cost.provider": "acme", "genops.cost.model": "x-1"})
        check(p is not None and p[2] == 1, "unpriced acme/x-1 == 1 (%s)" % (p and p[2]))
        p = latest(lines, "genops.policy.violations",
                   {"genops.policy.name": "models", "genops.policy.result": "blocked"})
        check(p is not None and p[2] == 1, "policy violation counted (%s)" % (p and p[2]))
        p = latest(lines, "genops.budget.utilization",
                   {"genops.budget.name": "monthly", "genops.budget.window": "2026-12"})
        check(p is not None and p[2] == 2.5 and p[4].get("unit") == "{percent}",
              "budget utilization gauge (%s)" % (p and p[2]))
        p = latest(lines, "trace.span.count", {})
        check(p is not None and p[2] == 11, "count: trace.span.count == 11 (%s)" % (p and p[2]))
        if p:
            check(p[4]["sum"].get("aggregationTemporality") in (1, "AGGREGATION_TEMPORALITY_DELTA"),
                  "count emits delta sums")
        p = latest(lines, "cost.by.team", {"genops.team": "a"})
        check(p is not None and abs(p[2] - 0.7) < 1e-9, "sum: cost.by.team{a} (%s)" % (p and p[2]))
        p = latest(lines, "cost.by.team", {"genops.team": "b"})
        check(p is not None and abs(p[2] - 0.75) < 1e-9,
              "sum: unpriced span excluded by the condition (%s)" % (p and p[2]))

        # More data, then stop at once: the final flush at shutdown goes through the metrics
        # pipeline's batch processor into the file.
        more = {"resourceSpans": [{
            "resource": {"attributes": [kv("genops.environment", "prod")]},
            "scopeSpans": [{"spans": [span(20, dict(base, **{"genops.team": "a",
                                                               "genops.cost.total": 0.3}))]}]}]}
        check(post(port, "/v1/traces", more) == 200, "more spans accepted")
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -9
        check(rc == 0, "collector exits cleanly (%s)" % rc)
        lines = read(out)
        p = latest(lines, "genops.cost", a)
        check(p is not None and p[2] == 1.0, "final flush at shutdown: cost{team=a} == 1.0 (%s)" %
              (p and p[2]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        log.close()
    if failures:
        with open(os.path.join(tmp, "collector.log")) as f:
            sys.stdout.write(f.read()[-4000:])
        print("%d failure(s)" % len(failures))
        return 1
    print("all ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
