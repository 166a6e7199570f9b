#!/usr/bin/env bash
# Run N processes of jaxbip.main on this machine, as a multi-host job on
# loopback: process i gets --coordinator_address=127.0.0.1:PORT
# --num_processes=N --process_id=i, then every other argument unchanged.
# Each process has its own fake CPU devices (DEVICES_PER_PROCESS, default 2),
# so the global mesh has N * DEVICES_PER_PROCESS devices; the batch sizes must
# divide by that.
#
#   launch/multiprocess_cpu.sh 2 --config=configs/digits.py --workdir=runs/digits_2proc
#   DEVICES_PER_PROCESS=1 launch/multiprocess_cpu.sh 4 --config=configs/tiny.py \
#       --workdir=runs/tiny_4proc
#
# Paths are relative to the repository root (the script cd's there, like
# local.sh). Process 0 logs to the terminal, process i > 0 to
# ${LOG_DIR:-/tmp}/jaxbip_proc_<i>.log.
#
# Exit status: 0 when every process exits 0. When one fails, the others get
# SIGTERM (SIGKILL after KILL_GRACE seconds, default 10) and the script exits
# with the failed process's status. SIGINT/SIGTERM/SIGHUP to this script go to
# every process; a second one sends SIGKILL. `kill <launcher pid>` (SIGTERM)
# makes the run checkpoint at the next step boundary and exit 0; run the same
# command again to resume.
#
# Environment: DEVICES_PER_PROCESS, LOG_DIR, KILL_GRACE, COORDINATOR_PORT
# (default: a free port), JAXBIP_PYTHON (the interpreter to run; default
# .venv/bin/python after `make venv`, else python3; setting it skips
# `make venv`). XLA_FLAGS is kept, with the device count appended (last wins).
set -euo pipefail

me=multiprocess_cpu
usage() {
  echo "usage: $0 N --config=CONFIG --workdir=DIR [main's flags...]" >&2
  exit 2
}
(( $# >= 1 )) || usage
[[ $1 =~ ^[1-9][0-9]*$ ]] || usage
num_processes=$1
shift
devices=${DEVICES_PER_PROCESS:-2}
[[ $devices =~ ^[1-9][0-9]*$ ]] || {
  echo "$me: DEVICES_PER_PROCESS must be a positive integer, got '$devices'" >&2
  exit 2
}
kill_grace=${KILL_GRACE:-10}
[[ $kill_grace =~ ^[0-9]+$ ]] || {
  echo "$me: KILL_GRACE must be a number of seconds, got '$kill_grace'" >&2
  exit 2
}
for arg in "$@"; do
  case $arg in
    --coordinator_address*|--num_processes*|--process_id*)
      echo "$me: $arg is set by this script; leave it out" >&2
      exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
if [[ -n ${JAXBIP_PYTHON:-} ]]; then
  python=$JAXBIP_PYTHON
else
  make venv
  if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python=python3; fi
fi
helper_python=python3
if [[ -x .venv/bin/python ]]; then helper_python=.venv/bin/python; fi

# main refuses a workdir whose parent does not exist; make it, like local.sh.
workdir=
prev=
for arg in "$@"; do
  case $arg in --workdir=*) workdir=${arg#--workdir=} ;; esac
  if [[ $prev == --workdir ]]; then workdir=$arg; fi
  prev=$arg
done
if [[ -n $workdir && $workdir != *://* ]]; then
  mkdir -p "$(dirname "$workdir")"
fi

port=${COORDINATOR_PORT:-$("$helper_python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')}
log_dir=${LOG_DIR:-/tmp}
mkdir -p "$log_dir"
xla_flags="${XLA_FLAGS:+$XLA_FLAGS }--xla_force_host_platform_device_count=$devices"

pids=()     # pids[i]: process i, the leader of its own process group
running=()  # running[i]: 1 while process i has not been reaped
status=0    # the first failure's exit status
failed=     # which process failed first
signals=0

signal_running() {  # SIG: send SIG to the process group of every live process
  local i
  for i in "${!pids[@]}"; do
    if [[ ${running[i]} == 1 ]]; then
      kill -s "$1" -- "-${pids[i]}" 2>/dev/null || true
    fi
  done
}
on_signal() {
  signals=$((signals + 1))
  if (( signals == 1 )); then
    echo "$me: got SIG$1, passing it to all processes" >&2
    signal_running "$1"
  else
    echo "$me: got SIG$1 again, killing all processes" >&2
    signal_running KILL
  fi
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
# Whatever ends this script, no process outlives it.
trap 'signal_running KILL' EXIT

echo "$me: $num_processes processes x $devices CPU devices," \
  "coordinator 127.0.0.1:$port, launcher pid $$" >&2
# Job control on while starting: each process leads its own process group (so
# a kill reaches its children too) and does not ignore SIGINT, as background
# processes of a script otherwise do.
set -m
for (( i = 0; i < num_processes; i++ )); do
  cmd=(env "XLA_FLAGS=$xla_flags" JAX_PLATFORMS=cpu
       "$python" -m jaxbip.main "--coordinator_address=127.0.0.1:$port"
       "--num_processes=$num_processes" "--process_id=$i" "$@")
  if (( i == 0 )); then
    "${cmd[@]}" </dev/null &
  else
    log=$log_dir/jaxbip_proc_$i.log
    echo "$me: process $i logs to $log" >&2
    "${cmd[@]}" </dev/null >"$log" 2>&1 &
  fi
  pids[i]=$!
  running[i]=1
done
set +m

left=$num_processes
kill_at=
while (( left > 0 )); do
  for i in "${!pids[@]}"; do
    [[ ${running[i]} == 1 ]] || continue
    kill -0 "${pids[i]}" 2>/dev/null && continue
    rc=0
    wait "${pids[i]}" || rc=$?
    running[i]=0
    left=$((left - 1))
    if (( rc != 0 )) && [[ -z $failed ]]; then
      failed=$i
      status=$rc
      echo "$me: process $i exited with status $rc; stopping the others" >&2
      if (( i > 0 )); then
        echo "$me: last lines of $log_dir/jaxbip_proc_$i.log:" >&2
        tail -n 20 "$log_dir/jaxbip_proc_$i.log" >&2 || true
      fi
      signal_running TERM
      kill_at=$((SECONDS + kill_grace))
    fi
  done
  if [[ -n $kill_at ]] && (( left > 0 && SECONDS >= kill_at )); then
    echo "$me: still running ${kill_grace}s after SIGTERM; sending SIGKILL" >&2
    signal_running KILL
    kill_at=
  fi
  # A Ctrl-C on the terminal also kills this sleep; that is no error here.
  if (( left > 0 )); then sleep 0.2 || true; fi
done

trap - EXIT
if [[ -n $failed ]]; then
  exit "$status"
fi
echo "$me: all $num_processes processes exited 0" >&2
