#!/usr/bin/env bash
# Operating a search as users do, with real processes: SIGINT and SIGTERM at random moments to
# `local`, `controller` and `worker` (the documented exit code, trials released, the database
# consistent, a restart finishing the search); `actsearch stop`; a controller that died told
# from a live one; searches that fail loudly; the trials inspected and exported; a finished
# search extended; the counters agreeing. Children are the proxy task: about three minutes.
set -u
source "$(dirname "$0")/lib.sh"

# Signals reach a process at a random moment once it catches them (before that, while its
# libraries load, a signal ends it as signals do): from at once to about 3 s later, start-up
# (database, data, server) and the first trials included.
catching() {  # waits until process $1 has handlers for SIGINT and SIGTERM
  local mask
  for _ in $(seq 200); do
    mask="$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null)"
    [ -n "$mask" ] && [ $((0x$mask & 0x4002)) = $((0x4002)) ] && return 0
    sleep 0.02
  done
}
at_random_moment() {
  catching "$1"
  sleep "$((RANDOM % 3)).$((RANDOM % 10))"
}

cat >"$tmp/proxy.textproto" <<'CONFIG'
name: "proxy"
space {
  units: 1
  unary: ["identity", "neg", "abs", "sigmoid", "tanh", "relu", "sin", "square", "beta"]
  binary: ["add", "mul", "max", "min", "sigmul", "sub"]
}
strategy { random {} }
child { proxy { steps: 600 } }
budget { max_trials: 50 }
dispatch { lease_seconds: 4 heartbeat_seconds: 1 }
CONFIG

# The database is consistent and nothing is left leased; the search is not marked running.
consistent() {
  local db="$1" name="$2"
  check "$name: integrity" test "$(sql "$db" 'PRAGMA integrity_check')" = ok
  check "$name: no trial left leased" test "$(sql "$db" \
    "SELECT COUNT(*) FROM trials WHERE state = 'leased'")" = 0
  check "$name: every finished trial has one result" test "$(sql "$db" \
    "SELECT COUNT(*) FROM trials t LEFT JOIN results r ON r.trial_id = t.id
     WHERE t.state NOT IN ('queued', 'leased') AND r.trial_id IS NULL")" = 0
  check "$name: no class trained twice" test -z "$(sql "$db" \
    "SELECT c.fingerprint FROM trials t JOIN candidates c ON c.id = t.candidate_id
     GROUP BY c.fingerprint HAVING COUNT(*) > 1")"
  check "$name: not left running" test "$(sql "$db" \
    "SELECT COUNT(*) FROM searches WHERE status = 'running'")" = 0
}

# The search finished with its whole budget trained.
finished() {
  local db="$1" name="$2" budget="$3"
  consistent "$db" "$name"
  check "$name: finished" test "$(sql "$db" 'SELECT status FROM searches')" = finished
  check "$name: $budget trainings" test "$(sql "$db" \
    "SELECT COUNT(*) FROM trials WHERE state NOT IN ('screened', 'queued')")" = "$budget"
}

# --- SIGINT and SIGTERM to `local`, three times each at random moments, then a restart. ---
db="$tmp/local.db"
for signal in INT TERM INT TERM INT TERM; do
  "$bin" local --config "$tmp/proxy.textproto" --db "$db" --workers 2 --progress-seconds 0 \
    >"$tmp/local.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  at_random_moment "$pid"
  trained="$(sql "$db" "SELECT COUNT(*) FROM trials
    WHERE state NOT IN ('screened', 'queued', 'leased')" 2>/dev/null)"
  kill -"$signal" "$pid"
  wait "$pid"
  rc=$?
  # 5: stopped, resumable. 0 only when the search was finishing: a stop releases the trials in
  # flight, so at most the two workers' last reports can have landed after the signal was sent.
  if [ "$rc" = 5 ] || { [ "$rc" = 0 ] && [ "${trained:-0}" -ge 48 ] &&
    [ "$(sql "$db" 'SELECT status FROM searches')" = finished ]; }; then
    pass
  else
    fail "local SIG$signal: exit $rc ($trained of 50 trained when signalled)"
    tail -5 "$tmp/local.log"
  fi
  check "local SIG$signal: no crash" test -z "$(grep -E 'Segmentation|core dumped' "$tmp/local.log")"
  consistent "$db" "local SIG$signal"
done
expect "local resumed after the signals" 0 'search finished' -- \
  "$bin" local --config "$tmp/proxy.textproto" --db "$db" --workers 2 --progress-seconds 0
finished "$db" "local" 50

# --- SIGINT and SIGTERM to `controller`: its worker is told, both exit 5. ---
port=$((20000 + $$ % 20000))
export ACTSEARCH_TOKEN=operate-secret
db="$tmp/controller.db"
for signal in INT TERM; do
  "$bin" controller --config "$tmp/proxy.textproto" --db "$db" --listen "127.0.0.1:$port" \
    --progress-seconds 0 >"$tmp/controller.log" 2>&1 &
  controller=$!
  "$bin" worker --controller "127.0.0.1:$port" --name "c-$signal" --give-up-seconds 30 --quiet \
    >"$tmp/worker.log" 2>&1 &
  worker=$!
  pids+=("$controller" "$worker")
  # Once its worker has registered (a worker that comes after its controller has gone cannot
  # hear it stop, and exits 7 as unreachable).
  for _ in $(seq 300); do
    [ "$(sql "$db" "SELECT COUNT(*) FROM workers WHERE name = 'c-$signal'" 2>/dev/null)" = 1 ] && break
    sleep 0.1
  done
  at_random_moment "$controller"
  kill -"$signal" "$controller"
  wait "$controller"
  rc=$?
  check "controller SIG$signal: exit 5 (got $rc)" test "$rc" = 5
  wait "$worker"
  rc=$?
  check "controller SIG$signal: its worker exits 5 (got $rc)" test "$rc" = 5
  consistent "$db" "controller SIG$signal"
done

# --- SIGTERM and SIGINT to a `worker`: its trial goes back at once, the search goes on. ---
"$bin" controller --config "$tmp/proxy.textproto" --db "$db" --listen "127.0.0.1:$port" \
  --progress-seconds 0 >"$tmp/controller.log" 2>&1 &
controller=$!
pids+=("$controller")
for signal in TERM INT; do
  "$bin" worker --controller "127.0.0.1:$port" --name "w-$signal" --give-up-seconds 30 \
    >"$tmp/worker.log" 2>&1 &
  worker=$!
  pids+=("$worker")
  at_random_moment "$worker"
  kill -"$signal" "$worker"
  wait "$worker"
  rc=$?
  check "worker SIG$signal: exit 5 (got $rc)" test "$rc" = 5
  matches "worker SIG$signal: says it stopped" '^worker: stopped$' "$tmp/worker.log"
  # Released at once: leased trials would wait for their 4 s lease.
  check "worker SIG$signal: its trial released" test "$(sql "$db" \
    "SELECT COUNT(*) FROM trials WHERE state = 'leased'")" = 0
done
"$bin" worker --controller "127.0.0.1:$port" --name w-last --give-up-seconds 30 --quiet &
worker=$!
pids+=("$worker")
wait "$controller"
check "controller: the search finishes after the workers' signals" test $? = 0
wait "$worker"
finished "$db" "controller" 50
check "controller: its released trials used no attempt" test "$(sql "$db" \
  "SELECT MAX(attempt) FROM trials WHERE state = 'done'")" = 1

# --- `actsearch stop`, and `searches` telling a live controller from a dead one. ---
sed 's/max_trials: 50/max_trials: 100000/; s/name: "proxy"/name: "long"/' \
  "$tmp/proxy.textproto" >"$tmp/long.textproto"
db="$tmp/stop.db"
"$bin" local --config "$tmp/long.textproto" --db "$db" --workers 1 --progress-seconds 0 \
  >"$tmp/local.log" 2>&1 &
pid=$!
pids+=("$pid")
for _ in $(seq 200); do  # until a few results are in
  [ "$(sql "$db" 'SELECT COUNT(*) FROM results' 2>/dev/null || echo 0)" -ge 3 ] && break
  sleep 0.1
done
expect "searches: a live search is running" 0 '^ +1 +long +running +random +[0-9]+/100000 trials' \
  -- "$bin" searches --db "$db"
expect "stop" 0 "search 'long' stopped: [0-9]+ trials trained" -- "$bin" stop --db "$db"
wait "$pid"
rc=$?
check "stop: local exits 5 (got $rc)" test "$rc" = 5
expect "searches: stopped" 0 '^ +1 +long +stopped ' -- "$bin" searches --db "$db"
consistent "$db" "stop"
expect "stop: nothing to stop" 1 'no search is running' -- "$bin" stop --db "$db"
"$bin" local --db "$db" --workers 1 --progress-seconds 0 >"$tmp/local.log" 2>&1 &
pid=$!
pids+=("$pid")
sleep 3
kill -9 "$pid"
wait "$pid" 2>/dev/null
expect "searches: a dead controller's search is interrupted" 0 '^ +1 +long +interrupted ' -- \
  "$bin" searches --db "$db"
matches "local resumes from the stored config" "resuming search 'long'" "$tmp/local.log"

# --- Failing loudly. ---
cat >"$tmp/nodata.textproto" <<'CONFIG'
name: "nodata"
space { units: 1 unary: ["identity", "sin", "tanh"] binary: ["add", "max"] }
child { resnet { dataset: "cifar10:/nope" steps: 2 } }
budget { max_trials: 4 }
CONFIG
expect "missing data: local refuses before any trial" 1 \
  'cannot start the search: .*/nope' -- "$bin" local --config "$tmp/nodata.textproto" \
  --db "$tmp/nodata.db" --workers 1
"$bin" controller --config "$tmp/nodata.textproto" --db "$tmp/nodata.db" \
  --listen "127.0.0.1:$port" --progress-seconds 0 >"$tmp/controller.log" 2>&1 &
controller=$!
pids+=("$controller")
expect "missing data: the worker refuses before any trial" 1 \
  "cannot train this search's children: .*/nope" -- \
  "$bin" worker --controller "127.0.0.1:$port" --give-up-seconds 30
kill -TERM "$controller"
wait "$controller"
check "missing data: no trial was leased" test "$(sql "$tmp/nodata.db" \
  "SELECT COUNT(*) FROM trials WHERE attempt > 0")" = 0
expect "no GPU: local refuses" 1 '--device cuda: this build or machine has no CUDA device' -- \
  "$bin" local --config "$tmp/proxy.textproto" --db "$tmp/gpu.db" --device cuda
# Data that loads but cannot train (10 training images for a batch of 128): every trial fails
# through no fault of its candidate. Each failure is shown as it happens, the trials wait in
# the queue, and the search stops as failed after three in a row.
cat >"$tmp/broken.textproto" <<'CONFIG'
name: "broken"
space { units: 1 unary: ["identity", "sin", "tanh"] binary: ["add", "max"] }
child { resnet { dataset: "fashion-mnist" validation: 59990 steps: 2 } }
budget { max_trials: 10 }
dispatch { max_consecutive_failures: 3 }
CONFIG
db="$tmp/broken.db"
"$bin" local --config "$tmp/broken.textproto" --db "$db" --workers 1 >"$tmp/broken.log" 2>&1
rc=$?
check "broken: local exits 8 (got $rc)" test "$rc" = 8
matches "broken: each failure shown live" \
  '^controller: trial [0-9]+ failed on local-1 \(requeued\): batch size 128 exceeds the training set' \
  "$tmp/broken.log"
matches "broken: why the search failed" \
  '^controller: search failed: 3 trials in a row failed through no fault of their candidates' \
  "$tmp/broken.log"
expect "broken: searches shows it failed, and why" 0 \
  'search 1: 3 trials in a row failed .* exceeds the training set' -- "$bin" searches --db "$db"
expect "broken: the waiting trials carry their error" 0 \
  '^ +[0-9]+ +queued .*batch size 128 exceeds the training' -- "$bin" trials --db "$db"
check "broken: no candidate blamed" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials WHERE state = 'failed'")" = 0
consistent "$db" "broken"

# --- Inspecting the finished search of the signal rounds: trials, one trial, an export. ---
db="$tmp/local.db"
expect "trials" 0 '^ *trial +state +val% +test% +steps +attempt +worker +seconds +expression' -- \
  "$bin" trials --db "$db"
done_trials="$(sql "$db" "SELECT COUNT(*) FROM trials WHERE state = 'done'")"
check "trials --state done: one row each" test "$("$bin" trials --db "$db" --state done \
  --format csv | tail -n +2 | wc -l)" = "$done_trials"
expect "trials --sort reward" 0 '^\[\{"trial_id":[0-9]+' -- \
  "$bin" trials --db "$db" --sort reward --limit 3 --format json
best="$(sql "$db" "SELECT t.id FROM trials t JOIN results r ON r.trial_id = t.id
                   ORDER BY r.validation_accuracy DESC, t.id LIMIT 1")"
expect "trial: whole" 0 "learning curve \([0-9]+ points\)" -- "$bin" trial --db "$db" "$best"
expect "trial: its config" 0 '^config +\{"space":\{"units":1,.*"name":"proxy"' -- "$bin" trial --db "$db" "$best"
expect "trial json" 0 '"learning_curve":\[\[' -- "$bin" trial --db "$db" "$best" --format json
expect "trial: unknown" 1 'local.db: no trial 99999' -- "$bin" trial --db "$db" 99999
"$bin" export --db "$db" --out "$tmp/trials.jsonl" 2>/dev/null
"$bin" export --db "$db" --format csv --out "$tmp/trials.csv" 2>/dev/null
all_trials="$(sql "$db" 'SELECT COUNT(*) FROM trials')"
check "export: a JSON line per trial, every field there" python3 - "$tmp/trials.jsonl" \
  "$all_trials" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == int(sys.argv[2]), len(rows)
done = [r for r in rows if r["state"] == "done"]
assert done and all(r["learning_curve"] and r["validation"] is not None for r in done)
assert all(r["config"]["child"]["proxy"]["steps"] == "600" or
           r["config"]["child"]["proxy"]["steps"] == 600 for r in rows)
PY
check "export: csv reads back" python3 - "$tmp/trials.csv" "$all_trials" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == int(sys.argv[2]), len(rows)
assert all(isinstance(json.loads(r["learning_curve"]), list) for r in rows)
PY

# --- Extending the finished search, and a changed config refused by name. ---
"$bin" local --db "$db" --workers 2 --max-trials 56 --progress-seconds 1 >"$tmp/extend.log" 2>&1
rc=$?
check "extend: exit 0 (got $rc)" test "$rc" = 0
matches "extend: the change is named" 'changed settings: budget.max_trials 50 -> 56' \
  "$tmp/extend.log"
finished "$db" "extend" 56
sed 's/units: 1/units: 2/' "$tmp/proxy.textproto" >"$tmp/changed.textproto"
expect "a changed space is refused by name" 2 'whose config differs: space.units 1 -> 2' -- \
  "$bin" local --config "$tmp/changed.textproto" --db "$db"

# --- The counters agree: the last progress line, `searches` and the database. ---
last="$(grep '^\[' "$tmp/extend.log" | tail -1)"
json="$("$bin" searches --db "$db" --format json)"
for field in done diverged failed screened; do
  progress="$(sed -E "s/.*[ (]$field ([0-9]+).*/\1/" <<<"$last")"
  listed="$(python3 -c "import json,sys; print(json.loads(sys.argv[1])[0]['$field'])" "$json")"
  stored="$(sql "$db" "SELECT COUNT(*) FROM trials WHERE state = '$field'")"
  check "counters: $field (progress $progress, searches $listed, database $stored)" \
    test "$progress" = "$listed" -a "$listed" = "$stored"
done

finish
