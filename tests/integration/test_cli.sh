#!/usr/bin/env bash
# The command line of the real binary: version, components, validate exit codes and diagnostics,
# merging of several --config files and --set, ${env:...} expansion and $$, secrets hidden by
# print-config, and the embedded default. Nothing listens: every command exits by itself.
source "$(dirname "$0")/lib.sh"

run() { timeout 20 "$COLLECTOR" "$@"; }

# ---- version ---------------------------------------------------------------------------------
out=$(run version) && rc=0 || rc=$?
check "version exits 0" expect_eq "version rc" "$rc" 0
check "version line" grep -qE '^genops-collector version [0-9]+\.[0-9]+\.[0-9]+' <<<"$out"

# ---- components: every shipped type, with stability -------------------------------------------
run components >"$TMP/components.yaml" && rc=0 || rc=$?
check "components exits 0" expect_eq "components rc" "$rc" 0
components_ok() {
  /usr/bin/python3 - "$TMP/components.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
want = {
    "receivers": {"otlp": ["traces", "metrics", "logs"]},
    "processors": {t: ["traces", "metrics", "logs"]
                   for t in ("batch", "memory_limiter", "resource", "attributes")},
    "exporters": {t: ["traces", "metrics", "logs"]
                  for t in ("otlp", "otlphttp", "debug", "file", "nop")},
    "extensions": {t: ["extension"] for t in ("health_check", "zpages", "pprof", "memory_ballast")},
}
levels = {"development", "alpha", "beta", "stable", "deprecated", "unmaintained"}
ok = True
for kind, types in want.items():
    got = {c["name"]: c for c in (doc.get(kind) or [])}
    for t, keys in types.items():
        if t not in got:
            print("  components: %s %s missing" % (kind, t)); ok = False; continue
        st = got[t].get("stability") or {}
        for k in keys:
            if st.get(k) not in levels:
                print("  components: %s %s stability[%s] = %r" % (kind, t, k, st.get(k))); ok = False
        if not got[t].get("config") and t not in ("nop",):
            print("  components: %s %s has no config keys" % (kind, t)); ok = False
aliases = {a for c in doc.get("exporters", []) for a in (c.get("aliases") or [])}
if "logging" not in aliases:
    print("  components: alias logging missing"); ok = False
if not str(doc["buildinfo"]["version"]):
    ok = False
sys.exit(0 if ok else 1)
PY
}
check "components lists every type with stability" components_ok

# ---- validate exit codes ----------------------------------------------------------------------
cat >"$TMP/good.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
processors:
  batch:
    timeout: 200ms
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [debug]
Y
run validate --config "$TMP/good.yaml" >"$TMP/v0.out" 2>&1 && rc=0 || rc=$?
check "validate valid -> 0" expect_eq "validate rc" "$rc" 0

cat >"$TMP/bad.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      http:
        endpont: 127.0.0.1:4318
exporters:
  debug: {}
  datadog: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
Y
run validate --config "$TMP/bad.yaml" >"$TMP/v1.out" 2>&1 && rc=0 || rc=$?
check "validate invalid -> 1" expect_eq "validate rc" "$rc" 1
check "diagnostic file:line:col for the typo" \
  grep -qE "bad\.yaml:5:9: error: .*unknown key \"endpont\" \(did you mean \"endpoint\"\?\)" "$TMP/v1.out"
check "diagnostic file:line:col for the missing type" \
  grep -qE "bad\.yaml:8:3: error: .*\"datadog\" is not available in this build" "$TMP/v1.out"

run validate --config "$TMP/does-not-exist.yaml" >"$TMP/v2.out" 2>&1 && rc=0 || rc=$?
check "validate unreadable -> 2" expect_eq "validate rc" "$rc" 2
check "unreadable file named" grep -q "does-not-exist.yaml" "$TMP/v2.out"

printf 'receivers: [\n' >"$TMP/syntax.yaml"
run validate --config "$TMP/syntax.yaml" >"$TMP/v3.out" 2>&1 && rc=0 || rc=$?
check "validate YAML syntax error -> 1" expect_eq "validate rc" "$rc" 1
check "syntax error has a position" grep -qE "syntax\.yaml:[0-9]+:[0-9]+: error" "$TMP/v3.out"

# ---- two --config files deep-merge, lists replace, --set wins -----------------------------------
cat >"$TMP/over.yaml" <<'Y'
processors:
  batch:
    send_batch_size: 100
exporters:
  debug:
    verbosity: detailed
service:
  pipelines:
    traces:
      processors: []
Y
run print-config --config "$TMP/good.yaml" --config "$TMP/over.yaml" \
  --set processors::batch::timeout=3s >"$TMP/merged.yaml" 2>"$TMP/merged.err" && rc=0 || rc=$?
check "print-config merged exits 0" expect_eq "print-config rc" "$rc" 0
merged_ok() {
  /usr/bin/python3 - "$TMP/merged.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
want = [
    (("receivers", "otlp", "protocols", "http", "endpoint"), "127.0.0.1:4318"),  # file 1 kept
    (("processors", "batch", "send_batch_size"), 100),                         # file 2 added
    (("processors", "batch", "timeout"), "3s"),                               # --set wins
    (("exporters", "debug", "verbosity"), "detailed"),                        # {} merged
    (("service", "pipelines", "traces", "processors"), []),                   # list replaced
    (("service", "pipelines", "traces", "receivers"), ["otlp"]),              # sibling kept
]
ok = True
for path, v in want:
    cur = d
    for k in path:
        cur = cur.get(k) if isinstance(cur, dict) else None
    if cur != v:
        print("  merged %s = %r, want %r" % ("::".join(path), cur, v)); ok = False
sys.exit(0 if ok else 1)
PY
}
check "deep merge, list replace, --set wins" merged_ok

# lists replace rather than concatenate: a second file's list wins whole
cat >"$TMP/list2.yaml" <<'Y'
service:
  pipelines:
    traces:
      exporters: [nop]
exporters:
  nop: {}
Y
run print-config --config "$TMP/good.yaml" --config "$TMP/list2.yaml" >"$TMP/list.yaml" 2>&1 || true
check "second file's list replaces the first's" \
  /usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); sys.exit(d["service"]["pipelines"]["traces"]["exporters"]!=["nop"])' "$TMP/list.yaml"

# ---- ${env:X}, ${env:X:-default}, $$ ------------------------------------------------------------
cat >"$TMP/env.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      http:
        endpoint: ${env:IT_HOST}:${env:IT_PORT:-4318}
        traces_url_path: /cost$$/v1/traces
processors:
  attributes:
    actions:
      - key: team
        value: "${env:IT_TEAM:-default-team}"
        action: insert
      - key: empty
        value: "${env:IT_EMPTY:-unused}"
        action: insert
exporters:
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [attributes]
      exporters: [debug]
Y
env -u IT_PORT -u IT_TEAM IT_HOST=127.0.0.9 IT_EMPTY= timeout 20 "$COLLECTOR" print-config \
  --config "$TMP/env.yaml" >"$TMP/env.out" 2>&1 && rc=0 || rc=$?
check "print-config with env exits 0" expect_eq "rc" "$rc" 0
env_ok() {
  /usr/bin/python3 - "$TMP/env.out" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
h = d["receivers"]["otlp"]["protocols"]["http"]
acts = d["processors"]["attributes"]["actions"]
got = (h["endpoint"], h["traces_url_path"], acts[0]["value"], acts[1]["value"])
# print-config writes '$' as '$$' so a reload does not expand again: the YAML text holds '$$'.
want = ("127.0.0.9:4318", "/cost$$/v1/traces", "default-team", "")
if got != want:
    print("  env expansion: got %r, want %r" % (got, want)); sys.exit(1)
PY
}
check "env, default only when unset, \$\$" env_ok
# The printed config must load back to the same literal '$' (no second expansion).
check "printed config validates" quiet timeout 20 "$COLLECTOR" validate --config "$TMP/env.out"

# ---- secrets hidden -----------------------------------------------------------------------------
cat >"$TMP/secret.yaml" <<'Y'
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:4318
exporters:
  otlphttp:
    endpoint: https://backend.example.com
    headers:
      Authorization: "Bearer sk-TOPSECRET-1"
      X-Api-Key: ${env:IT_SECRET}
  otlp:
    endpoint: backend.example.com:4317
    headers:
      authorization: "Bearer sk-TOPSECRET-3"
service:
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlphttp, otlp]
Y
IT_SECRET=sk-TOPSECRET-2 timeout 20 "$COLLECTOR" print-config --config "$TMP/secret.yaml" \
  >"$TMP/secret.out" 2>&1 && rc=0 || rc=$?
check "print-config with secrets exits 0" expect_eq "rc" "$rc" 0
check "no secret value printed" bash -c "! grep -q TOPSECRET '$TMP/secret.out'"
check "secrets shown as [REDACTED]" \
  /usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1])); e=d["exporters"]; sys.exit(not (e["otlphttp"]["headers"]=={"Authorization":"[REDACTED]","X-Api-Key":"[REDACTED]"} and e["otlp"]["headers"]["authorization"]=="[REDACTED]" and e["otlphttp"]["endpoint"]=="https://backend.example.com"))' "$TMP/secret.out"
# a bad secret value is not echoed in a diagnostic either
IT_SECRET=sk-TOPSECRET-2 timeout 20 "$COLLECTOR" validate --config "$TMP/secret.yaml" \
  --set 'exporters::otlphttp::headers=sk-TOPSECRET-4' >"$TMP/secret2.out" 2>&1 || true
check "diagnostics do not echo secrets" bash -c "! grep -q TOPSECRET '$TMP/secret2.out'"

# ---- embedded default -------------------------------------------------------------------------
run print-config >"$TMP/default.yaml" 2>&1 && rc=0 || rc=$?
check "print-config without --config exits 0" expect_eq "rc" "$rc" 0
default_ok() {
  /usr/bin/python3 - "$TMP/default.yaml" <<'PY'
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
p = d["receivers"]["otlp"]["protocols"]
pl = d["service"]["pipelines"]
want = {
    "grpc": p["grpc"]["endpoint"] == "0.0.0.0:4317",
    "http": p["http"]["endpoint"] == "0.0.0.0:4318",
    "pipelines": set(pl) == {"traces", "metrics", "metrics/governance", "logs"},
    "traces": pl["traces"] == {"receivers": ["otlp"],
                               "processors": ["memory_limiter", "governance", "batch"],
                               "exporters": ["debug", "ledger", "governance"]},
    "metrics/governance": pl["metrics/governance"] == {"receivers": ["governance"],
                                                       "exporters": ["prometheus"]},
    "logs": pl["logs"] == {"receivers": ["otlp"],
                           "processors": ["memory_limiter", "governance", "batch"],
                           "exporters": ["debug", "ledger", "governance"]},
    "metrics": pl["metrics"] == {"receivers": ["otlp"], "processors": ["memory_limiter", "batch"],
                                 "exporters": ["debug"]},
    "prometheus": d["exporters"]["prometheus"]["endpoint"] == "0.0.0.0:8889",
    "debug": d["exporters"]["debug"]["verbosity"] == "basic",
    "ledger": "ledger" in d["exporters"] and "governance" in d["connectors"],
    "budget_api": d["processors"]["governance"]["budget_api"]["endpoint"] == "localhost:8890",
    "extensions": d["service"]["extensions"] == ["health_check", "zpages"]
                  and d["extensions"]["health_check"]["endpoint"] == "0.0.0.0:13133"
                  and d["extensions"]["zpages"]["endpoint"] == "0.0.0.0:55679",
}
for k, v in want.items():
    if not v:
        print("  embedded default: %s differs" % k)
sys.exit(0 if all(want.values()) else 1)
PY
}
check "embedded default shown" default_ok
check "embedded default validates" quiet run validate

# ---- unknown command / flag -------------------------------------------------------------------
run frobnicate >/dev/null 2>&1 && rc=0 || rc=$?
check "unknown command -> 2" expect_eq "rc" "$rc" 2
run validate --bogus >/dev/null 2>&1 && rc=0 || rc=$?
check "unknown flag -> 2" expect_eq "rc" "$rc" 2

finish
