"""Every collector YAML block of the user guide (tests/config/guide/block-NN.yaml) goes through
`genops-collector validate`.

Most blocks are fragments (only `exporters:`, only `processors:`...). Each is completed by a
second --config file (deep-merged by the collector, which also exercises merging) that adds
what a runnable config needs and the block does not have: a pipeline using the components the
block defines, and minimal definitions of components the block references but does not define.
Nothing in the block itself is changed.

Expected: a block that only uses component types this build ships validates (exit 0); a block
that uses others fails (exit 1) and every error names one of those types (or a consequence the
guide gets wrong on purpose, listed below). The production template (block 52) must report
exactly the unbuilt components, by name, with file:line:col.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

BIN = os.environ.get("GENOPS_BIN", "build/bin")
SRC = os.environ.get("GENOPS_SRC", ".")
GUIDE = os.path.join(SRC, "tests", "config", "guide")

BUILT = {
    "receivers": {"otlp", "otlp_grpc"},
    "processors": {"batch", "memory_limiter", "resource", "attributes", "governance"},
    "exporters": {"otlp", "otlp_grpc", "otlphttp", "otlp_http", "debug", "logging", "file", "ledger",
                  "prometheus", "prometheusremotewrite"},
    "extensions": {"health_check", "zpages", "pprof", "memory_ballast"},
    "connectors": {"governance", "sum", "count"},
}

# Minimal valid definitions for components a block references without defining them.
FILLERS = {
    ("receivers", "otlp"): {"protocols": {"grpc": None, "http": None}},
    ("processors", "batch"): {},
    ("processors", "memory_limiter"): {"check_interval": "1s", "limit_mib": 512},
    ("exporters", "otlp"): {"endpoint": "localhost:4317", "tls": {"insecure": True}},
    ("exporters", "otlphttp"): {"endpoint": "http://localhost:4318"},
    ("exporters", "debug"): {},
    ("processors", "resource"): {"attributes": [{"key": "k", "value": "v", "action": "upsert"}]},
    ("exporters", "logging"): {},
    ("exporters", "prometheusremotewrite"): {"endpoint": "http://localhost:9009/api/v1/push"},
}

# Exporter types that only take metrics: a block defining only such exporters is completed with a
# metrics pipeline instead of a traces one.
METRICS_ONLY = {"prometheusremotewrite"}

# Errors that follow from a guide mistake COMPATIBILITY.md tells us to reject, keyed by block;
# each pattern must match at least one error and every error must match one (or an unbuilt type).
EXPECT_ERRORS = {
    # oauth2client is a client authenticator; a receiver needs a server one.
    "block-08.yaml": [r"oauth2client\" is a client authenticator.*bearertokenauth, basicauth or oidc"],
    "block-31.yaml": [r"oauth2client\" is a client authenticator.*bearertokenauth, basicauth or oidc"],
}

PRODUCTION = "block-52.yaml"
PRODUCTION_ERRORS = [
    (25, 3, "processor", "resourcedetection"),
    (38, 3, "processor", "transform"),
    (47, 3, "processor", "tail_sampling"),
    (94, 3, "exporter", "datadog"),
    (105, 3, "exporter", "splunk_hec"),
]


def ctype(cid):
    return cid.split("/", 1)[0]


def wrapper_for(doc):
    """Returns the completing config for one block, as a dict."""
    doc = doc or {}
    wrap = {}
    defined = {k: list((doc.get(k) or {}).keys()) for k in BUILT}
    service = doc.get("service") or {}
    pipelines = service.get("pipelines") or {}

    def define(kind, cid):
        if cid in defined[kind] or cid in (wrap.get(kind) or {}):
            return
        body = FILLERS.get((kind, ctype(cid)), {})
        if ctype(cid) == "otlp" and kind == "exporters":
            body = FILLERS[("exporters", "otlp")]
        wrap.setdefault(kind, {})[cid] = body

    if not pipelines:
        recv = defined["receivers"] or ["otlp"]
        exp = defined["exporters"] or ["debug"]
        for cid in recv:
            define("receivers", cid)
        for cid in exp:
            define("exporters", cid)
        signal = "metrics" if exp and all(ctype(e) in METRICS_ONLY for e in exp) else "traces"
        wrap["service"] = {
            "pipelines": {
                signal: {
                    "receivers": recv,
                    "processors": defined["processors"],
                    "exporters": exp,
                }
            }
        }
        if defined["extensions"]:
            wrap["service"]["extensions"] = defined["extensions"]
        return wrap
    for pid, p in pipelines.items():
        p = p or {}
        for key, kind in (("receivers", "receivers"), ("processors", "processors"), ("exporters", "exporters")):
            for cid in p.get(key) or []:
                if cid in defined["connectors"]:
                    continue
                define(kind, cid)
        if not p.get("receivers"):
            define("receivers", "otlp")
            wrap.setdefault("service", {}).setdefault("pipelines", {}).setdefault(pid, {})["receivers"] = ["otlp"]
        if not p.get("exporters"):
            define("exporters", "debug")
            wrap.setdefault("service", {}).setdefault("pipelines", {}).setdefault(pid, {})["exporters"] = ["debug"]
    for cid in service.get("extensions") or []:
        define("extensions", cid)
    return wrap


def unbuilt_types(doc, wrap):
    out = set()
    for d in (doc or {}, wrap):
        for kind, names in BUILT.items():
            for cid in (d.get(kind) or {}):
                if ctype(cid) not in names:
                    out.add(ctype(cid))
    return out


def validate(files):
    args = [os.path.join(BIN, "genops-collector"), "validate"]
    for f in files:
        args += ["--config", f]
    p = subprocess.run(args, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stderr


def main():
    passed = failed = 0
    tmp = tempfile.mkdtemp(prefix="genops-guide-")
    os.environ.setdefault("DD_API_KEY", "dummy")
    for name in sorted(os.listdir(GUIDE)):
        if not name.endswith(".yaml"):
            continue
        path = os.path.join(GUIDE, name)
        with open(path) as f:
            doc = yaml.safe_load(f)
        files = [path]
        wrap = {} if name == PRODUCTION else wrapper_for(doc)
        if wrap:
            wpath = os.path.join(tmp, "wrap-" + name)
            with open(wpath, "w") as f:
                yaml.safe_dump(wrap, f)
            files.append(wpath)
        rc, err = validate(files)
        errors = [l for l in err.splitlines() if ": error: " in l]
        unbuilt = unbuilt_types(doc, wrap)
        problems = []
        if name == PRODUCTION:
            want = []
            for line, col, kind, t in PRODUCTION_ERRORS:
                want.append(f"{name}:{line}:{col}: error: {kind}s: {kind} type \"{t}\" is not available in this build")
            got = [re.sub(r"^.*/", "", l) for l in errors]
            for w in want:
                if not any(g.startswith(w) for g in got):
                    problems.append(f"missing: {w}")
            if len(errors) != len(want):
                problems.append(f"{len(errors)} errors, want exactly {len(want)}")
            if rc != 1:
                problems.append(f"exit {rc}, want 1")
        elif not unbuilt and name not in EXPECT_ERRORS:
            if rc != 0:
                problems.append(f"exit {rc}, want 0")
        else:
            if rc != 1:
                problems.append(f"exit {rc}, want 1 (unbuilt: {sorted(unbuilt)})")
            expected = EXPECT_ERRORS.get(name, [])
            allowed = [r'"%s" is not available in this build' % re.escape(t) for t in unbuilt] + expected
            for l in errors:
                if not any(re.search(a, l) for a in allowed):
                    problems.append(f"unexpected error: {l}")
            for t in unbuilt:
                if not any(f'"{t}" is not available in this build' in l for l in errors):
                    problems.append(f"no 'not available' error for {t}")
            for e in expected:
                if not any(re.search(e, l) for l in errors):
                    problems.append(f"no error matching {e}")
        if problems:
            failed += 1
            print(f"FAIL {name}:")
            for p in problems:
                print("   ", p)
            print("    stderr:\n      " + "\n      ".join(err.splitlines()))
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
