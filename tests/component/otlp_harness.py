"""Helpers for the otlp receiver component tests: start/stop the harness, talk to it, build OTLP
requests by hand (protobuf and JSON), call curl, read google.rpc.Status bodies."""
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time


def harness_path():
    build = os.environ.get("GENOPS_BUILD")
    if not build:
        src = os.environ.get("GENOPS_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
        build = os.path.join(src, "build")
    return os.path.join(build, "tests", "otlp_receiver_harness")


class Harness:
    def __init__(self, *args, expect_fail=False, timeout=10):
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen([harness_path(), *args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=self.err)
        self.http = self.grpc = 0
        line = self._readline(timeout)
        if expect_fail:
            self.p.wait(timeout=timeout)
            self.rc = self.p.returncode
            return
        m = re.match(r"READY http=(\d+) grpc=(\d+)", line or "")
        if not m:
            self.kill()
            raise RuntimeError("harness did not start: %r %s" % (line, self.stderr()))
        self.http, self.grpc = int(m.group(1)), int(m.group(2))

    def _readline(self, timeout=10):
        deadline = time.time() + timeout
        buf = b""
        fd = self.p.stdout.fileno()
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.time()))
            if not r:
                break
            ch = os.read(fd, 1)
            if not ch:
                break
            if ch == b"\n":
                return buf.decode()
            buf += ch
        return buf.decode() if buf else None

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def cmd(self, line):
        self.p.stdin.write((line + "\n").encode())
        self.p.stdin.flush()

    def mode(self, m):
        self.cmd(m)

    def stats(self):
        self.cmd("stats")
        line = self._readline()
        assert line and line.startswith("STATS"), line
        out = {}
        for kv in line.split()[1:]:
            k, v = kv.split("=", 1)
            out[k] = int(v) if v.isdigit() else v
        return out

    def telemetry(self):
        self.cmd("telemetry")
        lines = []
        while True:
            line = self._readline()
            if line is None or line == "END":
                break
            lines.append(line)
        return "\n".join(lines)

    def counter(self, name, transport, receiver="otlp"):
        text = self.telemetry()
        m = re.search(r'^%s(?:_total)?\{receiver="%s",transport="%s"\} (\d+)' %
                      (re.escape(name), re.escape(receiver), transport), text, re.M)
        return int(m.group(1)) if m else None

    def rss_hwm_kib(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def close(self, timeout=10):
        if self.p.poll() is None:
            try:
                self.cmd("quit")
                self.p.wait(timeout=timeout)
            except Exception:
                self.kill()
        return self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        rc = self.close()
        if exc[0] is None:
            assert rc == 0, "harness exit code %r: %s" % (rc, self.stderr())


# ---- protobuf by hand ---------------------------------------------------------------------------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_len(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def field_fixed64(num, v):
    return varint((num << 3) | 1) + v.to_bytes(8, "little")


def _resource():
    kv = field_len(1, b"service.name") + field_len(2, field_len(1, b"svc"))
    return field_len(1, field_len(1, kv))


def traces_proto(n_spans, n_resources=1):
    rs = []
    for r in range(n_resources):
        spans = []
        for i in range(n_spans):
            span = (field_len(1, bytes([r + 1] * 16)) + field_len(2, (i + 1).to_bytes(8, "big")) +
                    field_len(5, b"op") + field_varint(6, 2) + field_fixed64(7, 1000) +
                    field_fixed64(8, 2000))
            spans.append(field_len(2, span))
        scope = field_len(1, field_len(1, b"scope")) + b"".join(spans)
        rs.append(field_len(1, _resource() + field_len(2, scope)))
    return b"".join(rs)


def metrics_proto(n_points):
    dps = b"".join(field_len(1, field_fixed64(3, 1000 + i) + field_fixed64(6, i))
                   for i in range(n_points))
    metric = field_len(1, b"m") + field_len(5, dps)
    scope = field_len(2, metric)
    return field_len(1, _resource() + field_len(2, scope))


def logs_proto(n_logs):
    logs = b"".join(field_len(2, field_fixed64(1, 1000) + field_varint(2, 9) +
                              field_len(5, field_len(1, b"hello %d" % i)))
                    for i in range(n_logs))
    return field_len(1, _resource() + field_len(2, logs))


def traces_json(n_spans):
    spans = [{"traceId": "01" * 16, "spanId": "%016x" % (i + 1), "name": "op", "kind": 2,
              "startTimeUnixNano": "1000", "endTimeUnixNano": "2000"} for i in range(n_spans)]
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]},
        "scopeSpans": [{"scope": {"name": "scope"}, "spans": spans}]}]}).encode()


def metrics_json(n):
    dps = [{"timeUnixNano": "1000", "asInt": str(i)} for i in range(n)]
    return json.dumps({"resourceMetrics": [{"scopeMetrics": [{"metrics": [
        {"name": "m", "gauge": {"dataPoints": dps}}]}]}]}).encode()


def logs_json(n):
    recs = [{"timeUnixNano": "1000", "severityNumber": 9, "body": {"stringValue": "x"}}
            for _ in range(n)]
    return json.dumps({"resourceLogs": [{"scopeLogs": [{"logRecords": recs}]}]}).encode()


def parse_status(body):
    """google.rpc.Status -> (code, message)."""
    code, msg, i = 0, "", 0
    while i < len(body):
        key, i = _rd_varint(body, i)
        if key == 0x08:
            code, i = _rd_varint(body, i)
        elif key == 0x12:
            ln, i = _rd_varint(body, i)
            msg = body[i:i + ln].decode(errors="replace")
            i += ln
        else:
            wt = key & 7
            if wt == 0:
                _, i = _rd_varint(body, i)
            elif wt == 2:
                ln, i = _rd_varint(body, i)
                i += ln
            else:
                raise ValueError("unexpected wire type")
    return code, msg


def _rd_varint(b, i):
    n, s = 0, 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << s
        s += 7
        if not c & 0x80:
            return n, i


# ---- curl ---------------------------------------------------------------------------------------

def curl(url, method="POST", body=None, headers=(), extra=(), timeout=20):
    """Returns (status, headers dict lower-cased, body bytes, curl rc)."""
    with tempfile.TemporaryDirectory() as d:
        hfile, bfile, dfile = (os.path.join(d, x) for x in ("h", "b", "d"))
        cmd = ["curl", "-s", "-X", method, "-D", hfile, "-o", bfile, "-w", "%{http_code}",
               "--max-time", str(timeout), *extra]
        for h in headers:
            cmd += ["-H", h]
        if body is not None:
            with open(dfile, "wb") as f:
                f.write(body)
            cmd += ["--data-binary", "@" + dfile]
        cmd.append(url)
        r = subprocess.run(cmd, capture_output=True, timeout=timeout + 10)
        hdrs = {}
        if os.path.exists(hfile):
            with open(hfile, "rb") as f:
                blocks = f.read().decode(errors="replace").split("\r\n\r\n")
            final = [b for b in blocks if b.strip()]
            for line in (final[-1].split("\r\n")[1:] if final else []):
                if ":" in line:
                    k, v = line.split(":", 1)
                    hdrs.setdefault(k.strip().lower(), v.strip())
        data = open(bfile, "rb").read() if os.path.exists(bfile) else b""
        status = int(r.stdout.decode() or 0) if r.stdout.decode().isdigit() else 0
        return status, hdrs, data, r.returncode


class Checker:
    def __init__(self):
        self.failures = 0
        self.count = 0
        self.t = time.time()

    def check(self, cond, what):
        self.count += 1
        now = time.time()
        took, self.t = now - self.t, now
        if cond:
            print("ok   %s  [%.2fs]" % (what, took))
        else:
            self.failures += 1
            print("FAIL %s  [%.2fs]" % (what, took))
        sys.stdout.flush()

    def done(self):
        print("%d checks, %d failures" % (self.count, self.failures))
        sys.exit(1 if self.failures else 0)
