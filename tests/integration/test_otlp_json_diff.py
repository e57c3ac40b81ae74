#!/usr/bin/python3
"""Differential test of the OTLP/JSON codec against python3-protobuf's json_format.

Compiles proto/ with protoc into a temporary directory and builds seeded random Export*Service
Request messages of each signal (the generators of test_otlp_proto_diff.py, which produce the
canonical forms our model keeps). For every message:
  (a) our JSON (build/tests/otlp_json_tool proto2json) uses lowerCamelCase keys, lowercase hex
      ids, 64-bit integers as strings and enums as numbers, and json_format.Parse (unknown
      fields not ignored; ids turned from hex to base64, as json_format expects bytes) gives a
      message equal to the original;
  (b) json_format.MessageToJson(msg) (ids turned into hex, in upper or lower case; camelCase or
      proto field names; enum names or numbers, at random) decoded by us and re-encoded as
      protobuf (otlp_json_tool json2proto) equals the original, byte for byte;
  (c) our JSON is a fixed point of decode + encode (otlp_json_tool json).

Usage: test_otlp_json_diff.py [--count N] [--seed S]"""
import argparse
import base64
import importlib.util
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("GENOPS_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("GENOPS_BUILD") or os.path.join(SRC, "build")
TOOL = os.path.join(BUILD, "tests", "otlp_json_tool")

ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}
U64_KEYS = {"timeUnixNano", "startTimeUnixNano", "endTimeUnixNano", "observedTimeUnixNano",
            "count", "zeroCount", "asInt", "intValue", "rejectedSpans"}
ENUM_KEYS = {"kind", "code", "aggregationTemporality", "severityNumber"}
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def load_generators():
    path = os.path.join(SRC, "tests", "integration", "test_otlp_proto_diff.py")
    spec = importlib.util.spec_from_file_location("otlp_proto_diff", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def map_ids(obj, conv):
    """Applies conv to every trace/span id string of a decoded JSON document, in place."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k in ID_KEYS and isinstance(v, str):
                obj[k] = conv(v)
            else:
                map_ids(v, conv)
    elif isinstance(obj, list):
        for v in obj:
            map_ids(v, conv)


def check_canonical(obj, where, problems):
    """Checks the shape of our output: keys, ids, 64-bit integers and enums."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not CAMEL.match(k):
                problems.append(f"{where}: key {k!r} is not lowerCamelCase")
            if k in ID_KEYS and not re.fullmatch(r"([0-9a-f]{16}|[0-9a-f]{32})", v):
                problems.append(f"{where}: id {k}={v!r} is not lowercase hex")
            if k in U64_KEYS and not isinstance(v, str):
                problems.append(f"{where}: {k}={v!r} is not a string")
            if k in ENUM_KEYS and not isinstance(v, int):
                problems.append(f"{where}: enum {k}={v!r} is not a number")
            if k in ("bucketCounts",) and not all(isinstance(x, str) for x in v):
                problems.append(f"{where}: bucketCounts not strings")
            check_canonical(v, where, problems)
    elif isinstance(obj, list):
        for v in obj:
            check_canonical(v, where, problems)


def hex_to_b64(s):
    return base64.b64encode(bytes.fromhex(s)).decode()


def run_tool(signal, mode, inputs):
    """Converts every input with one otlp_json_tool process; returns [(status, bytes)]."""
    stream = b"".join(struct.pack(">I", len(d)) + d for d in inputs)
    res = subprocess.run([TOOL, signal, mode, "framed"], input=stream, capture_output=True,
                         timeout=240)
    if res.returncode != 0:
        raise RuntimeError(f"otlp_json_tool {signal} {mode}: exit {res.returncode}: "
                           f"{res.stderr.decode(errors='replace').strip()}")
    out, pos = [], 0
    for _ in inputs:
        status, n = struct.unpack(">BI", res.stdout[pos:pos + 5])
        out.append((status, res.stdout[pos + 5:pos + 5 + n]))
        pos += 5 + n
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=150)
    ap.add_argument("--seed", type=int, default=20261125)
    opts = ap.parse_args()
    if not os.access(TOOL, os.X_OK):
        print(f"otlp json diff: FAIL: {TOOL} not built")
        return 1
    gens = load_generators()
    from google.protobuf import json_format

    with tempfile.TemporaryDirectory() as tmp:
        gens.compile_protos(tmp)
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from opentelemetry.proto.common.v1 import common_pb2
        from opentelemetry.proto.resource.v1 import resource_pb2

        signals = [("traces", gens.gen_traces, trace_service_pb2.ExportTraceServiceRequest),
                   ("metrics", gens.gen_metrics,
                    metrics_service_pb2.ExportMetricsServiceRequest),
                   ("logs", gens.gen_logs, logs_service_pb2.ExportLogsServiceRequest)]
        rnd = random.Random(opts.seed)
        g = gens.Gen(rnd, common_pb2, resource_pb2)
        mod_for = {"traces": trace_service_pb2, "metrics": metrics_service_pb2,
                   "logs": logs_service_pb2}
        failures = []
        total = 0
        for signal, gen, cls in signals:
            msgs = [gen(g, mod_for[signal]) for _ in range(opts.count)]
            datas = [m.SerializeToString() for m in msgs]
            total += len(msgs)

            # (a) our JSON -> json_format.Parse
            ours = run_tool(signal, "proto2json", datas)
            for i, (msg, (status, out)) in enumerate(zip(msgs, ours)):
                tag = f"{signal}#{i}"
                if status != 0:
                    failures.append(f"{tag} proto2json: status {status}: "
                                    f"{out.decode(errors='replace')}")
                    continue
                try:
                    doc = json.loads(out)
                except ValueError as e:
                    failures.append(f"{tag}: our JSON does not parse: {e}")
                    continue
                problems = []
                check_canonical(doc, tag, problems)
                failures += problems[:3]
                map_ids(doc, hex_to_b64)
                try:
                    back = json_format.Parse(json.dumps(doc), cls(), ignore_unknown_fields=False)
                except json_format.ParseError as e:
                    failures.append(f"{tag}: json_format.Parse rejects our JSON: {e}")
                    continue
                if back != msg:
                    failures.append(f"{tag}: json_format.Parse(our JSON) differs from the "
                                    f"original")

            # (b) json_format.MessageToJson -> our decode -> protobuf
            texts = []
            for msg in msgs:
                doc = json.loads(json_format.MessageToJson(
                    msg, preserving_proto_field_name=rnd.random() < 0.4,
                    use_integers_for_enums=rnd.random() < 0.5))
                upper = rnd.random() < 0.3
                map_ids(doc, lambda s, u=upper: base64.b64decode(s).hex().upper() if u
                        else base64.b64decode(s).hex())
                texts.append(json.dumps(doc).encode())
            for i, (msg, data, (status, out)) in enumerate(
                    zip(msgs, datas, run_tool(signal, "json2proto", texts))):
                tag = f"{signal}#{i}"
                if status != 0:
                    failures.append(f"{tag} json2proto: status {status}: "
                                    f"{out.decode(errors='replace')}")
                    continue
                back = cls()
                back.ParseFromString(out)
                if back != msg:
                    failures.append(f"{tag}: our decode of MessageToJson differs from the "
                                    f"original")
                elif out != data:
                    failures.append(f"{tag}: protobuf bytes differ after the JSON trip")

            # (c) our JSON is a fixed point of decode + encode
            good = [out for status, out in ours if status == 0]
            for i, (inp, (status, out)) in enumerate(zip(good, run_tool(signal, "json", good))):
                if status != 0 or out != inp:
                    failures.append(f"{signal}#{i}: our JSON is not a fixed point of decode + "
                                    f"encode")
        for f in failures[:20]:
            print(f)
        status = "FAIL" if failures else "ok"
        print(f"otlp json diff: {status}: {total} messages, {len(failures)} mismatches, "
              f"seed {opts.seed}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
