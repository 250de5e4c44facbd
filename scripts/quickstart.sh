#!/usr/bin/env bash
# The main job, on a tiny Llama-style model the repository generates itself:
#   Hugging Face folder -> convert to Q4_K_M in one pass -> verify -> info,
#   and the two-step route: convert to F16, quantize to Q8_0, verify both.
# Usage: scripts/quickstart.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
qk="$build/quantkit"
out=tiny-model
rm -rf "$out"
"$build/qk_make_tiny_model" "$out/hf"
echo "== quantkit convert (one pass to Q4_K_M)"
"$qk" convert "$out/hf" --type q4_k_m -o "$out/tiny-Q4_K_M.gguf"
echo "== quantkit convert (F16) + quantize (Q8_0)"
"$qk" convert "$out/hf" --type f16 -o "$out/tiny-F16.gguf"
"$qk" quantize "$out/tiny-F16.gguf" "$out/tiny-Q8_0.gguf" Q8_0
echo "== quantkit verify"
"$qk" verify --write-manifest "$out/MANIFEST" "$out/tiny-Q4_K_M.gguf" "$out/tiny-F16.gguf" "$out/tiny-Q8_0.gguf"
echo "== quantkit info"
# Capture, then show the top: piping straight into `head` would let a
# closed pipe kill `info` with SIGPIPE, and pipefail turns that into a failure.
info=$("$qk" info "$out/tiny-Q4_K_M.gguf")
sed -n 1,20p <<<"$info"
echo "quickstart: OK (files in $out/)"
