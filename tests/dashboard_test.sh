#!/usr/bin/env bash
# The dashboard in a real headless browser (Debian's chromium, installed here if missing, with
# Chart.js from libjs-chart.js) against a database made by a short proxy search: every page
# loads, charts are drawn (pixels on each canvas, not a blank one), the leaderboard shows the
# leaderboard's rows, a search whose name holds HTML is shown as text, the token is needed;
# and every API endpoint over HTTP, bad requests included. With SCREENSHOTS=DIR set it also
# saves a screenshot of each main page there (docs/images/ holds the last ones).
set -u
source "$(dirname "$0")/lib.sh"

install_packages chromium libjs-chart.js

# --- A database from a real search, its name holding HTML. ---
db="$tmp/dashboard.db"
cat >"$tmp/search.textproto" <<'CONFIG'
name: "proxy <b>bold</b>"
space {
  units: 1
  unary: ["identity", "neg", "abs", "sigmoid", "tanh", "relu", "sin", "square", "beta"]
  binary: ["add", "mul", "max", "min", "sigmul", "sub"]
}
strategy { ppo { batch_size: 3 } }
child { proxy { steps: 300 } }
budget { max_trials: 12 }
early_stopping { evaluate_every: 100 averaged_weights: true }
CONFIG
metrics_port=$((23000 + ($$ * 7) % 20000))
"$bin" local --config "$tmp/search.textproto" --db "$db" --workers 2 --progress-seconds 0 \
  --metrics-listen "127.0.0.1:$metrics_port" >"$tmp/local.log" 2>&1 &
search=$!
pids+=("$search")
# The controller's metrics while the search runs: until a training is counted.
for _ in $(seq 300); do
  curl -s "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics.txt" 2>/dev/null
  grep -q '^actsearch_trials_trained{search="proxy <b>bold</b>"} [1-9]' "$tmp/metrics.txt" && break
  sleep 0.1
done
matches "metrics: trainings counted while the search runs" \
  '^actsearch_trials_trained\{search="proxy <b>bold</b>"\} [1-9]' "$tmp/metrics.txt"
matches "metrics: leases granted" '^actsearch_leases_granted_total\{search=.*\} [1-9]' "$tmp/metrics.txt"
matches "metrics: typed for Prometheus" '^# TYPE actsearch_trials gauge$' "$tmp/metrics.txt"
check "metrics: only /metrics" test \
  "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$metrics_port/")" = 404
wait "$search"
check "a short search for the dashboard to show" test $? = 0
# Its best function re-evaluated (plain and SUGAR, two seeds), for the candidate page.
expect "a short re-evaluation" 0 '' -- "$bin" reevaluate --db "$db" --search 1 --top 1 \
  --modes plain,sugar --baselines '' --seeds 2 --dataset synthetic --profile test --steps 4 \
  --model resnet8 --threads 1

echo "dashboard-secret" >"$tmp/token"
port=$((22000 + ($$ * 5) % 20000))
"$bin" dashboard --db "$db" --listen "127.0.0.1:$port" --token-file "$tmp/token" \
  >"$tmp/dashboard.log" 2>&1 &
pids+=("$!")
wait_for_port "$port"
base="http://127.0.0.1:$port"

# --- The API over HTTP. ---
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
auth=(-H "Authorization: Bearer dashboard-secret")
check "API: no token, 401" test "$(status "$base/api/searches")" = 401
check "API: a wrong token, 401" test "$(status -H 'Authorization: Bearer nope' "$base/api/searches")" = 401
check "API: searches" test "$(curl -s "${auth[@]}" "$base/api/searches" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["trials"]["trained"])')" = 12
check "API: leaderboard as CSV" test "$(curl -s "${auth[@]}" "$base/api/leaderboard?format=csv" |
  head -1 | cut -d, -f1-2)" = "rank,expression"
check "API: one trial with its curve" test "$(curl -s "${auth[@]}" "$base/api/trials/1" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)["learning_curve"]) > 0)')" = True
check "API: workers" test "$(curl -s "${auth[@]}" "$base/api/workers?search=1" |
  python3 -c 'import json,sys; print(sum(w["finished"] for w in json.load(sys.stdin)))')" = 12
check "API: a function" test "$(status "${auth[@]}" "$base/api/function?expr=relu(x)")" = 200
check "API: a malformed expression, 400" test "$(status "${auth[@]}" "$base/api/function?expr=x%2B%2B")" = 400
check "API: a bad number, 400" test "$(status "${auth[@]}" "$base/api/leaderboard?top=-1")" = 400
check "API: an unknown search, 404" test "$(status "${auth[@]}" "$base/api/trials?search=nosuch")" = 404
check "API: an unknown path, 404" test "$(status "${auth[@]}" "$base/../../etc/passwd")" = 404
check "API: POST, 405" test "$(status -X POST "${auth[@]}" "$base/api/searches")" = 405
check "API: a broken escape, 400" test "$(status "${auth[@]}" "$base/api/function?expr=%zz")" = 400

# --- The pages in a headless browser. ---
browse() {  # browse PAGE [chromium options]: the page's DOM once its scripts have run
  local page="$1"
  shift
  timeout 120 chromium --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --virtual-time-budget=15000 --window-size=1280,900 --hide-scrollbars "$@" \
    "$base$page" 2>>"$tmp/chromium.log"
}
loaded() {  # loaded NAME PAGE MIN_CHARTS
  local dom
  dom="$(browse "$2" --dump-dom)"
  printf '%s' "$dom" >"$tmp/dom.html"
  local drawn
  drawn="$(grep -o 'data-charts-drawn="[0-9]*"' <<<"$dom" | grep -o '[0-9]*')"
  check "$1: loads" grep -q 'data-loaded="yes"' <<<"$dom"
  check "$1: no error shown" test -z "$(grep -o 'id="error"' <<<"$dom")"
  check "$1: at least $3 charts drawn (got ${drawn:-none})" test "${drawn:-0}" -ge "$3"
}
token_query="token=dashboard-secret"
check "API: the PPO policy's updates" test "$(curl -s "${auth[@]}" "$base/api/policy?search=1" |
  python3 -c 'import json,sys; print(len(json.load(sys.stdin)) >= 2)')" = True
loaded "searches page" "/?$token_query" 4
check "searches page: a name holding HTML is shown as text" \
  grep -q 'proxy &lt;b&gt;bold&lt;/b&gt;' "$tmp/dom.html"
check "searches page: and is no element" test -z "$(grep -o '<b>bold</b>' "$tmp/dom.html")"
check "searches page: the repeat count" grep -q 'title="proposals of a class already known"' \
  "$tmp/dom.html"
check "searches page: the early-stopping rule" \
  grep -q '<code>evaluate_every: 100 averaged_weights: true</code>' "$tmp/dom.html"
loaded "leaderboard page" "/leaderboard.html?search=1&$token_query" 10
shown="$(grep -o 'candidate.html?expr=[^"&]*' "$tmp/dom.html" | head -5 |
  python3 -c 'import sys, urllib.parse; [print(urllib.parse.unquote_plus(l.split("=", 1)[1].strip())) for l in sys.stdin]')"
expected="$("$bin" leaderboard --db "$db" --search 1 --top 5 --format json |
  python3 -c 'import json,sys; [print(r["expression"]) for r in json.load(sys.stdin)]')"
check "leaderboard page: the leaderboard's rows, in order" test "$shown" = "$expected"
top="$(head -1 <<<"$expected")"
top_query="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$top")"
dom="$(browse "/leaderboard.html?search=1&min_steps=301&$token_query" --dump-dom)"
check "leaderboard page: the fidelity filter (no result beyond 300 steps)" \
  test -z "$(grep -o 'candidate.html?expr=' <<<"$dom")"
loaded "candidate page" "/candidate.html?expr=$top_query&search=1&$token_query" 3
check "candidate page: its re-evaluation, plain and SUGAR" test \
  "$(grep -o -e '<td>plain</td>' -e '<td>sugar</td>' "$tmp/dom.html" | sort -u | wc -l)" = 2
loaded "compare page" "/compare.html?expr=relu(x)&expr=x%20*%20sigmoid(x)&$token_query" 2
loaded "workers page" "/workers.html?search=1&$token_query" 1
check "workers page: both workers of the search" test \
  "$(grep -o '<td>local-[12]</td>' "$tmp/dom.html" | sort -u | wc -l)" = 2
dom="$(browse "/leaderboard.html?search=1" --dump-dom)"
check "pages without the token show the API's refusal" grep -q 'missing or wrong token' <<<"$dom"

if [ -n "${SCREENSHOTS:-}" ]; then
  mkdir -p "$SCREENSHOTS"
  browse "/?$token_query" --screenshot="$SCREENSHOTS/dashboard-searches.png" >/dev/null
  browse "/leaderboard.html?search=1&$token_query" --screenshot="$SCREENSHOTS/dashboard-leaderboard.png" >/dev/null
  browse "/candidate.html?expr=$top_query&search=1&$token_query" \
    --screenshot="$SCREENSHOTS/dashboard-candidate.png" >/dev/null
  browse "/compare.html?expr=relu(x)&expr=x%20*%20sigmoid(x)&expr=x%20*%20tanh(x)&$token_query" \
    --screenshot="$SCREENSHOTS/dashboard-compare.png" >/dev/null
  browse "/workers.html?search=1&$token_query" --screenshot="$SCREENSHOTS/dashboard-workers.png" \
    >/dev/null
fi
finish
