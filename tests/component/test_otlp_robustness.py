"""Mutated and random input against both OTLP transports: the receiver must answer or close,
never crash or hang, and keep serving valid requests. Deterministic (fixed seed), bounded in
time; most useful in the sanitizer build."""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otlp_harness import Checker, Harness, curl, logs_proto, traces_proto  # noqa: E402
from test_otlp_grpc import PREFACE, TRACE, frame  # noqa: E402

c = Checker()
rnd = random.Random(1234)


def mutate(data):
    b = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        op = rnd.randint(0, 5)
        if not b:
            b += bytes([rnd.randint(0, 255)])
        i = rnd.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rnd.randint(0, 7)
        elif op == 1:
            del b[i:i + rnd.randint(1, 16)]
        elif op == 2:
            b[i:i] = bytes(rnd.randint(0, 255) for _ in range(rnd.randint(1, 16)))
        elif op == 3:
            b[i:i] = b[i:i + rnd.randint(1, 64)] * rnd.randint(2, 5)
        elif op == 4:
            b[i] = rnd.choice(b"\r\n: 0f-;%")
        else:
            del b[i:]
    return bytes(b)


def exchange(port, data, timeout=1.0):
    """Sends data, half-closes, reads until close or timeout. Returns (reply, closed)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    out = b""
    closed = False
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        out += chunk
    s.close()
    return out, closed


def http_seed(body):
    return (b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)) + body


def chunked_seed(body):
    return (b"POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n%x\r\n" % len(body)) + body + b"\r\n0\r\n\r\n"


def grpc_seed(msg):
    hdrs = (b"\x83\x86\x01\x09localhost\x04" + bytes([len(TRACE)]) + TRACE.encode() +
            b"\x00\x0ccontent-type\x10application/grpc")
    data = b"\x00" + struct.pack(">I", len(msg)) + msg
    return PREFACE + frame(4, 0, 0) + frame(1, 4, 1, hdrs) + frame(0, 1, 1, data)


def main():
    with Harness("--workers", "2", "--read-header-timeout", "1", "--read-timeout", "1") as h:
        seeds = [http_seed(traces_proto(3)), chunked_seed(b'{"resourceLogs":[]}'),
                 http_seed(b"\x0a\x02\x12\x00" * 10)]
        t0 = time.time()
        answered = 0
        n = 0
        while time.time() - t0 < 12 and n < 1500:
            data = mutate(rnd.choice(seeds))
            reply, closed = exchange(h.http, data)
            answered += reply.startswith(b"HTTP/1.1 ")
            n += 1
        c.check(h.p.poll() is None, "HTTP: %d mutated requests, %d answered, server alive" %
                (n, answered))
        st, _, _, _ = curl("http://127.0.0.1:%d/v1/logs" % h.http, body=logs_proto(2),
                           headers=["Content-Type: application/x-protobuf"])
        c.check(st == 200, "HTTP: valid request served afterwards")

        seed = grpc_seed(traces_proto(2))
        reply, _ = exchange(h.grpc, seed)
        c.check(b"\x00\x00" in reply and len(reply) > 20, "gRPC raw seed answered")
        t0 = time.time()
        n = 0
        while time.time() - t0 < 12 and n < 1500:
            data = PREFACE + mutate(seed[len(PREFACE):]) if rnd.random() < 0.8 else mutate(seed)
            exchange(h.grpc, data, timeout=0.5)
            n += 1
        c.check(h.p.poll() is None, "gRPC: %d mutated connections, server alive" % n)
        import grpc
        with grpc.insecure_channel("127.0.0.1:%d" % h.grpc) as ch:
            f = ch.unary_unary(TRACE, request_serializer=None, response_deserializer=None)
            try:
                f(traces_proto(1), timeout=5)
                ok = True
            except grpc.RpcError:
                ok = False
        c.check(ok, "gRPC: valid call served afterwards")
        # random bytes on both ports
        for _ in range(50):
            junk = bytes(rnd.randint(0, 255) for _ in range(rnd.randint(1, 300)))
            exchange(h.http, junk, timeout=0.3)
            exchange(h.grpc, junk, timeout=0.3)
        c.check(h.p.poll() is None, "random bytes on both ports, server alive")
    c.done()


if __name__ == "__main__":
    main()
