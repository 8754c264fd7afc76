#!/usr/bin/env bash
# Multi-fidelity search with real processes: ASHA stops children at its rungs and the database
# records them (state, pruned, curve, the verdicts); a controller killed mid-rung resumes with
# the same verdicts; the leaderboard ranks by fidelity. Evaluations judging averaged weights
# change what a search hears, never a child's result. Then a re-evaluation served by the
# controller: its trials leased to two workers, one killed mid-run, the controller killed and
# restarted, and every (activation, seed) ends with exactly one result. About two minutes.
set -u
source "$(dirname "$0")/lib.sh"

cat >"$tmp/asha.textproto" <<'CONFIG'
name: "asha"
seed: 3
space {
  units: 1
  unary: ["identity", "neg", "abs", "sigmoid", "tanh", "relu", "sin", "square", "beta"]
  binary: ["add", "mul", "max", "min", "sigmul", "sub"]
}
strategy { random {} }
child { proxy { steps: 900 } }
early_stopping { asha { eta: 3 min_steps: 100 } evaluate_every: 150 }
budget { max_trials: 60 }
dispatch { lease_seconds: 4 heartbeat_seconds: 1 }
CONFIG
db="$tmp/asha.db"

# --- An ASHA search, its controller killed mid-search (SIGKILL) and restarted. ---
port=$((20000 + $$ % 20000))
export ACTSEARCH_TOKEN=multifidelity-secret
"$bin" controller --config "$tmp/asha.textproto" --db "$db" --listen "127.0.0.1:$port" \
  --progress-seconds 0 >"$tmp/controller.log" 2>&1 &
controller=$!
pids+=("$controller")
wait_for_port "$port"
"$bin" worker --controller "127.0.0.1:$port" --name w1 --give-up-seconds 60 --quiet &
pids+=($!)
"$bin" worker --controller "127.0.0.1:$port" --name w2 --give-up-seconds 60 --quiet &
pids+=($!)
for _ in $(seq 600); do
  [ "$(sql "$db" "SELECT COUNT(*) FROM evaluations WHERE verdict = 'stop'" 2>/dev/null)" -ge 5 ] &&
    break
  sleep 0.05
done
kill -9 "$controller"
wait "$controller" 2>/dev/null
before="$(sql "$db" "SELECT trial_id, step, verdict FROM evaluations ORDER BY 1, 2")"
check "verdicts were given before the kill" test -n "$before"
"$bin" controller --config "$tmp/asha.textproto" --db "$db" --listen "127.0.0.1:$port" \
  --progress-seconds 0 >"$tmp/controller2.log" 2>&1 &
controller=$!
pids+=("$controller")
wait "$controller"
check "resumed ASHA search: exit 0" test $? = 0
wait  # the workers heard the end
after="$(sql "$db" "SELECT trial_id, step, verdict FROM evaluations ORDER BY 1, 2")"
kept="$(comm -23 <(sort <<<"$before") <(sort <<<"$after"))"
check "every verdict given before the kill stands after the resume" test -z "$kept"
check "search finished" test "$(sql "$db" 'SELECT status FROM searches')" = finished
check "60 trainings" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials WHERE state NOT IN ('screened', 'queued', 'leased')")" = 60

# A pruned child: stopped_early, pruned, its steps at a rung, the rung in its curve with the
# accuracy it reported, a stop verdict there, and a reward.
pruned="$(sql "$db" "SELECT COUNT(*) FROM results WHERE pruned = 1")"
check "children were stopped at the rungs ($pruned)" test "$pruned" -ge 10
check "every pruned child: stopped_early at a rung, with its stop verdict" test "$(sql "$db" "
  SELECT COUNT(*) FROM results r JOIN trials t ON t.id = r.trial_id
  WHERE r.pruned = 1 AND (t.state <> 'stopped_early' OR r.steps NOT IN (100, 300)
    OR r.reward IS NULL OR NOT EXISTS (SELECT 1 FROM evaluations e WHERE e.trial_id = t.id
      AND e.step = r.steps AND e.verdict = 'stop' AND e.validation_accuracy = r.validation_accuracy))
")" = 0
check "a pruned child's curve ends at its rung with its accuracy" test "$(sql "$db" "
  SELECT COUNT(*) FROM results
  WHERE pruned = 1 AND json_extract(learning_curve, '\$[#-1][0]') = steps
    AND json_extract(learning_curve, '\$[#-1][2]') = validation_accuracy")" = "$pruned"
check "children that trained on ran their whole budget" test "$(sql "$db" "
  SELECT COUNT(*) FROM results r JOIN trials t ON t.id = r.trial_id
  WHERE t.state = 'done' AND r.steps <> 900")" = 0
check "off-rung evaluations carry no verdict" test "$(sql "$db" "
  SELECT COUNT(*) FROM evaluations WHERE step NOT IN (100, 300) AND verdict <> ''")" = 0
"$bin" leaderboard --db "$db" --format csv --top 1000 >"$tmp/board.csv"
check "the leaderboard ranks by fidelity first" python3 - "$tmp/board.csv" <<'PY'
import csv, sys
steps = [int(row["steps"]) for row in csv.DictReader(open(sys.argv[1]))]
sys.exit(0 if steps == sorted(steps, reverse=True) and steps[0] == 900 and steps[-1] < 900 else 1)
PY

# --- Judging on averaged weights: the same exhaustive search twice, curves recorded at steps
# 100 and 200, the second judging the averaged weights. Every class must end with the same
# result; the evaluations must be other numbers. ---
for judge in current averaged; do
  {
    echo "name: \"$judge\" seed: 5"
    echo 'space { units: 1 unary: ["identity", "neg", "tanh", "sin", "relu"] binary: ["add", "max"] }'
    echo 'strategy { exhaustive {} } child { proxy { steps: 300 } }'
    echo "early_stopping { evaluate_every: 100 averaged_weights: $([ $judge = averaged ] && echo true || echo false) }"
  } >"$tmp/$judge.textproto"
  "$bin" local --config "$tmp/$judge.textproto" --db "$tmp/$judge.db" --workers 2 \
    --progress-seconds 0 >"$tmp/$judge.log" 2>&1
  check "the search judging $judge weights: exit 0" test $? = 0
  sql "$tmp/$judge.db" "SELECT c.fingerprint, r.validation_accuracy FROM results r
    JOIN trials t ON t.id = r.trial_id JOIN candidates c ON c.id = t.candidate_id
    WHERE t.state = 'done' ORDER BY 1" >"$tmp/$judge.results"
  sql "$tmp/$judge.db" "SELECT c.fingerprint, e.step, e.validation_accuracy FROM evaluations e
    JOIN trials t ON t.id = e.trial_id JOIN candidates c ON c.id = t.candidate_id
    WHERE t.state = 'done' ORDER BY 1, 2" >"$tmp/$judge.evaluations"
done
check "classes trained to the end ($(wc -l <"$tmp/current.results"))" \
  test "$(wc -l <"$tmp/current.results")" -ge 10
check "averaged weights leave every class's result as it was" \
  cmp -s "$tmp/current.results" "$tmp/averaged.results"
check "both searches evaluated every child at 100 and 200" test "$(cut -d'|' -f1,2 \
  "$tmp/current.evaluations" | sort -u | wc -l)" = "$(($(wc -l <"$tmp/current.results") * 2))"
differ="$(paste -d'|' "$tmp/current.evaluations" "$tmp/averaged.evaluations" |
  awk -F'|' '$1 == $4 && $2 == $5 && $3 != $6' | wc -l)"
check "most evaluations judged other weights ($differ)" \
  test "$differ" -ge "$(wc -l <"$tmp/current.evaluations" | awk '{print int($1 / 2)}')"
expect "a trial's curve says it judged averaged weights" 0 \
  "learning curve \([0-9]+ points; validation before the end: the averaged weights'\)" -- \
  "$bin" trial --db "$tmp/averaged.db" \
  "$(sql "$tmp/averaged.db" "SELECT min(trial_id) FROM results")"

# --- A re-evaluation of its winners through the controller. ---
expect "write a re-evaluation config" 0 'serve them with' -- \
  "$bin" reevaluate --db "$db" --top 2 --seeds 2 --modes plain,sugar --baselines relu \
  --dataset synthetic --model resnet8,resnet14 --steps 80 --write-config "$tmp/re.textproto"
echo 'dispatch { lease_seconds: 4 heartbeat_seconds: 1 }' >>"$tmp/re.textproto"
runs="$(grep -c '^  runs {' "$tmp/re.textproto")"
"$bin" controller --config "$tmp/re.textproto" --db "$db" --listen "127.0.0.1:$port" \
  --progress-seconds 0 >"$tmp/re.log" 2>&1 &
controller=$!
pids+=("$controller")
wait_for_port "$port"
"$bin" worker --controller "127.0.0.1:$port" --name r1 --threads 1 --give-up-seconds 60 --quiet &
doomed=$!
"$bin" worker --controller "127.0.0.1:$port" --name r2 --threads 1 --give-up-seconds 60 \
  2>"$tmp/r2.err" &
survivor=$!
pids+=("$doomed" "$survivor")
leased_to() {
  sql "$db" "SELECT COUNT(*) FROM trials t JOIN workers w ON w.id = t.worker_id
             WHERE t.state = 'leased' AND w.name = '$1'" 2>/dev/null
}
for _ in $(seq 600); do [ "$(leased_to r1)" = 1 ] && break; sleep 0.05; done
check "both workers hold a trial" test "$(leased_to r1)" = 1
kill -9 "$doomed"  # mid-run: its lease expires and its trial goes to the other worker
# The controller killed too once a few runs are in, then restarted: it resumes the queue.
for _ in $(seq 600); do
  [ "$(sql "$db" "SELECT COUNT(*) FROM results r JOIN trials t ON t.id = r.trial_id
    JOIN candidates c ON c.id = t.candidate_id JOIN searches s ON s.id = c.search_id
    WHERE s.kind = 'reevaluation'")" -ge 3 ] && break
  sleep 0.1
done
kill -9 "$controller"
wait "$controller" 2>/dev/null
"$bin" controller --config "$tmp/re.textproto" --db "$db" --listen "127.0.0.1:$port" \
  --progress-seconds 0 >"$tmp/re2.log" 2>"$tmp/re2.err" &
controller=$!
pids+=("$controller")
wait "$controller"
rc=$?
check "resumed re-evaluation: exit 0" test "$rc" = 0
[ "$rc" = 0 ] || cat "$tmp/re2.err" "$tmp/re.log"
wait "$survivor"
check "the surviving worker saw the end: exit 0" test $? = 0
re_search="$(sql "$db" "SELECT id FROM searches WHERE kind = 'reevaluation'")"
check "one result per (activation, model, seed), $runs x 2" test "$(sql "$db" "
  SELECT COUNT(*) FROM (SELECT c.expression, t.model, t.seed, COUNT(r.trial_id) AS n
    FROM trials t JOIN candidates c ON c.id = t.candidate_id
    LEFT JOIN results r ON r.trial_id = t.id WHERE c.search_id = $re_search
    GROUP BY 1, 2, 3 HAVING n = 1)")" = $((runs * 2))
check "each model has half the runs" test "$(sql "$db" "
  SELECT COUNT(*) FROM trials t JOIN candidates c ON c.id = t.candidate_id
  WHERE c.search_id = $re_search AND t.model = 'resnet14'")" = "$runs"
matches "a worker trained the runs on resnet14 as a resnet14" \
  '^worker: trial [0-9]+ \(attempt [0-9]+\) .* on resnet14: done' "$tmp/r2.err"
check "no more trials than (activation, model, seed) triples" test "$(sql "$db" "
  SELECT COUNT(*) FROM trials t JOIN candidates c ON c.id = t.candidate_id
  WHERE c.search_id = $re_search")" = $((runs * 2))
check "the killed worker's trial was leased again" test "$(sql "$db" "
  SELECT COUNT(*) FROM trials t JOIN candidates c ON c.id = t.candidate_id
  WHERE c.search_id = $re_search AND t.attempt > 1")" -ge 1
matches "the controller prints the table at the end" '^ +relu +baseline ' "$tmp/re2.log"
expect "the table from the database" 0 '^,relu,baseline,resnet14,[0-9.]+,[0-9.]*,[0-9.]+,[0-9.]*,2,0,relu\(x\)$' -- \
  "$bin" reevaluate --db "$db" --report --format csv
"$bin" leaderboard --db "$db" --search "$re_search" --format csv >"$tmp/re-board.csv"
check "the leaderboard ranks the baseline on each model apart, two seeds each" test "$(grep -cE \
  '^[0-9]+,[0-9.]+,[0-9.]*,2,[0-9.]+,[0-9.]*,80,resnet(8|14),relu\(x\),' "$tmp/re-board.csv")" = 2
expect "a report of a search that is no re-evaluation" 1 'not a re-evaluation served' -- \
  "$bin" reevaluate --db "$db" --report asha
finish
