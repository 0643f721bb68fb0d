#!/usr/bin/python3
"""Writes the tokenizer parity texts (JSONL, {"t": text}) from real data: corpus pairs (English, Chinese,
mixed), manual-page lines, C# source lines of this repository, and edge cases (emoji, control characters,
whitespace runs, supplementary planes, combining marks). Seeded, so the output is reproducible.
Usage: make_parity_lines.py CORPUS_DIR REPO_ROOT OUT.jsonl"""
import json, random, sys, pathlib

corpus, repo, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
rng = random.Random(20261122)
pairs = [l.split('\t') for l in (corpus / 'train.tsv').read_text(encoding='utf-8').splitlines() if '\t' in l]
sample = rng.sample(pairs, 1400)
texts = [p[0] for p in sample[:600]] + [p[1] for p in sample[600:1200]]
texts += [f"{a}  {b}" for a, b in sample[1200:1400]]
for name in ['mono.en.txt', 'mono.zh.txt']:
    lines = [l for l in (corpus / name).read_text(encoding='utf-8').splitlines() if l.strip()]
    texts += rng.sample(lines, 150)
code = []
for f in sorted((repo / 'src').rglob('*.cs')):
    code += [l for l in f.read_text(encoding='utf-8').splitlines() if l.strip()]
texts += rng.sample(code, 250)
# Multi-line code blocks keep newlines and indentation runs.
for _ in range(50):
    i = rng.randrange(len(code) - 5)
    texts.append('\n'.join(code[i:i + 5]) + '\n')
edge = ["", " ", "  ", "\n", "\r\n", "\t\tindented", "a\x00b", "bell\x07 and \x1b[31mred\x1b[0m", "\x7f\x85\xa0nbsp",
        "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇨🇳🇬🇧", "𠀀𠀁 supplementary Han", "𝒜𝒷𝒸 math letters", "é vs é (combining)",
        "ﬁ ligature, Ⅻ roman, ① circled, ２０２６ full-width", "  leading and trailing  ", "tabs\tbetween\twords",
        "mixed中文English混合123数字", "don't it's we're they've I'm you'll he'd DON'T", "«quotes» “curly” ‘single’",
        "line1\n\n\nline3", "    def f(x):\n        return x  # comment\n", "%s: %d files, %1$s; {0} {name} %(size)d",
        "https://example.com/path?q=1&x=2#frag", "C:\\Windows\\System32", "ⅰⅱⅲ", "Ωμέγα Ελληνικά", "Привет мир",
        "日本語のテキスト、カタカナ", "한국어 텍스트", "العربية", "עברית", "ไทย", "\u200b zero width \u200d joiner \ufeff bom",
        "＜|pad|＞ and <|eos|> literal", "<s> and </s> literal", "▁already▁has▁metaspace", "Ġalready Ġbyte level"]
texts += edge
for _ in range(150):  # random mixtures of the above alphabets
    n = rng.randrange(1, 40)
    pool = "aé中文🙂 \n\t0123456789.,;:!?'\"-_/\\()[]{}<>%$#@&*+=|~`^ＡＢｃ한日本ــ𠀀\x01"
    texts.append(''.join(rng.choice(pool) for _ in range(n)))
with open(out, 'w', encoding='utf-8') as f:
    for t in texts:
        f.write(json.dumps({"t": t}, ensure_ascii=False) + '\n')
print(f"{len(texts)} texts -> {out}")
