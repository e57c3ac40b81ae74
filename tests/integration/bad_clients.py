#!/usr/bin/python3
"""Misbehaving HTTP clients for the integration tests (not a test itself).

  bad_clients.py stall-body PORT      headers with Content-Length: 100, then nothing
  bad_clients.py stall-head PORT      half a request head, then nothing
  bad_clients.py many PORT N          N idle connections held open while one valid request is made
  bad_clients.py bomb OUT MIB         writes a gzip body that inflates to MIB MiB of zeros

stall-*: prints "<seconds until the server closed> <first response line or ->". many: prints
"<connections opened> <status of the request made meanwhile>"."""
import http.client
import socket
import sys
import time
import zlib


def stall(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(data)
    t0 = time.monotonic()
    got = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except (ConnectionResetError, socket.timeout):
        pass
    line = got.split(b"\r\n", 1)[0].decode(errors="replace") or "-"
    print("%.2f %s" % (time.monotonic() - t0, line.replace(" ", "_")))


def many(port, n):
    socks = []
    try:
        for _ in range(n):
            socks.append(socket.create_connection(("127.0.0.1", port), timeout=10))
    except OSError as e:
        print("open failed after %d: %s" % (len(socks), e), file=sys.stderr)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("POST", "/v1/traces", body=b"{}", headers={"Content-Type": "application/json"})
    status = c.getresponse().status
    print(len(socks), status)
    for s in socks:
        s.close()


def bomb(out, mib):
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
    chunk = b"\0" * (1 << 20)
    with open(out, "wb") as f:
        for _ in range(mib):
            f.write(z.compress(chunk))
        f.write(z.flush())


def main():
    cmd = sys.argv[1]
    if cmd == "stall-body":
        stall(int(sys.argv[2]), b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/json\r\nContent-Length: 100\r\n\r\n{\"resourceSpans\"")
    elif cmd == "stall-head":
        stall(int(sys.argv[2]), b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Ty")
    elif cmd == "many":
        many(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "bomb":
        bomb(sys.argv[2], int(sys.argv[3]))


if __name__ == "__main__":
    main()
