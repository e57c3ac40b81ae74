# Shared helpers for integration tests (sourced). Every test runs on loopback with free ports,
# bounded in time, and stops what it starts (trap cleanup EXIT).
set -euo pipefail

: "${GENOPS_BIN:?GENOPS_BIN must point to the directory of the built binaries}"
COLLECTOR="$GENOPS_BIN/genops-collector"
TMP=$(mktemp -d -t genops-it.XXXXXX)
PIDS=()
PASSED=0
FAILED=0

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && { timeout 10 tail --pid="$p" -f /dev/null 2>/dev/null || kill -9 "$p" 2>/dev/null || true; }
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

# free_port: prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT [SECONDS]: waits until something listens on 127.0.0.1:PORT.
wait_port() {
  local port=$1 secs=${2:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "port $port did not open within ${secs}s" >&2
  return 1
}

# start_collector LOG ARGS...: starts the collector in the background, sets COLLECTOR_PID.
start_collector() {
  local log=$1
  shift
  "$COLLECTOR" "$@" >"$log" 2>&1 &
  COLLECTOR_PID=$!
  PIDS+=("$COLLECTOR_PID")
}

# stop_pid PID [SECONDS]: SIGTERM, wait, then SIGKILL; returns the exit status.
stop_pid() {
  local pid=$1 secs=${2:-15} rc=0
  kill -TERM "$pid" 2>/dev/null || return 0
  timeout "$secs" tail --pid="$pid" -f /dev/null 2>/dev/null || { kill -9 "$pid" 2>/dev/null; return 124; }
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}

check() { # check NAME COMMAND...: runs a check, counts it
  local name=$1
  shift
  if "$@"; then
    PASSED=$((PASSED + 1))
  else
    FAILED=$((FAILED + 1))
    echo "FAIL: $name" >&2
  fi
}

expect_eq() { # expect_eq WHAT GOT WANT
  if [ "$2" != "$3" ]; then
    echo "  $1: got '$2', want '$3'" >&2
    return 1
  fi
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
