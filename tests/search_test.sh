#!/usr/bin/env bash
# End-to-end checks of a search as users run it: `actsearch local`, `controller` and `worker`
# as separate processes, a controller killed with SIGKILL mid-search and restarted on the same
# database, the workers of a killed `local` stopping with it, a worker with a wrong token, and
# malformed configs. Children are the proxy task, so
# the whole script takes about a minute.
set -u
source "$(dirname "$0")/lib.sh"

cat >"$tmp/proxy.textproto" <<'CONFIG'
name: "proxy"
space {
  units: 1
  unary: ["identity", "neg", "abs", "sigmoid", "tanh", "relu", "sin", "beta"]
  binary: ["add", "mul", "max", "min", "sigmul"]
}
strategy { random {} }
child { proxy { steps: 60 } }
budget { max_trials: 24 }
dispatch { lease_seconds: 4 heartbeat_seconds: 1 }
CONFIG

# Malformed configs: the field, or the line and column, is named; exit 2.
sed 's/heartbeat_seconds: 1/heartbeat_seconds: 10/' "$tmp/proxy.textproto" >"$tmp/slow.textproto"
expect "heartbeat longer than lease" 2 'config field dispatch.heartbeat_seconds' -- \
  "$bin" local --config "$tmp/slow.textproto" --db "$tmp/bad.db"
sed 's/units: 1/units: one/' "$tmp/proxy.textproto" >"$tmp/syntax.textproto"
expect "syntax error" 2 'syntax.textproto: line 3, column 10' -- \
  "$bin" controller --config "$tmp/syntax.textproto" --db "$tmp/bad.db"
sed 's/"sigmoid"/"sigmod"/' "$tmp/proxy.textproto" >"$tmp/op.textproto"
expect "unknown operator" 2 "space.unary: .*sigmod" -- \
  "$bin" controller --config "$tmp/op.textproto" --db "$tmp/bad.db"
sed 's/lease_seconds: 4/lease_seconds: inf/' "$tmp/proxy.textproto" >"$tmp/inf.textproto"
expect "infinite lease" 2 'config field dispatch.lease_seconds: must be a finite number' -- \
  "$bin" controller --config "$tmp/inf.textproto" --db "$tmp/bad.db"
expect "no token off loopback" 2 'without a token' -- \
  env -u ACTSEARCH_TOKEN "$bin" controller --config "$tmp/proxy.textproto" --db "$tmp/bad.db" \
  --listen 0.0.0.0:0

# A whole search on this machine: controller and two worker processes, then the leaderboard.
expect "local search" 0 'rank +val%' -- \
  "$bin" local --config "$tmp/proxy.textproto" --db "$tmp/local.db" --workers 2 \
  --progress-seconds 0
[ "$(sql "$tmp/local.db" "SELECT COUNT(*) FROM results r JOIN trials t ON t.id = r.trial_id
                           WHERE t.state = 'done'")" = 24 ] && pass || fail "local: 24 trainings"

# `local` killed with SIGKILL mid-trial: its workers stop with it instead of training on.
sed 's/steps: 60/steps: 50000000/' "$tmp/proxy.textproto" >"$tmp/long.textproto"
"$bin" local --config "$tmp/long.textproto" --db "$tmp/orphan.db" --workers 2 \
  --progress-seconds 0 >"$tmp/orphan.log" 2>&1 &
local_pid=$!
pids+=("$local_pid")
for _ in $(seq 300); do  # until both workers are up
  [ "$(pgrep -c -P "$local_pid")" -ge 2 ] && break
  sleep 0.1
done
workers="$(pgrep -P "$local_pid" | tr '\n' ' ')"
pids+=($workers)
sleep 3  # training their trials
kill -9 "$local_pid"
wait "$local_pid" 2>/dev/null
running() {  # any of the given processes alive (an unreaped zombie does not count)
  local p
  for p in "$@"; do
    case "$(ps -o stat= -p "$p" 2>/dev/null)" in "" | Z*) ;; *) return 0 ;; esac
  done
  return 1
}
for _ in $(seq 100); do  # 10 s at most
  running $workers || break
  sleep 0.1
done
[ -n "$workers" ] && ! running $workers && pass || fail "the workers of a killed local run on"

# The controller killed with SIGKILL mid-search, then restarted on the same database: the
# worker rides it out, and the search finishes with nothing lost or trained twice.
port=$((20000 + $$ % 20000))
export ACTSEARCH_TOKEN=e2e-secret
db="$tmp/kill.db"
start_controller() {
  "$bin" controller --config "$tmp/proxy.textproto" --db "$db" --listen "127.0.0.1:$port" \
    --checkpoint-seconds 1 --progress-seconds 0 >>"$tmp/controller.log" 2>&1 &
  controller=$!
  pids+=("$controller")
}
start_controller
"$bin" worker --controller "127.0.0.1:$port" --name e2e --give-up-seconds 60 --quiet \
  >"$tmp/worker.log" 2>&1 &
worker=$!
pids+=("$worker")
for _ in $(seq 600); do  # until a few results are in
  n="$(sql "$db" 'SELECT COUNT(*) FROM results' 2>/dev/null || echo 0)"
  [ "${n:-0}" -ge 6 ] && break
  sleep 0.1
done
kill -9 "$controller"
wait "$controller" 2>/dev/null
before="$(sql "$db" 'SELECT COUNT(*) FROM results')"
[ "$before" -ge 6 ] && [ "$before" -lt 24 ] && pass || fail "killed mid-search ($before results)"
# Meanwhile a worker with a wrong token knocks: it waits for the controller, then is refused.
(
  env ACTSEARCH_TOKEN=wrong "$bin" worker --controller "127.0.0.1:$port" --give-up-seconds 20 \
    >"$tmp/refused.log" 2>&1
  echo $? >"$tmp/refused.rc"
) &
refused=$!
sleep 0.5
start_controller  # resumes the search in the same database
wait "$refused"
[ "$(cat "$tmp/refused.rc")" = 6 ] && grep -q token "$tmp/refused.log" &&
  pass || fail "wrong token: exit $(cat "$tmp/refused.rc"), $(cat "$tmp/refused.log")"
wait "$controller" && pass || fail "the restarted controller did not finish the search"
wait "$worker" && pass || fail "the worker did not end with the search ($(tail -3 "$tmp/worker.log"))"
grep -q "resuming search 'proxy'" "$tmp/controller.log" && pass || fail "no resume in the log"
[ "$(sql "$db" "SELECT COUNT(*) FROM trials WHERE state IN ('queued', 'leased')")" = 0 ] &&
  pass || fail "trials left unfinished"
[ "$(sql "$db" "SELECT COUNT(*) FROM trials t LEFT JOIN results r ON r.trial_id = t.id
                WHERE r.trial_id IS NULL")" = 0 ] && pass || fail "a trial without a result"
[ "$(sql "$db" "SELECT COUNT(*) FROM trials WHERE state = 'done'")" = 24 ] &&
  pass || fail "not 24 trainings: $(sql "$db" "SELECT state, COUNT(*) FROM trials GROUP BY state")"
[ -z "$(sql "$db" "SELECT c.fingerprint FROM trials t JOIN candidates c ON c.id = t.candidate_id
                   GROUP BY c.fingerprint HAVING COUNT(*) > 1")" ] &&
  pass || fail "a functional class trained twice"
[ "$(sql "$db" "SELECT status FROM searches")" = finished ] && pass || fail "search not finished"
[ "$(sql "$db" 'PRAGMA integrity_check')" = ok ] && pass || fail "integrity check"

finish
