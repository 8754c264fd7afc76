# Shared by the end-to-end test scripts: the binary, a scratch directory cleaned on exit
# (with any background process listed in `pids`), and the checks with their tally.
#   expect NAME CODE PATTERN -- COMMAND...  runs COMMAND; its exit code must be CODE and its
#                                           stdout+stderr match the extended regex PATTERN
#   matches NAME PATTERN FILE               a line of FILE matches PATTERN
#   check NAME CONDITION...                 the command CONDITION succeeds
#   wait_for_port PORT                      until a server listens on the loopback port
#   install_packages PACKAGE...             Debian packages the test needs, installed if missing
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

# wait_for_port PORT: until something listens on 127.0.0.1:PORT (30 s at most).
wait_for_port() {
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return
    sleep 0.1
  done
}

# install_packages PACKAGE...: Debian packages a test needs (a service, a browser), installed
# when missing (as root), the package lists refreshed once if the install needs it. Exits 1,
# saying why, when they cannot be had.
install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): ${missing[*]} not installed, and installing needs root" >&2
    exit 1
  fi
  echo "$(basename "$0"): installing ${missing[*]}" >&2
  # Tests run in parallel: an install waits for another's lock rather than failing.
  local wait=(-o DPkg::Lock::Timeout=900)
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get "${wait[@]}" install -y -qq
                 --no-install-recommends "${missing[@]}")
  "${install[@]}" >>"$tmp/apt.log" 2>&1 ||
    { apt-get "${wait[@]}" update -qq >>"$tmp/apt.log" 2>&1 &&
      "${install[@]}" >>"$tmp/apt.log" 2>&1; } ||
    { tail "$tmp/apt.log"; exit 1; }
}

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
