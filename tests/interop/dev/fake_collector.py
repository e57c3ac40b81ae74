#!/usr/bin/env python3
"""Development aid only, not used by the test suite: a stand-in for genops-collector that lets
send.js and the test driver be exercised before the real receiver and file exporter exist.

It reads the config the driver writes (grpc/http endpoints and file exporter paths, found with
simple patterns, not a YAML parser), serves OTLP/HTTP (protobuf and JSON) and OTLP/gRPC
(python3-grpcio with a generic handler), converts every request into canonical OTLP/JSON with a
small schema-driven protobuf decoder (64-bit integers as strings, hex ids, enums as numbers,
proto3 defaults omitted), and appends one line per request to the file of its signal. SIGTERM
stops it with exit 0.

Run with /usr/bin/python3 (grpcio). To drive the real test with it:
  mkdir -p /tmp/fakebin && ln -sf "$PWD/tests/interop/dev/genops-collector" /tmp/fakebin/
  GENOPS_BIN=/tmp/fakebin /usr/bin/python3 tests/interop/test_js_sdk_interop.py
"""

import base64
import gzip
import json
import re
import signal
import struct
import sys
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Schema: message -> {field number: (json name, kind, repeated, message type)}
# kinds: string bytes id bool u32 enum i64 u64 f64 fx32 fx64 sfx64 msg
S = {
    "AnyValue": {1: ("stringValue", "string"), 2: ("boolValue", "bool"), 3: ("intValue", "i64"),
                 4: ("doubleValue", "f64"), 5: ("arrayValue", "msg", False, "ArrayValue"),
                 6: ("kvlistValue", "msg", False, "KeyValueList"), 7: ("bytesValue", "bytes")},
    "ArrayValue": {1: ("values", "msg", True, "AnyValue")},
    "KeyValueList": {1: ("values", "msg", True, "KeyValue")},
    "KeyValue": {1: ("key", "string"), 2: ("value", "msg", False, "AnyValue")},
    "Scope": {1: ("name", "string"), 2: ("version", "string"), 3: ("attributes", "msg", True, "KeyValue"),
              4: ("droppedAttributesCount", "u32")},
    "Resource": {1: ("attributes", "msg", True, "KeyValue"), 2: ("droppedAttributesCount", "u32")},
    "traces": {1: ("resourceSpans", "msg", True, "ResourceSpans")},
    "ResourceSpans": {1: ("resource", "msg", False, "Resource"), 2: ("scopeSpans", "msg", True, "ScopeSpans"),
                      3: ("schemaUrl", "string")},
    "ScopeSpans": {1: ("scope", "msg", False, "Scope"), 2: ("spans", "msg", True, "Span"), 3: ("schemaUrl", "string")},
    "Span": {1: ("traceId", "id"), 2: ("spanId", "id"), 3: ("traceState", "string"), 4: ("parentSpanId", "id"),
             16: ("flags", "fx32"), 5: ("name", "string"), 6: ("kind", "enum"), 7: ("startTimeUnixNano", "fx64"),
             8: ("endTimeUnixNano", "fx64"), 9: ("attributes", "msg", True, "KeyValue"),
             10: ("droppedAttributesCount", "u32"), 11: ("events", "msg", True, "Event"),
             12: ("droppedEventsCount", "u32"), 13: ("links", "msg", True, "Link"), 14: ("droppedLinksCount", "u32"),
             15: ("status", "msg", False, "Status")},
    "Event": {1: ("timeUnixNano", "fx64"), 2: ("name", "string"), 3: ("attributes", "msg", True, "KeyValue"),
              4: ("droppedAttributesCount", "u32")},
    "Link": {1: ("traceId", "id"), 2: ("spanId", "id"), 3: ("traceState", "string"),
             4: ("attributes", "msg", True, "KeyValue"), 5: ("droppedAttributesCount", "u32"), 6: ("flags", "fx32")},
    "Status": {2: ("message", "string"), 3: ("code", "enum")},
    "metrics": {1: ("resourceMetrics", "msg", True, "ResourceMetrics")},
    "ResourceMetrics": {1: ("resource", "msg", False, "Resource"), 2: ("scopeMetrics", "msg", True, "ScopeMetrics"),
                        3: ("schemaUrl", "string")},
    "ScopeMetrics": {1: ("scope", "msg", False, "Scope"), 2: ("metrics", "msg", True, "Metric"),
                     3: ("schemaUrl", "string")},
    "Metric": {1: ("name", "string"), 2: ("description", "string"), 3: ("unit", "string"),
               5: ("gauge", "msg", False, "Gauge"), 7: ("sum", "msg", False, "Sum"),
               9: ("histogram", "msg", False, "Histogram")},
    "Gauge": {1: ("dataPoints", "msg", True, "NumberDataPoint")},
    "Sum": {1: ("dataPoints", "msg", True, "NumberDataPoint"), 2: ("aggregationTemporality", "enum"),
            3: ("isMonotonic", "bool")},
    "Histogram": {1: ("dataPoints", "msg", True, "HistogramDataPoint"), 2: ("aggregationTemporality", "enum")},
    "NumberDataPoint": {7: ("attributes", "msg", True, "KeyValue"), 2: ("startTimeUnixNano", "fx64"),
                        3: ("timeUnixNano", "fx64"), 4: ("asDouble", "f64"), 6: ("asInt", "sfx64"), 8: ("flags", "u32")},
    "HistogramDataPoint": {9: ("attributes", "msg", True, "KeyValue"), 2: ("startTimeUnixNano", "fx64"),
                           3: ("timeUnixNano", "fx64"), 4: ("count", "fx64"), 5: ("sum", "f64"),
                           6: ("bucketCounts", "fx64", True), 7: ("explicitBounds", "f64", True), 10: ("flags", "u32"),
                           11: ("min", "f64"), 12: ("max", "f64")},
    "logs": {1: ("resourceLogs", "msg", True, "ResourceLogs")},
    "ResourceLogs": {1: ("resource", "msg", False, "Resource"), 2: ("scopeLogs", "msg", True, "ScopeLogs"),
                     3: ("schemaUrl", "string")},
    "ScopeLogs": {1: ("scope", "msg", False, "Scope"), 2: ("logRecords", "msg", True, "LogRecord"),
                  3: ("schemaUrl", "string")},
    "LogRecord": {1: ("timeUnixNano", "fx64"), 11: ("observedTimeUnixNano", "fx64"), 2: ("severityNumber", "enum"),
                  3: ("severityText", "string"), 5: ("body", "msg", False, "AnyValue"),
                  6: ("attributes", "msg", True, "KeyValue"), 7: ("droppedAttributesCount", "u32"),
                  8: ("flags", "fx32"), 9: ("traceId", "id"), 10: ("spanId", "id"), 12: ("eventName", "string")},
}
ONEOF_KEEP = {"AnyValue"}  # oneof members are emitted even when they hold the default value


def varint(b, i):
    r, shift = 0, 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << shift
        if c < 0x80:
            return r, i
        shift += 7


def scalar(kind, wt, b, i):
    if kind in ("fx64", "sfx64", "f64"):
        raw = b[i:i + 8]
        fmt = {"fx64": "<Q", "sfx64": "<q", "f64": "<d"}[kind]
        return struct.unpack(fmt, raw)[0], i + 8
    if kind == "fx32":
        return struct.unpack("<I", b[i:i + 4])[0], i + 4
    v, i = varint(b, i)
    if kind == "i64" and v >= 1 << 63:
        v -= 1 << 64
    if kind == "bool":
        v = bool(v)
    return v, i


def jsonify(kind, v):
    if kind in ("i64", "u64", "fx64", "sfx64"):
        return str(v)
    if kind == "id":
        return v.hex()
    if kind == "bytes":
        return base64.b64encode(v).decode()
    if kind == "string":
        return v.decode("utf-8")
    return v


def decode(msg, b):
    schema, out, i = S[msg], {}, 0
    while i < len(b):
        key, i = varint(b, i)
        fn, wt = key >> 3, key & 7
        f = schema.get(fn)
        if wt == 2:
            n, i = varint(b, i)
            chunk, i = b[i:i + n], i + n
        if f is None:  # skip unknown
            if wt == 0:
                _, i = varint(b, i)
            elif wt == 1:
                i += 8
            elif wt == 5:
                i += 4
            continue
        name, kind = f[0], f[1]
        rep = len(f) > 2 and f[2]
        if kind == "msg":
            v = decode(f[3], chunk)
        elif kind in ("string", "bytes", "id"):
            v = jsonify(kind, chunk)
        elif wt == 2:  # packed
            vals, j = [], 0
            while j < len(chunk):
                x, j = scalar(kind, None, chunk, j)
                vals.append(jsonify(kind, x))
            out.setdefault(name, []).extend(vals)
            continue
        else:
            x, i = scalar(kind, wt, b, i)
            v = jsonify(kind, x)
        if rep:
            out.setdefault(name, []).append(v)
        else:
            out[name] = v
    if msg not in ONEOF_KEEP:
        out = {k: v for k, v in out.items() if v not in ("", 0, "0", False, [], None) or isinstance(v, dict)}
    return out


def normalize_json(msg, obj):
    """SDK OTLP/JSON -> canonical form (64-bit ints as strings, defaults omitted)."""
    schema = {f[0]: f for f in S[msg].values()}
    out = {}
    for k, v in obj.items():
        f = schema.get(k)
        if f is None:
            continue
        kind = f[1]
        rep = len(f) > 2 and f[2]
        conv = (lambda x: normalize_json(f[3], x)) if kind == "msg" else \
            (lambda x: str(int(x)) if kind in ("i64", "u64", "fx64", "sfx64") else
             (x.lower() if kind == "id" else x))
        out[k] = [conv(x) for x in v] if rep else conv(v)
    if msg not in ONEOF_KEEP:
        out = {k: v for k, v in out.items() if v not in ("", 0, "0", False, [], None) or isinstance(v, dict)}
    return out


class Sink:
    def __init__(self, paths):
        self.paths = paths
        self.lock = threading.Lock()

    def write(self, sig, doc):
        with self.lock, open(self.paths[sig], "a") as f:
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--config":
        print("usage: fake_collector.py --config FILE", file=sys.stderr)
        return 2
    cfg = open(sys.argv[2]).read()
    grpc_ep = re.search(r"grpc:\s*\n\s*endpoint:\s*(\S+)", cfg).group(1)
    http_ep = re.search(r"http:\s*\n\s*endpoint:\s*(\S+)", cfg).group(1)
    paths = {m.group(1): m.group(2) for m in re.finditer(r"file/(\w+):\s*\n\s*path:\s*(\S+)", cfg)}
    sink = Sink(paths)

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            sig = {"/v1/traces": "traces", "/v1/metrics": "metrics", "/v1/logs": "logs"}.get(self.path)
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = b""
                while True:
                    n = int(self.rfile.readline().split(b";")[0], 16)
                    chunk = self.rfile.read(n + 2)[:n]
                    if n == 0:
                        break
                    body += chunk
            else:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding", "") == "gzip":
                body = gzip.decompress(body)
            ctype = self.headers.get("Content-Type", "")
            if sig is None:
                self.send_response(404)
                self.end_headers()
                return
            if ctype.startswith("application/json"):
                sink.write(sig, normalize_json(sig, json.loads(body)))
                resp, rtype = b"{}", "application/json"
            else:
                sink.write(sig, decode(sig, body))
                resp, rtype = b"", "application/x-protobuf"
            self.send_response(200)
            self.send_header("Content-Type", rtype)
            self.send_header("Content-Length", str(len(resp)))
            self.end_headers()
            self.wfile.write(resp)

    host, port = http_ep.rsplit(":", 1)
    httpd = ThreadingHTTPServer((host, int(port)), H)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    import grpc

    def handler(sig):
        def f(req, ctx):
            sink.write(sig, decode(sig, req))
            return b""
        return grpc.unary_unary_rpc_method_handler(f)

    class G(grpc.GenericRpcHandler):
        def service(self, details):
            m = re.match(r"/opentelemetry\.proto\.collector\.(trace|metrics|logs)\.v1\.\w+/Export$", details.method)
            if not m:
                return None
            return handler({"trace": "traces"}.get(m.group(1), m.group(1)))

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((G(),))
    server.add_insecure_port(grpc_ep)
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()
    server.stop(1).wait()
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
