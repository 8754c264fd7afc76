#!/usr/bin/env bash
# Fault injection with real processes: a controller that trusts nothing it is sent. A hostile
# but authenticated client (tests/hostile_client_test.cc, generated gRPC stubs) against a live
# controller; two controllers on one database and on one port; the workers of `local` killed;
# a worker's SIGTERM mid-trial; a nesting bomb; bad tokens, addresses and configs; read-only
# storage; a foreign database; a corrupt checkpoint; backups of a live database; TLS
# mistakes. Each check failed before its fix. Children are the proxy task: about a minute.
set -u
source "$(dirname "$0")/lib.sh"
hostile="${HOSTILE_CLIENT:?set HOSTILE_CLIENT to the hostile_client_test binary}"

port=$((20000 + ($$ * 7) % 20000))
other_port=$((port + 1))
export ACTSEARCH_TOKEN=fault-secret
db="$tmp/faults.db"

config() {  # config NAME STRATEGY TRIALS [STEPS [LEASE]]: a proxy search over a small space
  cat <<CONFIG
name: "$1"
space {
  units: 1
  unary: ["identity", "neg", "abs", "sigmoid", "tanh", "relu", "sin", "square", "beta"]
  binary: ["add", "mul", "max", "min", "sigmul", "sub"]
}
strategy { $2 }
child { proxy { steps: ${4:-300} } }
budget { max_trials: $3 }
dispatch { lease_seconds: ${5:-30} heartbeat_seconds: 1 }
CONFIG
}
config other "random {}" 2 >"$tmp/other.textproto"
config faults "ppo { batch_size: 4 }" 24 >"$tmp/faults.textproto"

wait_for_workers() {  # wait_for_workers DB COUNT: until COUNT workers registered
  for _ in $(seq 300); do
    [ "$(sql "$1" 'SELECT COUNT(*) FROM workers' 2>/dev/null)" -ge "$2" ] 2>/dev/null && return
    sleep 0.1
  done
}

# --- Another search in the same database: a hostile report must not reach its trials. ---
expect "another search first" 0 'search finished' -- \
  "$bin" local --config "$tmp/other.textproto" --db "$db" --workers 1 --progress-seconds 0
other_trial="$(sql "$db" "SELECT MIN(t.id) FROM trials t JOIN candidates c ON c.id = t.candidate_id
                          JOIN searches s ON s.id = c.search_id WHERE s.name = 'other'")"

# --- A hostile client against a live controller, then a real worker finishes the search. ---
"$bin" controller --config "$tmp/faults.textproto" --db "$db" --listen "127.0.0.1:$port" \
  --checkpoint-seconds 1 --progress-seconds 0 >"$tmp/controller.log" 2>&1 &
controller=$!
pids+=("$controller")
wait_for_port "$port"
ACTSEARCH_CONTROLLER="127.0.0.1:$port" ACTSEARCH_TOKEN=fault-secret \
  OTHER_SEARCH_TRIAL="$other_trial" "$hostile" >"$tmp/hostile.log" 2>&1
check "hostile client: every attempt refused as documented" test $? = 0 ||
  grep -E 'Failure|Expected|Which is|actual|FAILED' "$tmp/hostile.log" | head -30

# --- One writer per database, one controller per port. ---
expect "a second controller on the same database is refused" 1 \
  'faults.db is in use by another controller \(controller of search .faults., pid [0-9]+' -- \
  "$bin" controller --config "$tmp/faults.textproto" --db "$db" --listen "127.0.0.1:$other_port"
expect "a second controller on the same port is refused" 1 "127.0.0.1:$port" -- \
  "$bin" controller --config "$tmp/faults.textproto" --db "$tmp/elsewhere.db" \
  --listen "127.0.0.1:$port"
expect "a port out of range is refused, not mapped" 2 "port '99999' must be a number from 0" -- \
  "$bin" controller --config "$tmp/faults.textproto" --db "$tmp/elsewhere.db" \
  --listen 127.0.0.1:99999

# --- A backup of the live database, and its main file alone, hold the search. ---
sleep 1.5  # a checkpoint (and a WAL checkpoint) of the controller
cp "$db" "$tmp/main-file-only.db"
check "the main file alone holds the running search" test "$(sql "$tmp/main-file-only.db" \
  "SELECT COUNT(*) FROM searches WHERE name = 'faults'")" = 1
expect "db backup of a live database" 0 'integrity ok' -- \
  "$bin" db backup --db "$db" --to "$tmp/backup.db"
check "the backup holds the hostile client's accepted result" test "$(sql "$tmp/backup.db" \
  "SELECT COUNT(*) FROM results WHERE validation_accuracy = 0.75")" -ge 1

# A worker stopped by SIGTERM mid-trial gives its trial back, without using an attempt.
"$bin" worker --controller "127.0.0.1:$port" --name sigterm --quiet >/dev/null 2>&1 &
worker=$!
pids+=("$worker")
for _ in $(seq 300); do
  [ "$(sql "$db" "SELECT COUNT(*) FROM trials t JOIN workers w ON w.id = t.worker_id
                  WHERE w.name = 'sigterm' AND t.state = 'leased'")" = 1 ] && break
  sleep 0.05
done
leased="$(sql "$db" "SELECT t.id FROM trials t JOIN workers w ON w.id = t.worker_id
                     WHERE w.name = 'sigterm' AND t.state = 'leased'")"
kill -TERM "$worker"
wait "$worker"
check "worker SIGTERM mid-trial: exit 5" test $? = 5
if [ -n "$leased" ]; then
  check "worker SIGTERM mid-trial: its trial queued again, its attempt given back" test \
    "$(sql "$db" "SELECT state || ' ' || attempt FROM trials WHERE id = $leased")" = 'queued 0'
else
  fail "worker SIGTERM mid-trial: it never held a trial"
fi

# A worker with two training processes on one device: SIGTERM reaches both, and each gives
# its trial back.
fleet_leased() {
  sql "$db" "SELECT COUNT(*) FROM trials t JOIN workers w ON w.id = t.worker_id
             WHERE w.name LIKE 'fleet:cpu#%' AND t.state = 'leased'"
}
"$bin" worker --controller "127.0.0.1:$port" --device cpu --per-device 2 --name fleet --quiet \
  >/dev/null 2>"$tmp/fleet.log" &
fleet=$!
pids+=("$fleet")
for _ in $(seq 300); do
  [ "$(fleet_leased)" = 2 ] && break
  sleep 0.05
done
check "worker --per-device 2: two training processes, a trial each" test "$(fleet_leased)" = 2
kill -TERM "$fleet"
wait "$fleet"
check "worker --per-device 2, SIGTERM: exit 5" test $? = 5
check "worker --per-device 2, SIGTERM: both trials queued again" test "$(fleet_leased)" = 0

"$bin" worker --controller "127.0.0.1:$port" --per-device 2 --name finisher --quiet \
  >/dev/null 2>&1
check "worker --per-device 2 finishes the search: exit 0" test $? = 0
check "worker --per-device 2: both processes trained" test "$(sql "$db" \
  "SELECT COUNT(DISTINCT w.name) FROM trials t JOIN workers w ON w.id = t.worker_id
   WHERE w.name LIKE 'finisher:cpu#%' AND t.state = 'done'")" = 2
wait "$controller"
check "the search finishes after the hostile client (exit 0)" test $? = 0
check "no non-finite reward reached the policy" test -z "$(grep -i 'non-finite' "$tmp/controller.log")"
check "no impossible figure was recorded" test "$(sql "$db" \
  "SELECT COUNT(*) FROM results WHERE validation_accuracy < 0 OR validation_accuracy > 1
     OR (validation_accuracy IS NULL AND trial_id IN (SELECT id FROM trials WHERE state = 'done'))")" = 0
check "the other search's trial kept its own result" test "$(sql "$db" \
  "SELECT COUNT(*) FROM results WHERE trial_id = $other_trial")" = 1
check "faults: every trial has one result, nothing left leased" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials t LEFT JOIN results r ON r.trial_id = t.id
   WHERE r.trial_id IS NULL OR t.state IN ('queued', 'leased')")" = 0
check "faults: the budget, once" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials t JOIN candidates c ON c.id = t.candidate_id
   JOIN searches s ON s.id = c.search_id WHERE s.name = 'faults' AND t.state <> 'screened'")" = 24
expect "leaderboard: nothing above 100%" 0 '' -- python3 - "$bin" "$db" <<'PY'
import json, subprocess, sys
rows = json.loads(subprocess.check_output([sys.argv[1], "leaderboard", "--db", sys.argv[2],
                                           "--search", "faults", "--format", "json"]))
assert rows and all(0 <= r["validation_best"] <= 1 for r in rows), rows[:3]
PY

# --- `local` whose workers are all killed: it starts others and finishes. ---
config dying "random {}" 12 3000 3 >"$tmp/dying.textproto"
"$bin" local --config "$tmp/dying.textproto" --db "$tmp/dying.db" --workers 2 \
  --progress-seconds 0 >"$tmp/local.log" 2>&1 &
local_pid=$!
pids+=("$local_pid")
wait_for_workers "$tmp/dying.db" 2
sleep 0.5
pkill -KILL -f -- "--name local-[12] " || true
wait "$local_pid"
check "local: finishes after its workers were killed (exit 0)" test $? = 0
matches "local: says it replaced them" 'worker local-[12] .*starting another' "$tmp/local.log"
check "local: the budget trained once each" test "$(sql "$tmp/dying.db" \
  "SELECT COUNT(*) FROM trials WHERE state = 'done'")" = 12

# --- A corrupt latest checkpoint: the resume takes the one before it, and says so. ---
check "several checkpoints kept" test "$(sql "$db" "SELECT COUNT(*) FROM checkpoints c
  JOIN searches s ON s.id = c.search_id WHERE s.name = 'faults'")" -ge 2
sql "$db" "UPDATE checkpoints SET data = x'0badf00d' WHERE id = (SELECT MAX(c.id) FROM checkpoints c
           JOIN searches s ON s.id = c.search_id WHERE s.name = 'faults')"
expect "a corrupt latest checkpoint: the PPO search resumes from an older one" 0 \
  'the latest checkpoint is corrupt .*resumed from an older one' -- \
  "$bin" local --db "$db" --search faults --max-trials 26 --workers 1 --progress-seconds 0

# --- Input: nesting bombs, tokens, configs. ---
bomb="$(python3 -c 'print("(" * 20000 + "x" + ")" * 20000)')"
expect "a nesting bomb is a parse error, not a crash" 2 'nests deeper than 256 levels' -- \
  "$bin" space eval "$bomb" --points 1
printf 'fault-secret\r\n' >"$tmp/crlf-token"
printf 'fault\tsecret\n' >"$tmp/tab-token"
printf 'fault\xc3\xa9secret\n' >"$tmp/utf8-token"
for bad in tab utf8; do
  expect "a $bad in the token: the worker refuses it at start-up" 2 'the token holds byte 0x' -- \
    "$bin" worker --controller "127.0.0.1:$port" --token-file "$tmp/$bad-token"
  expect "a $bad in the token: the controller refuses it at start-up" 2 'the token holds byte' -- \
    "$bin" controller --config "$tmp/faults.textproto" --db "$tmp/token.db" \
    --token-file "$tmp/$bad-token"
done
"$bin" controller --config "$tmp/other.textproto" --db "$tmp/crlf.db" --listen "127.0.0.1:$port" \
  --token-file "$tmp/crlf-token" --progress-seconds 0 >/dev/null 2>&1 &
controller=$!
pids+=("$controller")
wait_for_port "$port"
expect "a token file with a CRLF line ending works" 0 'search finished' -- \
  "$bin" worker --controller "127.0.0.1:$port" --token-file "$tmp/crlf-token"
wait "$controller"
: >"$tmp/empty.textproto"
expect "an empty config is refused" 2 'config field space: not set' -- \
  "$bin" controller --config "$tmp/empty.textproto" --db "$tmp/x.db"
expect "a directory as --config is refused" 2 'is a directory, not a config file' -- \
  "$bin" controller --config "$tmp" --db "$tmp/x.db"
sed 's/ppo { batch_size: 4 }/ppo { learning_rate: inf }/' "$tmp/faults.textproto" >"$tmp/inf.textproto"
expect "learning_rate: inf is refused" 2 'strategy.ppo.learning_rate: must be a finite number' -- \
  "$bin" controller --config "$tmp/inf.textproto" --db "$tmp/x.db"

# --- TLS mistakes are named, not retried as an unreachable controller. ---
(
  cd "$tmp" || exit 1
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ca
  openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 -subj /CN=o
  openssl req -newkey rsa:2048 -nodes -keyout key.pem -out cert.csr -subj /CN=localhost
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
  openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 \
    -extfile san.ext
) >/dev/null 2>&1
echo 'not a certificate' >"$tmp/garbage.pem"
tls_port=$((port + 2))
plain_port=$((port + 3))
"$bin" controller --config "$tmp/other.textproto" --db "$tmp/tls.db" --listen "127.0.0.1:$tls_port" \
  --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem" --progress-seconds 0 >/dev/null 2>&1 &
pids+=("$!")
"$bin" controller --config "$tmp/other.textproto" --db "$tmp/plain.db" \
  --listen "127.0.0.1:$plain_port" --progress-seconds 0 >/dev/null 2>&1 &
pids+=("$!")
wait_for_port "$tls_port"
wait_for_port "$plain_port"
expect "TLS: a plaintext worker against a TLS controller is told so" 6 \
  'does not speak plaintext gRPC \(it serves TLS\?\): give --tls-ca' -- \
  "$bin" worker --controller "127.0.0.1:$tls_port" --give-up-seconds 20
expect "TLS: a certificate from another CA is named as such" 6 \
  'its certificate does not verify against .*other.pem' -- \
  "$bin" worker --controller "127.0.0.1:$tls_port" --tls-ca "$tmp/other.pem" --give-up-seconds 20
expect "TLS: a TLS worker against a plaintext controller is told so" 6 \
  'serves without TLS: drop --tls-ca' -- \
  "$bin" worker --controller "127.0.0.1:$plain_port" --tls-ca "$tmp/ca.pem" --give-up-seconds 20
expect "TLS: a CA file that is not PEM is refused at start-up" 2 'garbage.pem: not PEM' -- \
  "$bin" worker --controller "127.0.0.1:$tls_port" --tls-ca "$tmp/garbage.pem"
expect "TLS: the right CA trains the search" 0 'search finished' -- \
  "$bin" worker --controller "localhost:$tls_port" --tls-ca "$tmp/ca.pem" --give-up-seconds 20
"$bin" worker --controller "127.0.0.1:$plain_port" --quiet --give-up-seconds 20

# --- Storage: a foreign database untouched; a finished one read from read-only storage. ---
sql "$tmp/recipes.db" 'CREATE TABLE recipes (name TEXT)'
for command in "db init --db $tmp/recipes.db" \
  "controller --config $tmp/faults.textproto --db $tmp/recipes.db"; do
  # shellcheck disable=SC2086
  expect "refused: ${command%% --*}" 1 "not actsearch's" -- "$bin" $command
done
check "a foreign database is left in its journal mode" test \
  "$(sql "$tmp/recipes.db" 'PRAGMA journal_mode')" = delete
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod 755 "$tmp"  # for nobody to reach the files
  mkdir "$tmp/readonly"
  cp "$tmp/backup.db" "$tmp/readonly/results.db"
  chmod 555 "$tmp/readonly"
  chmod 444 "$tmp/readonly/results.db"
  as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
  expect "read-only storage: the leaderboard reads it" 0 '^ +1 ' -- \
    as_nobody "$bin" leaderboard --db "$tmp/readonly/results.db" --search faults
  chmod 755 "$tmp/readonly"
  printf 'not empty' >"$tmp/readonly/results.db-wal"
  chmod 555 "$tmp/readonly"
  expect "read-only storage with results in the -wal: says what to do" 1 \
    'on read-only storage, with results still in .*-wal' -- \
    as_nobody "$bin" leaderboard --db "$tmp/readonly/results.db"
  chmod 755 "$tmp/readonly"
else
  echo "skipped: read-only storage (needs root to act as another user)"
fi

finish
