#!/bin/sh
# bench_low_memory.sh - quantize a model whose input does not fit in the
# memory the process may use, page cache included, and compare it with the
# same run without the limit.
#
# Why: quantkit streams (pread of chunks, output written as it is made), so
# its resident set should stay at tens of MB and its time near the disk's
# whatever the model's size. A machine with less memory than the model is
# simulated with a memory cgroup (v2 memory.max, or v1 memory.limit_in_bytes)
# that also holds the page cache the run creates: the input cannot stay
# cached, and its pages must be dropped as the run goes.
#
# Usage: bench/bench_low_memory.sh QUANTKIT MODEL.gguf [LIMIT_MiB] [TYPES]
#   MODEL: an F16/BF16/F32 GGUF (build/bench_quantize writes one as
#   $QK_BENCH_DIR/bench-f16.gguf); LIMIT_MiB defaults to a quarter of the
#   model's size; TYPES defaults to "Q8_0 Q4_K_M".
# Needs root (cgroups, and dropping the page cache so every run starts
# cold). Prints, per type: seconds and peak RSS without and with the limit,
# their ratio, and whether both outputs are the same bytes.
set -eu
qk=${1:?usage: bench_low_memory.sh QUANTKIT MODEL.gguf [LIMIT_MiB] [TYPES]}
model=${2:?usage: bench_low_memory.sh QUANTKIT MODEL.gguf [LIMIT_MiB] [TYPES]}
size=$(stat -c %s "$model")
limit_mib=${3:-$((size / 4 / 1048576))}
types=${4:-"Q8_0 Q4_K_M"}
[ "$(id -u)" = 0 ] || { echo "bench_low_memory: needs root (cgroups, drop_caches)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench_low_memory: needs /usr/bin/time (Debian: time)" >&2; exit 1; }

# a memory cgroup: v2 if the unified hierarchy has the memory controller, else v1
cg=""
if [ -f /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
  cg=/sys/fs/cgroup/qk-bench-low-memory.$$
  mkdir "$cg" && echo $((limit_mib * 1048576)) > "$cg/memory.max"
elif [ -d /sys/fs/cgroup/memory ]; then
  cg=/sys/fs/cgroup/memory/qk-bench-low-memory.$$
  mkdir "$cg" && echo $((limit_mib * 1048576)) > "$cg/memory.limit_in_bytes"
else
  echo "bench_low_memory: no memory cgroup here" >&2; exit 1
fi
out=$(dirname "$model")/bench-low-memory
trap 'rmdir "$cg" 2>/dev/null; rm -f "$out".gguf "$out".free.gguf "$out".time' EXIT

cold() { sync; echo 3 > /proc/sys/vm/drop_caches; }
# run OUT TYPE [CGROUP]: prints "seconds peak_kB". Both runs write the
# same output name: it is recorded in the file (quantkit.command).
run() {
  cold
  if [ -n "${3:-}" ]; then
    sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' sh "$3" \
      /usr/bin/time -f "%e %M" -o "$out.time" "$qk" quantize -t 2 "$model" "$1" "$2" >/dev/null 2>&1
  else
    /usr/bin/time -f "%e %M" -o "$out.time" "$qk" quantize -t 2 "$model" "$1" "$2" >/dev/null 2>&1
  fi
  tail -n 1 "$out.time"
}

echo "model $model: $((size / 1048576)) MiB; limit (process + page cache): $limit_mib MiB; cold cache every run"
printf '%-8s %10s %12s %12s %14s %8s %s\n' type "free s" "free RSS" "limited s" "limited RSS" ratio "bytes"
for t in $types; do
  set -- $(run "$out.gguf" "$t")
  fs=$1 fk=$2
  mv "$out.gguf" "$out.free.gguf"
  set -- $(run "$out.gguf" "$t" "$cg")
  ls_=$1 lk=$2
  same=identical
  cmp -s "$out.free.gguf" "$out.gguf" || same=DIFFER
  printf '%-8s %10s %9s MB %12s %11s MB %7.2fx %s\n' "$t" "$fs" $((fk / 1024)) "$ls_" $((lk / 1024)) \
    "$(echo "$ls_ $fs" | awk '{ print $1 / $2 }')" "$same"
done
rm -f "$out.time"
