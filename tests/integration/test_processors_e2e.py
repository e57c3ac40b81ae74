"""End to end through the real binary: OTLP/HTTP JSON in -> memory_limiter -> resource ->
attributes -> batch (metadata_keys) -> file exporter. Checks what the processors did to the data
as it reaches the file. Loopback, free ports, bounded in time."""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from testlib import check, failures, free_port, wait_port  # noqa: E402

BIN = os.path.join(os.environ["GENOPS_BIN"], "genops-collector")


def traces(service, names, email):
    spans = [{"traceId": "0102030405060708090a0b0c0d0e0f10", "spanId": "01020304050607%02x" % i,
              "name": n, "kind": 2,
              "attributes": [{"key": "user.email", "value": {"stringValue": email}},
                             {"key": "http.url",
                              "value": {"stringValue": "/api/v1/document/%d/update" % i}}]}
             for i, n in enumerate(names)]
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "lib"}, "spans": spans}]}]}


def post(port, body, tenant):
    req = urllib.request.Request("http://127.0.0.1:%d/v1/traces" % port,
                                 data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "X-Tenant": tenant})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def attrs(lst):
    out = {}
    for kv in lst or []:
        v = kv["value"]
        out[kv["key"]] = next(iter(v.values())) if v else None
    return out


def main():
    tmp = tempfile.mkdtemp(prefix="genops-proc-")
    out = os.path.join(tmp, "out.json")
    port = free_port()
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write("""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
        include_metadata: true
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 4096
  resource:
    attributes:
      - key: deployment.environment
        value: production
        action: upsert
      - key: replicas
        value: 3
        action: insert
  attributes:
    include:
      match_type: strict
      services: [checkout]
    actions:
      - key: user.email
        action: hash
      - key: http.url
        pattern: ^/api/v1/document/(?P<document_id>[0-9]+)/update$
        action: extract
      - key: tenant
        from_context: x-tenant
        action: insert
  batch:
    timeout: 200ms
    send_batch_size: 1000
    metadata_keys: [x-tenant]
exporters:
  file:
    path: %s
    flush_interval: 0s
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, resource, attributes, batch]
      exporters: [file]
""" % (port, out))
    log = open(os.path.join(tmp, "collector.log"), "w")
    proc = subprocess.Popen([BIN, "--config", cfg], stdout=log, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port), "collector listens")
        check(post(port, traces("checkout", ["a0", "a1", "a2"], "ann@example.com"), "acme") == 200,
              "first request accepted")
        check(post(port, traces("checkout", ["b0", "b1"], "bob@example.com"), "globex") == 200,
              "second request accepted")
        check(post(port, traces("search", ["c0"], "cy@example.com"), "acme") == 200,
              "third request accepted")
        lines = []
        end = time.time() + 10
        while time.time() < end:
            if os.path.exists(out):
                with open(out) as f:
                    lines = [json.loads(x) for x in f if x.strip()]
                if sum(len(ss["spans"]) for l in lines for rs in l["resourceSpans"]
                       for ss in rs["scopeSpans"]) >= 6:
                    break
            time.sleep(0.05)
        # acme (a0..a2 + c0) and globex (b0, b1) are batched separately
        per_line = sorted(sorted(s["name"] for rs in l["resourceSpans"] for ss in rs["scopeSpans"]
                                 for s in ss["spans"]) for l in lines)
        check(per_line == [["a0", "a1", "a2", "c0"], ["b0", "b1"]],
              "batched per tenant: %s" % per_line)
        spans = {}
        for l in lines:
            for rs in l["resourceSpans"]:
                ra = attrs(rs["resource"]["attributes"])
                check(ra.get("deployment.environment") == "production",
                      "resource upsert (%s)" % ra.get("service.name"))
                check(str(ra.get("replicas")) == "3" and
                      "intValue" in json.dumps(rs["resource"]["attributes"]),
                      "typed insert is an int")
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        spans[s["name"]] = attrs(s["attributes"])
        a1 = spans.get("a1", {})
        check(a1.get("user.email") ==
              hashlib.sha256(b"ann@example.com").hexdigest(), "email hashed with SHA-256")
        check(a1.get("document_id") == "1", "extract named group")
        check(a1.get("tenant") == "acme" and spans.get("b0", {}).get("tenant") == "globex",
              "from_context reads the request header")
        c0 = spans.get("c0", {})
        check(c0.get("user.email") == "cy@example.com" and "tenant" not in c0,
              "include.services leaves other services untouched")
    finally:
        proc.terminate()
        try:
            rc = proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = -9
        log.close()
    check(rc == 0, "collector exits cleanly (%s)" % rc)

    # memory_limiter below the process's own footprint: data is refused with 503
    port2 = free_port()
    cfg2 = os.path.join(tmp, "config2.yaml")
    with open(cfg2, "w") as f:
        f.write("""
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
processors:
  memory_limiter:
    check_interval: 100ms
    limit_mib: 2
    spike_limit_mib: 1
exporters:
  debug:
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [debug]
""" % port2)
    log2 = open(os.path.join(tmp, "collector2.log"), "w")
    proc2 = subprocess.Popen([BIN, "--config", cfg2], stdout=log2, stderr=subprocess.STDOUT)
    try:
        check(wait_port(port2), "second collector listens")
        try:
            status = post(port2, traces("checkout", ["x"], "x@example.com"), "acme")
        except urllib.error.HTTPError as e:
            status = e.code
        check(status == 503, "memory_limiter over its limit answers 503 (%s)" % status)
    finally:
        proc2.terminate()
        try:
            proc2.wait(15)
        except subprocess.TimeoutExpired:
            proc2.kill()
        log2.close()
    with open(os.path.join(tmp, "collector2.log")) as f:
        check("refusing data" in f.read(), "memory_limiter logs the state change")

    if failures:
        with open(os.path.join(tmp, "collector.log")) as f:
            sys.stderr.write(f.read()[-4000:])
    subprocess.run(["rm", "-rf", tmp])
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
