// The Hugging Face tokenizers.js side of `lightglm bench tokenizer`: encode/decode throughput of one tokenizer.json on
// the benchmark texts, and the ids it gives (for the agreement check). Needs npm `@huggingface/tokenizers` installed
// in JS_DIR (`npm install --prefix JS_DIR @huggingface/tokenizers@0.2.0`). Usage:
//   node bench_hf.mjs --js-dir JS_DIR --tokenizer tokenizer.json --texts TEXTS.txt --ids-out IDS.txt [--min-seconds 1]
// TEXTS.txt: one text a line (UTF-8, split on '\n' only). IDS.txt: ids of each text, space-separated, one line each.
// Timing: whole passes repeated until --min-seconds have passed, best pass kept (the machine is shared). JS has no
// batch call: encode and decode are one call per text. The first pass (which gives the ids) is timed too. The last stdout line is one JSON object.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
for (const k of ["js-dir", "tokenizer", "texts", "ids-out"]) if (!args[k]) { console.error(`missing --${k}`); process.exit(2); }
const require = createRequire(path.join(path.resolve(args["js-dir"]), "x.js"));
const entry = require.resolve("@huggingface/tokenizers");
const mod = await import(entry);
const Tokenizer = mod.Tokenizer ?? mod.default.Tokenizer;
const version = JSON.parse(fs.readFileSync(path.join(path.dirname(entry), "..", "package.json"), "utf8")).version;
const minSeconds = Number(args["min-seconds"] ?? 1);

const raw = fs.readFileSync(args.tokenizer, "utf8");
const texts = fs.readFileSync(args.texts, "utf8").split("\n");
if (texts.length && texts[texts.length - 1] === "") texts.pop();
const opts = { add_special_tokens: false };
// As on our side: warm the code (V8's JIT) on a throw-away instance, then time the first pass of a fresh one.
const warm = new Tokenizer(JSON.parse(raw), {});
for (const t of texts.slice(0, 100)) warm.encode(t, opts);
const tok = new Tokenizer(JSON.parse(raw), {});
const t0 = process.hrtime.bigint();
const ids = texts.map((t) => tok.encode(t, opts).ids);
const first = Number(process.hrtime.bigint() - t0) / 1e9;
fs.writeFileSync(args["ids-out"], ids.map((r) => r.join(" ")).join("\n") + (ids.length ? "\n" : ""));

function bestPass(fn) {
  let best = Infinity, total = 0, passes = 0;
  while (total < minSeconds || passes < 2) {
    const t0 = process.hrtime.bigint();
    fn();
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.min(best, dt); total += dt; passes++;
  }
  return [best, passes];
}
const [encLine, p1] = bestPass(() => { for (const t of texts) tok.encode(t, opts); });
const [decLine, p2] = bestPass(() => { for (const r of ids) tok.decode(r); });
console.log(JSON.stringify({
  peer: `@huggingface/tokenizers ${version} (Node ${process.versions.node})`,
  encode_first_s: first, encode_line_s: encLine, decode_line_s: decLine, passes: [p1, p2],
  peak_rss_mb: process.resourceUsage().maxRSS / 1024,
}));
