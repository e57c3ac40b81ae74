"""Helpers shared by the Python integration and interop tests (tests/integration/test_*.py,
tests/interop/test_*.py): a pass/fail checklist, free loopback ports, waiting for a port or a
condition with a bound, stopping a started process, and the tail of a log file.

Tests put this directory on sys.path and import what they use; the module keeps no state apart
from the `failures` list that check() appends to (tests read it, never rebind it).
A pytest-style fixture module was rejected: the tests are plain scripts run by ctest with
/usr/bin/python3, which may not have pytest."""
import socket
import subprocess
import time

failures = []


def check(cond, name):
    """Prints "ok   name" or "FAIL name"; a failure is recorded in `failures`."""
    print(("ok   " if cond else "FAIL ") + name)
    if not cond:
        failures.append(name)


def free_port(taken=None):
    """A loopback TCP port free right now; with a set `taken`, one not in it (then added)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if taken is None:
            return p
        if p not in taken:
            taken.add(p)
            return p


def wait_port(port, secs=10):
    """True once 127.0.0.1:port accepts a connection, False after secs."""
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_port_while(port, proc, deadline):
    """Like wait_port, but gives up (False) as soon as proc has exited or at time.monotonic()
    deadline."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def wait_for(pred, secs, what):
    """pred()'s first true value within secs; AssertionError naming `what` after that."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def stop(proc, timeout=10):
    """Stops proc (SIGTERM, then SIGKILL after timeout s); returns its exit code (None if not
    started)."""
    if not proc:
        return None
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    return proc.returncode


def tail(path, n=60):
    """The last n lines of a (log) file, or why it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


def snappy_block_decode(src):
    """Decodes the snappy block format (remote write bodies, the payload of snappy framed
    chunks); written from the format description, independent of the collector's encoder."""
    n, shift, i = 0, 0, 0
    while True:
        b = src[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    out = bytearray()
    while i < len(src):
        tag = src[i]
        i += 1
        kind = tag & 3
        if kind == 0:
            ln = tag >> 2
            if ln >= 60:
                nb = ln - 59
                ln = int.from_bytes(src[i:i + nb], "little")
                i += nb
            ln += 1
            out += src[i:i + ln]
            i += ln
            continue
        if kind == 1:
            ln = ((tag >> 2) & 7) + 4
            off = ((tag >> 5) << 8) | src[i]
            i += 1
        elif kind == 2:
            ln = (tag >> 2) + 1
            off = int.from_bytes(src[i:i + 2], "little")
            i += 2
        else:
            ln = (tag >> 2) + 1
            off = int.from_bytes(src[i:i + 4], "little")
            i += 4
        for _ in range(ln):
            out.append(out[-off])
    if len(out) != n:
        raise ValueError("snappy length mismatch")
    return bytes(out)
