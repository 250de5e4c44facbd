#!/usr/bin/env bash
# Fuzz every parser of untrusted input with libFuzzer (clang, ASan + UBSan).
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Seeds: tests/fuzz/corpus/<target>/ (never modified here). The growing work
# corpus lives in build-fuzz/corpus/<target>/; crashes, leaks, timeouts and
# out-of-memory inputs go to build-fuzz/findings/<target>/. Fix what it finds,
# then copy the input into tests/fuzz/corpus/<target>/ so test_fuzz_replay
# keeps it fixed. -malloc_limit_mb makes any allocation far beyond what a
# small input justifies a finding too. The targets that need files write them
# into a scratch folder of this script (on /dev/shm when it is writable), which
# is removed on every exit path: a crashing fuzzer skips its own cleanup.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(gguf safetensors spm tokenizer_json imatrix config gguf_split manifest tokenizer_config imatrix_gguf)
command -v clang >/dev/null || { echo "fuzz: clang is needed (apt-get install clang)" >&2; exit 1; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DQK_FUZZ=ON -DQK_SANITIZE=ON -DQK_TESTS=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
shm=/dev/shm
[[ -d $shm && -w $shm ]] || shm=${TMPDIR:-/tmp}
scratch=$(mktemp -d "$shm/qk-fuzz-run.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
export QK_FUZZ_TMPDIR=$scratch
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  log="build-fuzz/fuzz-$t.log"
  echo "fuzz: $t for ${secs}s"
  ASAN_OPTIONS=detect_leaks=1 ./build-fuzz/fuzz_"$t" "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=65536 \
    -artifact_prefix="build-fuzz/findings/$t/" -print_final_stats=1 >"$log" 2>&1 || status=1
  rm -rf -- "${scratch:?}"/* # what a crashed run left
  grep -E "stat::number_of_executed_units|stat::new_units_added|cov:" "$log" | tail -3 || true
  n=$(find "build-fuzz/findings/$t" -type f | wc -l)
  echo "fuzz: $t: $n finding(s)"
  ((n == 0)) || status=1
done
exit $status
