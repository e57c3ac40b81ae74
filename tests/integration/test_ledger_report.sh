#!/usr/bin/env bash
# The ledger end to end: a collector (OTLP/HTTP receiver -> ledger exporter, traces and logs)
# receives spans and log records that already carry genops.cost.* attributes (as the governance
# processor leaves them), then `genops-collector report` reads the database while the collector
# runs (WAL, read-only) and after it stopped. Checked exactly: operations, unpriced operations,
# tokens and cost per team/model in json, csv and table form, against sums computed here in
# integer nano-USD. The same requests posted again change nothing (idempotent on trace/span id,
# and on content for records without ids). Also: --config, --since/--from windows, error exits.
source "$(dirname "$0")/lib.sh"

HTTP=$(free_port) MET=$(free_port)
DB="$TMP/data/ledger.db"
cat >"$TMP/c.yaml" <<EOF
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:$HTTP"}}}}
exporters:
  ledger: {path: "$DB", commit_interval: 100ms}
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [ledger]}
    logs: {receivers: [otlp], exporters: [ledger]}
  telemetry: {metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $MET}}}}]}}
EOF
start_collector "$TMP/col.log" --config "$TMP/c.yaml"
PID=$COLLECTOR_PID
wait_port "$HTTP"

# ---- the data: spans and logs, and the expected report computed from the same list ----------
"$PY" - "$TMP" <<'PY'
import json, sys, time
tmp = sys.argv[1]
now = time.time_ns()
teams = ["platform", "search", "support"]
models = [("gpt-4o", "openai"), ("claude-sonnet-4-5", "anthropic"), ("mystery-1", "acme-ai")]
ops = []  # (team, model, provider, status, cost or None, input, output)
for i in range(60):
    team = teams[i % 3]
    model, prov = models[(i // 3) % 3]
    status = "unpriced" if model == "mystery-1" else ("estimated" if i % 7 == 0 else "priced")
    cost = None if status == "unpriced" else round(0.000123457 * (i + 1) + 0.001, 9)
    ops.append((team, model, prov, status, cost, 1000 + 17 * i, 100 + 3 * i))

def attrs(o):
    team, model, prov, status, cost, tin, tout = o
    a = [{"key": "genops.team", "value": {"stringValue": team}},
         {"key": "genops.cost.model", "value": {"stringValue": model}},
         {"key": "gen_ai.provider.name", "value": {"stringValue": prov}},
         {"key": "genops.cost.status", "value": {"stringValue": status}},
         {"key": "genops.tokens.input", "value": {"intValue": str(tin)}},
         {"key": "genops.tokens.output", "value": {"intValue": str(tout)}}]
    if cost is not None:
        a.append({"key": "genops.cost.total", "value": {"doubleValue": cost}})
        a.append({"key": "genops.cost.currency", "value": {"stringValue": "USD"}})
    return a

spans = []
for i, o in enumerate(ops[:45]):
    spans.append({"traceId": "%032x" % (0x4bf92f3577b34da6a3ce929d0e0e4736 + i // 5),
                  "spanId": "%016x" % (0x00f067aa0ba902b7 + i), "name": "chat %s" % o[1],
                  "kind": 3, "startTimeUnixNano": str(now - 3600 * 10**9 - 10**9),
                  "endTimeUnixNano": str(now - 3600 * 10**9 + i), "attributes": attrs(o)})
# a span without any cost attribute: not an AI operation for the ledger
spans.append({"traceId": "%032x" % 1, "spanId": "%016x" % 1, "name": "GET /health",
              "startTimeUnixNano": str(now - 10**9), "endTimeUnixNano": str(now),
              "attributes": [{"key": "genops.team", "value": {"stringValue": "platform"}}]})
traces = {"resourceSpans": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "chat-api"}}]},
    "scopeSpans": [{"scope": {"name": "genops"}, "spans": spans}]}]}
# the rest as log records, 10 without trace/span ids (keyed by content), 5 with
logs = []
for i, o in enumerate(ops[45:]):
    rec = {"timeUnixNano": str(now - 7200 * 10**9 + i), "severityNumber": 9,
           "body": {"stringValue": "ai call %d" % i}, "attributes": attrs(o)}
    if i >= 10:
        rec["traceId"] = "%032x" % (0x7bf92f3577b34da6a3ce929d0e0e4736 + i)
        rec["spanId"] = "%016x" % (0x70f067aa0ba902b7 + i)
    logs.append(rec)
logsreq = {"resourceLogs": [{"resource": {"attributes": [
    {"key": "service.name", "value": {"stringValue": "batch-jobs"}}]},
    "scopeLogs": [{"logRecords": logs}]}]}
json.dump(traces, open(tmp + "/traces.json", "w"))
json.dump(logsreq, open(tmp + "/logs.json", "w"))

groups = {}
for team, model, prov, status, cost, tin, tout in ops:
    g = groups.setdefault((team, model), [0, 0, 0, 0, 0])
    g[0] += 1
    g[1] += cost is None
    g[2] += tin
    g[3] += tout
    g[4] += 0 if cost is None else round(cost * 10**9)
def usd(n):
    micro = (n + 500) // 1000
    return "%d.%06d" % (micro // 10**6, micro % 10**6)
rows = sorted(groups.items(), key=lambda kv: (-kv[1][4], -kv[1][0], kv[0]))
with open(tmp + "/want.csv", "w") as f:
    f.write("team,model,operations,unpriced,input_tokens,output_tokens,cost_usd,cost_nusd\n")
    for (t, m), g in rows:
        f.write("%s,%s,%d,%d,%d,%d,%s,%d\n" % (t, m, g[0], g[1], g[2], g[3], usd(g[4]), g[4]))
tot = [sum(g[i] for g in groups.values()) for i in range(5)]
json.dump({"groups": [{"team": t, "model": m, "operations": g[0], "unpriced": g[1],
                       "input_tokens": g[2], "output_tokens": g[3], "cost_nusd": g[4],
                       "cost_usd": usd(g[4])} for (t, m), g in rows],
           "total": {"operations": tot[0], "unpriced": tot[1], "input_tokens": tot[2],
                     "output_tokens": tot[3], "cost_nusd": tot[4], "cost_usd": usd(tot[4])}},
          open(tmp + "/want.json", "w"))
open(tmp + "/want_total.txt", "w").write("TOTAL %d %d %d %d %s\n" % (tot[0], tot[1], tot[2], tot[3], usd(tot[4])))
PY

check "post traces" expect_eq "traces status" "$(post_json "$HTTP" /v1/traces "@$TMP/traces.json")" 200
check "post logs" expect_eq "logs status" "$(post_json "$HTTP" /v1/logs "@$TMP/logs.json")" 200

report() { "$COLLECTOR" report "$@"; }
ops_are() { [ "$(report --db "$DB" --by team --format json 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"]["operations"])')" = "$1" ]; }
check "60 operations committed" wait_until 10 ops_are 60

# json: exact per group and total (cost_usd is a JSON number with 6 decimals: compare the text)
cmp_json() {
  "$PY" - "$1" "$TMP/want.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
got, want = json.loads(text), json.load(open(sys.argv[2]))
ok = True
usd_text = re.findall(r'"cost_usd": ([0-9.]+)', text)
want_usd = [g["cost_usd"] for g in want["groups"]] + [want["total"]["cost_usd"]]
if usd_text != want_usd:
    print("  cost_usd texts differ:", usd_text, want_usd, file=sys.stderr); ok = False
for g in list(want["groups"]) + [want["total"]]:
    g.pop("cost_usd")
for g in got["groups"] + [got["total"]]:
    g.pop("cost_usd")
if got["groups"] != want["groups"]:
    print("  groups differ:\n  got  %s\n  want %s" % (got["groups"], want["groups"]), file=sys.stderr); ok = False
if got["total"] != want["total"]:
    print("  total differs: got %s want %s" % (got["total"], want["total"]), file=sys.stderr); ok = False
if got["by"] != ["team", "model"]:
    print("  by:", got["by"], file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY
}
report --db "$DB" --by team,model --format json >"$TMP/got.json"
check "json report while running" cmp_json "$TMP/got.json"
report --db "$DB" --by team,model --format csv >"$TMP/got.csv"
check "csv report" cmp "$TMP/got.csv" "$TMP/want.csv"
report --db "$DB" --by team,model >"$TMP/got.txt"
check "table TOTAL line" expect_eq "total" "$(awk '$1 == "TOTAL" {print $1, $2, $3, $4, $5, $6}' "$TMP/got.txt")" "$(cat "$TMP/want_total.txt")"
check "table has a row per group" expect_eq "rows" "$(wc -l <"$TMP/got.txt")" "$(($(wc -l <"$TMP/want.csv") + 1))"

# ---- the same requests again: nothing changes --------------------------------------------------
check "post traces again" expect_eq "traces status" "$(post_json "$HTTP" /v1/traces "@$TMP/traces.json")" 200
check "post logs again" expect_eq "logs status" "$(post_json "$HTTP" /v1/logs "@$TMP/logs.json")" 200
check "duplicates seen" wait_until 10 metric_is "$MET" genops_ledger_rows_duplicate_total 'exporter="ledger"' 60
report --db "$DB" --by team,model --format json >"$TMP/got2.json"
check "json report after the replay" cmp_json "$TMP/got2.json"
check "rows written once" expect_eq "written" "$(metric "$MET" genops_ledger_rows_written_total 'exporter="ledger"')" 60

# ---- windows, --config, after the stop ---------------------------------------------------------
check "--since 90m: only the spans" expect_eq "ops" "$(report --db "$DB" --since 90m --format json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["total"]["operations"])')" 45
check "--from tomorrow: nothing" expect_eq "ops" "$(report --db "$DB" --from "$(date -u -d tomorrow +%F)" --format csv | wc -l)" 1
check "stop collector" stop_pid "$PID"
report --config "$TMP/c.yaml" --by team,model --format csv >"$TMP/got3.csv"
check "--config, after the stop" cmp "$TMP/got3.csv" "$TMP/want.csv"
check "WAL checkpointed at close" test ! -s "$DB-wal"

# ---- errors ------------------------------------------------------------------------------------
rc=0
report --db "$TMP/none.db" >"$TMP/err.out" 2>"$TMP/err.txt" || rc=$?
check "missing db: exit 1" expect_eq "rc" "$rc" 1
check "missing db: message" grep -q "no ledger database at $TMP/none.db: No such file or directory" "$TMP/err.txt"
rc=0
report --db "$DB" --by team,colour 2>"$TMP/err.txt" || rc=$?
check "bad --by: exit 2" expect_eq "rc" "$rc" 2
check "bad --by: valid keys listed" grep -q 'unknown --by key "colour"; valid keys: team, customer (or customer_id), project, environment, feature, cost_center, user, provider, model, operation, service, day, tier, status' "$TMP/err.txt"
rc=0
report --db "$DB" --since 3y 2>/dev/null || rc=$?
check "bad --since: exit 2" expect_eq "rc" "$rc" 2
check "report --help" quiet grep -q -- "--by KEYS" <(report --help)
check "top-level help lists report" quiet grep -q "report " <("$COLLECTOR" --help)

# ---- an unwritable path: the collector does not start, and says why ----------------------------
touch "$TMP/afile"
sed "s|path: \"$DB\"|path: \"$TMP/afile/ledger.db\"|" "$TMP/c.yaml" >"$TMP/bad.yaml"
rc=0
timeout 20 "$COLLECTOR" --config "$TMP/bad.yaml" >"$TMP/bad.log" 2>&1 || rc=$?
check "unwritable path: exit non-zero" test "$rc" -ne 0 -a "$rc" -ne 124
check "unwritable path: message" grep -q "cannot open ledger database $TMP/afile/ledger.db: $TMP/afile: Not a directory" "$TMP/bad.log"

finish
