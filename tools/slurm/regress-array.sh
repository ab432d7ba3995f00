#!/usr/bin/env bash
# Run an iommu-cosim regression as one Slurm job array and merge the shards.
#
#   regress-array.sh --shards N --seeds A..B --out DIR [-- extra regress args]
#
# Submits regress.sbatch (beside this script) once with `sbatch --array=0-(N-1) --wait`; task i
# runs `iommu-cosim regress --seeds A..B --shard i/N --out DIR/shard-i [extra args]`, its log goes
# to DIR/logs/shard-i.out. When the array is done, `iommu-cosim report merge DIR/shard-0 ...
# DIR/shard-(N-1) --out DIR/merged` joins the shards and the merged summary is printed.
# The binary is $IOMMU_COSIM (default: iommu-cosim on PATH). sbatch reads the usual SBATCH_*
# variables (SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ...) for site settings.
# Exit status: 0 if every task and the merge passed, 1 if any failed, 2 for a usage error.
set -euo pipefail

prog="regress-array.sh"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sbatch_script="${here}/regress.sbatch"

usage() {
  cat <<EOF
usage: ${prog} --shards N --seeds A..B --out DIR [-- extra iommu-cosim regress args]
  e.g. ${prog} --shards 4 --seeds 0..8 --out /tmp/run -- --config default --requests 200
  the binary is \$IOMMU_COSIM (default: iommu-cosim on PATH)
EOF
}
die() {
  printf '%s: error: %s\n' "${prog}" "$*" >&2
  exit 2
}
fail() {
  printf '%s: FAIL: %s\n' "${prog}" "$*" >&2 2>/dev/null || true
}

shards="" seeds="" out=""
extra=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --shards | --seeds | --out)
      [ "$#" -ge 2 ] || die "$1 needs a value"
      case "$1" in
        --shards) shards="$2" ;;
        --seeds) seeds="$2" ;;
        --out) out="$2" ;;
      esac
      shift 2
      ;;
    --shards=*) shards="${1#*=}" && shift ;;
    --seeds=*) seeds="${1#*=}" && shift ;;
    --out=*) out="${1#*=}" && shift ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      extra=("$@")
      break
      ;;
    *)
      usage >&2
      die "unknown argument '$1' (iommu-cosim regress options go after --)"
      ;;
  esac
done

[ -n "${shards}" ] || { usage >&2; die "--shards N is required"; }
[ -n "${seeds}" ] || { usage >&2; die "--seeds A..B is required"; }
[ -n "${out}" ] || { usage >&2; die "--out DIR is required"; }
[[ "${shards}" =~ ^[1-9][0-9]*$ ]] || die "--shards must be a positive integer, got '${shards}'"
[ "${shards}" -le 10000 ] || die "--shards ${shards} is more array tasks than any Slurm allows by default (MaxArraySize 1001)"
if [[ "${seeds}" =~ ^([0-9]+)\.\.([0-9]+)$ ]]; then
  lo="${BASH_REMATCH[1]}" hi="${BASH_REMATCH[2]}"
elif [[ "${seeds}" =~ ^([0-9]+)$ ]]; then
  lo="${BASH_REMATCH[1]}" hi="$((10#${BASH_REMATCH[1]} + 1))"
else
  die "--seeds must be A..B (B exclusive) or A, got '${seeds}'"
fi
[ "$((10#${hi}))" -gt "$((10#${lo}))" ] || die "--seeds ${seeds} is empty (B must be above A)"
nseeds="$((10#${hi} - 10#${lo}))"
[ "${shards}" -le "${nseeds}" ] ||
  die "--shards ${shards} is more than the ${nseeds} seed(s) in ${seeds}: some shards would have no seed"
for a in "${extra[@]}"; do
  case "${a}" in
    --shard | --shard=* | --out | --out=* | --seeds | --seeds=*)
      die "'${a}' is set by ${prog} itself; do not pass it after --"
      ;;
  esac
done

command -v sbatch >/dev/null 2>&1 ||
  die "sbatch not found on PATH: load your site's Slurm module, or for a local cluster run ${here}/cluster.sh start and export the SLURM_CONF it prints"
[ -r "${sbatch_script}" ] || die "missing ${sbatch_script}"

bin="${IOMMU_COSIM:-iommu-cosim}"
if [[ "${bin}" == */* ]]; then
  { [ -f "${bin}" ] && [ -x "${bin}" ]; } || die "IOMMU_COSIM=${bin} is not an executable file"
  bin="$(cd "$(dirname "${bin}")" && pwd)/$(basename "${bin}")"
else
  resolved="$(command -v "${bin}" 2>/dev/null || true)"
  [ -n "${resolved}" ] ||
    die "${bin} not found on PATH: set IOMMU_COSIM to the binary (cargo build --release -p iommu-cosim makes target/release/iommu-cosim)"
  bin="${resolved}"
fi
"${bin}" report merge --help >/dev/null 2>&1 ||
  die "${bin} does not support 'report merge' (too old a build?)"
export IOMMU_COSIM="${bin}"

case "${out}" in
  /*) ;;
  *) out="${PWD}/${out}" ;;
esac
out="${out%/}"
if [ -e "${out}/merged" ] || compgen -G "${out}/shard-*" >/dev/null; then
  die "${out} already holds shard-*/merged results of an earlier run; give a new --out or remove them"
fi
mkdir -p "${out}/logs"

array="0-$((shards - 1))"
printf '%s: %s shard(s) of seeds %s as one array job (sbatch --array=%s --wait), binary %s\n' \
  "${prog}" "${shards}" "${seeds}" "${array}" "${bin}"
t0="${SECONDS}"
sbatch_log="${out}/logs/sbatch.out"
sbatch_pid=""
job=""
submitted_job() {
  { sed -n 's/^Submitted batch job \([0-9][0-9]*\).*/\1/p' "${sbatch_log}" 2>/dev/null || true; } | head -n 1
}
: >"${sbatch_log}" # exists before sbatch starts, so that submitted_job can read it at once
# Interrupted: stop waiting and cancel the array, so that nothing keeps running on its behalf.
# shellcheck disable=SC2317 # called from the traps below
on_signal() {
  trap - INT TERM
  trap '' PIPE
  if [ -n "${sbatch_pid}" ]; then
    kill -TERM "${sbatch_pid}" 2>/dev/null || true
    wait "${sbatch_pid}" 2>/dev/null || true
  fi
  job="$(submitted_job)"
  if [ -n "${job}" ] && scancel "${job}" 2>/dev/null; then
    fail "interrupted: cancelled array job ${job}"
  else
    fail "interrupted"
  fi
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# sbatch runs in the background so that a signal is handled at once, not when sbatch returns.
sbatch_rc=0
sbatch --wait --array="${array}" --output="${out}/logs/shard-%a.out" \
  "${sbatch_script}" --shards "${shards}" --seeds "${seeds}" --out "${out}" -- "${extra[@]}" \
  >"${sbatch_log}" &
sbatch_pid=$!
for ((i = 0; i < 300; i++)); do
  job="$(submitted_job)"
  if [ -n "${job}" ] || ! kill -0 "${sbatch_pid}" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
[ -z "${job}" ] || printf '%s: submitted array job %s; its tasks log to %s/logs/shard-*.out\n' \
  "${prog}" "${job}" "${out}"
wait "${sbatch_pid}" || sbatch_rc=$?
sbatch_pid=""
trap - INT TERM
job="$(submitted_job)"
if [ -z "${job}" ]; then
  fail "sbatch could not submit the array (exit ${sbatch_rc}, its message is above); is a cluster reachable? SLURM_CONF=${SLURM_CONF:-unset}"
  exit 1
fi
printf '%s: array job %s finished after %s s (sbatch exit %s)\n' "${prog}" "${job}" "$((SECONDS - t0))" "${sbatch_rc}"

status=0
complete=1
shard_dirs=()
for ((i = 0; i < shards; i++)); do
  d="${out}/shard-${i}"
  shard_dirs+=("${d}")
  rc_file="${out}/logs/shard-${i}.rc"
  rc="$(cat "${rc_file}" 2>/dev/null || true)"
  if [ -z "${rc}" ]; then
    fail "task ${i} left no exit status (killed, or never started): read ${out}/logs/shard-${i}.out"
    status=1
  elif [ "${rc}" != "0" ]; then
    fail "task ${i} exited ${rc}: read ${out}/logs/shard-${i}.out"
    status=1
  fi
  for f in junit.xml seeds.csv coverage.csv summary.txt; do
    if [ ! -f "${d}/${f}" ]; then
      fail "task ${i} wrote no ${d}/${f}"
      complete=0
      status=1
      break
    fi
  done
done
if [ "${sbatch_rc}" -ne 0 ] && [ "${status}" -eq 0 ]; then
  fail "sbatch exited ${sbatch_rc}"
  status=1
fi

if [ "${complete}" -eq 0 ]; then
  fail "not merging: some shards have no results"
  exit 1
fi
merge_rc=0
"${bin}" report merge "${shard_dirs[@]}" --out "${out}/merged" >"${out}/logs/merge.out" || merge_rc=$?
if [ -f "${out}/merged/summary.txt" ]; then
  printf '%s: merged summary (%s/merged/summary.txt):\n' "${prog}" "${out}"
  cat "${out}/merged/summary.txt"
fi
if [ "${merge_rc}" -ne 0 ]; then
  fail "iommu-cosim report merge exited ${merge_rc} (a seed failed, or the shards disagree); its output: ${out}/logs/merge.out"
  status=1
fi
if [ "${status}" -eq 0 ]; then
  printf '%s: PASS: %s shard(s) merged into %s/merged\n' "${prog}" "${shards}" "${out}"
fi
exit "${status}"
