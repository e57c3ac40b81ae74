#!/usr/bin/python3
"""OTLP/gRPC trace exports for the integration tests (not a test itself).

  otlp_grpc.py PORT CALLS SPANS PREFIX [TIMEOUT_S]

Makes CALLS unary TraceService/Export calls to 127.0.0.1:PORT, each carrying SPANS spans named
PREFIX-<call>-<i>, and prints one line per call: the gRPC status code name (OK, UNAVAILABLE...).
The request is encoded by hand (a few protobuf fields), so no generated code is needed."""
import struct
import sys

import grpc

METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def ld(field, payload):  # length-delimited field
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def fixed64(field, v):
    return varint(field << 3 | 1) + struct.pack("<Q", v)


def request(call, spans, prefix):
    body = b""
    for i in range(spans):
        span = (ld(1, struct.pack(">QQ", 0x5B8EFFF798038103, (call << 32) + i + 1))
                + ld(2, struct.pack(">Q", 0xEEE19B7EC3C1B174 + i))
                + ld(5, ("%s-%d-%d" % (prefix, call, i)).encode())
                + varint(6 << 3) + varint(2)
                + fixed64(7, 1767225600000000000 + i) + fixed64(8, 1767225601000000000 + i))
        body += ld(2, span)
    resource = ld(1, ld(1, b"service.name") + ld(2, ld(1, b"itest-grpc")))  # KeyValue
    scope = ld(1, ld(1, b"itest"))
    return ld(1, ld(1, resource) + ld(2, scope + body))


def main():
    port, calls, spans, prefix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 10.0
    with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
        export = ch.unary_unary(METHOD)
        for c in range(calls):
            try:
                export(request(c, spans, prefix), timeout=timeout)
                print("OK")
            except grpc.RpcError as e:
                print(e.code().name)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
