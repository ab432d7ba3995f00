#!/usr/bin/env bash
# A one-node Slurm cluster on localhost, for trying the regression flow and for CI.
#
#   cluster.sh start  [STATE_DIR]   bring munged, slurmctld and slurmd up; wait until the node is idle
#   cluster.sh stop   [STATE_DIR]   cancel what is queued, stop the daemons, remove STATE_DIR
#   cluster.sh status [STATE_DIR]   show the daemons and the node (exit 0 up, 1 partly up, 3 down)
#
# STATE_DIR (default $SLURM_STATE_DIR or /tmp/iommu-slurm) holds everything: slurm.conf, the munge
# key and socket, controller state, slurmd spool, pid and log files. Nothing outside it is touched,
# no systemd is needed. Clients find the cluster through SLURM_CONF=STATE_DIR/slurm.conf (printed by
# start and status). Environment knobs: SLURM_CTLD_PORT (6817), SLURMD_PORT (6818),
# SLURM_START_TIMEOUT seconds (60), SLURM_KEEP_STATE=1 (stop keeps STATE_DIR, e.g. for its logs).
set -euo pipefail

prog="cluster.sh"
node="localhost"
partition="regress"
marker_name=".iommu-cosim-slurm-state"

# Output is never fatal: a stop must finish even when whoever reads our output has gone away.
say() { printf '%s: %s\n' "${prog}" "$*" 2>/dev/null || true; }
die() {
  printf '%s: error: %s\n' "${prog}" "$*" >&2 2>/dev/null || true
  exit 1
}
usage() {
  cat <<EOF
usage: ${prog} start|stop|status [STATE_DIR]
  STATE_DIR defaults to \$SLURM_STATE_DIR or /tmp/iommu-slurm
EOF
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

cmd="${1:-}"
case "${cmd}" in
  start | stop | status) ;;
  -h | --help | help)
    usage
    exit 0
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac
[ "$#" -le 2 ] || {
  usage >&2
  exit 2
}

state="${2:-${SLURM_STATE_DIR:-/tmp/iommu-slurm}}"
[ -n "${state}" ] || die "empty STATE_DIR"
case "${state}" in
  /*) ;;
  *) state="${PWD}/${state}" ;;
esac
state="${state%/}"
[ -n "${state}" ] || die "STATE_DIR must not be /"

conf="${state}/slurm.conf"
marker="${state}/${marker_name}"
munge_dir="${state}/munge"
munge_key="${munge_dir}/munge.key"
munge_sock="${munge_dir}/munge.socket.2"
run_dir="${state}/run"
log_dir="${state}/log"
munged_pid="${run_dir}/munged.pid"
ctld_pid="${run_dir}/slurmctld.pid"
slurmd_pid="${run_dir}/slurmd.pid"
munged_log="${log_dir}/munged.log"
ctld_log="${log_dir}/slurmctld.log"
slurmd_log="${log_dir}/slurmd.log"
ctld_port="${SLURM_CTLD_PORT:-6817}"
slurmd_port="${SLURMD_PORT:-6818}"
timeout_s="${SLURM_START_TIMEOUT:-60}"
for v in "${ctld_port}" "${slurmd_port}" "${timeout_s}"; do
  [[ "${v}" =~ ^[1-9][0-9]*$ ]] || die "SLURM_CTLD_PORT, SLURMD_PORT and SLURM_START_TIMEOUT must be positive integers, got '${v}'"
done
[ "${ctld_port}" != "${slurmd_port}" ] || die "SLURM_CTLD_PORT and SLURMD_PORT must differ (both ${ctld_port})"

export SLURM_CONF="${conf}"

# running PID: the process exists and is not a zombie (PID 1 here need not reap at once).
running() {
  local st
  st="$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)" || return 1
  [ -n "${st}" ] && [ "${st}" != "Z" ] && [ "${st}" != "X" ]
}

# pid_alive NAME PIDFILE: print the pid if the file names a live process called NAME.
pid_alive() {
  local name="$1" file="$2" pid comm
  [ -r "${file}" ] || return 1
  pid="$(tr -dc '0-9' <"${file}")"
  [ -n "${pid}" ] || return 1
  comm="$(cat "/proc/${pid}/comm" 2>/dev/null)" || return 1
  [ "${comm}" = "${name}" ] || return 1
  running "${pid}" || return 1
  printf '%s\n' "${pid}"
}

# stop_daemon NAME PIDFILE: SIGTERM, wait up to 20 s, then SIGKILL.
stop_daemon() {
  local name="$1" file="$2" pid i
  if ! pid="$(pid_alive "${name}" "${file}")"; then
    rm -f "${file}"
    return 0
  fi
  kill -TERM "${pid}" 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    running "${pid}" || break
    sleep 0.1
  done
  if running "${pid}"; then
    say "${name} (pid ${pid}) ignored SIGTERM for 20 s, sending SIGKILL"
    kill -KILL "${pid}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      running "${pid}" || break
      sleep 0.1
    done
  fi
  rm -f "${file}"
  say "${name} stopped (pid ${pid})"
}

stop_all_daemons() {
  stop_daemon slurmd "${slurmd_pid}"
  stop_daemon slurmctld "${ctld_pid}"
  stop_daemon munged "${munged_pid}"
}

node_state() {
  sinfo -h -N -n "${node}" -o '%T' 2>/dev/null | head -n 1
}

ctld_up() {
  scontrol ping 2>/dev/null | grep -q 'is UP'
}

# fail_start MESSAGE LOGFILE: stop what was started, keep the logs, name the one to read.
fail_start() {
  local msg="$1" log="$2"
  printf '%s: error: %s\n' "${prog}" "${msg}" >&2
  if [ -s "${log}" ]; then
    printf '%s: last lines of %s:\n' "${prog}" "${log}" >&2
    tail -n 15 "${log}" | sed 's/^/    /' >&2
  fi
  printf '%s: read %s (logs of all daemons are in %s)\n' "${prog}" "${log}" "${log_dir}" >&2
  stop_all_daemons >&2
  exit 1
}

port_busy() {
  command -v ss >/dev/null 2>&1 || return 1
  ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

write_config() {
  local cpus user
  cpus="$(nproc)"
  user="$(id -un)"
  cat >"${conf}" <<EOF
# Written by tools/slurm/cluster.sh: a one-node cluster on localhost, everything under
# ${state}. Use it with: export SLURM_CONF=${conf}
ClusterName=iommu-cosim
SlurmctldHost=localhost
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=${user}
SlurmdUser=${user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=${munge_sock}
StateSaveLocation=${state}/ctld
SlurmdSpoolDir=${state}/spool/%n
SlurmctldPidFile=${ctld_pid}
SlurmdPidFile=${slurmd_pid}
SlurmctldLogFile=${ctld_log}
SlurmdLogFile=${slurmd_log}
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=${state}/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
# Start the next array tasks as soon as CPUs free up (the default batch_sched_delay=3 adds seconds).
SchedulerParameters=batch_sched_delay=0
SwitchType=switch/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
# sbatch --wait polls every 2 s, growing x4 while below MinJobAge/2 (to 8 s, then 32 s): keep it small.
MinJobAge=4
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} State=UNKNOWN
PartitionName=${partition} Nodes=${node} Default=YES MaxTime=INFINITE State=UP
EOF
  : >"${state}/plugstack.conf"
  say "config ${conf}: node ${node} with ${cpus} CPUs, partition ${partition}, user ${user}, ports ${ctld_port}/${slurmd_port}"
}

check_tools() {
  local missing=() t
  for t in munged munge unmunge slurmctld slurmd sinfo scontrol squeue scancel; do
    command -v "${t}" >/dev/null 2>&1 || missing+=("${t}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    die "not on PATH: ${missing[*]}; on Debian/Ubuntu: apt-get install -y slurmctld slurmd slurm-client munge"
  fi
}

cmd_status() {
  local rc=0 up=0 name file pid
  if [ ! -e "${marker}" ]; then
    say "no cluster in ${state}"
    return 3
  fi
  for name in munged slurmctld slurmd; do
    case "${name}" in
      munged) file="${munged_pid}" ;;
      slurmctld) file="${ctld_pid}" ;;
      slurmd) file="${slurmd_pid}" ;;
    esac
    if pid="$(pid_alive "${name}" "${file}")"; then
      say "${name} running (pid ${pid})"
      up=$((up + 1))
    else
      say "${name} not running"
    fi
  done
  if [ "${up}" -eq 3 ]; then
    if ctld_up; then
      say "node ${node}: $(node_state)"
    else
      say "slurmctld does not answer (read ${ctld_log})"
      rc=1
    fi
    say "export SLURM_CONF=${conf}"
  elif [ "${up}" -eq 0 ]; then
    rc=3
  else
    rc=1
  fi
  return "${rc}"
}

cmd_stop() {
  local jobs=() i
  trap '' PIPE
  if [ ! -e "${marker}" ]; then
    if [ -e "${state}" ]; then
      say "${state} is not a cluster.sh state directory; nothing to stop"
    else
      say "no cluster in ${state}; nothing to stop"
    fi
    return 0
  fi
  if pid_alive slurmctld "${ctld_pid}" >/dev/null && ctld_up; then
    mapfile -t jobs < <(squeue -h -o '%A' 2>/dev/null || true)
    if [ "${#jobs[@]}" -gt 0 ]; then
      scancel "${jobs[@]}" 2>/dev/null || true
      for ((i = 0; i < 150; i++)); do
        [ -z "$(squeue -h -t all -o '%A %T' 2>/dev/null | grep -Ev ' (COMPLETED|CANCELLED|FAILED|TIMEOUT|NODE_FAIL|PREEMPTED|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE)$' || true)" ] && break
        sleep 0.2
      done
      # A waiting `sbatch --wait` polls every 2 s: let it see the end before the controller goes,
      # or it retries against a dead controller for ever.
      sleep 2.5
      say "cancelled ${#jobs[@]} job(s)"
    fi
  fi
  stop_all_daemons
  if [ "${SLURM_KEEP_STATE:-0}" = "1" ]; then
    say "stopped; kept ${state} (SLURM_KEEP_STATE=1)"
  else
    rm -rf -- "${state}"
    say "stopped; removed ${state}"
  fi
}

cmd_start() {
  local t0 pid i st fresh=1
  t0="$(now)"
  check_tools
  if [ -e "${marker}" ]; then
    if pid_alive munged "${munged_pid}" >/dev/null &&
      pid_alive slurmctld "${ctld_pid}" >/dev/null &&
      pid_alive slurmd "${slurmd_pid}" >/dev/null; then
      fresh=0
      say "already running in ${state}"
    else
      say "cleaning up a stopped or half-started cluster in ${state}"
      stop_all_daemons
    fi
  elif [ -e "${state}" ]; then
    [ -d "${state}" ] || die "${state} exists and is not a directory"
    [ -z "$(ls -A "${state}")" ] ||
      die "${state} exists, is not empty and was not made by ${prog}; give another STATE_DIR"
  fi

  if [ "${fresh}" -eq 1 ]; then
    for i in "${ctld_port}" "${slurmd_port}"; do
      if port_busy "${i}"; then
        die "TCP port ${i} is already in use (another Slurm?); set SLURM_CTLD_PORT / SLURMD_PORT"
      fi
    done
    mkdir -p "${state}"
    # munged insists that every directory above its socket be searchable by all.
    chmod 0755 "${state}"
    : >"${marker}"
    rm -rf -- "${state}/ctld" "${state}/spool" "${run_dir}" "${log_dir}"
    mkdir -p "${state}/ctld" "${state}/spool/${node}" "${run_dir}" "${log_dir}" "${munge_dir}"
    chmod 0755 "${state}/ctld" "${state}/spool" "${run_dir}" "${log_dir}" "${munge_dir}"
    write_config

    if [ -s "${munge_key}" ]; then
      say "munge key ${munge_key} (reused)"
    else
      if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --keyfile="${munge_key}" >/dev/null 2>&1 ||
          die "mungekey --create --keyfile=${munge_key} failed"
      else # munge before 0.5.14 has no mungekey
        (umask 077 && dd if=/dev/urandom of="${munge_key}" bs=1024 count=1 2>/dev/null) ||
          die "could not write ${munge_key}"
      fi
      say "munge key ${munge_key} (generated)"
    fi
    chmod 0600 "${munge_key}"

    rm -f "${munge_sock}" "${munge_sock}.lock"
    munged --socket="${munge_sock}" --key-file="${munge_key}" --pid-file="${munged_pid}" \
      --log-file="${munged_log}" --seed-file="${munge_dir}/munged.seed" >/dev/null 2>&1 ||
      fail_start "munged did not start" "${munged_log}"
    for ((i = 0; i < 100; i++)); do
      if [ -S "${munge_sock}" ] && munge -n -S "${munge_sock}" 2>/dev/null |
        unmunge -S "${munge_sock}" >/dev/null 2>&1; then
        break
      fi
      sleep 0.1
    done
    [ "${i}" -lt 100 ] || fail_start "munged does not answer on ${munge_sock}" "${munged_log}"
    say "munged up (pid $(pid_alive munged "${munged_pid}"), socket ${munge_sock})"

    slurmctld -c -f "${conf}" >>"${log_dir}/slurmctld.stderr" 2>&1 ||
      fail_start "slurmctld did not start (see also ${log_dir}/slurmctld.stderr)" "${ctld_log}"
    for ((i = 0; i < timeout_s * 5; i++)); do
      ctld_up && break
      pid_alive slurmctld "${ctld_pid}" >/dev/null || [ "${i}" -lt 25 ] ||
        fail_start "slurmctld exited" "${ctld_log}"
      sleep 0.2
    done
    ctld_up || fail_start "slurmctld does not answer after ${timeout_s} s" "${ctld_log}"
    say "slurmctld up (pid $(pid_alive slurmctld "${ctld_pid}"), port ${ctld_port})"

    slurmd -f "${conf}" -N "${node}" >>"${log_dir}/slurmd.stderr" 2>&1 ||
      fail_start "slurmd did not start (see also ${log_dir}/slurmd.stderr)" "${slurmd_log}"
    for ((i = 0; i < 50; i++)); do
      pid_alive slurmd "${slurmd_pid}" >/dev/null && break
      sleep 0.1
    done
    pid="$(pid_alive slurmd "${slurmd_pid}")" || fail_start "slurmd exited" "${slurmd_log}"
    say "slurmd up (pid ${pid}, node ${node})"
  fi

  for ((i = 0; i < timeout_s * 5; i++)); do
    st="$(node_state)"
    case "${st}" in
      idle | mixed | allocated | completing) break ;;
      *inval* | *drain* | *fail*)
        fail_start "node ${node} is ${st}: $(sinfo -h -R -o '%E' 2>/dev/null | head -n 1)" "${slurmd_log}"
        ;;
    esac
    pid_alive slurmd "${slurmd_pid}" >/dev/null || fail_start "slurmd exited" "${slurmd_log}"
    pid_alive slurmctld "${ctld_pid}" >/dev/null || fail_start "slurmctld exited" "${ctld_log}"
    sleep 0.2
  done
  case "${st}" in
    idle | mixed | allocated | completing) ;;
    *) fail_start "node ${node} not idle after ${timeout_s} s (state '${st:-none}')" "${slurmd_log}" ;;
  esac
  say "node ${node} ${st}, cluster up in $(since "${t0}") s"
  say "export SLURM_CONF=${conf}"
}

case "${cmd}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
esac
