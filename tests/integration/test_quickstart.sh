#!/usr/bin/env bash
# The README's quick start, run as written. The commands and the outputs it shows are read from
# README.md itself (section "Quick start"), so the README cannot drift from what the binary does:
#   1. the collector with its embedded default configuration (what `make run` starts; only the
#      ports are moved to free ones with --set, and it runs in a temp dir, so ./genops-data is
#      there);
#   2. the README's `sed ... examples/genai-span.json | curl ...` -> the answer it names;
#   3. the debug exporter's line it shows ("..." = any text);
#   4. `curl -s localhost:8889/metrics | grep genops_cost_total` -> exactly the lines it shows;
#   5. `build/bin/genops-collector report --since 1h --by team,model` -> exactly the table it
#      shows;
#   6. `curl -s localhost:8890/v1/budgets` -> the answer it names;
#   7. with the README's `--set exporters::debug::verbosity=normal`, the span line it quotes;
#   8. the default configuration when ./genops-data cannot be created: a clear error naming it,
#      non-zero exit, no crash.
# localhost:PORT in the commands becomes 127.0.0.1:<free port>, build/bin/ the binaries' directory,
# examples/ the source tree's. Every wait is bounded; lib.sh stops what is started.
source "$(dirname "$0")/lib.sh"

SRC=${GENOPS_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
README="$SRC/README.md"
WORK="$TMP/work"
QS="$TMP/qs"
mkdir -p "$WORK" "$QS"
SLOW=1
[ "${GENOPS_SANITIZED:-0}" = 1 ] && SLOW=3

G=$(free_port) H=$(free_port) P=$(free_port) B=$(free_port)
HC=$(free_port) Z=$(free_port) S=$(free_port)
SETS=(
  --set "receivers::otlp::protocols::grpc::endpoint=127.0.0.1:$G"
  --set "receivers::otlp::protocols::http::endpoint=127.0.0.1:$H"
  --set "exporters::prometheus::endpoint=127.0.0.1:$P"
  --set "processors::governance::budget_api::endpoint=127.0.0.1:$B"
  --set "extensions::health_check::endpoint=127.0.0.1:$HC"
  --set "extensions::zpages::endpoint=127.0.0.1:$Z"
  --set "service::telemetry::metrics::readers=[{pull: {exporter: {prometheus: {host: 127.0.0.1, port: $S}}}}]"
)

# ---- the quick start, from README.md --------------------------------------------------------
# Writes into $QS: send.sh, answer.txt, debug.txt, normal_args.txt, normal_line.txt, metrics.sh,
# metrics.txt, report.sh, report.txt, budgets.sh, budgets.txt. Fails when a piece is missing.
extract() {
  "$PY" - "$README" "$QS" "$GENOPS_BIN" "$SRC" "$H" "$P" "$B" <<'PY'
import os, re, sys
readme, out, bindir, src, h, p, b = sys.argv[1:]
text = open(readme).read()
m = re.search(r"^## Quick start\n(.*?)^## ", text, re.S | re.M)
if not m:
    sys.exit("README.md: no '## Quick start' section")
sec = m.group(1)
# fenced blocks in order: (info string, body, end offset)
blocks = [(b.group(1), b.group(2), b.end()) for b in re.finditer(r"^```(\w*)\n(.*?)^```\n", sec, re.S | re.M)]

def local(cmd):
    cmd = cmd.replace("localhost:4318", "127.0.0.1:" + h).replace("localhost:8889", "127.0.0.1:" + p)
    cmd = cmd.replace("localhost:8890", "127.0.0.1:" + b)
    cmd = re.sub(r"(^|\s)build/bin/", lambda x: x.group(1) + bindir + "/", cmd)
    return re.sub(r"(^|\s)examples/", lambda x: x.group(1) + src + "/examples/", cmd)

def after(pred, what):
    for i, (info, body, end) in enumerate(blocks):
        if info == "sh" and pred(body):
            if i + 1 >= len(blocks) or blocks[i + 1][0] != "":
                sys.exit(f"README.md quick start: no output block after the {what} command")
            return body, blocks[i + 1][1], end
    sys.exit(f"README.md quick start: no {what} command")

def put(name, s):
    with open(os.path.join(out, name), "w") as f:
        f.write(s)

send, debug, send_end = after(lambda b: "examples/genai-span.json" in b and "curl" in b, "send")
put("send.sh", local(send))
put("debug.txt", debug)
ans = re.search(r"The answer is `([^`]*)`", sec[send_end:])
if not ans:
    sys.exit("README.md quick start: no 'The answer is `...`' after the send command")
put("answer.txt", ans.group(1))
nm = re.search(r"`make run ARGS='([^']*)'`", sec)
nl = re.search(r"`(chat gpt-4o [^`]*)`", sec)
if not nm or not nl:
    sys.exit("README.md quick start: no verbosity=normal example")
put("normal_args.txt", nm.group(1))
put("normal_line.txt", " ".join(nl.group(1).split()))
cmd, want, _ = after(lambda b: "localhost:8889/metrics" in b, "metrics")
put("metrics.sh", local(cmd))
put("metrics.txt", want)
cmd, want, _ = after(lambda b: "genops-collector report" in b, "report")
put("report.sh", local(cmd))
put("report.txt", want)
bm = re.search(r"`(curl -s localhost:8890/v1/budgets)` answers `([^`]*)`", sec)
if not bm:
    sys.exit("README.md quick start: no budget API command")
put("budgets.sh", local(bm.group(1)))
put("budgets.txt", bm.group(2))
PY
}
check "README quick start has every command and output" extract

# line_matches PATTERN_FILE LOG: some line of LOG matches the README line, "..." = any text.
line_matches() {
  "$PY" - "$1" "$2" <<'PY'
import re, sys
want = open(sys.argv[1]).read().strip()
pat = re.compile(".*".join(re.escape(" ".join(part.split())) for part in want.split("...")))
lines = open(sys.argv[2], errors="replace").read().splitlines()
if any(pat.search(" ".join(l.split())) for l in lines):
    sys.exit(0)
print("  no line matches %r; log:\n%s" % (want, "\n".join(lines[-15:])), file=sys.stderr)
sys.exit(1)
PY
}

# same_text WHAT GOT_FILE WANT_FILE
same_text() {
  if ! diff -u "$3" "$2" >"$TMP/diff" 2>&1; then
    echo "  $1 differs from the README (- README, + actual):" >&2
    cat "$TMP/diff" >&2
    return 1
  fi
}

# until_same SECONDS CMD_FILE WANT_FILE GOT_FILE: runs the command until its output is the README's.
until_same() {
  local secs=$(($1 * SLOW)) i
  for ((i = 0; i < secs * 4; i++)); do
    (cd "$WORK" && bash "$2") >"$4" 2>&1 || true
    cmp -s "$3" "$4" && return 0
    sleep 0.25
  done
  return 1
}

if [ -s "$QS/send.sh" ]; then
  # ---- 1. the collector, embedded default ---------------------------------------------------
  (cd "$WORK" && exec "$COLLECTOR" "${SETS[@]}") >"$TMP/collector.log" 2>&1 &
  COLLECTOR_PID=$!
  PIDS+=("$COLLECTOR_PID")
  up() { wait_port "$H" $((15 * SLOW)) && wait_port "$P" 5 && wait_port "$B" 5; }
  check "default config starts (ports moved with --set)" up

  # ---- 2. send ---------------------------------------------------------------------------------
  (cd "$WORK" && bash "$QS/send.sh") >"$TMP/answer.got" 2>&1 && rc=0 || rc=$?
  check "send command exits 0" expect_eq "send rc" "$rc" 0
  check "send answer as in the README" expect_eq "answer" "$(cat "$TMP/answer.got")" "$(cat "$QS/answer.txt")"

  # ---- 3. debug line -----------------------------------------------------------------------------
  debug_line() {
    local i
    for ((i = 0; i < 40 * SLOW; i++)); do
      line_matches "$QS/debug.txt" "$TMP/collector.log" 2>/dev/null && return 0
      sleep 0.25
    done
    line_matches "$QS/debug.txt" "$TMP/collector.log"
  }
  check "debug exporter line as in the README" debug_line

  # ---- 4. metrics ---------------------------------------------------------------------------------
  metrics_ok() {
    until_same 30 "$QS/metrics.sh" "$QS/metrics.txt" "$TMP/metrics.got" ||
      same_text "metrics output" "$TMP/metrics.got" "$QS/metrics.txt"
  }
  check "metrics output as in the README" metrics_ok

  # ---- 5. report -----------------------------------------------------------------------------------
  report_ok() {
    until_same 15 "$QS/report.sh" "$QS/report.txt" "$TMP/report.got" ||
      same_text "report output" "$TMP/report.got" "$QS/report.txt"
  }
  check "report output as in the README" report_ok

  # ---- the budget API, no budget defined -------------------------------------------------------
  (cd "$WORK" && timeout 10 bash "$QS/budgets.sh") >"$TMP/budgets.got" 2>&1 || true
  check "budget API answer as in the README" expect_eq "budgets" "$(cat "$TMP/budgets.got")" "$(cat "$QS/budgets.txt")"

  stop_pid "$COLLECTOR_PID" $((15 * SLOW)) && rc=0 || rc=$?
  check "collector exits 0 on SIGTERM" expect_eq "exit" "$rc" 0

  # ---- 7. verbosity=normal shows the cost on the span line ------------------------------------
  read -r -a NORMAL_ARGS <<<"$(cat "$QS/normal_args.txt")"
  (cd "$WORK" && exec "$COLLECTOR" "${SETS[@]}" "${NORMAL_ARGS[@]}") >"$TMP/normal.log" 2>&1 &
  COLLECTOR_PID=$!
  PIDS+=("$COLLECTOR_PID")
  check "default config with the README's --set starts" wait_port "$H" $((15 * SLOW))
  (cd "$WORK" && bash "$QS/send.sh") >/dev/null 2>&1 || true
  normal_line() {
    local i
    for ((i = 0; i < 40 * SLOW; i++)); do
      line_matches "$QS/normal_line.txt" "$TMP/normal.log" 2>/dev/null && return 0
      sleep 0.25
    done
    line_matches "$QS/normal_line.txt" "$TMP/normal.log"
  }
  check "span line with genops.cost.total as in the README" normal_line
  stop_pid "$COLLECTOR_PID" $((15 * SLOW)) || true
fi

# ---- 8. ./genops-data cannot be created --------------------------------------------------------
mkdir -p "$TMP/ro"
: >"$TMP/ro/genops-data" # a file where the directory should be: fails even for root
(cd "$TMP/ro" && exec timeout $((20 * SLOW)) "$COLLECTOR" "${SETS[@]}") >"$TMP/ro.log" 2>&1 && rc=0 || rc=$?
bad_dir_ok() {
  local ok=0
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$rc" -lt 128 ] || { echo "  exit status $rc (want a start error)" >&2; ok=1; }
  grep -q "genops-data" "$TMP/ro.log" || { echo "  the error does not name genops-data" >&2; ok=1; }
  if grep -qE "Sanitizer|runtime error:|Segmentation|Aborted" "$TMP/ro.log"; then
    echo "  crashed" >&2
    ok=1
  fi
  [ $ok -eq 0 ] || sed 's/^/  | /' "$TMP/ro.log" | tail -20 >&2
  return $ok
}
check "unwritable ./genops-data: clear start error" bad_dir_ok

for f in "$TMP/collector.log" "$TMP/normal.log"; do
  [ -f "$f" ] || continue
  check "no sanitizer report in $(basename "$f")" bash -c "! grep -qE 'Sanitizer|runtime error:' '$f'"
done
if [ "$FAILED" -ne 0 ] && [ -f "$TMP/collector.log" ]; then
  echo "collector log (tail):" >&2
  tail -30 "$TMP/collector.log" >&2
fi
finish
