// Reference token ids from Hugging Face's own JavaScript tokenizer (@huggingface/tokenizers),
// an implementation independent of ours, for the agreement test (hf_agreement_test.cpp).
//
// usage: node hf_reference.mjs MODULE_PREFIX TOKENIZER.json TEXTS.jsonl OUT.jsonl
//   MODULE_PREFIX: the npm --prefix folder that holds node_modules/@huggingface/tokenizers
//   TEXTS.jsonl:   one {"name": ..., "text": ...} per line
//   OUT.jsonl:     one {"name": ..., "ids": [...], "decoded": ...} per input line
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [prefix, tokenizerPath, textsPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error("usage: node hf_reference.mjs MODULE_PREFIX TOKENIZER.json TEXTS.jsonl OUT.jsonl");
  process.exit(2);
}
// Import by path: the package lives in the build tree, not next to this script.
const pkgDir = path.join(prefix, "node_modules", "@huggingface", "tokenizers");
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
const { Tokenizer } = await import(pathToFileURL(path.join(pkgDir, pkg.exports["."].node.import)));

const tokenizer = new Tokenizer(JSON.parse(fs.readFileSync(tokenizerPath, "utf8")), {
  clean_up_tokenization_spaces: false,
});
const lines = fs.readFileSync(textsPath, "utf8").split("\n").filter((l) => l.trim() !== "");
const out = [];
for (const line of lines) {
  const { name, text } = JSON.parse(line);
  const { ids } = tokenizer.encode(text);
  // decode() refuses an empty list (the empty text).
  const decoded =
    ids.length === 0
      ? ""
      : tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  out.push(JSON.stringify({ name, ids, decoded }));
}
fs.writeFileSync(outPath, out.join("\n") + "\n");
console.log(`hf_reference: ${out.length} texts, @huggingface/tokenizers ${pkg.version}`);
