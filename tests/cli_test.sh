#!/usr/bin/env bash
# End-to-end checks of the actsearch binary as users type it: output and exit codes.
set -u
source "$(dirname "$0")/lib.sh"

expect "count 1 unit" 0 '^6250$' -- "$bin" space count --units 1
expect "count 2 units" 0 '^156250000$' -- "$bin" space count --units 2
expect "count json" 0 '^\{"candidates":6250\}$' -- "$bin" space count --format json
expect "count csv" 0 '^candidates$' -- "$bin" space count --format csv
expect "count subset" 0 '^18$' -- "$bin" space count --unary identity,sin,cos --binary add,max
expect "distinct" 0 'distinct +[0-9]+' -- "$bin" space count --units 1 --distinct
expect "eval table" 0 '2\.5 +-3\.3011436' -- "$bin" space eval 'cos(x) - x' --points -1,0,2.5
expect "eval json" 0 '"value":-3.30114361554693' -- \
  "$bin" space eval 'cos(x) - x' --points -1,0,2.5 --format json
expect "eval beta" 0 'df/dbeta1' -- "$bin" space eval 'x * sigmoid(beta * x)' --beta 2
expect "eval wrong beta count" 2 'has 1 betas, 2 given' -- \
  "$bin" space eval 'x * sigmoid(beta * x)' --beta 1,2
expect "malformed expression" 2 "column 6: expected '\)'" -- "$bin" space eval 'sin(x'
expect "unknown function" 2 "unknown function 'tan'" -- "$bin" space eval 'tan(x)'
expect "bad points" 2 "'abc' is not a number" -- "$bin" space eval x --points 1,abc
expect "unknown flag" 2 'unrecognised option|unrecognized option' -- "$bin" space count --bogus
expect "unknown command" 2 "unknown command 'serch'" -- "$bin" serch
expect "unknown operator" 2 "unknown unary operator 'tan'" -- "$bin" space count --unary tan
expect "no args" 2 'usage' -- "$bin"
expect "help" 0 'reading results:' -- "$bin" --help
expect "command suggestion" 2 "unknown command 'serches' \(did you mean 'searches'\?\)" -- "$bin" serches
expect "operator suggestion" 2 "unknown unary operator 'sni' \(did you mean 'sin'\?\)" -- \
  "$bin" space count --unary identity,sni
expect "function suggestion" 2 "unknown function 'sigmod' \(did you mean 'sigmoid'\?\)" -- \
  "$bin" space eval 'x * sigmod(x)'
for command in local controller worker stop searches trials trial leaderboard export train \
  reevaluate; do
  expect "$command --help has examples" 0 '^examples:' -- "$bin" "$command" --help
done
expect "list" 0 '^ +0  [0-9a-f]{16}  accepted +x \+ x$' -- "$bin" space list --limit 1
expect "list distinct" 0 'accepted' -- "$bin" space list --distinct --limit 5
expect "sample json" 0 '"fingerprint"' -- "$bin" space sample --units 2 --count 3 --format json
expect "encode" 0 '^x x identity sin max$' -- "$bin" space encode 'max(x, sin(x))'
expect "encode an equal form" 0 '^x x scale identity sigmul$' -- \
  "$bin" space encode 'x * sigmoid(beta * x)'
expect "encode says so" 0 "encoded the equal form 'sigmoid\(beta \* x\) \* x'" -- \
  "$bin" space encode 'x * sigmoid(beta * x)'
expect "encode through the class" 0 "^x x identity neg max$" -- "$bin" space encode 'abs(abs(x))'
expect "encode unreachable" 1 'not reachable .* no candidate among the first 6250' -- \
  "$bin" space encode 'sin(sin(x))'
expect "decode" 0 '^max\(x, sin\(x\)\)$' -- "$bin" space decode x x identity sin max
expect "decode illegal" 2 "token 1 'y1'" -- "$bin" space decode y1 x identity sin max
expect "ops" 0 'unary \(25\)' -- "$bin" space ops

cat >"$tmp/space.textproto" <<'CONFIG'
space {
  units: 1
  unary: ["identity", "sin", "cos"]
  binary: ["add", "max"]
}
CONFIG
expect "config" 0 '^18$' -- "$bin" space count --config "$tmp/space.textproto"
printf 'space { units: 1\n  unary: ["identity", "tan"] }\n' >"$tmp/bad_op.textproto"
expect "config bad operator" 2 "space.unary: unknown unary operator 'tan'" -- \
  "$bin" space count --config "$tmp/bad_op.textproto"
printf 'space { unitz: 2 }\n' >"$tmp/bad_field.textproto"
expect "config bad field" 2 'line 1, column [0-9]+: .*unitz' -- \
  "$bin" space count --config "$tmp/bad_field.textproto"
expect "config missing" 2 'nothere.textproto: cannot open' -- \
  "$bin" space count --config "$tmp/nothere.textproto"

# Results databases: created by `db init`, filled here with SQL as a controller would.
db="$tmp/results.db"
expect "db init" 0 'schema version 7' -- "$bin" db init --db "$db"
expect "db init again" 0 'up to date' -- "$bin" db init --db "$db"
sqlite3 "$db" <<'SQL'
INSERT INTO searches (id, name, config, seed, started_at, status) VALUES (1, 'demo', '', 1, 0, 'running');
INSERT INTO candidates (id, search_id, expression, fingerprint, proposed_by, screen, created_at) VALUES
  (1, 1, 'x * sigmoid(beta * x)', 'swish', 'ppo', 'accepted', 0),
  (2, 1, 'sigmoid(beta * x) * x', 'swish', 'ppo', 'accepted', 0),
  (3, 1, 'relu(x)', 'relu', 'manual', 'accepted', 0),
  (4, 1, 'exp(exp(x))', 'boom', 'ppo', 'accepted', 0);
INSERT INTO candidate_operators VALUES (1, 'mul'), (1, 'sigmoid'), (1, 'scale'), (3, 'relu');
INSERT INTO trials (id, candidate_id, seed, state, created_at, updated_at) VALUES
  (1, 1, 1, 'done', 0, 0), (2, 2, 2, 'done', 0, 0), (3, 3, 1, 'done', 0, 0),
  (4, 4, 1, 'diverged', 0, 0), (5, 3, 2, 'queued', 0, 0);
INSERT INTO results (trial_id, validation_accuracy, test_accuracy, steps, recorded_at) VALUES
  (1, 0.90, 0.89, 300, 0), (2, 0.92, 0.91, 300, 0), (3, 0.88, 0.87, 300, 0), (4, 0.0, NULL, 7, 0);
SQL
expect "leaderboard table" 0 \
  '^ +1  91\.00  1\.41  2  92\.00  90\.00    300  sigmoid\(beta \* x\) \* x  swish$' -- \
  "$bin" leaderboard --db "$db"
expect "leaderboard csv" 0 '^1,0\.91,0\.0141[0-9]*,2,0\.92,0\.9,300,sigmoid\(beta \* x\) \* x,swish$' -- \
  "$bin" leaderboard --db "$db" --format csv
expect "leaderboard json" 0 '"expression":"relu\(x\)"' -- "$bin" leaderboard --db "$db" --format json
expect "leaderboard jsonl" 0 '^\{"rank":2,.*"relu\(x\)"' -- "$bin" leaderboard --db "$db" --format jsonl
expect "leaderboard top" 0 '^\[\{"rank":1[^]]*\}\]$' -- "$bin" leaderboard --db "$db" --top 1 --format json
expect "leaderboard operator" 0 'relu\(x\)' -- "$bin" leaderboard --db "$db" --operators relu
expect "leaderboard diverged" 0 'exp\(exp\(x\)\)' -- \
  "$bin" leaderboard --db "$db" --states done,diverged
expect "leaderboard min trials" 0 'swish' -- "$bin" leaderboard --db "$db" --min-trials 2
# No controller ever claimed "demo": its status is running, but nothing runs it.
expect "searches" 0 '^ +1 +demo +interrupted +\? +4 trials +3 +1 +0 +0 +0 +1 .* 92\.00$' -- \
  "$bin" searches --db "$db"
expect "db check" 0 'integrity ok' -- "$bin" db check --db "$db"

# Bad input: one line naming the path, a non-zero exit, nothing modified.
before="$(sha256sum "$db")"
expect "unknown search" 1 "results.db: no search with id 9" -- "$bin" leaderboard --db "$db" --search 9
expect "missing db" 1 "nothere.db: No such file or directory" -- "$bin" leaderboard --db "$tmp/nothere.db"
check "missing db not created" test ! -e "$tmp/nothere.db"
mkdir "$tmp/folder.db"
expect "directory db" 1 "folder.db: is a directory" -- "$bin" searches --db "$tmp/folder.db"
head -c 20000 /dev/urandom >"$tmp/garbage.db"
garbage_before="$(sha256sum "$tmp/garbage.db")"
expect "garbage db" 1 "garbage.db: not an SQLite database" -- "$bin" leaderboard --db "$tmp/garbage.db"
check "garbage not modified" test "$(sha256sum "$tmp/garbage.db")" = "$garbage_before"
sqlite3 "$tmp/other.db" 'CREATE TABLE recipes (name TEXT)'
expect "foreign db" 1 "other.db: not an actsearch results database" -- "$bin" leaderboard --db "$tmp/other.db"
expect "bad format" 2 "--format must be table, csv, json or jsonl, not 'xml'" -- \
  "$bin" leaderboard --db "$db" --format xml
expect "bad state" 1 "unknown trial state 'finished'" -- "$bin" leaderboard --db "$db" --states finished
check "readers modify nothing" test "$(sha256sum "$db")" = "$before"

# Numbers are validated everywhere: a usage error naming the flag and the allowed range.
expect "train negative steps" 2 '^actsearch: --steps: got -5, must be from 1 to ' -- \
  "$bin" train --steps -5
expect "train negative lr" 2 '--lr: got -1, must be a finite number above 0' -- "$bin" train --lr -1
expect "train infinite lr" 2 '--lr: got inf, must be a finite number above 0' -- \
  "$bin" train --lr inf
expect "train zero batch" 2 '--batch: got 0, must be from 1 to ' -- "$bin" train --batch 0
expect "train negative threads" 2 '--threads: got -1, must be from 0 to 1024' -- \
  "$bin" train --threads -1
expect "train zero validation" 2 '--validation: got 0, must be at least 1' -- \
  "$bin" train --validation 0
expect "train zero training images" 2 '--train-images: got 0, must be at least 1' -- \
  "$bin" train --train-images 0
expect "train more training images than the split" 1 \
  'synthetic: 1601 training images asked for, the training split holds 1600' -- \
  "$bin" train --dataset synthetic --train-images 1601 --steps 1
expect "train on a reduced set" 0 'synthetic \(300 train, 400 validation' -- \
  "$bin" train --dataset synthetic --train-images 300 --steps 2 --batch 8 --quiet
expect "sample negative count" 2 '--count: got -3, must be from 1 to ' -- \
  "$bin" space sample --count -3
expect "empty unary list" 2 "--unary: got '', must be a non-empty list" -- \
  "$bin" space count --unary ''
expect "space units range" 2 '--units: got 9, must be from 1 to 4' -- "$bin" space count --units 9
expect "local without workers" 2 '--workers: got 0, must be from 1 to 256' -- \
  "$bin" local --db "$tmp/none.db" --workers 0
expect "unknown leaderboard operator" 2 "--operators: unknown operator 'foo'" -- \
  "$bin" leaderboard --db "$db" --operators foo
expect "mistyped leaderboard operator" 2 "unknown operator 'sigmod' \(did you mean 'sigmoid'\?\)" -- \
  "$bin" leaderboard --db "$db" --operators sigmod
expect "train unknown profile" 2 "--profile: unknown training profile 'fast'" -- \
  "$bin" train --profile fast
expect "train malformed expression" 2 "--expr: column 6: expected" -- "$bin" train --expr "sin(x"

# `train`: progress that scales with the run and covers loading and the final evaluation, a
# result on stdout of its own, and every activation spec the rest of the tool accepts.
tiny=(--dataset synthetic --profile test --steps 4 --model resnet8 --threads 1)
"$bin" train --dataset synthetic --profile test --steps 40 --model resnet8 --threads 1 \
  >"$tmp/train.out" 2>"$tmp/train.err"
matches "train loading" '^loading synthetic \.\.\.$' "$tmp/train.err"
matches "train loaded" '^loaded synthetic: 1600 train, 400 validation, 500 test images' \
  "$tmp/train.err"
matches "train progress at 5%" '^\[#+ *\] step 2/40  loss [0-9.]+  [0-9.]+ steps/s  .* left$' \
  "$tmp/train.err"

# On a terminal the bar is one line redrawn in place ('script' gives the command one).
script -qec "$bin train --dataset synthetic --profile test --steps 40 --model resnet8 --threads 1 \
  --format json" /dev/null >"$tmp/tty.out" 2>&1
check "train on a terminal: the bar is redrawn in place" \
  grep -q $'\r\\[#* *\\] step 40/40.*\x1b\\[K' "$tmp/tty.out"
check "train on a terminal: the phases stay on lines of their own" \
  grep -q $'^evaluating on the validation and test sets' "$tmp/tty.out"
matches "train evaluating" '^evaluating on the validation and test sets after 40 steps' \
  "$tmp/train.err"
check "train result on stdout alone" test "$(head -1 "$tmp/train.out")" = "status               done"
expect "train csv curve" 0 '^step,loss,validation$' -- "$bin" train "${tiny[@]}" --quiet --format csv
expect "train --evaluate-averaged alone" 2 '--evaluate-averaged needs --evaluate-every' -- \
  "$bin" train "${tiny[@]}" --evaluate-averaged
expect "train csv curve, averaged weights beside the current ones" 0 \
  '^2,[0-9.]+,[0-9.]+,[0-9.]+$' -- \
  "$bin" train "${tiny[@]}" --quiet --format csv --evaluate-every 2 --evaluate-averaged
for spec in swish sugar:bsilu 'sugar:expr=x * tanh(x)' pwlu 'pwlu:init=x * tanh(x)'; do
  expect "train --expr $spec" 0 '^status +done' -- "$bin" train "${tiny[@]}" --quiet --expr "$spec"
done

# Re-evaluation: a tiny database of `train --db` runs (synthetic images, a 4-step ResNet-8), then
# its three classes in every mode beside the baselines; one run, its output checked line by line.
rdb="$tmp/reevaluate.db"
# `tiny` (above) trains on one thread: on a small shared machine a second one costs more than
# it gives to a tiny model.
for activation in relu 'x * sigmoid(beta * x)' 'x * tanh(softplus(x))'; do
  "$bin" train --db "$rdb" "${tiny[@]}" --quiet --expr "$activation" >/dev/null ||
    fail "train --db $activation"
done
"$bin" reevaluate --db "$rdb" --top 3 --modes plain,sugar,pwlu --seeds 2 "${tiny[@]}" \
  >"$tmp/reevaluate.out" 2>"$tmp/reevaluate.err"
rc=$?
[ "$rc" -eq 0 ] || { fail "reevaluate: exit $rc"; cat "$tmp/reevaluate.err"; }
number='[0-9]+\.[0-9]{2}'
stats="resnet8 +$number +$number +$number +$number +2 +0"
matches "reevaluate header" '^rank +activation +mode +model +val% +\+- +test% +\+- +runs +diverged +spec$' \
  "$tmp/reevaluate.out"
matches "reevaluate baseline relu" "^ +relu +baseline +$stats +relu$" "$tmp/reevaluate.out"
matches "reevaluate baseline swish" "^ +swish +baseline +$stats +x \* sigmoid\(beta \* x\)$" \
  "$tmp/reevaluate.out"
matches "reevaluate plain" "x \* tanh\(softplus\(x\)\) +plain +$stats +x \* tanh\(softplus\(x\)\)$" \
  "$tmp/reevaluate.out"
matches "reevaluate sugar" "x \* sigmoid\(beta \* x\) +sugar +$stats +sugar:expr=x \* sigmoid\(beta \* x\)$" \
  "$tmp/reevaluate.out"
matches "reevaluate pwlu" "x \* tanh\(softplus\(x\)\) +pwlu +$stats +pwlu:init=x \* tanh\(softplus\(x\)\)$" \
  "$tmp/reevaluate.out"
matches "reevaluate pwlu of relu" "relu\(x\) +pwlu +$stats +pwlu$" "$tmp/reevaluate.out"
[ "$(grep -c . "$tmp/reevaluate.out")" -eq 9 ] ||
  { fail "reevaluate: wanted a header and 8 rows"; cat "$tmp/reevaluate.out"; }
matches "reevaluate skips sugar of relu" "skipping sugar relu\(x\): its derivative is ReLU's step" \
  "$tmp/reevaluate.err"
matches "reevaluate skips a baseline again" \
  'skipping plain x \* sigmoid\(beta \* x\): the same activation as baseline swish' "$tmp/reevaluate.err"
matches "reevaluate progress" '^\[16/16\] pwlu relu\(x\) on resnet8 seed 1: done  val ' "$tmp/reevaluate.err"
expect "reevaluate recorded" 0 '^ +[0-9]+ .* 2 .* sugar:expr=x \* tanh\(softplus\(x\)\) ' -- \
  "$bin" leaderboard --db "$rdb" --search 2 --operators sugar
expect "reevaluate search" 0 '^ +2 +reevaluate resnet8 synthetic test 4 steps +finished +reevaluation +16 trials +16 +0 +0 +0 +0 +0 ' -- \
  "$bin" searches --db "$rdb"
# Several models: every activation on each, each model's runs a search of their own.
"$bin" reevaluate --db "$rdb" --top 2 --modes plain --baselines '' --seeds 1 \
  --dataset synthetic --profile test --steps 4 --threads 1 --model resnet8,resnet14 --search-name 'two models' >"$tmp/models.out" 2>"$tmp/models.err" ||
  fail "reevaluate on two models: exit $?"
matches "reevaluate plan on two models" '2 activations x 2 models x 1 seeds = 4 runs' \
  "$tmp/models.err"
for model in resnet8 resnet14; do
  [ "$(grep -cE " plain +$model +$number " "$tmp/models.out")" -eq 2 ] ||
    { fail "reevaluate: wanted 2 rows on $model"; cat "$tmp/models.out"; }
  expect "reevaluate search of $model" 0 "^ +[0-9]+ +two models $model +finished +reevaluation +2 trials " \
    -- "$bin" searches --db "$rdb"
done
expect "reevaluate bad model" 2 "--model: .*resnet9" -- \
  "$bin" reevaluate --db "$rdb" --model resnet8,resnet9
expect "reevaluate bad mode" 2 "unknown mode 'fast' in --modes \(plain, sugar, pwlu\)" -- \
  "$bin" reevaluate --db "$rdb" --modes plain,fast
expect "reevaluate bad baseline" 2 "--baselines: column 7: expected a surrogate" -- \
  "$bin" reevaluate --db "$rdb" --baselines relu,sugar:fast
"$bin" db init --db "$tmp/empty.db" >/dev/null
expect "reevaluate empty database" 1 'empty.db: holds no search yet' -- \
  "$bin" reevaluate --db "$tmp/empty.db"

# --- plot: functions to SVG and PNG through gnuplot (installed by the set-up). ---
expect "plot to SVG" 0 '3 functions drawn' -- \
  "$bin" plot 'x * sigmoid(x)' 'max(x, sigmoid(x))' --references --derivative --out "$tmp/f.svg"
check "plot: the SVG names each function" test "$(grep -c -e 'max(x, sigmoid(x))' -e 'relu(x)' \
  "$tmp/f.svg")" -ge 2
expect "plot a leaderboard's best to PNG" 0 'functions drawn' -- \
  "$bin" plot --from-db "$rdb" --search 1 --top 3 --out "$tmp/best.png"
check "plot: a PNG file" test "$(head -c 4 "$tmp/best.png" | tail -c 3)" = PNG
expect "plot a malformed expression" 2 'column 5: expected' -- \
  "$bin" plot 'x * ' --out "$tmp/bad.svg"
expect "plot to an unknown format" 2 'must be .svg or .png' -- "$bin" plot x --out "$tmp/f.pdf"
expect "plot nothing" 2 'nothing to plot' -- "$bin" plot --out "$tmp/f.svg"

finish
