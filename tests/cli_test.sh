#!/usr/bin/env bash
# End-to-end checks of `actsearch space`: output and exit codes as users see them.
set -u
bin="${ACTSEARCH:?set ACTSEARCH to the actsearch binary}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

# expect NAME EXIT_CODE PATTERN -- COMMAND...: runs COMMAND, checks its exit code and that
# its stdout+stderr matches the extended regex PATTERN.
expect() {
  local name="$1" code="$2" pattern="$3"
  shift 4
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  if [ "$rc" -eq "$code" ] && grep -Eq -- "$pattern" <<<"$out"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    printf 'FAIL %s: exit %s (wanted %s), output:\n%s\n' "$name" "$rc" "$code" "$out"
  fi
}

expect "count 1 unit" 0 '^6250$' -- "$bin" space count --units 1
expect "count 2 units" 0 '^156250000$' -- "$bin" space count --units 2
expect "count json" 0 '"candidates": 6250' -- "$bin" space count --format json
expect "count subset" 0 '^18$' -- "$bin" space count --unary identity,sin,cos --binary add,max
expect "distinct" 0 'distinct +[0-9]+' -- "$bin" space count --units 1 --distinct
expect "eval table" 0 '2\.5 +-3\.3011436' -- "$bin" space eval 'cos(x) - x' --points -1,0,2.5
expect "eval json" 0 '"value": -3.30114361554693' -- \
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
expect "help" 0 'commands:' -- "$bin" --help
expect "list" 0 '^ +0  [0-9a-f]{16}  accepted +x \+ x$' -- "$bin" space list --limit 1
expect "list distinct" 0 'accepted' -- "$bin" space list --distinct --limit 5
expect "sample json" 0 '"fingerprint"' -- "$bin" space sample --units 2 --count 3 --format json
expect "encode" 0 '^x x identity sin max$' -- "$bin" space encode 'max(x, sin(x))'
expect "encode unreachable" 1 'not reachable' -- "$bin" space encode 'x * sigmoid(beta * x)'
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
