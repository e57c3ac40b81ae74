#!/usr/bin/env python3
"""Component test of the otlp exporter's gRPC path against a python grpcio server on loopback.

The server exposes the three OTLP Export methods through a generic handler that records the raw
request bytes and metadata and answers scripted outcomes (OK with a response, a status code with
an optional google.rpc.RetryInfo in grpc-status-details-bin, or a sleep). The client side is
tests/component/otlp_grpc_exporter_harness.c (built next to the unit tests), which applies the exporter's
config rules and result mapping and keeps one connection across the calls it is given.

Covers: every signal, gzip / zstd / snappy / none, headers as metadata, grpc-message decoding,
UNAVAILABLE then OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED with and without RetryInfo, a response
over the size bound, the deadline against a sleeping server, server restart (reconnect),
http:// / https:// / dns:/// endpoints, TLS with a CA, skip-verify, a wrong server name and mTLS
with certificates made by openssl at test time. Loopback only, bounded in time.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from testlib import free_port, snappy_block_decode, wait_port_while  # noqa: E402  (testlib.py)

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("GENOPS_SRC", os.path.dirname(os.path.dirname(HERE)))
BUILD = os.environ.get("GENOPS_BUILD", os.path.join(SRC, "build"))
DRIVER = os.path.join(BUILD, "tests", "otlp_grpc_exporter_harness")
BIN = os.environ.get("GENOPS_BIN", os.path.join(BUILD, "bin"))

PATHS = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}

FAILURES = []


def check(cond, what):
    if cond:
        print("ok   ", what)
    else:
        print("FAIL ", what)
        FAILURES.append(what)


# ---- minimal protobuf writing for google.rpc.Status / Any / RetryInfo ----------------------

def varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def status_details(code, msg, retry_delay_s=None):
    out = field_varint(1, code) + field_bytes(2, msg.encode())
    debug = field_bytes(1, b"type.googleapis.com/google.rpc.DebugInfo") + field_bytes(2, b"\x12\x01x")
    out += field_bytes(3, debug)
    if retry_delay_s is not None:
        secs = int(retry_delay_s)
        nanos = int(round((retry_delay_s - secs) * 1e9))
        dur = field_varint(1, secs) + (field_varint(2, nanos) if nanos else b"")
        retry = field_bytes(1, dur)
        out += field_bytes(3, field_bytes(1, b"type.googleapis.com/google.rpc.RetryInfo") +
                           field_bytes(2, retry))
    return out


# ---- scripted server ------------------------------------------------------------------------

class Script:
    def __init__(self):
        self.lock = threading.Lock()
        self.actions = []
        self.received = []  # (method, bytes, metadata dict)

    def push(self, *actions):
        with self.lock:
            self.actions.extend(actions)

    def pop(self):
        with self.lock:
            return self.actions.pop(0) if self.actions else ("ok", b"")


class Handler(grpc.GenericRpcHandler):
    def __init__(self, script):
        self.script = script

    def service(self, details):
        method = details.method
        if method not in PATHS.values():
            return None

        def unary(request, context):
            md = {k: v for k, v in context.invocation_metadata()}
            md["@time_remaining"] = context.time_remaining()
            with self.script.lock:
                self.script.received.append((method, bytes(request), md))
            act = self.script.pop()
            if act[0] == "sleep":
                time.sleep(act[1])
                return b""
            if act[0] == "ok":
                return act[1]
            _, code, msg, delay = act
            context.set_trailing_metadata(
                (("grpc-status-details-bin", status_details(code.value[0], msg, delay)),))
            context.abort(code, msg)

        return grpc.unary_unary_rpc_method_handler(unary)


class Server:
    def __init__(self, script, creds=None, port=0):
        self.script, self.creds = script, creds
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                                  handlers=[Handler(script)])
        addr = "127.0.0.1:%d" % port
        self.port = (self.server.add_secure_port(addr, creds) if creds
                     else self.server.add_insecure_port(addr))
        if self.port == 0:
            raise RuntimeError("cannot bind " + addr)
        self.server.start()

    def stop(self):
        self.server.stop(0).wait(5)


# ---- driver ---------------------------------------------------------------------------------

class Driver:
    def __init__(self, *args):
        self.p = subprocess.Popen([DRIVER] + list(args), stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        self.ready = json.loads(self.p.stdout.readline())

    def call(self, sig="traces", payload=b"\x0a\x03abc", timeout_ms=3000):
        hexs = payload.hex() if payload else "-"
        self.p.stdin.write("call %s %s %d\n" % (sig, hexs, timeout_ms))
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("driver died")
        return json.loads(line)

    def callgen(self, sig, size, timeout_ms=5000):
        self.p.stdin.write("callgen %s %d %d\n" % (sig, size, timeout_ms))
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(5)
        except Exception:
            self.p.kill()
            self.p.wait()


def make_certs(d):
    def run(*args):
        subprocess.run(["openssl"] + list(args), check=True, cwd=d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
        "-days", "1", "-subj", "/CN=test-ca")
    for name, ext in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
                      ("client", "extendedKeyUsage=clientAuth")):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out",
            name + ".csr", "-subj", "/CN=" + name)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        run("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", name + ".crt", "-days", "1", "-extfile", name + ".ext")
    # a second CA that signed nothing we use
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other.key", "-out",
        "other.crt", "-days", "1", "-subj", "/CN=other-ca")


def read(d, name):
    with open(os.path.join(d, name), "rb") as f:
        return f.read()


# ---- scenarios ------------------------------------------------------------------------------

def plaintext_suite():
    script = Script()
    srv = Server(script)
    port = srv.port
    drv = Driver("--endpoint", "127.0.0.1:%d" % port, "--insecure", "--header",
                 "X-Tenant=acme", "--header", "authorization=Bearer t0k")
    try:
        check(drv.ready.get("tls") is False, "tls.insecure gives plain text")
        # every signal, gzip (the default), payload and metadata delivered
        for sig in ("traces", "metrics", "logs"):
            payload = (sig.encode() * 300)
            script.push(("ok", b""))
            r = drv.call(sig, payload)
            m, body, md = script.received[-1]
            check(r["result"] == "OK" and r["status"] == 0, "%s: OK" % sig)
            check(m == PATHS[sig] and body == payload, "%s: path and bytes delivered (gzip)" % sig)
            check(md.get("x-tenant") == "acme" and md.get("authorization") == "Bearer t0k",
                  "%s: headers sent as metadata (lower-cased)" % sig)
        check(r["connects"] == 1, "one connection reused across calls")

        # a request far above the HTTP/2 windows (flow control), and a large response
        size = 3 * 1024 * 1024 + 17
        script.push(("ok", b"r" * 300000))
        r = drv.callgen("traces", size)
        want = bytes((i * 31) % 251 for i in range(size))
        check(r["result"] == "OK" and script.received[-1][1] == want,
              "3 MiB request delivered intact (%s)" % r["message"])
        check(bytes.fromhex(r["response_hex"]) == b"r" * 300000, "300 kB response received")

        # partial success response comes back intact
        resp = field_bytes(1, field_varint(1, 3) + field_bytes(2, b"bad spans"))
        script.push(("ok", resp))
        r = drv.call("traces")
        check(r["result"] == "OK" and bytes.fromhex(r["response_hex"]) == resp,
              "response message returned (partial_success)")

        # UNAVAILABLE then OK: retry then success
        script.push(("status", grpc.StatusCode.UNAVAILABLE, "backend down", None))
        r1 = drv.call("traces")
        r2 = drv.call("traces")
        check(r1["status"] == 14 and r1["result"] == "RETRY", "UNAVAILABLE -> RETRY")
        check(r2["result"] == "OK", "then OK on retry")

        # permanent errors and grpc-message decoding
        msg = "bad: ünïcode 100% \"quoted\""
        script.push(("status", grpc.StatusCode.INVALID_ARGUMENT, msg, None))
        r = drv.call("logs")
        check(r["status"] == 3 and r["result"] == "PERMANENT", "INVALID_ARGUMENT -> PERMANENT")
        check(r["message"] == msg, "grpc-message percent-decoded: %r" % r["message"])

        # RESOURCE_EXHAUSTED without / with RetryInfo
        script.push(("status", grpc.StatusCode.RESOURCE_EXHAUSTED, "quota", None))
        r = drv.call("metrics")
        check(r["status"] == 8 and r["result"] == "PERMANENT" and not r["retry_info"],
              "RESOURCE_EXHAUSTED without RetryInfo -> PERMANENT")
        script.push(("status", grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", 2.5))
        r = drv.call("metrics")
        check(r["result"] == "RETRY" and r["retry_info"] and r["retry_after_ns"] == 2500000000,
              "RESOURCE_EXHAUSTED with RetryInfo -> RETRY after 2.5s (%s)" % r["retry_after_ns"])
        script.push(("status", grpc.StatusCode.UNAVAILABLE, "later", 1.0))
        r = drv.call("traces")
        check(r["result"] == "RETRY" and r["retry_after_ns"] == 1000000000,
              "UNAVAILABLE with RetryInfo keeps its delay")
        for code, name in ((grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED"),
                           (grpc.StatusCode.DATA_LOSS, "DATA_LOSS"),
                           (grpc.StatusCode.ABORTED, "ABORTED")):
            script.push(("status", code, "x", None))
            r = drv.call("traces")
            want = "PERMANENT" if name == "UNAUTHENTICATED" else "RETRY"
            check(r["code"] == name and r["result"] == want, "%s -> %s" % (name, want))
        check(r["connects"] == 1, "error statuses keep the connection")

        # deadline against a sleeping server
        script.push(("sleep", 2.0))
        t0 = time.monotonic()
        r = drv.call("traces", timeout_ms=300)
        took = time.monotonic() - t0
        check(r["status"] == 4 and r["result"] == "RETRY", "deadline -> DEADLINE_EXCEEDED, RETRY")
        check(took < 1.2, "deadline honoured (%.2fs)" % took)
        _, _, md = script.received[-1]
        rem = md.get("@time_remaining")
        check(rem is not None and 0 < rem <= 0.3,
              "grpc-timeout gives the server our deadline (%.3fs left)" % (rem or -1))
        time.sleep(1.9)  # let the sleeping handler finish
        r = drv.call("traces")
        check(r["result"] == "OK", "next call after a deadline succeeds")

        # response above the bound
        big = Driver("--endpoint", "http://127.0.0.1:%d" % port, "--max-response", "64",
                     "--compression", "none")
        try:
            check(big.ready.get("tls") is False, "http:// endpoint implies plain text")
            script.push(("ok", b"x" * 1000))
            r = big.call("traces")
            check(r["status"] == 8 and r["result"] == "PERMANENT",
                  "response over max size -> RESOURCE_EXHAUSTED (%s)" % r["message"])
            script.push(("ok", b"y" * 10))
            r = big.call("traces")
            check(r["result"] == "OK" and r["response_hex"] == (b"y" * 10).hex(),
                  "small response after that, compression none")
            size = 2 * 1024 * 1024 + 3
            r = big.callgen("logs", size)
            want = bytes((i * 31) % 251 for i in range(size))
            check(r["result"] == "OK" and script.received[-1][1] == want,
                  "2 MiB uncompressed request delivered intact (%s)" % r["message"])
        finally:
            big.close()

        # server restart: the client reconnects
        connects = r2["connects"]
        srv.stop()
        r = drv.call("traces", timeout_ms=1000)
        check(r["status"] == 14 and r["result"] == "RETRY" and r["transport"],
              "server down -> UNAVAILABLE (%s)" % r["message"])
        srv = Server(script, port=port)
        r = drv.call("traces")
        check(r["result"] == "OK" and r["connects"] > connects,
              "server restarted -> reconnect and OK (connects=%d)" % r["connects"])
        # restart again without a failed call in between: the stale connection is replaced
        srv.stop()
        srv = Server(script, port=port)
        r = drv.call("traces")
        check(r["result"] == "OK", "stale connection after restart replaced transparently")
    finally:
        drv.close()
        srv.stop()


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def snappy_framed_decode(data):
    if data[:10] != b"\xff\x06\x00\x00sNaPpY":
        raise ValueError("no snappy stream identifier")
    i, out = 10, bytearray()
    while i < len(data):
        typ, ln = data[i], int.from_bytes(data[i + 1:i + 4], "little")
        chunk = data[i + 4:i + 4 + ln]
        i += 4 + ln
        if typ not in (0, 1):
            continue
        crc = int.from_bytes(chunk[:4], "little")
        body = snappy_block_decode(chunk[4:]) if typ == 0 else chunk[4:]
        c = crc32c(body)
        if ((((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF) != crc:
            raise ValueError("snappy crc mismatch")
        out += body
    return bytes(out)


class Blackhole:
    """Accepts TCP connections and reads, never answers: a peer that has silently gone."""

    def __init__(self, reply=None):
        import socket
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop_flag = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        import select
        self.sock.settimeout(0.1)
        while not self.stop_flag:
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                pass
            for c in list(self.conns):
                r, _, _ = select.select([c], [], [], 0)
                if r:
                    try:
                        if c.recv(65536) and self.reply is not None:
                            c.sendall(self.reply)
                            c.close()
                            self.conns.remove(c)
                    except OSError:
                        pass

    def stop(self):
        self.stop_flag = True
        self.t.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def keepalive_suite():
    hole = Blackhole()
    try:
        drv = Driver("--endpoint", "127.0.0.1:%d" % hole.port, "--insecure",
                     "--keepalive-time", "200", "--keepalive-timeout", "200")
        t0 = time.monotonic()
        r = drv.call("traces", timeout_ms=4000)
        took = time.monotonic() - t0
        drv.close()
        check(r["status"] == 14 and "keepalive" in r["message"] and took < 2.0,
              "silent peer detected by keepalive ping in %.2fs (%s)" % (took, r["message"]))
    finally:
        hole.stop()
    for name, reply in (("HTTP/1.1 server", b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
                        ("garbage bytes", bytes(range(256)) * 4),
                        ("bad HTTP/2 frame", b"\x00\x00\x04\x04\x00\x00\x00\x00\x00\xff\xff")):
        peer = Blackhole(reply)
        try:
            drv = Driver("--endpoint", "127.0.0.1:%d" % peer.port, "--insecure")
            t0 = time.monotonic()
            r = drv.call("traces", timeout_ms=3000)
            took = time.monotonic() - t0
            drv.close()
            check(r["result"] == "RETRY" and r["transport"] and took < 2.0,
                  "%s -> %s in %.2fs (%s)" % (name, r["code"], took, r["message"]))
        finally:
            peer.stop()
    script = Script()
    srv = Server(script)
    try:
        drv = Driver("--endpoint", "127.0.0.1:%d" % srv.port, "--insecure",
                     "--keepalive-time", "300", "--keepalive-timeout", "1000")
        script.push(("sleep", 1.0))
        r = drv.call("traces", timeout_ms=4000)
        drv.close()
        check(r["result"] == "OK", "slow but live server: pings acknowledged, call OK (%s %s)"
              % (r["code"], r["message"]))
    finally:
        srv.stop()


def compression_suite():
    script = Script()
    srv = Server(script)
    try:
        for comp in ("zstd", "snappy", "none", "gzip"):
            drv = Driver("--endpoint", "dns:///127.0.0.1:%d" % srv.port, "--insecure",
                         "--compression", comp)
            try:
                payload = b"\x0a\x10" + b"z" * 4000 + bytes(range(256)) * 8
                r = drv.call("logs", payload)
                got = script.received[-1][1]
                if comp in ("none", "gzip"):
                    ok = r["result"] == "OK" and got == payload
                    check(ok, "compression %s: server decoded the request" % comp)
                    continue
                # grpcio (as packaged) knows identity, deflate and gzip only: it drops the
                # unknown grpc-encoding and hands the handler the raw compressed message, which
                # we decode independently here
                if comp == "zstd":
                    p = subprocess.run(["zstd", "-d", "-c", "-q"], input=got,
                                       capture_output=True, timeout=10)
                    dec = p.stdout if p.returncode == 0 else b""
                else:
                    try:
                        dec = snappy_framed_decode(got)
                    except (ValueError, IndexError) as e:
                        print("snappy decode:", e)
                        dec = b""
                check(len(got) < len(payload) and dec == payload,
                      "compression %s: request compressed (%d -> %d bytes) and decodes"
                      % (comp, len(payload), len(got)))
            finally:
                drv.close()
    finally:
        srv.stop()


def tls_suite(d):
    ca, skey, scrt = read(d, "ca.crt"), read(d, "server.key"), read(d, "server.crt")
    script = Script()
    srv = Server(script, grpc.ssl_server_credentials([(skey, scrt)]))
    ep = "127.0.0.1:%d" % srv.port
    ca_file = os.path.join(d, "ca.crt")
    try:
        drv = Driver("--endpoint", ep, "--ca", ca_file)
        r = drv.call("traces")
        check(drv.ready["tls"] and r["result"] == "OK", "TLS with ca_file: OK")
        drv.close()
        drv = Driver("--endpoint", "https://localhost:%d" % srv.port, "--insecure", "--ca",
                     ca_file, "--min-version", "1.3")
        r = drv.call("metrics")
        check(drv.ready["tls"] and r["result"] == "OK",
              "https:// forces TLS over tls.insecure; name localhost verified; TLS 1.3")
        drv.close()
        drv = Driver("--endpoint", ep, "--ca", os.path.join(d, "other.crt"))
        r = drv.call("traces")
        check(r["status"] == 14 and "certificate" in r["message"],
              "unknown CA -> UNAVAILABLE (%s)" % r["message"])
        drv.close()
        drv = Driver("--endpoint", ep, "--ca", os.path.join(d, "other.crt"), "--skip-verify")
        r = drv.call("traces")
        check(r["result"] == "OK", "insecure_skip_verify: OK")
        drv.close()
        drv = Driver("--endpoint", ep, "--ca", ca_file, "--server-name", "wrong.example")
        r = drv.call("traces")
        check(r["status"] == 14, "server_name_override mismatch -> UNAVAILABLE (%s)"
              % r["message"])
        drv.close()
        drv = Driver("--endpoint", ep, "--ca", ca_file, "--server-name", "localhost")
        r = drv.call("traces")
        check(r["result"] == "OK", "server_name_override matching: OK")
        drv.close()
        drv = Driver("--endpoint", ep, "--insecure")
        r = drv.call("traces", timeout_ms=1000)
        check(r["result"] == "RETRY" and r["transport"],
              "plain text against a TLS server fails cleanly (%s %s)" % (r["code"], r["message"]))
        drv.close()
    finally:
        srv.stop()

    # mTLS
    creds = grpc.ssl_server_credentials([(skey, scrt)], root_certificates=ca,
                                        require_client_auth=True)
    srv = Server(script, creds)
    ep = "127.0.0.1:%d" % srv.port
    try:
        drv = Driver("--endpoint", ep, "--ca", ca_file)
        r = drv.call("traces", timeout_ms=2000)
        check(r["result"] != "OK" and r["transport"],
              "mTLS without a client certificate refused (%s %s)" % (r["code"], r["message"]))
        drv.close()
        drv = Driver("--endpoint", ep, "--ca", ca_file, "--cert", os.path.join(d, "client.crt"),
                     "--key", os.path.join(d, "client.key"))
        r = drv.call("logs")
        check(r["result"] == "OK", "mTLS with cert_file/key_file: OK")
        drv.close()
        drv = Driver("--endpoint", ep, "--ca-pem-file", ca_file, "--cert-pem-file",
                     os.path.join(d, "client.crt"), "--key-pem-file",
                     os.path.join(d, "client.key"), "--max-version", "1.2")
        r = drv.call("metrics")
        check(r["result"] == "OK", "mTLS with ca_pem/cert_pem/key_pem, max_version 1.2: OK (%s)"
              % r["message"])
        drv.close()
        drv = Driver("--endpoint", ep, "--ca", ca_file, "--cert", os.path.join(d, "client.crt"),
                     "--key", os.path.join(d, "client.key"), "--min-version", "1.3",
                     "--max-version", "1.2")
        r = drv.call("metrics", timeout_ms=1000)
        check(r["result"] == "RETRY" and r["transport"],
              "min_version above max_version fails the handshake (%s)" % r["message"])
        drv.close()
    finally:
        srv.stop()
    # a bad key file is refused when the client is made
    p = subprocess.run([DRIVER, "--endpoint", ep, "--cert", os.path.join(d, "client.crt"),
                        "--key", os.path.join(d, "nope.key")], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 1 and "key_file" in p.stdout, "missing key_file reported at start")


# ---- end to end: the collector binary, OTLP/HTTP in -> otlp exporter (gRPC) out ---------------

def fixed64(num, v):
    return varint(num << 3 | 1) + v.to_bytes(8, "little")


def otlp_request(sig, name):
    """A one-item Export*ServiceRequest, encoded by hand."""
    now = int(time.time() * 1e9)
    attr = field_bytes(1, field_bytes(1, b"service.name") + field_bytes(2, field_bytes(1, b"svc")))
    res = field_bytes(1, attr)
    scope = field_bytes(1, field_bytes(1, b"test-scope"))
    if sig == "traces":
        span = (field_bytes(1, bytes(range(1, 17))) + field_bytes(2, bytes(range(1, 9))) +
                field_bytes(5, name) + field_varint(6, 2) + fixed64(7, now) + fixed64(8, now + 1000))
        return field_bytes(1, res + field_bytes(2, scope + field_bytes(2, span)))
    if sig == "metrics":
        dp = fixed64(3, now) + varint(6 << 3 | 1) + (42).to_bytes(8, "little")
        metric = field_bytes(1, name) + field_bytes(5, field_bytes(1, dp))
        return field_bytes(1, res + field_bytes(2, scope + field_bytes(2, metric)))
    rec = fixed64(1, now) + field_bytes(5, field_bytes(1, name))
    return field_bytes(1, res + field_bytes(2, scope + field_bytes(2, rec)))


class Collector:
    def __init__(self, grpc_port, tmpdir, extra=""):
        import urllib.request  # noqa: F401
        self.http_port, self.metrics_port = free_port(), free_port()
        cfg = """
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  otlp/out:
    endpoint: 127.0.0.1:%d
    tls:
      insecure: true
    headers:
      X-Scope-OrgID: acme
    timeout: 2s
    retry_on_failure:
      enabled: true
      initial_interval: 100ms
      max_interval: 200ms
      max_elapsed_time: 5s
    sending_queue:
      enabled: true
      num_consumers: 2
      queue_size: 100
%s
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp/out]
    metrics:
      receivers: [otlp]
      exporters: [otlp/out]
    logs:
      receivers: [otlp]
      exporters: [otlp/out]
""" % (self.http_port, grpc_port, extra, self.metrics_port)
        self.cfg = os.path.join(tmpdir, "collector.yaml")
        with open(self.cfg, "w") as f:
            f.write(cfg)
        self.log = open(os.path.join(tmpdir, "collector.log"), "w+")
        self.p = subprocess.Popen([os.path.join(BIN, "genops-collector"), "--config", self.cfg],
                                  stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self):
        if wait_port_while(self.http_port, self.p, time.monotonic() + 10):
            return
        if self.p.poll() is not None:
            raise RuntimeError("collector exited: " + self.output())
        raise RuntimeError("collector not ready: " + self.output())

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def send(self, sig, body):
        import urllib.request
        req = urllib.request.Request("http://127.0.0.1:%d/v1/%s" % (self.http_port, sig),
                                     data=body, method="POST",
                                     headers={"Content-Type": "application/x-protobuf"})
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status

    def metric(self, name, labels_contain):
        import urllib.request
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics_port,
                                    timeout=5) as r:
            text = r.read().decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and all(l in line for l in labels_contain):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()
        return self.p.returncode


def wait_for(cond, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def e2e_suite(tmpdir):
    if not os.path.exists(os.path.join(BIN, "genops-collector")):
        check(False, "collector binary not built")
        return
    script = Script()
    srv = Server(script)
    col = Collector(srv.port, tmpdir)
    try:
        for sig in ("traces", "metrics", "logs"):
            name = ("e2e-" + sig).encode()
            n = len(script.received)
            check(col.send(sig, otlp_request(sig, name)) == 200, "e2e %s: accepted by receiver" % sig)
            ok = wait_for(lambda: len(script.received) > n)
            got = script.received[-1] if ok else (None, b"", {})
            check(ok and got[0] == PATHS[sig] and name in got[1] and b"service.name" in got[1],
                  "e2e %s: exported over gRPC with the item intact" % sig)
            check(got[2].get("x-scope-orgid") == "acme", "e2e %s: headers as metadata" % sig)
        check(wait_for(lambda: col.metric("otelcol_exporter_sent_spans",
                                          ['exporter="otlp/out"']) >= 1),
              "e2e: otelcol_exporter_sent_spans counted")

        # UNAVAILABLE once, then OK: the helper retries
        n = len(script.received)
        script.push(("status", grpc.StatusCode.UNAVAILABLE, "try later", None), ("ok", b""))
        col.send("traces", otlp_request("traces", b"retry-me"))
        check(wait_for(lambda: len(script.received) >= n + 2),
              "e2e: UNAVAILABLE retried (%d attempts)" % (len(script.received) - n))
        check(all(b"retry-me" in r[1] for r in script.received[n:n + 2]),
              "e2e: same data sent again")

        # RESOURCE_EXHAUSTED with RetryInfo: retried no sooner than the server asked
        n = len(script.received)
        script.push(("status", grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", 0.6), ("ok", b""))
        t0 = time.monotonic()
        col.send("traces", otlp_request("traces", b"throttled"))
        ok = wait_for(lambda: len(script.received) >= n + 2, 5)
        took = time.monotonic() - t0
        check(ok and took >= 0.55, "e2e: RetryInfo delay honoured (%.2fs)" % took)

        # INVALID_ARGUMENT: dropped and counted as send_failed
        before = col.metric("otelcol_exporter_send_failed_log_records", ['exporter="otlp/out"'])
        n = len(script.received)
        script.push(("status", grpc.StatusCode.INVALID_ARGUMENT, "bad data", None))
        col.send("logs", otlp_request("logs", b"rejected"))
        check(wait_for(lambda: col.metric("otelcol_exporter_send_failed_log_records",
                                          ['exporter="otlp/out"']) > before),
              "e2e: INVALID_ARGUMENT counted in otelcol_exporter_send_failed_log_records")
        time.sleep(0.3)
        check(len(script.received) == n + 1, "e2e: permanent error not retried")
        log = col.output()
        bad = [l for l in log.splitlines()
               if ("\twarn\t" in l or "\terror\t" in l or "warning:" in l)
               and "INVALID_ARGUMENT: bad data" not in l]
        check(not bad, "e2e: nothing unexpected logged by the collector %s" % bad)
        if FAILURES:
            print(log[-3000:])
    finally:
        rc = col.stop()
        srv.stop()
    check(rc == 0, "e2e: collector stopped cleanly on SIGTERM (exit %s)" % rc)


def main():
    signal.alarm(240)
    if not os.path.exists(DRIVER):
        print("driver not built:", DRIVER)
        return 1
    d = tempfile.mkdtemp(prefix="otlpgrpc-")
    try:
        plaintext_suite()
        compression_suite()
        keepalive_suite()
        e2e_suite(d)
        if shutil.which("openssl"):
            make_certs(d)
            tls_suite(d)
        else:
            check(False, "openssl not found")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if FAILURES:
        print("%d failure(s)" % len(FAILURES))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
