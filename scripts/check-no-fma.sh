#!/usr/bin/env bash
# check-no-fma.sh OBJDUMP LIBRARY - fail if the kernel library holds any fused
# multiply-add instruction. Byte-identity with ggml needs every a*b+c rounded
# twice; -ffp-contract=off (CMakeLists.txt) must keep the compiler from fusing,
# and no kernel may use vfmaq/_mm*_fmadd. Covers aarch64 (fmadd, fmsub,
# fnmadd, fnmsub, vector fmla/fmls) and x86-64 (vfmadd*, vfmsub*, vfnmadd*, vfnmsub*).
# Run by ctest as no_fused_multiply_add.
set -euo pipefail
objdump=$1 lib=$2
[[ -f $lib ]] || { echo "check-no-fma: $lib missing" >&2; exit 2; }
dis=$("$objdump" -d --no-show-raw-insn "$lib")
n_insn=$(grep -cP '^\s+[0-9a-f]+:\t' <<<"$dis" || true)
((n_insn > 1000)) || { echo "check-no-fma: disassembly of $lib looks empty ($n_insn lines)" >&2; exit 2; }
if hits=$(grep -P '\t(fn?m(add|sub)|fml[as]|vfn?m(add|sub)\w*)\s' <<<"$dis"); then
  echo "check-no-fma: fused multiply-add in $lib:" >&2
  head -20 <<<"$hits" >&2
  exit 1
fi
echo "check-no-fma: $n_insn instructions in $lib, no fused multiply-add"
