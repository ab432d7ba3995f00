#!/usr/bin/env bash
# Replay test-vector suites with the plain-Verilog bench tb_vectors.sv.
#   testvectors/tb/run.sh [--sim icarus|verilator] [--rtl DIR] [SUITE_DIR...]
# --rtl: the Verilog sources of the unit (DIR/*.v, top module iommu_top with the port contract of
# rtl/README.md; default rtl/). Without suites: every suite under testvectors/. TB_PLUSARGS is
# passed to the simulation (e.g. +swap_dn_pairs, see tb_vectors.sv). Prints each
# suite's "vectors: N passed, M failed" line and exits non-zero unless every suite prints TB PASS.
set -uo pipefail
cd "$(dirname "$0")/../.."
sim=icarus
rtl=rtl
while [ $# -gt 0 ]; do
  case "$1" in
    --sim) sim=${2:-}; shift 2 ;;
    --rtl) rtl=${2:-}; shift 2 ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option '$1' (expected --sim or --rtl)" >&2; exit 2 ;;
    *) break ;;
  esac
done
ls "$rtl"/*.v >/dev/null 2>&1 || { echo "run.sh: no Verilog sources in '$rtl'" >&2; exit 2; }
case "$sim" in
  icarus) command -v iverilog >/dev/null || { echo "run.sh: iverilog not found (apt-get install iverilog)" >&2; exit 2; } ;;
  verilator) command -v verilator >/dev/null || { echo "run.sh: verilator not found (apt-get install verilator)" >&2; exit 2; } ;;
  *) echo "run.sh: --sim must be icarus or verilator, not '$sim'" >&2; exit 2 ;;
esac
suites=("$@")
if [ ${#suites[@]} -eq 0 ]; then
  for d in testvectors/*/; do [ -f "$d/manifest.csv" ] && suites+=("${d%/}"); done
fi
tmp=$(mktemp -d /tmp/iommu_vectors.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
build() {  # $1 = default|tiny: the bench binary for that configuration, built once
  local cfg=$1 def=""
  [ "$cfg" = tiny ] && def="-DTINY"
  [ -e "$tmp/bin_$cfg" ] && return 0
  if [ "$sim" = icarus ]; then
    # shellcheck disable=SC2086
    iverilog -g2012 $def -s tb_vectors -o "$tmp/tb_$cfg.vvp" testvectors/tb/tb_vectors.sv "$rtl"/*.v || return 1
    printf '#!/bin/sh\nexec vvp -n %s "$@"\n' "$tmp/tb_$cfg.vvp" > "$tmp/bin_$cfg"
  else
    # shellcheck disable=SC2086
    verilator --binary -j 2 -O3 -Wno-fatal -Wno-lint -Wno-style $def --top-module tb_vectors \
      -Mdir "$tmp/obj_$cfg" -o tb testvectors/tb/tb_vectors.sv "$rtl"/*.v > "$tmp/build_$cfg.log" 2>&1 \
      || { cat "$tmp/build_$cfg.log"; return 1; }
    printf '#!/bin/sh\nexec %s "$@"\n' "$tmp/obj_$cfg/tb" > "$tmp/bin_$cfg"
  fi
  chmod +x "$tmp/bin_$cfg"
}
for s in "${suites[@]}"; do
  if [ ! -f "$s/manifest.csv" ] || [ ! -f "$s/stimulus.hex" ]; then
    echo "run.sh: $s is not a suite (manifest.csv and the .hex files)" >&2; fail=1; continue
  fi
  cfg=$(grep '^config,' "$s/manifest.csv" | cut -d, -f2)
  case "$cfg" in default|tiny) ;; *) echo "run.sh: $s/manifest.csv: config '$cfg' is not default or tiny" >&2; fail=1; continue ;; esac
  build "$cfg" || { fail=1; continue; }
  work="$tmp/run_$(basename "$s")"
  mkdir -p "$work" && cp "$s"/*.hex "$work"/
  # shellcheck disable=SC2086
  out=$(cd "$work" && "$tmp/bin_$cfg" ${TB_PLUSARGS:-} 2>&1)
  echo "== $(basename "$s") [$sim, $cfg] $(echo "$out" | grep -E '^vectors:')"
  echo "$out" | grep -E '^(FAIL|TB ERROR)' | head -20
  echo "$out" | grep -q '^TB PASS' || fail=1
done
exit $fail
