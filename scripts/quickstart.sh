#!/usr/bin/env bash
# The main job on a tiny model the repository generates itself:
#   generate a Llama-style Hugging Face folder -> inspect it.
# Usage: scripts/quickstart.sh BUILD_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=tiny-model
rm -rf "$out"
"$build/qk_make_tiny_model" "$out/hf" >/dev/null
"$build/quantkit" info "$out/hf"
