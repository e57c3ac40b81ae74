"""OTLP/gRPC receiver behaviour, driven with grpcio (raw bytes, no generated stubs) and with raw
HTTP/2 frames for keepalive and GOAWAY behaviour."""
import os
import socket
import struct
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otlp_harness import Checker, Harness, logs_proto, metrics_proto, traces_proto  # noqa: E402

TRACE = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
METRICS = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"
LOGS = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"

c = Checker()


def call(ch, method, data, **kw):
    f = ch.unary_unary(method, request_serializer=None, response_deserializer=None)
    try:
        return grpc.StatusCode.OK, f(data, timeout=10, **kw)
    except grpc.RpcError as e:
        return e.code(), e.details()


# ---- raw HTTP/2 ---------------------------------------------------------------------------------

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, sid, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", sid) + payload


def read_frames(sock, until_type=None, timeout=5.0):
    """Reads frames until one of until_type arrives, the peer closes, or timeout. Returns
    (frames, closed)."""
    sock.settimeout(0.2)
    buf = b""
    frames = []
    deadline = time.time() + timeout
    closed = False
    while time.time() < deadline:
        try:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            buf += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
            break
        while len(buf) >= 9:
            ln = int.from_bytes(buf[:3], "big")
            if len(buf) < 9 + ln:
                break
            ftype, flags = buf[3], buf[4]
            frames.append((ftype, flags, buf[9:9 + ln]))
            buf = buf[9 + ln:]
            if ftype == 4 and not flags & 1:  # SETTINGS: ack it
                try:
                    sock.sendall(frame(4, 1, 0))
                except OSError:
                    pass
        if until_type is not None and any(f[0] == until_type for f in frames):
            break
    return frames, closed


def h2_connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(PREFACE + frame(4, 0, 0))
    return s


def goaway_of(frames):
    for ftype, _, payload in frames:
        if ftype == 7:
            last, code = struct.unpack(">II", payload[:8])
            return code, payload[8:]
    return None


def main():
    with Harness("--grpc", "--workers", "2", "--max-msg-mib", "1") as h:
        target = "127.0.0.1:%d" % h.grpc
        with grpc.insecure_channel(target) as ch:
            for method, body, sig, n in ((TRACE, traces_proto(3), "traces", 3),
                                         (METRICS, metrics_proto(4), "metrics", 4),
                                         (LOGS, logs_proto(5), "logs", 5)):
                before = h.stats()[sig]
                code, resp = call(ch, method, body)
                c.check(code == grpc.StatusCode.OK and resp == b"", "%s -> OK" % method)
                code, _ = call(ch, method, body, compression=grpc.Compression.Gzip)
                c.check(code == grpc.StatusCode.OK, "%s gzip -> OK" % method)
                c.check(h.stats()[sig] - before == 2 * n, "%s items counted" % sig)
            c.check(h.stats()["transport"] == "grpc", "batch transport is grpc")

            code, det = call(ch, "/opentelemetry.proto.collector.trace.v1.TraceService/Nope", b"")
            c.check(code == grpc.StatusCode.UNIMPLEMENTED, "unknown method -> UNIMPLEMENTED")
            code, det = call(ch, "/foo.Bar/Baz", b"")
            c.check(code == grpc.StatusCode.UNIMPLEMENTED, "unknown service -> UNIMPLEMENTED")
            code, det = call(ch, TRACE, b"\x0a\xff\xff\xff")
            c.check(code == grpc.StatusCode.INVALID_ARGUMENT, "bad protobuf -> INVALID_ARGUMENT")
            code, det = call(ch, TRACE, b"")
            c.check(code == grpc.StatusCode.OK, "empty request -> OK")

            big = traces_proto(20000)  # ~1.3 MiB > 1 MiB limit
            code, det = call(ch, TRACE, big)
            c.check(code == grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "oversized message -> RESOURCE_EXHAUSTED (%s)" % det)
            code, det = call(ch, TRACE, big, compression=grpc.Compression.Gzip)
            c.check(code == grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "oversized after decompression -> RESOURCE_EXHAUSTED (%s)" % det)
            code, _ = call(ch, TRACE, traces_proto(10))
            c.check(code == grpc.StatusCode.OK, "connection still usable after refusals")

            h.mode("retry")
            h.stats()
            code, det = call(ch, TRACE, traces_proto(4))
            c.check(code == grpc.StatusCode.UNAVAILABLE, "consumer RETRY -> UNAVAILABLE")
            h.mode("permanent")
            h.stats()
            code, det = call(ch, LOGS, logs_proto(2))
            c.check(code == grpc.StatusCode.INVALID_ARGUMENT, "consumer PERMANENT -> INVALID_ARGUMENT")
            h.mode("ok")
            h.stats()

            # many concurrent calls on one connection
            before = h.stats()["traces"]
            body = traces_proto(2)
            with ThreadPoolExecutor(16) as ex:
                codes = list(ex.map(lambda _: call(ch, TRACE, body)[0], range(200)))
            c.check(all(x == grpc.StatusCode.OK for x in codes) and
                    h.stats()["traces"] - before == 400, "200 concurrent calls -> all OK")

        acc = h.counter("otelcol_receiver_accepted_spans", "grpc")
        ref = h.counter("otelcol_receiver_refused_spans", "grpc")
        c.check(acc == h.stats()["traces"], "accepted_spans{transport=grpc} = %r" % acc)
        c.check(ref == 4, "refused_spans{transport=grpc} = %r" % ref)
        c.check(h.counter("otelcol_receiver_refused_log_records", "grpc") == 2,
                "refused_log_records{transport=grpc}")

        # not gRPC: HTTP/1.1 on the gRPC port is dropped, the server survives
        s = socket.create_connection(("127.0.0.1", h.grpc), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        frames, closed = read_frames(s, timeout=3)
        s.close()
        c.check(closed, "HTTP/1.1 on the gRPC port -> connection closed")
        # garbage after a valid preface
        s = h2_connect(h.grpc)
        s.sendall(b"\xff" * 100)
        frames, closed = read_frames(s, timeout=3)
        s.close()
        c.check(closed, "garbage frames -> connection closed")
        # a client that connects and says nothing is dropped (preface deadline is 10 s; only
        # check it does not affect others)
        idle = socket.create_connection(("127.0.0.1", h.grpc))
        with grpc.insecure_channel(target) as ch:
            code, _ = call(ch, LOGS, logs_proto(1))
        idle.close()
        c.check(code == grpc.StatusCode.OK, "silent connection does not block others")

        # ping enforcement: pings without streams are strikes -> GOAWAY too_many_pings
        s = h2_connect(h.grpc)
        for i in range(4):
            s.sendall(frame(6, 0, 0, bytes(8)))
        frames, closed = read_frames(s, until_type=7, timeout=3)
        s.close()
        g = goaway_of(frames)
        c.check(g is not None and g[0] == 0xB and g[1] == b"too_many_pings",
                "ping flood -> GOAWAY ENHANCE_YOUR_CALM too_many_pings (%r)" % (g,))

        # graceful shutdown sends GOAWAY to open connections
        s = h2_connect(h.grpc)
        read_frames(s, timeout=0.5)
        h.cmd("quit")
        frames, closed = read_frames(s, until_type=7, timeout=5)
        s.close()
        g = goaway_of(frames)
        c.check(g is not None and g[0] == 0, "shutdown -> GOAWAY NO_ERROR")
        h.p.wait(timeout=10)
        c.check(h.p.returncode == 0, "harness exits cleanly")

    # keepalive: max_connection_idle and max_connection_age(+grace), server pings
    with Harness("--grpc", "--ka-idle", "1") as h:
        s = h2_connect(h.grpc)
        t0 = time.time()
        frames, closed = read_frames(s, until_type=7, timeout=5)
        g = goaway_of(frames)
        c.check(g is not None and g[0] == 0 and 0.9 < time.time() - t0 < 3.5,
                "max_connection_idle 1s -> GOAWAY after %.1fs" % (time.time() - t0))
        frames, closed = read_frames(s, timeout=3)
        s.close()
        c.check(closed, "idle connection closed after GOAWAY")
    with Harness("--grpc", "--ka-age", "1", "--ka-grace", "1") as h:
        s = h2_connect(h.grpc)
        # keep a stream open (headers without END_STREAM) so only age + grace can close it
        hdrs = (b"\x83"  # :method POST
                b"\x86"  # :scheme http
                b"\x01\x09localhost"  # :authority
                b"\x04" + bytes([len(TRACE)]) + TRACE.encode() +  # :path literal, no indexing
                b"\x00\x0ccontent-type\x10application/grpc")
        s.sendall(frame(1, 4, 1, hdrs))
        t0 = time.time()
        frames, closed = read_frames(s, until_type=7, timeout=5)
        g = goaway_of(frames)
        t_goaway = time.time() - t0
        c.check(g is not None and g[0] == 0 and not any(f[0] == 3 for f in frames),
                "max_connection_age 1s -> GOAWAY after %.1fs, stream still open" % t_goaway)
        frames, closed = read_frames(s, timeout=5)
        s.close()
        t_close = time.time() - t0
        c.check(closed and t_close - t_goaway > 0.8 and t_close < 4.5,
                "max_connection_age_grace 1s -> closed %.1fs after GOAWAY" % (t_close - t_goaway))
    with Harness("--grpc", "--ka-time", "1", "--ka-timeout", "1") as h:
        s = h2_connect(h.grpc)
        t0 = time.time()
        frames, closed = read_frames(s, until_type=6, timeout=5)
        pings = [f for f in frames if f[0] == 6 and not f[1] & 1]
        c.check(len(pings) >= 1, "keepalive time 1s -> server PING after %.1fs" % (time.time() - t0))
        # do not answer the ping: the server closes after the timeout
        frames, closed = read_frames(s, timeout=5)
        s.close()
        c.check(closed, "unanswered PING -> connection closed after keepalive timeout")

    c.done()


if __name__ == "__main__":
    main()
