#!/usr/bin/env bash
# A search through the project's Slurm launcher (deploy/slurm/actsearch.sbatch) on a real Slurm:
# Debian's slurm-wlm and munge, installed here if missing, and a one-node cluster brought up on
# loopback in a scratch directory (its own munged socket, slurmctld and slurmd on free ports, no
# cgroups, no accounting). A proxy search with CPU workers is submitted; mid-search its worker
# step is cancelled, and the launcher starts another; then the whole job is cancelled (a
# graceful stop) and resubmitted, and the search finishes from its database. Every trial must
# end with one result and nothing may be left queued or leased.
set -u
source "$(dirname "$0")/lib.sh"
launcher="$(cd "$(dirname "$0")/.." && pwd)/deploy/slurm/actsearch.sbatch"

install_packages slurm-wlm munge

# --- A one-node cluster on loopback, all of it under $tmp. ---
cluster="$tmp/cluster"
mkdir -p "$cluster"/{state,spool,log}
chmod 755 "$tmp"  # munged refuses a socket directory others could replace
head -c 1024 /dev/urandom >"$cluster/munge.key"
chmod 400 "$cluster/munge.key"
munged --force --socket="$cluster/munge.socket" --key-file="$cluster/munge.key" \
  --pid-file="$cluster/munged.pid" --log-file="$cluster/log/munged.log" \
  --seed-file="$cluster/munge.seed" || { fail "munged did not start"; finish; exit; }
node="$(hostname -s)"
ctld_port=$((21000 + ($$ * 3) % 20000))
cat >"$cluster/slurm.conf" <<CONF
ClusterName=actsearch-test
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$cluster/munge.socket
StateSaveLocation=$cluster/state
SlurmdSpoolDir=$cluster/spool
SlurmctldPidFile=$cluster/slurmctld.pid
SlurmdPidFile=$cluster/slurmd.pid
SlurmctldLogFile=$cluster/log/slurmctld.log
SlurmdLogFile=$cluster/log/slurmd.log
SlurmctldPort=$ctld_port
SlurmdPort=$((ctld_port + 1))
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
KillWait=10
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$cluster/slurm.conf"
stop_cluster() {
  for f in slurmd slurmctld munged; do
    [ -f "$cluster/$f.pid" ] && kill "$(cat "$cluster/$f.pid")" 2>/dev/null
  done
}
trap 'stop_cluster; kill -9 "${pids[@]}" 2>/dev/null; rm -rf "$tmp"' EXIT
slurmctld -f "$SLURM_CONF" && slurmd -f "$SLURM_CONF"
for _ in $(seq 100); do
  sinfo -h -o %t 2>/dev/null | grep -q idle && break
  sleep 0.2
done
if ! sinfo -h -o %t 2>/dev/null | grep -q idle; then
  fail "the one-node cluster did not come up:"
  tail -5 "$cluster"/log/*.log
  finish
  exit
fi
pass

# --- The search: a proxy search over a small 1-unit space, short leases. ---
port=$((ctld_port + 2))
db="$tmp/slurm.db"
cat >"$tmp/search.textproto" <<CONFIG
name: "on slurm"
space {
  units: 1
  unary: ["identity", "neg", "abs", "sigmoid", "tanh", "relu", "sin", "square", "beta"]
  binary: ["add", "mul", "max", "min", "sigmul", "sub"]
}
strategy { random {} }
child { proxy { steps: 1500 } }
budget { max_trials: 20 }
dispatch { lease_seconds: 4 heartbeat_seconds: 1 }
CONFIG
submit() {  # submit: the launcher's job id
  sbatch --parsable --nodes 1 --ntasks-per-node 1 --cpus-per-task "$(nproc)" \
    --output "$tmp/job-%j.log" --open-mode append "$launcher" --config "$tmp/search.textproto" \
    --db "$db" --token-file "$tmp/token" --port "$port" --device cpu --per-device 2 \
    --threads 1 --binary "$bin"
}
job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
wait_job() {  # until job $1 has ended (a few minutes at most)
  for _ in $(seq 900); do
    case "$(job_state "$1")" in PENDING | RUNNING | CONFIGURING | COMPLETING | "") sleep 0.2 ;; *) return ;; esac
  done
}
done_trials() { sql "$db" "SELECT COUNT(*) FROM trials WHERE state = 'done'" 2>/dev/null || echo 0; }
wait_trials() {  # until $1 trials are done
  for _ in $(seq 600); do
    [ "$(done_trials)" -ge "$1" ] && return
    sleep 0.2
  done
}
worker_step() {  # the running worker step of job $1, as JOB.STEP
  squeue -h -s -j "$1" -o %i 2>/dev/null | grep -v '\.batch$' | grep -v '\.extern$' | head -1
}

job="$(submit)"
check "the launcher's job is accepted" test -n "$job"
wait_trials 2
step="$(worker_step "$job")"
check "a worker step runs on the allocation" test -n "$step"
scancel "$step"
# srun waits out KillWait (10 s) for the cancelled step's tasks; on a loaded machine the new
# step takes a while longer: two minutes at most.
for _ in $(seq 600); do
  [ -n "$(worker_step "$job")" ] && [ "$(worker_step "$job")" != "$step" ] && break
  sleep 0.2
done
check "the launcher starts another worker step after scancel of one" \
  test -n "$(worker_step "$job")" -a "$(worker_step "$job")" != "$step"
matches "the launcher says why" 'worker step ended .*starting another' "$tmp/job-$job.log"

# The whole job cancelled mid-search: the search stops gracefully (exit 5) and is resumed by a
# resubmission with the same options.
wait_trials 8
scancel --signal TERM --batch "$job"
wait_job "$job"
matches "scancel of the job stops the search gracefully" 'controller exited with code 5' \
  "$tmp/job-$job.log"
check "nothing stays leased after the stop" test \
  "$(sql "$db" "SELECT COUNT(*) FROM trials WHERE state = 'leased'")" = 0
again="$(submit)"
wait_job "$again"
check "the resubmitted job finishes the search" test "$(job_state "$again")" = COMPLETED
matches "the resubmitted job resumed the search" 'resuming search .on slurm.' "$tmp/job-$again.log"

# --- Nothing lost. ---
check "every trial has exactly one result" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials t LEFT JOIN results r ON r.trial_id = t.id
   WHERE r.trial_id IS NULL")" = 0
check "no result twice" test "$(sql "$db" \
  "SELECT COUNT(*) FROM (SELECT trial_id FROM results GROUP BY trial_id HAVING COUNT(*) > 1)")" = 0
check "nothing left queued or leased" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials WHERE state IN ('queued', 'leased')")" = 0
check "the budget of 20 trainings, once" test "$(sql "$db" \
  "SELECT COUNT(*) FROM trials WHERE state <> 'screened'")" = 20
check "both training processes of the worker step trained" test "$(sql "$db" \
  "SELECT COUNT(DISTINCT w.name) FROM trials t JOIN workers w ON w.id = t.worker_id
   WHERE t.state = 'done'")" -ge 2
finish
