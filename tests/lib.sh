# Shared by the end-to-end test scripts: the binary, a scratch directory cleaned on exit
# (with any background process listed in `pids`), and the checks with their tally.
#   expect NAME CODE PATTERN -- COMMAND...  runs COMMAND; its exit code must be CODE and its
#                                           stdout+stderr match the extended regex PATTERN
#   matches NAME PATTERN FILE               a line of FILE matches PATTERN
#   check NAME CONDITION...                 the command CONDITION succeeds
#   finish                                  prints the tally; the script's exit status
bin="${ACTSEARCH:?set ACTSEARCH to the actsearch binary}"
tmp="$(mktemp -d)"
pids=()
trap 'kill -9 "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  printf 'FAIL %s\n' "$*"
}

expect() {
  local name="$1" code="$2" pattern="$3"
  shift 4
  local out rc
  out="$("$@" 2>&1)"
  rc=$?
  if [ "$rc" -eq "$code" ] && grep -Eq -- "$pattern" <<<"$out"; then
    pass
  else
    fail "$name: exit $rc (wanted $code), output:"
    printf '%s\n' "$out" | tail -20
  fi
}

matches() {
  if grep -Eq -- "$2" "$3"; then
    pass
  else
    fail "$1: no line matches $2 in:"
    tail -20 "$3"
  fi
}

check() {
  local name="$1"
  shift
  if "$@"; then pass; else fail "$name"; fi
}

sql() { sqlite3 "$1" "$2"; }

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
