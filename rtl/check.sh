#!/usr/bin/env bash
# Lint / compile / synthesize the RTL with all three tools, for the default and the tiny
# parameter set; prints the Yosys cell and flop counts. Exits non-zero on any failure.
# Usage: rtl/check.sh   (from anywhere; about 1.5 minutes on 2 cores)
set -uo pipefail
cd "$(dirname "$0")/.."
SRC=$(echo rtl/*.v)
TINY="CC_ENTRIES=2 TLB_SETS=1 TLB_WAYS=2 PSC_ENTRIES=2 WALKERS=1 ROB_DEPTH=2 IEC_ENTRIES=2"
tmp=$(mktemp -d /tmp/iommu_check.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

gv() { local o=""; for kv in $1; do o="$o -G$kv"; done; echo "$o"; }
gi() { local o=""; for kv in $1; do o="$o -Piommu_top.$kv"; done; echo "$o"; }
gy() { local o=""; for kv in $1; do o="$o -set ${kv%%=*} ${kv#*=}"; done; [ -n "$o" ] && echo "chparam$o iommu_top;"; }

# Yosys is the slow part: start both configurations in the background first.
for cfg in default tiny; do
  if [ "$cfg" = tiny ]; then P=$TINY; else P=""; fi
  # shellcheck disable=SC2086
  ( yosys -q -p "read_verilog -sv $SRC; $(gy "$P") synth -top iommu_top; tee -q -o $tmp/stat_$cfg.txt stat" \
      >"$tmp/yosys_$cfg.log" 2>&1; echo $? >"$tmp/yosys_$cfg.rc" ) &
done

for cfg in default tiny; do
  if [ "$cfg" = tiny ]; then P=$TINY; else P=""; fi
  echo "== [$cfg] verilator --lint-only -Wall"
  # shellcheck disable=SC2086
  verilator --lint-only -Wall --top-module iommu_top $(gv "$P") $SRC || fail=1
  echo "== [$cfg] iverilog -g2012"
  # shellcheck disable=SC2086
  iverilog -g2012 -s iommu_top $(gi "$P") -o "$tmp/x_$cfg.vvp" $SRC || fail=1
done

wait
for cfg in default tiny; do
  echo "== [$cfg] yosys synth"
  if [ "$(cat "$tmp/yosys_$cfg.rc" 2>/dev/null)" != 0 ]; then
    cat "$tmp/yosys_$cfg.log"; fail=1; continue
  fi
  if grep -qi "warning\|error" "$tmp/yosys_$cfg.log"; then cat "$tmp/yosys_$cfg.log"; fail=1; fi
  # the last section of `stat` is the whole design
  awk '/=== design hierarchy ===/{t=1} t' "$tmp/stat_$cfg.txt" >"$tmp/total_$cfg.txt"
  [ -s "$tmp/total_$cfg.txt" ] || cp "$tmp/stat_$cfg.txt" "$tmp/total_$cfg.txt"
  cells=$(grep -E 'Number of cells:' "$tmp/total_$cfg.txt" | tail -1 | awk '{print $4}')
  flops=$(grep -E '\$_(S?DFF|DFFE|ADFF|SDFF|ALDFF)[A-Z0-9_]* ' "$tmp/total_$cfg.txt" | awk '{s+=$2} END {print s+0}')
  latches=$(grep -E '\$_DLATCH' "$tmp/total_$cfg.txt" | awk '{s+=$2} END {print s+0}')
  echo "   cells=$cells flops=$flops latches=$latches"
  [ "$latches" = 0 ] || { echo "   ERROR: latches inferred"; fail=1; }
done

if [ "$fail" != 0 ]; then echo "check.sh: FAILED"; exit 1; fi
echo "check.sh: all clean"
