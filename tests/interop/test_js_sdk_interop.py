#!/usr/bin/env python3
"""Interop test: the OpenTelemetry JS SDK sends to genops-collector, the file exporter writes
what arrived, and every field is compared with what the SDK sent.

Flow: pick free loopback ports, write a config (otlp receiver grpc+http -> batch -> file exporter,
one pipeline per signal), start $GENOPS_BIN/genops-collector, run send.js for each signal x
protocol (9 runs, distinct run ids, each run's data tagged with its run id in the resource),
stop the collector with SIGTERM (it must drain and exit 0), then read the file exporter's OTLP
JSON lines and compare them with the expectation send.js printed: resource, scope, every span,
metric data point and log record, with value types. Each run passes or fails on its first
mismatch, with the path of the field. Total time is bounded (GENOPS_INTEROP_TIMEOUT, default
120 s). Skips (exit 0) only when node_modules is missing and CI is not set.

Only the Python standard library is used. Environment: GENOPS_BIN (directory of the binaries),
GENOPS_SRC (repo root), CI, GENOPS_INTEROP_KEEP=1 keeps the temp dir, GENOPS_INTEROP_ONLY=
"traces:grpc,logs:http/json" restricts the runs (for debugging), GENOPS_INTEROP_COMPRESSION=gzip
makes every exporter compress (HTTP Content-Encoding / grpc-encoding)."""

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from testlib import free_port, tail, wait_port_while  # noqa: E402  (tests/integration/testlib.py)

SIGNALS = ("traces", "metrics", "logs")
PROTOCOLS = ("http/json", "http/protobuf", "grpc")
RESOURCE_KEY = {"traces": "resourceSpans", "metrics": "resourceMetrics", "logs": "resourceLogs"}
SCOPE_KEY = {"traces": "scopeSpans", "metrics": "scopeMetrics", "logs": "scopeLogs"}
ITEM_KEY = {"traces": "spans", "metrics": "metrics", "logs": "logRecords"}
RUN_ID_ATTR = "genops.interop.run_id"


def log(msg):
    print(msg, flush=True)


class Mismatch(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# Setup helpers


def write_config(path, outdir, grpc_port, http_port):
    lines = [
        "receivers:",
        "  otlp:",
        "    protocols:",
        "      grpc:",
        f"        endpoint: 127.0.0.1:{grpc_port}",
        "      http:",
        f"        endpoint: 127.0.0.1:{http_port}",
        "processors:",
        "  batch:",
        "    timeout: 200ms",
        "exporters:",
    ]
    for sig in SIGNALS:
        lines += [f"  file/{sig}:", f"    path: {os.path.join(outdir, sig + '.jsonl')}"]
    lines += ["service:", "  telemetry:", "    metrics:", "      level: none", "  pipelines:"]
    for sig in SIGNALS:
        lines += [
            f"    {sig}:",
            "      receivers: [otlp]",
            "      processors: [batch]",
            f"      exporters: [file/{sig}]",
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------------
# Strict OTLP/JSON readers: 64-bit integers are strings, enums and 32-bit ints are numbers,
# absent fields take the proto3 default.


def i64(obj, key, where, default="0"):
    v = obj.get(key, default)
    if isinstance(v, bool) or not isinstance(v, str):
        raise Mismatch(f"{where}.{key}: OTLP/JSON encodes 64-bit integers as strings, got {v!r}")
    try:
        return int(v)
    except ValueError:
        raise Mismatch(f"{where}.{key}: not an integer string: {v!r}")


def u32(obj, key, where, default=0):
    v = obj.get(key, default)
    if isinstance(v, bool) or not isinstance(v, int):
        raise Mismatch(f"{where}.{key}: expected a JSON integer, got {v!r}")
    return v


def dbl(v, where):
    if isinstance(v, bool):
        raise Mismatch(f"{where}: expected a number, got {v!r}")
    if isinstance(v, (int, float)):
        return float(v)
    if v in ("NaN", "Infinity", "-Infinity"):
        return float(v.replace("Infinity", "inf"))
    raise Mismatch(f"{where}: expected a number, got {v!r}")


def text(obj, key, where):
    v = obj.get(key, "")
    if not isinstance(v, str):
        raise Mismatch(f"{where}.{key}: expected a string, got {v!r}")
    return v


def hex_id(obj, key, nbytes, where):
    v = text(obj, key, where)
    if v == "":
        return ""
    if len(v) != 2 * nbytes or any(c not in "0123456789abcdef" for c in v.lower()):
        raise Mismatch(f"{where}.{key}: expected {2 * nbytes} hex digits, got {v!r}")
    return v.lower()


def any_value(v, where):
    """Normalizes an AnyValue into a comparable tuple that keeps the type."""
    if not isinstance(v, dict):
        raise Mismatch(f"{where}: AnyValue must be an object, got {v!r}")
    kinds = [k for k in v if k.endswith("Value")]
    if len(kinds) > 1:
        raise Mismatch(f"{where}: AnyValue has several values {kinds}")
    if not kinds:
        return ("empty",)
    k = kinds[0]
    x = v[k]
    if k == "stringValue":
        if not isinstance(x, str):
            raise Mismatch(f"{where}.stringValue: expected a string, got {x!r}")
        return ("string", x)
    if k == "boolValue":
        if not isinstance(x, bool):
            raise Mismatch(f"{where}.boolValue: expected true/false, got {x!r}")
        return ("bool", x)
    if k == "intValue":
        return ("int", i64(v, "intValue", where))
    if k == "doubleValue":
        return ("double", dbl(x, f"{where}.doubleValue"))
    if k == "bytesValue":
        if not isinstance(x, str):
            raise Mismatch(f"{where}.bytesValue: expected base64 string, got {x!r}")
        return ("bytes", x)
    if k == "arrayValue":
        vals = (x or {}).get("values", [])
        return ("array", tuple(any_value(e, f"{where}.arrayValue[{i}]") for i, e in enumerate(vals)))
    if k == "kvlistValue":
        return ("kvlist", tuple(sorted(attributes((x or {}).get("values", []), f"{where}.kvlistValue").items())))
    raise Mismatch(f"{where}: unknown AnyValue kind {k}")


def attributes(kvs, where):
    out = {}
    if not isinstance(kvs, list):
        raise Mismatch(f"{where}: attributes must be a list, got {kvs!r}")
    for kv in kvs:
        key = kv.get("key")
        if not isinstance(key, str):
            raise Mismatch(f"{where}: attribute without a string key: {kv!r}")
        if key in out:
            raise Mismatch(f"{where}: duplicate attribute key {key!r}")
        out[key] = any_value(kv.get("value", {}), f"{where}[{key!r}]")
    return out


def show(v):
    if v[0] in ("array", "kvlist"):
        return f"{v[0]}{list(v[1])!r}"
    return f"{v[0]}Value {v[1]!r}" if len(v) > 1 else "empty value"


def same_value(a, b):
    if a[0] != b[0]:
        return False
    if a[0] == "double":
        return a[1] == b[1] or (math.isnan(a[1]) and math.isnan(b[1]))
    if a[0] == "array":
        return len(a[1]) == len(b[1]) and all(same_value(x, y) for x, y in zip(a[1], b[1]))
    if a[0] == "kvlist":
        da, db = dict(a[1]), dict(b[1])
        return da.keys() == db.keys() and all(same_value(da[k], db[k]) for k in da)
    return a == b


def compare_attrs(want_kvs, got_kvs, where):
    want = attributes(want_kvs, where + " (expected)")
    got = attributes(got_kvs, where)
    for k, wv in want.items():
        if k not in got:
            raise Mismatch(f"{where}: attribute {k!r} missing (expected {show(wv)})")
        if not same_value(wv, got[k]):
            raise Mismatch(f"{where}[{k!r}]: expected {show(wv)}, got {show(got[k])}")
    extra = sorted(set(got) - set(want))
    if extra:
        raise Mismatch(f"{where}: unexpected attributes {extra}")


def eq(want, got, where):
    if want != got:
        raise Mismatch(f"{where}: expected {want!r}, got {got!r}")


# ------------------------------------------------------------------------------------------------
# Collector output


def read_output(path, sig):
    """Returns the list of resource blocks in the file, in order."""
    blocks = []
    if not os.path.exists(path):
        return blocks
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except ValueError as e:
                raise Mismatch(f"{os.path.basename(path)}:{n}: not JSON ({e}): {line[:200]!r}")
            if not isinstance(doc, dict) or set(doc) - {RESOURCE_KEY[sig]}:
                raise Mismatch(f"{os.path.basename(path)}:{n}: expected one Export{sig.title()}ServiceRequest "
                               f"object with only {RESOURCE_KEY[sig]!r}, got keys {list(doc)[:5]}")
            blocks.extend(doc.get(RESOURCE_KEY[sig], []))
    return blocks


def run_blocks(blocks, run_id, sig):
    out = []
    for i, rb in enumerate(blocks):
        attrs = attributes((rb.get("resource") or {}).get("attributes", []), f"{RESOURCE_KEY[sig]}[{i}].resource")
        if attrs.get(RUN_ID_ATTR) == ("string", run_id):
            out.append(rb)
    return out


def check_resource_and_scopes(exp, rblocks, sig):
    """Checks every resource/scope block of the run; returns the items with their location."""
    items = []
    for i, rb in enumerate(rblocks):
        where = f"{RESOURCE_KEY[sig]}[{i}]"
        res = rb.get("resource") or {}
        compare_attrs(exp["resource"]["attributes"], res.get("attributes", []), f"{where}.resource.attributes")
        eq(0, u32(res, "droppedAttributesCount", f"{where}.resource"), f"{where}.resource.droppedAttributesCount")
        eq(exp["resourceSchemaUrl"], text(rb, "schemaUrl", where), f"{where}.schemaUrl")
        for j, sb in enumerate(rb.get(SCOPE_KEY[sig], [])):
            swhere = f"{where}.{SCOPE_KEY[sig]}[{j}]"
            scope = sb.get("scope") or {}
            eq(exp["scope"]["name"], text(scope, "name", swhere + ".scope"), f"{swhere}.scope.name")
            eq(exp["scope"]["version"], text(scope, "version", swhere + ".scope"), f"{swhere}.scope.version")
            compare_attrs([], scope.get("attributes", []), f"{swhere}.scope.attributes")
            eq(exp["scopeSchemaUrl"], text(sb, "schemaUrl", swhere), f"{swhere}.schemaUrl")
            for k, item in enumerate(sb.get(ITEM_KEY[sig], [])):
                items.append((f"{swhere}.{ITEM_KEY[sig]}[{k}]", item))
    return items


def check_traces(exp, items):
    got = {}
    for where, span in items:
        sid = hex_id(span, "spanId", 8, where)
        if sid in got:
            raise Mismatch(f"{where}: span {sid} received twice")
        got[sid] = (where, span)
    want_ids = [s["spanId"] for s in exp["spans"]]
    extra = sorted(set(got) - set(want_ids))
    if extra:
        raise Mismatch(f"unexpected spans {extra}")
    for ws in exp["spans"]:
        if ws["spanId"] not in got:
            raise Mismatch(f"span {ws['name']!r} ({ws['spanId']}) not received")
        where, gs = got[ws["spanId"]]
        where = f"{where} {ws['name']!r}"
        eq(ws["traceId"], hex_id(gs, "traceId", 16, where), f"{where}.traceId")
        eq(ws["parentSpanId"], hex_id(gs, "parentSpanId", 8, where), f"{where}.parentSpanId")
        eq(ws["traceState"], text(gs, "traceState", where), f"{where}.traceState")
        eq(ws["flags"], u32(gs, "flags", where), f"{where}.flags")
        eq(ws["name"], text(gs, "name", where), f"{where}.name")
        eq(ws["kind"], u32(gs, "kind", where), f"{where}.kind")
        eq(int(ws["startTimeUnixNano"]), i64(gs, "startTimeUnixNano", where), f"{where}.startTimeUnixNano")
        eq(int(ws["endTimeUnixNano"]), i64(gs, "endTimeUnixNano", where), f"{where}.endTimeUnixNano")
        compare_attrs(ws["attributes"], gs.get("attributes", []), f"{where}.attributes")
        for key in ("droppedAttributesCount", "droppedEventsCount", "droppedLinksCount"):
            eq(ws[key], u32(gs, key, where), f"{where}.{key}")
        gevents = gs.get("events", [])
        eq(len(ws["events"]), len(gevents), f"{where}: number of events")
        for i, (we, ge) in enumerate(zip(ws["events"], gevents)):
            ewhere = f"{where}.events[{i}]"
            eq(we["name"], text(ge, "name", ewhere), f"{ewhere}.name")
            eq(int(we["timeUnixNano"]), i64(ge, "timeUnixNano", ewhere), f"{ewhere}.timeUnixNano")
            compare_attrs(we["attributes"], ge.get("attributes", []), f"{ewhere}.attributes")
            eq(we["droppedAttributesCount"], u32(ge, "droppedAttributesCount", ewhere), f"{ewhere}.droppedAttributesCount")
        glinks = gs.get("links", [])
        eq(len(ws["links"]), len(glinks), f"{where}: number of links")
        for i, (wl, gl) in enumerate(zip(ws["links"], glinks)):
            lwhere = f"{where}.links[{i}]"
            eq(wl["traceId"], hex_id(gl, "traceId", 16, lwhere), f"{lwhere}.traceId")
            eq(wl["spanId"], hex_id(gl, "spanId", 8, lwhere), f"{lwhere}.spanId")
            eq(wl["traceState"], text(gl, "traceState", lwhere), f"{lwhere}.traceState")
            eq(wl["flags"], u32(gl, "flags", lwhere), f"{lwhere}.flags")
            compare_attrs(wl["attributes"], gl.get("attributes", []), f"{lwhere}.attributes")
            eq(wl["droppedAttributesCount"], u32(gl, "droppedAttributesCount", lwhere), f"{lwhere}.droppedAttributesCount")
        st = gs.get("status") or {}
        eq(ws["status"]["code"], u32(st, "code", where + ".status"), f"{where}.status.code")
        eq(ws["status"]["message"], text(st, "message", where + ".status"), f"{where}.status.message")
    return len(exp["spans"])


def point_key(kvs, where):
    return repr(sorted(attributes(kvs, where).items()))


def check_metrics(exp, items):
    got = {}
    for where, m in items:
        name = text(m, "name", where)
        got.setdefault(name, []).append((where, m))
    extra = sorted(set(got) - {m["name"] for m in exp["metrics"]})
    if extra:
        raise Mismatch(f"unexpected metrics {extra}")
    npoints = 0
    for wm in exp["metrics"]:
        if wm["name"] not in got:
            raise Mismatch(f"metric {wm['name']!r} not received")
        points = {}
        for where, gm in got[wm["name"]]:
            where = f"{where} {wm['name']!r}"
            eq(wm["description"], text(gm, "description", where), f"{where}.description")
            eq(wm["unit"], text(gm, "unit", where), f"{where}.unit")
            kinds = [k for k in ("gauge", "sum", "histogram", "exponentialHistogram", "summary") if k in gm]
            eq([wm["type"]], kinds, f"{where}: data type")
            body = gm[wm["type"]] or {}
            if "aggregationTemporality" in wm:
                eq(wm["aggregationTemporality"], u32(body, "aggregationTemporality", where),
                   f"{where}.{wm['type']}.aggregationTemporality")
            if "isMonotonic" in wm:
                v = body.get("isMonotonic", False)
                if not isinstance(v, bool):
                    raise Mismatch(f"{where}.sum.isMonotonic: expected true/false, got {v!r}")
                eq(wm["isMonotonic"], v, f"{where}.sum.isMonotonic")
            for i, dp in enumerate(body.get("dataPoints", [])):
                pwhere = f"{where}.{wm['type']}.dataPoints[{i}]"
                key = point_key(dp.get("attributes", []), pwhere + ".attributes")
                if key in points:
                    raise Mismatch(f"{pwhere}: data point received twice (attributes {key})")
                points[key] = (pwhere, dp)
        want_keys = {point_key(p["attributes"], "expected") for p in wm["points"]}
        extra = sorted(set(points) - want_keys)
        if extra:
            raise Mismatch(f"metric {wm['name']!r}: unexpected data points with attributes {extra}")
        for wp in wm["points"]:
            key = point_key(wp["attributes"], "expected")
            if key not in points:
                raise Mismatch(f"metric {wm['name']!r}: no data point with attributes {key}")
            pwhere, dp = points[key]
            compare_attrs(wp["attributes"], dp.get("attributes", []), f"{pwhere}.attributes")
            eq(int(wp["startTimeUnixNano"]), i64(dp, "startTimeUnixNano", pwhere), f"{pwhere}.startTimeUnixNano")
            eq(int(wp["timeUnixNano"]), i64(dp, "timeUnixNano", pwhere), f"{pwhere}.timeUnixNano")
            eq(0, u32(dp, "flags", pwhere), f"{pwhere}.flags")
            if wm["type"] == "histogram":
                eq(int(wp["count"]), i64(dp, "count", pwhere), f"{pwhere}.count")
                eq(float(wp["sum"]), dbl(dp.get("sum"), f"{pwhere}.sum"), f"{pwhere}.sum")
                eq(float(wp["min"]), dbl(dp.get("min"), f"{pwhere}.min"), f"{pwhere}.min")
                eq(float(wp["max"]), dbl(dp.get("max"), f"{pwhere}.max"), f"{pwhere}.max")
                gb = dp.get("bucketCounts", [])
                if not isinstance(gb, list):
                    raise Mismatch(f"{pwhere}.bucketCounts: expected a list, got {gb!r}")
                got_counts = [i64({"c": c}, "c", f"{pwhere}.bucketCounts[{i}]") for i, c in enumerate(gb)]
                eq([int(c) for c in wp["bucketCounts"]], got_counts, f"{pwhere}.bucketCounts")
                got_bounds = [dbl(b, f"{pwhere}.explicitBounds[{i}]") for i, b in enumerate(dp.get("explicitBounds", []))]
                eq([float(b) for b in wp["explicitBounds"]], got_bounds, f"{pwhere}.explicitBounds")
            else:
                vkeys = [k for k in ("asInt", "asDouble") if k in dp]
                if "asInt" in wp:
                    eq(["asInt"], vkeys, f"{pwhere}: value field")
                    eq(int(wp["asInt"]), i64(dp, "asInt", pwhere), f"{pwhere}.asInt")
                else:
                    eq(["asDouble"], vkeys, f"{pwhere}: value field")
                    eq(float(wp["asDouble"]), dbl(dp["asDouble"], f"{pwhere}.asDouble"), f"{pwhere}.asDouble")
            npoints += 1
    return npoints


def check_logs(exp, items):
    got = {}
    for where, rec in items:
        t = i64(rec, "timeUnixNano", where)
        if t in got:
            raise Mismatch(f"{where}: log record with timeUnixNano {t} received twice")
        got[t] = (where, rec)
    want_times = {int(r["timeUnixNano"]) for r in exp["logRecords"]}
    extra = sorted(set(got) - want_times)
    if extra:
        raise Mismatch(f"unexpected log records with timeUnixNano {extra}")
    for wr in exp["logRecords"]:
        t = int(wr["timeUnixNano"])
        if t not in got:
            raise Mismatch(f"log record {wr['severityText']!r} at {t} not received")
        where, gr = got[t]
        eq(int(wr["observedTimeUnixNano"]), i64(gr, "observedTimeUnixNano", where), f"{where}.observedTimeUnixNano")
        eq(wr["severityNumber"], u32(gr, "severityNumber", where), f"{where}.severityNumber")
        eq(wr["severityText"], text(gr, "severityText", where), f"{where}.severityText")
        if "body" in wr:
            if "body" not in gr:
                raise Mismatch(f"{where}.body: missing (expected {show(any_value(wr['body'], 'expected'))})")
            wb, gb = any_value(wr["body"], "expected body"), any_value(gr["body"], f"{where}.body")
            if not same_value(wb, gb):
                raise Mismatch(f"{where}.body: expected {show(wb)}, got {show(gb)}")
        compare_attrs(wr["attributes"], gr.get("attributes", []), f"{where}.attributes")
        eq(wr["droppedAttributesCount"], u32(gr, "droppedAttributesCount", where), f"{where}.droppedAttributesCount")
        eq(wr["flags"], u32(gr, "flags", where), f"{where}.flags")
        eq(wr["traceId"], hex_id(gr, "traceId", 16, where), f"{where}.traceId")
        eq(wr["spanId"], hex_id(gr, "spanId", 8, where), f"{where}.spanId")
        eq(wr["eventName"], text(gr, "eventName", where), f"{where}.eventName")
    return len(exp["logRecords"])


CHECKS = {"traces": check_traces, "metrics": check_metrics, "logs": check_logs}


def check_run(exp, blocks):
    sig = exp["signal"]
    rblocks = run_blocks(blocks, exp["runId"], sig)
    if not rblocks:
        raise Mismatch(f"no {RESOURCE_KEY[sig]} with resource attribute {RUN_ID_ATTR}={exp['runId']!r} in the "
                       f"output ({len(blocks)} {RESOURCE_KEY[sig]} blocks in {sig}.jsonl in all)")
    items = check_resource_and_scopes(exp, rblocks, sig)
    return CHECKS[sig](exp, items)


# ------------------------------------------------------------------------------------------------


def main():
    deadline = time.monotonic() + float(os.environ.get("GENOPS_INTEROP_TIMEOUT", "120"))
    ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
    here = os.path.dirname(os.path.abspath(__file__))
    src = os.environ.get("GENOPS_SRC") or os.path.dirname(os.path.dirname(here))
    interop = os.path.join(src, "tests", "interop")
    bin_dir = os.environ.get("GENOPS_BIN") or os.path.join(src, "build", "bin")
    collector = os.path.join(bin_dir, "genops-collector")
    node = shutil.which("node")

    missing = []
    if not os.path.isdir(os.path.join(interop, "node_modules", "@opentelemetry")):
        missing.append("tests/interop/node_modules (run scripts/install-deps)")
    if not node:
        missing.append("node")
    if missing:
        if not ci and any("node_modules" in m for m in missing):
            log(f"skipped: {', '.join(missing)} not available")
            return 0
        log(f"FAIL: {', '.join(missing)} not available")
        log("0 passed, 1 failed")
        return 1
    if not os.access(collector, os.X_OK):
        log(f"FAIL: collector binary not found: {collector}")
        log("0 passed, 1 failed")
        return 1

    compression = os.environ.get("GENOPS_INTEROP_COMPRESSION", "none")
    if compression not in ("none", "gzip"):
        log(f"FAIL: GENOPS_INTEROP_COMPRESSION must be none or gzip, not {compression!r}")
        log("0 passed, 1 failed")
        return 1
    only = os.environ.get("GENOPS_INTEROP_ONLY")
    runs = [(s, p) for s in SIGNALS for p in PROTOCOLS]
    if only:
        wanted = {tuple(x.split(":", 1)) for x in only.split(",") if ":" in x}
        runs = [r for r in runs if r in wanted]

    tmp = tempfile.mkdtemp(prefix="genops-interop-")
    outdir = os.path.join(tmp, "out")
    os.mkdir(outdir)
    cfg = os.path.join(tmp, "collector.yaml")
    grpc_port, http_port = free_port(), free_port()
    while http_port == grpc_port:
        http_port = free_port()
    write_config(cfg, outdir, grpc_port, http_port)
    clog = os.path.join(tmp, "collector.log")
    passed, failed = 0, 0
    failures = []
    proc = None
    tag = f"{os.getpid()}-{int(time.time())}"

    def fail(name, msg):
        nonlocal failed
        failed += 1
        failures.append(name)
        log(f"FAIL {name}: {msg}")

    try:
        with open(clog, "wb") as lf:
            proc = subprocess.Popen([collector, "--config", cfg], stdout=lf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        up = wait_port_while(grpc_port, proc, min(deadline, time.monotonic() + 15)) and \
            wait_port_while(http_port, proc, min(deadline, time.monotonic() + 15))
        if not up:
            state = f"exited with {proc.returncode}" if proc.poll() is not None else "still not listening"
            fail("collector start", f"ports {grpc_port}/{http_port} not open ({state})")
            return 1
        log(f"collector up: grpc 127.0.0.1:{grpc_port}, http 127.0.0.1:{http_port}")

        expected = []
        sent_ids = {}
        for sig, proto in runs:
            run_id = f"{sig}-{proto.replace('/', '-')}-{tag}"
            sent_ids.setdefault(sig, set()).add(run_id)
            name = f"{sig} over {proto}"
            endpoint = f"http://127.0.0.1:{grpc_port if proto == 'grpc' else http_port}"
            budget = deadline - time.monotonic() - 20  # keep time for the drain and the checks
            if budget <= 1:
                fail(name, "out of time before sending")
                continue
            cmd = [node, os.path.join(interop, "send.js"), "--protocol", proto, "--endpoint", endpoint,
                   "--signal", sig, "--run-id", run_id, "--compression", compression]
            try:
                r = subprocess.run(cmd, cwd=interop, capture_output=True, text=True, timeout=min(30, budget))
            except subprocess.TimeoutExpired:
                fail(name, f"send.js did not finish within {min(30, budget):.0f} s")
                continue
            if r.returncode != 0:
                fail(name, f"send.js exited {r.returncode}:\n{r.stderr.strip()[-2000:]}")
                continue
            try:
                exp = json.loads(r.stdout)
            except ValueError:
                fail(name, f"send.js printed no JSON document: {r.stdout[:300]!r}")
                continue
            with open(os.path.join(tmp, f"expected-{run_id}.json"), "w") as f:
                f.write(r.stdout)
            expected.append((name, exp))

        # SIGTERM: the collector must flush the batch processor and the file exporter, then exit 0.
        if proc.poll() is not None:
            fail("collector", f"exited by itself with {proc.returncode} while the runs were sent")
        else:
            proc.send_signal(signal.SIGTERM)
            try:
                rc = proc.wait(timeout=max(1.0, min(15.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                fail("collector shutdown", "did not exit within 15 s of SIGTERM")
                rc = None
            if rc is not None and rc != 0:
                fail("collector shutdown", f"exited with {rc} after SIGTERM")
        with open(clog, errors="replace") as f:
            for line in f:
                if "Sanitizer" in line or "runtime error:" in line:
                    fail("collector health", f"sanitizer report in the collector log: {line.strip()}")
                    break

        blocks = {}
        for sig in SIGNALS:
            try:
                blocks[sig] = read_output(os.path.join(outdir, sig + ".jsonl"), sig)
                stray = [i for i, rb in enumerate(blocks[sig])
                         if not any(run_blocks([rb], rid, sig) for rid in sent_ids.get(sig, ()))]
                if stray:
                    fail(f"{sig} output", f"{RESOURCE_KEY[sig]}{stray[:5]} carry no run id of this test "
                                          f"(resource attributes changed or data invented)")
            except Mismatch as e:
                blocks[sig] = None
                fail(f"{sig} output", str(e))
        for name, exp in expected:
            sig = exp["signal"]
            if blocks[sig] is None:
                fail(name, f"{sig} output unreadable")
                continue
            try:
                n = check_run(exp, blocks[sig])
            except Mismatch as e:
                fail(name, f"run {exp['runId']}: {e}")
                continue
            passed += 1
            log(f"ok   {name}: {n} {ITEM_KEY[sig] if sig != 'metrics' else 'data points'} match")
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if failed:
            log(f"collector log (tail):\n{tail(clog, 40)}")
        if os.environ.get("GENOPS_INTEROP_KEEP"):
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        log(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
