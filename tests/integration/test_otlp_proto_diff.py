#!/usr/bin/python3
"""Differential test of the OTLP protobuf codec against python3-protobuf.

Compiles proto/ with protoc into a temporary directory, builds many random (seeded) Export*
ServiceRequest messages of each signal covering every field kind, pipes their serialization
through build/tests/otlp_roundtrip (decode then re-encode, directly and through pd_batch_clone)
and asserts that our bytes equal python's SerializeToString() and parse back to an equal message.
Also checks that `protoc --decode` reads our output with no unknown fields, and that unknown
fields of every wire type (groups included) inserted into every nested message are skipped.

Usage: test_otlp_proto_diff.py [--count N] [--seed S] [--corpus DIR]
  --corpus DIR writes a few of the generated messages as fuzz seeds."""
import argparse
import math
import os
import random
import struct
import subprocess
import sys
import tempfile

SRC = os.environ.get("GENOPS_SRC") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("GENOPS_BUILD") or os.path.join(SRC, "build")
TOOL = os.path.join(BUILD, "tests", "otlp_roundtrip")


def compile_protos(out_dir):
    proto_dir = os.path.join(SRC, "proto")
    files = []
    for root, _, names in os.walk(proto_dir):
        files += [os.path.relpath(os.path.join(root, n), proto_dir) for n in names
                  if n.endswith(".proto")]
    subprocess.run(["protoc", "-I", proto_dir, "-I", "/usr/include", "--python_out", out_dir]
                   + sorted(files), check=True)
    sys.path.insert(0, out_dir)


class Gen:
    def __init__(self, rnd, common, resource):
        self.r = rnd
        self.common = common
        self.resource = resource

    def chance(self, p):
        return self.r.random() < p

    def string(self, maxlen=12):
        if self.chance(0.001):  # rare big strings: 3-byte length prefixes at every level above
            return "x" * 70000
        n = self.r.choice([0, 1, 3, maxlen, 130]) if self.chance(0.2) else self.r.randint(1, maxlen)
        alphabet = "abcdefghijklmnopqrstuvwxyz._-/ é中"
        return "".join(self.r.choice(alphabet) for _ in range(n))

    def raw(self, n):
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def u32(self):
        return self.r.choice([0, 0, 1, 127, 128, 300, 2**31, 2**32 - 1, self.r.getrandbits(32)])

    def u64(self):
        return self.r.choice([0, 1, 2**63, 2**64 - 1, self.r.getrandbits(64),
                              1700000000000000000 + self.r.getrandbits(30)])

    def i64(self):
        return self.r.choice([0, 1, -1, 2**63 - 1, -2**63, self.r.getrandbits(63) - 2**62])

    def dbl(self):
        return self.r.choice([0.0, -0.0, 1.5, -2.25, 1e300, -1e-300, math.inf, -math.inf,
                              self.r.uniform(-1e6, 1e6)])

    def any_value(self, v, depth=0):
        kinds = ["none", "str", "bool", "int", "double", "bytes"]
        if depth < 3:
            kinds += ["array", "kvlist"]
        k = self.r.choice(kinds)
        if k == "str":
            v.string_value = self.string()
        elif k == "bool":
            v.bool_value = self.chance(0.5)
        elif k == "int":
            v.int_value = self.i64()
        elif k == "double":
            v.double_value = self.dbl()
        elif k == "bytes":
            v.bytes_value = self.raw(self.r.randint(0, 20))
        elif k == "array":
            v.array_value.SetInParent()
            for _ in range(self.r.randint(0, 3)):
                self.any_value(v.array_value.values.add(), depth + 1)
        elif k == "kvlist":
            v.kvlist_value.SetInParent()
            self.attrs(v.kvlist_value.values, self.r.randint(0, 3), depth + 1)

    def attrs(self, field, n=None, depth=0):
        if n is None:
            n = self.r.choice([0, 1, 2, 5, 25]) if self.chance(0.5) else 0
        for _ in range(n):
            kv = field.add()
            kv.key = self.string()
            kv.value.SetInParent()  # our encoder always writes KeyValue.value
            if self.chance(0.8):
                self.any_value(kv.value, depth)

    def resource_into(self, parent):
        r = self.resource.Resource()
        self.attrs(r.attributes)
        if self.chance(0.3):
            r.dropped_attributes_count = self.u32()
        if r.ByteSize():  # empty resources are omitted on encode
            parent.resource.CopyFrom(r)

    def scope_into(self, parent):
        s = self.common.InstrumentationScope()
        if self.chance(0.7):
            s.name = self.string()
        if self.chance(0.5):
            s.version = self.string()
        self.attrs(s.attributes)
        if self.chance(0.2):
            s.dropped_attributes_count = self.u32()
        if s.ByteSize():
            parent.scope.CopyFrom(s)

    def id(self, n):
        if self.chance(0.2):
            return b""
        b = self.raw(n)
        return b if any(b) else b"\x01" + b[1:]  # all-zero ids are omitted on encode


def gen_traces(g, mod):
    req = mod.ExportTraceServiceRequest()
    for _ in range(g.r.randint(0, 3)):
        rs = req.resource_spans.add()
        g.resource_into(rs)
        if g.chance(0.5):
            rs.schema_url = g.string()
        for _ in range(g.r.randint(0, 3)):
            ss = rs.scope_spans.add()
            g.scope_into(ss)
            if g.chance(0.3):
                ss.schema_url = g.string()
            for _ in range(g.r.randint(0, 4)):
                s = ss.spans.add()
                s.trace_id = g.id(16)
                s.span_id = g.id(8)
                if g.chance(0.3):
                    s.trace_state = g.string()
                s.parent_span_id = g.id(8)
                if g.chance(0.4):
                    s.flags = g.u32()
                s.name = g.string()
                s.kind = g.r.randint(0, 5)
                s.start_time_unix_nano = g.u64()
                s.end_time_unix_nano = g.u64()
                g.attrs(s.attributes)
                if g.chance(0.2):
                    s.dropped_attributes_count = g.u32()
                for _ in range(g.r.choice([0, 0, 1, 3])):
                    e = s.events.add()
                    e.time_unix_nano = g.u64()
                    e.name = g.string()
                    g.attrs(e.attributes)
                    if g.chance(0.2):
                        e.dropped_attributes_count = g.u32()
                if g.chance(0.2):
                    s.dropped_events_count = g.u32()
                for _ in range(g.r.choice([0, 0, 1, 2])):
                    lk = s.links.add()
                    lk.trace_id = g.id(16)
                    lk.span_id = g.id(8)
                    if g.chance(0.3):
                        lk.trace_state = g.string()
                    g.attrs(lk.attributes)
                    if g.chance(0.2):
                        lk.dropped_attributes_count = g.u32()
                    if g.chance(0.3):
                        lk.flags = g.u32()
                if g.chance(0.2):
                    s.dropped_links_count = g.u32()
                if g.chance(0.5):
                    st = s.status.__class__()
                    if g.chance(0.5):
                        st.message = g.string()
                    st.code = g.r.randint(0, 2)
                    if st.ByteSize():
                        s.status.CopyFrom(st)
    return req


def gen_exemplars(g, field):
    for _ in range(g.r.choice([0, 0, 1, 2])):
        e = field.add()
        g.attrs(e.filtered_attributes)
        e.time_unix_nano = g.u64()
        c = g.r.randint(0, 2)
        if c == 1:
            e.as_double = g.dbl()
        elif c == 2:
            e.as_int = g.i64()
        e.span_id = g.id(8)
        e.trace_id = g.id(16)


def gen_number_dp(g, dp):
    g.attrs(dp.attributes)
    dp.start_time_unix_nano = g.u64()
    dp.time_unix_nano = g.u64()
    c = g.r.randint(0, 2)
    if c == 1:
        dp.as_double = g.dbl()
    elif c == 2:
        dp.as_int = g.i64()
    gen_exemplars(g, dp.exemplars)
    if g.chance(0.3):
        dp.flags = g.u32()


def gen_metrics(g, mod):
    req = mod.ExportMetricsServiceRequest()
    for _ in range(g.r.randint(0, 3)):
        rm = req.resource_metrics.add()
        g.resource_into(rm)
        if g.chance(0.5):
            rm.schema_url = g.string()
        for _ in range(g.r.randint(0, 3)):
            sm = rm.scope_metrics.add()
            g.scope_into(sm)
            if g.chance(0.3):
                sm.schema_url = g.string()
            for _ in range(g.r.randint(0, 4)):
                m = sm.metrics.add()
                m.name = g.string()
                if g.chance(0.5):
                    m.description = g.string()
                if g.chance(0.5):
                    m.unit = g.string()
                if g.chance(0.2):
                    g.attrs(m.metadata, g.r.randint(1, 3))
                kind = g.r.choice(["none", "gauge", "sum", "histogram", "exp", "summary"])
                ndp = g.r.choice([0, 1, 2, 4])
                if kind == "gauge":
                    m.gauge.SetInParent()
                    for _ in range(ndp):
                        gen_number_dp(g, m.gauge.data_points.add())
                elif kind == "sum":
                    m.sum.SetInParent()
                    m.sum.aggregation_temporality = g.r.randint(0, 2)
                    m.sum.is_monotonic = g.chance(0.5)
                    for _ in range(ndp):
                        gen_number_dp(g, m.sum.data_points.add())
                elif kind == "histogram":
                    m.histogram.SetInParent()
                    m.histogram.aggregation_temporality = g.r.randint(0, 2)
                    for _ in range(ndp):
                        dp = m.histogram.data_points.add()
                        g.attrs(dp.attributes)
                        dp.start_time_unix_nano = g.u64()
                        dp.time_unix_nano = g.u64()
                        dp.count = g.u64()
                        if g.chance(0.6):
                            dp.sum = g.dbl()
                        nb = g.r.choice([0, 1, 5, 20])
                        dp.bucket_counts.extend(g.u64() for _ in range(nb))
                        dp.explicit_bounds.extend(g.dbl() for _ in range(max(0, nb - 1)))
                        gen_exemplars(g, dp.exemplars)
                        if g.chance(0.3):
                            dp.flags = g.u32()
                        if g.chance(0.5):
                            dp.min = g.dbl()
                        if g.chance(0.5):
                            dp.max = g.dbl()
                elif kind == "exp":
                    m.exponential_histogram.SetInParent()
                    m.exponential_histogram.aggregation_temporality = g.r.randint(0, 2)
                    for _ in range(ndp):
                        dp = m.exponential_histogram.data_points.add()
                        g.attrs(dp.attributes)
                        dp.start_time_unix_nano = g.u64()
                        dp.time_unix_nano = g.u64()
                        dp.count = g.u64()
                        if g.chance(0.6):
                            dp.sum = g.dbl()
                        dp.scale = g.r.choice([0, -10, 20, -2**31, 2**31 - 1])
                        dp.zero_count = g.u64()
                        for side in (dp.positive, dp.negative):
                            if g.chance(0.7):
                                off = g.r.choice([0, 5, -5, -2**31, 2**31 - 1])
                                counts = [g.u64() for _ in range(g.r.choice([0, 1, 8]))]
                                if off or counts:
                                    side.offset = off
                                    side.bucket_counts.extend(counts)
                        if g.chance(0.3):
                            dp.flags = g.u32()
                        gen_exemplars(g, dp.exemplars)
                        if g.chance(0.5):
                            dp.min = g.dbl()
                        if g.chance(0.5):
                            dp.max = g.dbl()
                        if g.chance(0.5):
                            dp.zero_threshold = g.dbl()
                elif kind == "summary":
                    m.summary.SetInParent()
                    for _ in range(ndp):
                        dp = m.summary.data_points.add()
                        g.attrs(dp.attributes)
                        dp.start_time_unix_nano = g.u64()
                        dp.time_unix_nano = g.u64()
                        dp.count = g.u64()
                        dp.sum = g.dbl()
                        for _ in range(g.r.choice([0, 1, 3])):
                            q = dp.quantile_values.add()
                            q.quantile = g.dbl()
                            q.value = g.dbl()
                        if g.chance(0.3):
                            dp.flags = g.u32()
    return req


def gen_logs(g, mod):
    req = mod.ExportLogsServiceRequest()
    for _ in range(g.r.randint(0, 3)):
        rl = req.resource_logs.add()
        g.resource_into(rl)
        if g.chance(0.5):
            rl.schema_url = g.string()
        for _ in range(g.r.randint(0, 3)):
            sl = rl.scope_logs.add()
            g.scope_into(sl)
            if g.chance(0.3):
                sl.schema_url = g.string()
            for _ in range(g.r.randint(0, 4)):
                lr = sl.log_records.add()
                lr.time_unix_nano = g.u64()
                lr.observed_time_unix_nano = g.u64()
                lr.severity_number = g.r.randint(0, 24)
                if g.chance(0.5):
                    lr.severity_text = g.string()
                body = g.common.AnyValue()
                g.any_value(body)
                if body.WhichOneof("value"):  # an empty body is omitted on encode
                    lr.body.CopyFrom(body)
                g.attrs(lr.attributes)
                if g.chance(0.2):
                    lr.dropped_attributes_count = g.u32()
                if g.chance(0.3):
                    lr.flags = g.u32()
                lr.trace_id = g.id(16)
                lr.span_id = g.id(8)
                if g.chance(0.3):
                    lr.event_name = g.string()
    return req


def has_nan(msg):
    return "nan" in str(msg)


def run_tool(signal, data, mode=""):
    args = [TOOL, signal] + ([mode] if mode else [])
    return subprocess.run(args, input=data, capture_output=True, timeout=30)


def parse_stream(buf):
    out = []
    pos = 0
    while pos < len(buf):
        st, n = struct.unpack_from("<II", buf, pos)
        pos += 8
        direct = buf[pos:pos + n]
        pos += n
        (m,) = struct.unpack_from("<I", buf, pos)
        pos += 4
        cloned = buf[pos:pos + m]
        pos += m
        out.append((st, direct, cloned))
    return out


def read_varint(buf, pos):
    v = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return v, pos


def write_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def inject_unknown(buf, desc, rnd):
    """Re-serializes buf (a message of type desc) with unknown fields of a random wire type
    inserted before and after the fields of every nested message, lengths fixed up."""
    out = bytearray(unknown_field(rnd))
    pos = 0
    while pos < len(buf):
        tag, pos = read_varint(buf, pos)
        num, wt = tag >> 3, tag & 7
        if wt == 0:
            _, end = read_varint(buf, pos)
            out += write_varint(tag) + buf[pos:end]
            pos = end
        elif wt == 1:
            out += write_varint(tag) + buf[pos:pos + 8]
            pos += 8
        elif wt == 5:
            out += write_varint(tag) + buf[pos:pos + 4]
            pos += 4
        elif wt == 2:
            n, pos = read_varint(buf, pos)
            payload = buf[pos:pos + n]
            pos += n
            field = desc.fields_by_number.get(num)
            if field is not None and field.message_type is not None:
                payload = inject_unknown(payload, field.message_type, rnd)
            out += write_varint(tag) + write_varint(len(payload)) + payload
        else:
            raise ValueError("unexpected wire type")
    out += unknown_field(rnd)
    return bytes(out)


def unknown_field(rnd):
    """One unknown field (number 900..999) of a random wire type, sometimes nothing."""
    num = rnd.randint(900, 999)
    k = rnd.randint(0, 5)
    if k == 0:
        return write_varint(num << 3) + write_varint(rnd.getrandbits(rnd.choice([7, 64])))
    if k == 1:
        return write_varint(num << 3 | 1) + struct.pack("<Q", rnd.getrandbits(64))
    if k == 2:
        return write_varint(num << 3 | 2) + write_varint(3) + b"\x08\x96\x01"
    if k == 3:
        return write_varint(num << 3 | 3) + b"\x08\x01" + write_varint(num << 3 | 4)
    if k == 4:
        return write_varint(num << 3 | 5) + struct.pack("<I", rnd.getrandbits(32))
    return b""


def unknown_fields_blob(rnd):
    """Unknown fields (numbers >= 1000) of every wire type, incl. a nested group."""
    out = b""
    out += bytes([0xc0, 0x3e]) + bytes([0x96, 0x01])            # 1000 varint
    out += bytes([0xc9, 0x3e]) + struct.pack("<Q", rnd.getrandbits(64))  # 1001 fixed64
    out += bytes([0xd2, 0x3e, 0x03]) + b"abc"                    # 1002 len
    out += bytes([0xdb, 0x3e, 0x08, 0x01, 0xdc, 0x3e])           # 1003 group {1: 1}
    out += bytes([0xe5, 0x3e]) + struct.pack("<I", 7)            # 1004 fixed32
    return out


def main():
    ap = argparse.ArgumentParser()
    # Each message runs the tool as a process; sanitizer builds start slowly, so fewer there.
    ap.add_argument("--count", type=int,
                    default=40 if os.environ.get("GENOPS_SANITIZED") == "1" else 300)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--corpus")
    opts = ap.parse_args()
    if not os.access(TOOL, os.X_OK):
        print(f"otlp proto diff: FAIL: {TOOL} not built")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        compile_protos(tmp)
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from opentelemetry.proto.common.v1 import common_pb2
        from opentelemetry.proto.resource.v1 import resource_pb2

        signals = [("traces", gen_traces, trace_service_pb2,
                    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"),
                   ("metrics", gen_metrics, metrics_service_pb2,
                    "opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest"),
                   ("logs", gen_logs, logs_service_pb2,
                    "opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest")]
        rnd = random.Random(opts.seed)
        g = Gen(rnd, common_pb2, resource_pb2)
        failures = []
        total = 0
        nbytes = 0
        for signal, gen, mod, full_name in signals:
            biggest = None
            msgs = [gen(g, mod) for _ in range(opts.count)]
            datas = [m.SerializeToString() for m in msgs]
            # Each message twice: as is, and with unknown fields inserted at every level.
            inputs = []
            for msg, data in zip(msgs, datas):
                inputs += [data, inject_unknown(data, msg.DESCRIPTOR, rnd)
                           + unknown_fields_blob(rnd)]
            frames = b"".join(struct.pack("<I", len(d)) + d for d in inputs)
            res = run_tool(signal, frames, "stream")
            if res.returncode != 0:
                failures.append(f"{signal}: tool exit {res.returncode}: "
                                f"{res.stderr.decode(errors='replace').strip()}")
                continue
            outs = parse_stream(res.stdout)
            if len(outs) != len(inputs):
                failures.append(f"{signal}: {len(outs)} answers for {len(inputs)} inputs")
                continue
            for i, msg in enumerate(msgs):
                data = datas[i]
                total += 1
                nbytes += len(data)
                for k, what in ((2 * i, "direct"), (2 * i + 1, "with unknown fields")):
                    st, direct, cloned = outs[k]
                    if st != 0:
                        failures.append(f"{signal}#{i} {what}: decode error {st}: "
                                        f"{direct.decode(errors='replace')}")
                        continue
                    for mode, ours in (("direct", direct), ("clone", cloned)):
                        if ours != data:
                            failures.append(f"{signal}#{i} {what} {mode}: bytes differ "
                                            f"(python {len(data)} B, ours {len(ours)} B)")
                back = mod.__dict__[full_name.rsplit(".", 1)[1]]()
                back.ParseFromString(outs[2 * i][1])
                if back != msg and not has_nan(msg):
                    failures.append(f"{signal}#{i}: parsed message differs")
                if biggest is None or len(data) > len(biggest):
                    biggest = data
                if opts.corpus and i < 4 and data:
                    os.makedirs(opts.corpus, exist_ok=True)
                    with open(os.path.join(opts.corpus, f"{signal}_{i}.bin"), "wb") as fh:
                        fh.write(data)
            # protoc reads our encoding of the largest message with no unknown fields.
            res = run_tool(signal, biggest or b"")
            pkg = {"traces": "trace", "metrics": "metrics", "logs": "logs"}[signal]
            dec = subprocess.run(["protoc", "-I", os.path.join(SRC, "proto"), "-I",
                                  "/usr/include", f"--decode={full_name}",
                                  f"opentelemetry/proto/collector/{pkg}/v1/{pkg}_service.proto"],
                                 input=res.stdout, capture_output=True, timeout=30)
            if dec.returncode != 0:
                failures.append(f"{signal}: protoc --decode failed: {dec.stderr.decode().strip()}")
            else:
                for line in dec.stdout.decode(errors="replace").splitlines():
                    if line.strip()[:1].isdigit():
                        failures.append(f"{signal}: protoc sees unknown field: {line.strip()}")
                        break
        for f in failures[:20]:
            print(f)
        status = "FAIL" if failures else "ok"
        print(f"otlp proto diff: {status}: {total} messages ({nbytes} bytes), "
              f"{len(failures)} mismatches, seed {opts.seed}")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
