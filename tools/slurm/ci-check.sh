#!/usr/bin/env bash
# CI check of the Slurm flow: start a one-node Slurm on localhost, run the regression as a 4-shard
# job array (regress-array.sh), run the same seeds on this machine with one `iommu-cosim regress`,
# and check that the merge of the shards equals the single run: seeds.csv, coverage.csv and
# summary.txt byte for byte, junit.xml with its time="..." attributes stripped.
#
#   tools/slurm/ci-check.sh
#
# Needs the built binary (cargo build --release -p iommu-cosim), or IOMMU_COSIM=/path/to/it.
# Installs the Debian packages slurmctld slurmd slurm-client munge when they are missing and it
# may (root, or sudo); SLURM_CI_NO_INSTALL=1 turns that off. CI_SEEDS (0..8) and CI_REQUESTS (200)
# change the run; SLURM_CTLD_PORT/SLURMD_PORT move the cluster off 6817/6818.
# The cluster is stopped and its state removed on every exit; on failure the outputs are kept and
# the end of the daemon logs is printed.
set -euo pipefail

prog="ci-check.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
bin="${IOMMU_COSIM:-${repo}/target/release/iommu-cosim}"
shards=4
seeds="${CI_SEEDS:-0..8}"
requests="${CI_REQUESTS:-200}"
config="default"

say() { printf '%s: %s\n' "${prog}" "$*"; }
die() {
  printf '%s: error: %s\n' "${prog}" "$*" >&2
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- the Debian packages -------------------------------------------------------------------------
need=()
for t in sbatch:slurm-client slurmctld:slurmctld slurmd:slurmd munged:munge; do
  command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
  [ "${SLURM_CI_NO_INSTALL:-0}" != "1" ] ||
    die "missing packages: ${need[*]} (apt-get install -y slurmctld slurmd slurm-client munge)"
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages ${need[*]}, and neither root nor sudo to install them"
    sudo=(sudo)
  fi
  t_install="$(now)"
  say "installing ${need[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  say "installed in $(since "${t_install}") s"
fi

# --- the binary ----------------------------------------------------------------------------------
[ -x "${bin}" ] || die "no ${bin}: build it first (cargo build --release -p iommu-cosim) or set IOMMU_COSIM"
"${bin}" report merge --help >/dev/null 2>&1 ||
  die "${bin} does not support 'report merge' yet (rebuild: cargo build --release -p iommu-cosim)"

# --- the check -----------------------------------------------------------------------------------
t0="$(now)"
state="$(mktemp -d "${TMPDIR:-/tmp}/iommu-slurm-ci-state.XXXXXX")"
work="$(mktemp -d "${TMPDIR:-/tmp}/iommu-slurm-ci-out.XXXXXX")"
cluster_up=0

print_logs() {
  local log
  for log in "${state}/log/slurmctld.log" "${state}/log/slurmd.log"; do
    if [ -s "${log}" ]; then
      printf '%s: --- last lines of %s ---\n' "${prog}" "${log}" >&2
      tail -n 20 "${log}" >&2
    fi
  done
}
stop_cluster() {
  if [ "${cluster_up}" -eq 1 ]; then
    cluster_up=0
    "${here}/cluster.sh" stop "${state}" || true
  fi
  [ "${SLURM_KEEP_STATE:-0}" = "1" ] || rm -rf -- "${state}"
}
on_exit() {
  local rc=$?
  trap - EXIT
  # Clean up even when our reader is gone (Ctrl-C on `ci-check.sh | tee log` kills tee too).
  trap '' PIPE
  set +e
  [ "${rc}" -eq 0 ] || print_logs
  if [ "${cluster_up}" -eq 1 ]; then
    stop_cluster >"${work}/cluster-stop.log" 2>&1
    cat "${work}/cluster-stop.log" 2>/dev/null
  fi
  stop_cluster
  if [ "${rc}" -eq 0 ]; then
    rm -rf -- "${work}"
  else
    printf '%s: outputs kept in %s\n' "${prog}" "${work}" >&2
    printf '%s: FAILED after %s s\n' "${prog}" "$(since "${t0}")" >&2
  fi
  exit "${rc}"
}
# Children run in the background so that a signal is handled at once: pass it on, then clean up.
child=""
run_child() {
  local rc=0
  "$@" &
  child=$!
  wait "${child}" || rc=$?
  child=""
  return "${rc}"
}
# shellcheck disable=SC2317 # called from the traps below
on_signal() {
  trap - INT TERM
  trap '' PIPE
  if [ -n "${child}" ]; then
    kill -TERM "${child}" 2>/dev/null || true
    wait "${child}" 2>/dev/null || true
  fi
  exit "$1"
}
trap on_exit EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

regress_args=(--config "${config}" --requests "${requests}")

cluster_up=1
"${here}/cluster.sh" start "${state}"
export SLURM_CONF="${state}/slurm.conf"

array_rc=0
run_child env IOMMU_COSIM="${bin}" "${here}/regress-array.sh" --shards "${shards}" \
  --seeds "${seeds}" --out "${work}/array" -- "${regress_args[@]}" || array_rc=$?
[ "${array_rc}" -eq 0 ] || print_logs
stop_cluster

say "single-machine run: ${bin} regress --seeds ${seeds} ${regress_args[*]}"
single_rc=0
run_child "${bin}" regress --seeds "${seeds}" "${regress_args[@]}" --out "${work}/single" \
  >"${work}/single.log" 2>&1 || single_rc=$?
tail -n 3 "${work}/single.log"

status=0
[ "${array_rc}" -eq 0 ] || { say "FAIL: regress-array.sh exited ${array_rc}"; status=1; }
[ "${single_rc}" -eq 0 ] || { say "FAIL: the single-machine regress exited ${single_rc} (log ${work}/single.log)"; status=1; }

merged="${work}/array/merged"
single="${work}/single"
for f in seeds.csv coverage.csv summary.txt junit.xml; do
  [ -f "${merged}/${f}" ] || { say "FAIL: no ${merged}/${f}"; status=1; }
  [ -f "${single}/${f}" ] || { say "FAIL: no ${single}/${f}"; status=1; }
done
for f in seeds.csv coverage.csv summary.txt; do
  { [ -f "${merged}/${f}" ] && [ -f "${single}/${f}" ]; } || continue
  if cmp -s "${merged}/${f}" "${single}/${f}"; then
    say "${f}: identical"
  else
    say "FAIL: ${f} differs (merged vs single):"
    diff -u "${merged}/${f}" "${single}/${f}" | head -n 60 || true
    status=1
  fi
done
if [ -f "${merged}/junit.xml" ] && [ -f "${single}/junit.xml" ]; then
  strip='s/[[:space:]]time="[^"]*"//g'
  sed -e "${strip}" "${merged}/junit.xml" >"${work}/merged.junit.notime.xml"
  sed -e "${strip}" "${single}/junit.xml" >"${work}/single.junit.notime.xml"
  if cmp -s "${work}/merged.junit.notime.xml" "${work}/single.junit.notime.xml"; then
    say "junit.xml: identical but for time attributes"
  else
    say "FAIL: junit.xml differs beyond time attributes (merged vs single):"
    diff -u "${work}/merged.junit.notime.xml" "${work}/single.junit.notime.xml" | head -n 60 || true
    status=1
  fi
fi

say "elapsed $(since "${t0}") s (cluster start, ${shards}-task array, merge, cluster stop, single run, compare)"
[ "${status}" -eq 0 ] || exit 1
echo "slurm check: merge of ${shards} shards equals the single-machine run"
