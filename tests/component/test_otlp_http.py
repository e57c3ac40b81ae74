"""OTLP/HTTP receiver behaviour, driven with curl against the component harness on loopback."""
import gzip
import os
import socket
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from otlp_harness import (Checker, Harness, curl, logs_json, logs_proto, metrics_json,  # noqa: E402
                          metrics_proto, parse_status, traces_json, traces_proto)

PB = "Content-Type: application/x-protobuf"
JS = "Content-Type: application/json"

c = Checker()


def zstd_compress(data):
    import subprocess
    return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True).stdout


def zlib_gzip_zeros(n):
    """gzip of n zero bytes, built incrementally (fast, small memory)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    out = [co.compress(chunk) for _ in range(n >> 20)]
    out.append(co.flush())
    return b"".join(out)


def main():
    with Harness("--http", "--workers", "2") as h:
        base = "http://127.0.0.1:%d" % h.http

        # every path, protobuf and JSON
        cases = [("/v1/traces", traces_proto(3), traces_json(3), "traces"),
                 ("/v1/metrics", metrics_proto(4), metrics_json(4), "metrics"),
                 ("/v1/logs", logs_proto(5), logs_json(5), "logs")]
        for path, pb, js, sig in cases:
            before = h.stats()[sig]
            st, hd, body, _ = curl(base + path, body=pb, headers=[PB])
            c.check(st == 200 and hd.get("content-type") == "application/x-protobuf",
                    "%s protobuf -> 200 application/x-protobuf" % path)
            st, hd, body, _ = curl(base + path, body=js, headers=[JS])
            c.check(st == 200 and hd.get("content-type") == "application/json",
                    "%s json -> 200 application/json" % path)
            want = {"traces": 6, "metrics": 8, "logs": 10}[sig]
            c.check(h.stats()[sig] - before == want, "%s items counted (%d)" % (sig, want))
        c.check(h.stats()["transport"] == "http", "batch transport is http")

        st, _, _, _ = curl(base + "/v1/traces", body=traces_json(1),
                           headers=["Content-Type: application/json; charset=utf-8"])
        c.check(st == 200, "charset parameter accepted")

        # methods, paths, content types
        st, hd, body, _ = curl(base + "/v1/traces", method="GET")
        c.check(st == 405 and hd.get("allow") == "POST", "GET -> 405 with Allow: POST")
        st, hd, _, _ = curl(base + "/v1/logs", method="PUT", body=b"x", headers=[PB])
        c.check(st == 405, "PUT -> 405")
        st, _, _, _ = curl(base + "/v1/nope", body=traces_proto(1), headers=[PB])
        c.check(st == 404, "unknown path -> 404")
        st, _, _, _ = curl(base + "/", method="GET")
        c.check(st == 404, "GET / -> 404")
        st, _, body, _ = curl(base + "/v1/traces", body=b"x", headers=["Content-Type: text/plain"])
        c.check(st == 415, "text/plain -> 415")
        st, _, _, _ = curl(base + "/v1/traces", body=b"x", headers=["Content-Type:"])
        c.check(st == 415, "no content type -> 415")

        # encodings
        pb = traces_proto(2)
        for name, data in (("gzip", gzip.compress(pb)), ("deflate", zlib.compress(pb)),
                           ("zstd", zstd_compress(pb))):
            before = h.stats()["traces"]
            st, _, _, _ = curl(base + "/v1/traces", body=data,
                               headers=[PB, "Content-Encoding: " + name])
            c.check(st == 200 and h.stats()["traces"] - before == 2,
                    "Content-Encoding %s -> 200, items counted" % name)
        st, hd, body, _ = curl(base + "/v1/traces", body=pb, headers=[PB, "Content-Encoding: br"])
        code, msg = parse_status(body) if st == 400 else (None, "")
        c.check(st == 400 and code == 3 and "br" in msg, "unknown Content-Encoding -> 400 Status")
        st, _, _, _ = curl(base + "/v1/traces", body=b"\x1f\x8b\x08\x00garbage",
                           headers=[PB, "Content-Encoding: gzip"])
        c.check(st == 400, "corrupt gzip -> 400")

        # decode errors, with the status body in the request's content type
        st, hd, body, _ = curl(base + "/v1/traces", body=b"\x0a\xff\xff\xff", headers=[PB])
        code, msg = parse_status(body) if st == 400 else (None, "")
        c.check(st == 400 and hd.get("content-type") == "application/x-protobuf" and code == 3
                and msg, "bad protobuf -> 400 google.rpc.Status (protobuf)")
        st, hd, body, _ = curl(base + "/v1/traces", body=b"{not json", headers=[JS])
        ok = False
        if st == 400 and hd.get("content-type") == "application/json":
            import json
            j = json.loads(body)
            ok = j.get("code") == 3 and j.get("message")
        c.check(ok, "bad JSON -> 400 google.rpc.Status (JSON)")

        # empty body
        before = h.stats()["batches"]
        st, _, _, _ = curl(base + "/v1/traces", body=b"", headers=[PB])
        c.check(st == 200 and h.stats()["batches"] == before, "empty body -> 200, nothing consumed")

        # consumer answers
        h.mode("retry")
        h.stats()
        st, _, body, _ = curl(base + "/v1/traces", body=traces_proto(7), headers=[PB])
        code, _ = parse_status(body) if st == 503 else (None, "")
        c.check(st == 503 and code == 14, "consumer RETRY -> 503 UNAVAILABLE")
        h.mode("permanent")
        h.stats()
        st, _, body, _ = curl(base + "/v1/traces", body=traces_proto(1), headers=[PB])
        code, _ = parse_status(body) if st == 400 else (None, "")
        c.check(st == 400 and code == 3, "consumer PERMANENT -> 400 INVALID_ARGUMENT")
        h.mode("nomem")
        h.stats()
        st, _, _, _ = curl(base + "/v1/traces", body=traces_proto(1), headers=[PB])
        c.check(st == 503, "consumer other error -> 503")
        h.mode("ok")
        h.stats()

        # self-telemetry
        acc = h.counter("otelcol_receiver_accepted_spans", "http")
        ref = h.counter("otelcol_receiver_refused_spans", "http")
        c.check(acc == h.stats()["traces"], "accepted_spans{transport=http} = %r" % acc)
        c.check(ref == 9, "refused_spans{transport=http} = %r (7+1+1)" % ref)
        c.check(h.counter("otelcol_receiver_accepted_log_records", "http") == 10,
                "accepted_log_records counted")
        c.check(h.counter("otelcol_receiver_accepted_metric_points", "http") == 8,
                "accepted_metric_points counted")

        # keep-alive: several requests on one connection
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", h.http, timeout=5)
        statuses = []
        for _ in range(3):
            conn.request("POST", "/v1/logs", body=logs_proto(1),
                         headers={"Content-Type": "application/x-protobuf"})
            r = conn.getresponse()
            r.read()
            statuses.append(r.status)
        sock_reused = conn.sock is not None
        conn.close()
        c.check(statuses == [200, 200, 200] and sock_reused, "keep-alive: 3 requests, 1 connection")

        # chunked upload and Expect: 100-continue
        st, _, _, _ = curl(base + "/v1/traces", body=traces_proto(2),
                           headers=[PB, "Transfer-Encoding: chunked"])
        c.check(st == 200, "chunked request body -> 200")
        big = traces_proto(20000)  # ~1.3 MiB: curl sends Expect: 100-continue
        t0 = time.time()
        st, _, _, _ = curl(base + "/v1/traces", body=big, headers=[PB, "Expect: 100-continue"])
        c.check(st == 200 and time.time() - t0 < 0.9, "Expect: 100-continue answered at once")

        # gzip bomb against the default 20 MiB limit: 400, quickly, bounded memory
        bomb = zlib_gzip_zeros(200 << 20)
        t0 = time.time()
        st, hd, body, _ = curl(base + "/v1/traces", body=bomb,
                               headers=[PB, "Content-Encoding: gzip"])
        el = time.time() - t0
        code, msg = parse_status(body) if st == 400 else (None, "")
        c.check(st == 400 and "too large" in msg and el < 3,
                "gzip bomb (200 MiB) -> 400 in %.2fs: %s" % (el, msg))
        hwm = h.rss_hwm_kib()
        c.check(hwm < 120 * 1024, "peak RSS after the bomb %d KiB < 120 MiB" % hwm)

        # CORS is off without allowed_origins: OPTIONS is just another method
        st, hd, _, _ = curl(base + "/v1/traces", method="OPTIONS",
                            headers=["Origin: http://a", "Access-Control-Request-Method: POST"])
        c.check(st == 405 and "access-control-allow-origin" not in hd,
                "no cors config: preflight -> 405")

    # body size limit, slow clients
    with Harness("--http", "--max-body", "1048576", "--read-header-timeout", "1",
                 "--read-timeout", "1") as h:
        base = "http://127.0.0.1:%d" % h.http
        big = traces_proto(20000)
        assert len(big) > 1048576
        st, hd, body, rc = curl(base + "/v1/traces", body=big, headers=[PB])
        code, msg = parse_status(body) if st == 400 else (None, "")
        c.check(st == 400 and code == 3 and "too large" in msg,
                "body over max_request_body_size -> 400 (%s)" % msg)
        st, _, _, _ = curl(base + "/v1/traces", body=big, headers=[PB, "Expect:"])
        c.check(st == 400, "oversized body without Expect -> 400")
        st, _, _, _ = curl(base + "/v1/traces", body=big, headers=[PB, "Transfer-Encoding: chunked"])
        c.check(st == 400, "oversized chunked body -> 400")
        st, _, _, _ = curl(base + "/v1/traces", body=gzip.compress(big),
                           headers=[PB, "Content-Encoding: gzip"])
        c.check(st == 400, "small gzip body over the limit after decompression -> 400")
        st, _, _, _ = curl(base + "/v1/traces", body=traces_proto(10), headers=[PB])
        c.check(st == 200, "server still fine afterwards")

        # slowloris: headers trickle in -> 408 and close within the header timeout
        s = socket.create_connection(("127.0.0.1", h.http), timeout=5)
        s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
        t0 = time.time()
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        el = time.time() - t0
        s.close()
        c.check(b" 408 " in data and el < 3, "slow headers -> 408 after %.1fs" % el)
        # slow body
        s = socket.create_connection(("127.0.0.1", h.http), timeout=5)
        s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf"
                  b"\r\nContent-Length: 100\r\n\r\n0123456789")
        t0 = time.time()
        data = b""
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            pass
        el = time.time() - t0
        s.close()
        c.check(b" 408 " in data and el < 3, "slow body -> 408 after %.1fs" % el)
        # many idle connections do not hurt new requests
        socks = [socket.create_connection(("127.0.0.1", h.http)) for _ in range(100)]
        st, _, _, _ = curl(base + "/v1/logs", body=logs_proto(1), headers=[PB])
        for s in socks:
            s.close()
        c.check(st == 200, "100 idle connections, request still served")

    # CORS, only traces wired, include_metadata, compression_algorithms
    with Harness("--http", "--signals", "traces", "--cors-origin", "http://*",
                 "--cors-origin", "https://app.example.com", "--cors-header", "X-Custom",
                 "--cors-max-age", "600", "--include-metadata",
                 "--compression", "gzip") as h:
        base = "http://127.0.0.1:%d" % h.http
        st, hd, _, _ = curl(base + "/v1/traces", method="OPTIONS",
                            headers=["Origin: http://localhost:3000",
                                     "Access-Control-Request-Method: POST",
                                     "Access-Control-Request-Headers: content-type, x-custom"])
        c.check(st == 204 and hd.get("access-control-allow-origin") == "http://localhost:3000"
                and hd.get("access-control-max-age") == "600"
                and "POST" in hd.get("access-control-allow-methods", ""),
                "preflight from a wildcard-allowed origin -> 204 with CORS headers")
        st, hd, _, _ = curl(base + "/v1/traces", method="OPTIONS",
                            headers=["Origin: https://evil.com",
                                     "Access-Control-Request-Method: POST"])
        c.check(st == 204 and "access-control-allow-origin" not in hd,
                "preflight from a foreign origin -> 204 without CORS headers")
        st, hd, _, _ = curl(base + "/v1/traces", method="OPTIONS",
                            headers=["Origin: https://app.example.com",
                                     "Access-Control-Request-Method: POST",
                                     "Access-Control-Request-Headers: x-other"])
        c.check(st == 204 and "access-control-allow-origin" not in hd,
                "preflight asking for a header not allowed -> no CORS headers")
        st, hd, _, _ = curl(base + "/v1/traces", body=traces_proto(1),
                            headers=[PB, "Origin: https://app.example.com"])
        c.check(st == 200 and hd.get("access-control-allow-origin") == "https://app.example.com",
                "POST with allowed origin -> Access-Control-Allow-Origin")
        st, hd, _, _ = curl(base + "/v1/traces", body=traces_proto(1),
                            headers=[PB, "Origin: https://evil.com"])
        c.check(st == 200 and "access-control-allow-origin" not in hd,
                "POST with foreign origin -> no CORS header")
        c.check(h.stats()["meta"] >= 3, "include_metadata attaches request headers")
        st, _, _, _ = curl(base + "/v1/logs", body=logs_proto(1), headers=[PB])
        c.check(st == 404, "signal without pipeline -> 404")
        st, _, _, _ = curl(base + "/v1/traces", body=zlib.compress(traces_proto(1)),
                           headers=[PB, "Content-Encoding: deflate"])
        c.check(st == 400, "encoding outside compression_algorithms -> 400")
        st, _, _, _ = curl(base + "/v1/traces", body=gzip.compress(traces_proto(1)),
                           headers=[PB, "Content-Encoding: gzip"])
        c.check(st == 200, "encoding in compression_algorithms -> 200")

    # start errors: port taken, malformed endpoint
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    h = Harness("--http", "--http-endpoint", "127.0.0.1:%d" % port, expect_fail=True)
    c.check(h.rc == 1 and "in use" in h.stderr(), "port taken -> start fails: %s" %
            h.stderr().strip().splitlines()[-1:])
    blocker.close()
    h = Harness("--http", "--http-endpoint", "127.0.0.1:43l8", expect_fail=True)
    c.check(h.rc == 1 and 'invalid port "43l8"' in h.stderr(), "malformed endpoint -> invalid port")

    c.done()


if __name__ == "__main__":
    main()
