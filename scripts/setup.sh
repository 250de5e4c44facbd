#!/usr/bin/env bash
# Quick start, step 1: install what is missing (Debian 12, as root), build
# quantkit, and run its main job on a tiny model the repository generates.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools and libraries, plus what the test suite uses: npm (to fetch the
# pinned llama.cpp build), the aarch64 cross compiler and qemu (NEON tests).
pkgs=(build-essential cmake pkg-config zlib1g-dev libcjson-dev libxxhash-dev libssl-dev fusefat dosfstools
      nodejs npm gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user clang)
missing=()
for p in "${pkgs[@]}"; do
  # npm/nodejs may come from elsewhere (nodesource, nvm): a working npm is enough.
  if [[ $p == npm || $p == nodejs ]] && command -v npm >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ $status == *"install ok installed"* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

bash scripts/quickstart.sh build
