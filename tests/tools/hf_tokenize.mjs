// hf_tokenize.mjs - reference token ids from Hugging Face's JavaScript tokenizers
// (npm @huggingface/tokenizers), for tests/convert/test_tokenize_parity.c.
//
//   node hf_tokenize.mjs LIB_DIR TOKENIZER_DIR STRINGS_FILE
//
// LIB_DIR: the unpacked @huggingface/tokenizers package (holding dist/tokenizers.mjs).
// TOKENIZER_DIR: tokenizer.json + tokenizer_config.json of one model.
// STRINGS_FILE: tests/data/tokenize_strings.txt (format described in that file).
// Prints one JSON array to stdout: per string {"line", "text", "ids", "ids_special"}: the ids
// without the post-processor's special tokens (add_special_tokens: false) and with them.
// Added/special token texts inside a string are always matched, as HF tokenizers always do
// (llama_tokenize's parse_special = true).
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [libDir, tokDir, stringsFile] = process.argv.slice(2);
if (!stringsFile) {
  process.stderr.write("usage: node hf_tokenize.mjs LIB_DIR TOKENIZER_DIR STRINGS_FILE\n");
  process.exit(2);
}
const { Tokenizer } = await import(pathToFileURL(resolve(libDir, "dist/tokenizers.mjs")).href);

const readJson = (name) => JSON.parse(readFileSync(join(tokDir, name), "utf8"));
const tokenizer = new Tokenizer(readJson("tokenizer.json"), readJson("tokenizer_config.json"));

// Escapes: \n \t \r \\ \xHH (HH < 80) \u{H..} (a code point) \s (a space, to show one at a line's end)
// \e (nothing: a line "\e" is the empty string). Every other backslash sequence is an error.
function unescape(line, lineNo) {
  let out = "";
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c !== "\\") { out += c; continue; }
    const e = line[++i];
    if (e === "n") out += "\n";
    else if (e === "t") out += "\t";
    else if (e === "r") out += "\r";
    else if (e === "\\") out += "\\";
    else if (e === "s") out += " ";
    else if (e === "e") {}
    else if (e === "x" && /^[0-7][0-9a-fA-F]$/.test(line.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(line.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (e === "u" && line[i + 1] === "{") {
      const end = line.indexOf("}", i);
      const cp = end > 0 ? parseInt(line.slice(i + 2, end), 16) : NaN;
      if (!(cp >= 1 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff))
        throw new Error(`${stringsFile}:${lineNo}: bad \\u{...}`);
      out += String.fromCodePoint(cp);
      i = end;
    } else {
      throw new Error(`${stringsFile}:${lineNo}: unknown escape \\${e ?? ""}`);
    }
  }
  return out;
}

const lines = readFileSync(stringsFile, "utf8").split("\n");
const results = [];
lines.forEach((raw, k) => {
  if (raw === "" || raw.startsWith("#")) return;
  const text = unescape(raw, k + 1);
  const ids = Array.from(tokenizer.encode(text, { add_special_tokens: false }).ids, Number);
  const idsSpecial = Array.from(tokenizer.encode(text, { add_special_tokens: true }).ids, Number);
  results.push({ line: k + 1, text, ids, ids_special: idsSpecial });
});
process.stdout.write(JSON.stringify(results) + "\n");
