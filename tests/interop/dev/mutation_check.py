#!/usr/bin/env python3
"""Development aid: checks that the interop comparison catches corruption. Takes a directory
kept by the test (GENOPS_INTEROP_KEEP=1: expected-*.json and out/*.jsonl from a passing run),
applies one mutation at a time to the collector output and asserts each one is reported.
  python3 tests/interop/dev/mutation_check.py /tmp/genops-interop-XXXX"""
import copy
import glob
import json
import os
import sys

sys.dont_write_bytecode = True  # do not leave __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import test_js_sdk_interop as t  # noqa: E402


def load(d):
    exps = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(d, "expected-*.json")))]
    blocks = {s: t.read_output(os.path.join(d, "out", s + ".jsonl"), s) for s in t.SIGNALS}
    return exps, blocks


def walk(o, path=()):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from walk(v, path + (k,))
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from walk(v, path + (i,))
    yield path, o


def get_parent(root, path):
    for p in path[:-1]:
        root = root[p]
    return root


def mutations(v):
    if isinstance(v, bool):
        yield not v
    elif isinstance(v, int):
        yield v + 1
    elif isinstance(v, float):
        yield v * (1 + 2 ** -40)
        yield v + 1  # (an integral double written as 6001 instead of 6001.0 is the same value)
    elif isinstance(v, str):
        if v.isdigit() or (v.startswith("-") and v[1:].isdigit()):
            yield str(int(v) + 1)
            yield int(v)  # a number instead of a string
        elif v:
            yield v[:-1] + ("0" if v[-1] != "0" else "1")
    yield "DELETE"


def main():
    exps, blocks = load(sys.argv[1])
    for e in exps:
        t.check_run(e, blocks[e["signal"]])  # baseline must pass
    total = caught = 0
    missed = []
    for sig in t.SIGNALS:
        for bi, rb in enumerate(blocks[sig]):
            for path, v in list(walk(rb)):
                if isinstance(v, (dict, list)) or not path:
                    continue
                if path[-1] in ("key",):
                    continue
                for m in mutations(v):
                    mb = copy.deepcopy(blocks[sig])
                    parent = get_parent(mb[bi], path)
                    if m == "DELETE":
                        del parent[path[-1]]
                    else:
                        parent[path[-1]] = m
                    total += 1
                    ok = True
                    for e in exps:
                        if e["signal"] != sig:
                            continue
                        try:
                            t.check_run(e, mb)
                        except t.Mismatch:
                            ok = False
                    if ok:
                        missed.append((sig, path, v, m))
                    else:
                        caught += 1
    print(f"{caught}/{total} mutations caught")
    for sig, path, v, m in missed[:60]:
        print(f"  missed: {sig} {'/'.join(map(str, path))}: {v!r} -> {m!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
