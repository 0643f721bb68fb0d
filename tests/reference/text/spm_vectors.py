#!/usr/bin/python3
"""Parity vectors for the SentencePiece models: ids (python3-sentencepiece EncodeAsIds, no BOS/EOS) and
decode(ids) for every parity text; spm_encode (the C++ CLI) must give the same ids on every text without a
line break. Usage: spm_vectors.py MODEL_DIR TEXTS.jsonl OUT.jsonl"""
import json, subprocess, sys
import sentencepiece as spm

mdir, texts_path, out = sys.argv[1:4]
names = ['unigram', 'bpe', 'identity', 'bpe-nofb']
procs = {n: spm.SentencePieceProcessor(model_file=f'{mdir}/{n}.model') for n in names}
texts = [json.loads(l)['t'] for l in open(texts_path, encoding='utf-8')]
# Texts python cannot pass to the C++ library (lone surrogates) are skipped, and counted.
ok = []
for t in texts:
    try: t.encode('utf-8'); ok.append(t)
    except UnicodeEncodeError: pass
rows = [{'t': t} for t in ok]
for n, sp in procs.items():
    for r in rows:
        ids = sp.encode(r['t'])
        r[n] = ids
        r[n + '_dec'] = sp.decode(ids)
# spm_encode on single-line texts (it reads lines; NUL also ends a line there).
single = [i for i, t in enumerate(ok) if '\n' not in t and '\r' not in t and '\x00' not in t and '\x85' not in t
          and '\u2028' not in t and '\u2029' not in t and '\x0b' not in t and '\x0c' not in t and '\x1c' not in t
          and '\x1d' not in t and '\x1e' not in t]
inp = ''.join(ok[i] + '\n' for i in single).encode('utf-8')
for n in names:
    res = subprocess.run(['spm_encode', f'--model={mdir}/{n}.model', '--output_format=id'], input=inp,
                         capture_output=True, check=True)
    lines = res.stdout.decode('utf-8').split('\n')[:len(single)]
    bad = [i for k, i in enumerate(single) if [int(x) for x in lines[k].split()] != rows[i][n]]
    if bad: sys.exit(f'{n}: spm_encode differs from python on {len(bad)} texts, e.g. {ok[bad[0]]!r}')
    print(f'{n}: spm_encode == python sentencepiece on {len(single)} single-line texts')
with open(out, 'w', encoding='utf-8') as f:
    for r in rows: f.write(json.dumps(r, ensure_ascii=False) + '\n')
print(f'{len(rows)} texts ({len(texts) - len(ok)} skipped: not encodable as UTF-8) -> {out}')
