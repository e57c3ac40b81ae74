"""governance processor end to end through the real binary: OTLP/HTTP JSON in -> governance ->
file exporter, with the budget API. Checks the exact cost written on the span, the budget state
served by GET /v1/budgets, de-duplication of a re-sent span, the threshold alert in the log, the
API's error answers, and that the budget survives a restart (SQLite in the default data dir).
Loopback, free ports, bounded in time."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testlib  # noqa: E402
from testlib import check, failures, free_port, wait_port  # noqa: E402

BIN = os.path.join(os.environ["GENOPS_BIN"], "genops-collector")


def span_json(now_ns, model="gpt-4o", span_id="1112131415161718", cache=200):
    def s(k, v):
        return {"key": k, "value": {"stringValue": v}}

    def i(k, v):
        return {"key": k, "value": {"intValue": str(v)}}

    return {"resourceSpans": [{
        "resource": {"attributes": [s("service.name", "chat-api"), s("genops.team", "ml")]},
        "scopeSpans": [{"scope": {"name": "genops"}, "spans": [{
            "traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": span_id,
            "name": "chat gpt-4o", "kind": 3,
            "startTimeUnixNano": str(now_ns), "endTimeUnixNano": str(now_ns + 1000000),
            "attributes": [s("gen_ai.provider.name", "openai"),
                           s("gen_ai.request.model", model),
                           i("gen_ai.usage.input_tokens", 1000),
                           i("gen_ai.usage.output_tokens", 500)] +
                          ([i("gen_ai.usage.cache_read.input_tokens", cache)] if cache else [])}]}]}]}


def post(port, body):
    req = urllib.request.Request("http://127.0.0.1:%d/v1/traces" % port,
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def get(port, path, method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, body


def attrs(lst):
    out = {}
    for kv in lst or []:
        v = kv["value"]
        out[kv["key"]] = next(iter(v.values())) if v else None
    return out


def read_spans(path, want, secs=10):
    end = time.time() + secs
    spans = []
    while time.time() < end:
        spans = []
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    line = line.strip()
                    if not line:
                        continue
                    for rs in json.loads(line).get("resourceSpans", []):
                        for ss in rs.get("scopeSpans", []):
                            spans.extend(ss.get("spans", []))
        if len(spans) >= want:
            break
        time.sleep(0.05)
    return spans


def budget(states, name, group):
    for st in states:
        if st.get("name") == name and st.get("group") == group:
            return st
    return None


def start(tmp, cfg):
    log = open(os.path.join(tmp, "collector.log"), "a")
    return subprocess.Popen([BIN, "--config", cfg], cwd=tmp, stdout=log, stderr=subprocess.STDOUT)


def stop(proc):
    rc = testlib.stop(proc, 15)
    check(rc == 0, "clean exit (%r)" % rc)


def main():
    tmp = tempfile.mkdtemp(prefix="genops-gov-")
    out = os.path.join(tmp, "out.json")
    port, api, api_b = free_port(), free_port(), free_port()
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write("""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  governance:
    attribution:
      defaults: {environment: production}
    budgets:
      - name: team-daily
        match: {genops.environment: production}
        group_by: genops.team
        limit: 0.01
        window: day
    budget_api:
      endpoint: 127.0.0.1:%d
  governance/b:
    budgets:
      - {name: logs-all, limit: 5}
    budget_api:
      endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %s
    flush_interval: 0s
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      processors: [governance]
      exporters: [file]
    logs:
      receivers: [otlp]
      processors: [governance/b]
      exporters: [file]
""" % (port, api, api_b, out))
    proc = start(tmp, cfg)
    ok = True
    try:
        check(wait_port(port) and wait_port(api), "collector and budget API listen")
        now = time.time_ns()
        check(post(port, span_json(now)) == 200, "span accepted")
        spans = read_spans(out, 1)
        check(len(spans) == 1, "span written to the file")
        a = attrs(spans[0]["attributes"]) if spans else {}
        # (800 * 2.50 + 200 * 1.25 + 500 * 10.00) / 1e6
        check(a.get("genops.cost.total") == 0.00725,
              "exact genops.cost.total (got %r)" % a.get("genops.cost.total"))
        check(a.get("genops.cost.status") == "priced", "status priced")
        check(a.get("genops.team") == "ml", "team from the resource")
        check(a.get("genops.environment") == "production", "environment default")
        check(a.get("genops.budget.name") == "team-daily", "budget on the span")
        check(a.get("genops.governance.processed") is True, "processed")

        st, body = get(api, "/v1/budgets")
        b = budget(body.get("budgets", []), "team-daily", "ml") if st == 200 else None
        check(b is not None, "GET /v1/budgets lists team-daily/ml (%r %r)" % (st, body))
        check(b is not None and abs(b["used"] - 0.00725) < 1e-12,
              "used == the span's cost (%r)" % (b and b.get("used")))
        check(b is not None and b.get("status") == "warning", "status warning at 72.5%")

        check(post(port, span_json(now)) == 200, "same span sent again")
        spans = read_spans(out, 2)
        check(len(spans) == 2, "second copy written")
        st, body = get(api, "/v1/budgets/team-daily")
        b = budget(body.get("budgets", []), "team-daily", "ml") if st == 200 else None
        check(b is not None and abs(b["used"] - 0.00725) < 1e-12,
              "re-sent span not charged again (%r)" % (b and b.get("used")))

        st, body = get(api_b, "/v1/budgets")
        names = [b.get("name") for b in body.get("budgets", [])] if st == 200 else None
        check(names == ["logs-all"], "governance/b serves its own budgets (%r)" % names)
        st, body = get(api, "/v1/budgets/logs-all")
        check(st == 404, "governance does not know governance/b's budget")
        st, body = get(api, "/v1/budgets/nope")
        check(st == 404 and "unknown budget" in json.dumps(body), "unknown budget -> 404")
        st, _ = get(api, "/v1/budgets", method="POST")
        check(st == 405, "POST -> 405")
        st, _ = get(api, "/v2/other")
        check(st == 404, "other path -> 404")
    finally:
        stop(proc)
    with open(os.path.join(tmp, "collector.log")) as f:
        log = f.read()
    check("Sanitizer" not in log, "no sanitizer report")
    check('budget "team-daily" group "ml" window ' in log and "crossed 50% (used 0.01 USD of "
          "0.01 USD)" in log, "threshold alert logged")
    check(os.path.exists(os.path.join(tmp, "genops-data", "budgets.db")),
          "state in <data_dir>/budgets.db")
    check(os.path.exists(os.path.join(tmp, "genops-data", "budgets-b.db")),
          "governance/b's state in <data_dir>/budgets-b.db")

    proc = start(tmp, cfg)
    try:
        check(wait_port(api) and wait_port(port), "restarted")
        st, body = get(api, "/v1/budgets")
        b = budget(body.get("budgets", []), "team-daily", "ml") if st == 200 else None
        check(b is not None and abs(b["used"] - 0.00725) < 1e-12,
              "used persisted across the restart (%r)" % (b and b.get("used")))
        check(post(port, span_json(now)) == 200, "same span after the restart")
        read_spans(out, 1)  # the file exporter truncates its file when it starts
        st, body = get(api, "/v1/budgets")
        b = budget(body.get("budgets", []), "team-daily", "ml") if st == 200 else None
        check(b is not None and abs(b["used"] - 0.00725) < 1e-12,
              "dedup survives the restart (%r)" % (b and b.get("used")))

        # SIGHUP: a new price file and a new limit apply, the counters are kept
        prices = os.path.join(tmp, "prices.yaml")
        with open(prices, "w") as f:
            f.write("prices:\n  - {provider: openai, model: acme-1, input: 1.0, output: 2.0}\n")
        with open(cfg) as f:
            text = f.read()
        text = text.replace("limit: 0.01", "limit: 0.02").replace(
            "  governance:\n", "  governance:\n    pricing:\n      file: %s\n" % prices)
        with open(cfg, "w") as f:
            f.write(text)
        proc.send_signal(signal.SIGHUP)
        end = time.time() + 10
        reloaded = False
        while time.time() < end and not reloaded:
            with open(os.path.join(tmp, "collector.log")) as f:
                reloaded = "configuration reloaded" in f.read()
            time.sleep(0.05)
        check(reloaded and wait_port(api), "reloaded on SIGHUP")
        st, body = get(api, "/v1/budgets")
        b = budget(body.get("budgets", []), "team-daily", "ml") if st == 200 else None
        check(b is not None and b["limit"] == 0.02 and abs(b["used"] - 0.00725) < 1e-12,
              "new limit, same used after the reload (%r)" % b)
        check(post(port, span_json(now, "acme-1", "2122232425262728", 0)) == 200,
              "span of the new model")
        spans = read_spans(out, 1)  # truncated again by the reloaded file exporter
        a = attrs(spans[-1]["attributes"]) if spans else {}
        # 1000 * 1.0 + 500 * 2.0 per 1M
        check(a.get("genops.cost.total") == 0.002 and a.get("genops.cost.status") == "priced",
              "price file read at reload (%r)" % a.get("genops.cost.total"))
        check(str(a.get("genops.cost.pricing_version", "")).startswith("custom-"),
              "pricing_version names the file's table")
    finally:
        stop(proc)
    with open(os.path.join(tmp, "collector.log")) as f:
        check("Sanitizer" not in f.read(), "no sanitizer report after the reload")
    if failures:
        with open(os.path.join(tmp, "collector.log")) as f:
            sys.stdout.write(f.read()[-4000:])
        print("%d failure(s); files kept in %s" % (len(failures), tmp))
        sys.exit(1)
    shutil.rmtree(tmp, ignore_errors=True)
    print("all ok")


if __name__ == "__main__":
    main()
