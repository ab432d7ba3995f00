#!/usr/bin/env bash
# Run the directed self-checking bench (tb_iommu.sv) with Icarus Verilog in the default and the
# tiny configuration. Exits non-zero unless both print "TB PASS". Takes a few seconds.
set -uo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d /tmp/iommu_tb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
for cfg in default tiny; do
  def=""; [ "$cfg" = tiny ] && def="-DTINY"
  # shellcheck disable=SC2086
  iverilog -g2012 $def -s tb_iommu -o "$tmp/tb_$cfg.vvp" rtl/tb/tb_iommu.sv rtl/*.v || { fail=1; continue; }
  out=$(vvp -n "$tmp/tb_$cfg.vvp")
  echo "== [$cfg]"; echo "$out" | grep -E "latency|throughput|stress|FAIL|PASS"
  echo "$out" | grep -q "^TB PASS" || fail=1
done
exit $fail
