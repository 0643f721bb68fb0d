#!/usr/bin/python3
"""The python3-sentencepiece side of `lightglm bench tokenizer`: encode/decode throughput of one .model on the
benchmark texts, and the ids it gives (for the agreement check). Usage:
  bench_spm.py --model M.model --texts TEXTS.txt --ids-out IDS.txt [--min-seconds 1.0] [--threads N]
TEXTS.txt: one text a line (UTF-8, split on '\\n' only). IDS.txt: the ids of each text, space-separated, one line each.
Timing: each measurement repeats whole passes over the texts until --min-seconds have passed and keeps the best pass
(the machine is shared; the best pass is the least disturbed). The last stdout line is one JSON object:
seconds of the first pass (which gives the ids) and per best pass for encode/decode per line (one call per text) and batch (one call for the whole list, which the
C++ library spreads over --threads threads)."""
import argparse, json, os, resource, sys, time
import sentencepiece as spm


def best_pass(fn, min_seconds):
    best, total, passes = float('inf'), 0.0, 0
    while total < min_seconds or passes < 2:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, total, passes = min(best, dt), total + dt, passes + 1
    return best, passes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--texts', required=True)
    ap.add_argument('--ids-out', required=True)
    ap.add_argument('--min-seconds', type=float, default=1.0)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    a = ap.parse_args()
    with open(a.texts, encoding='utf-8', newline='') as f:
        texts = f.read().split('\n')
    if texts and texts[-1] == '':
        texts.pop()
    # As on our side: warm up on a throw-away instance, then time the first pass of a fresh one.
    warm = spm.SentencePieceProcessor(model_file=a.model)
    for t in texts[:100]:
        warm.encode(t)
    sp = spm.SentencePieceProcessor(model_file=a.model)
    t0 = time.perf_counter()
    ids = [sp.encode(t) for t in texts]
    first = time.perf_counter() - t0
    with open(a.ids_out, 'w', encoding='utf-8') as f:
        for row in ids:
            f.write(' '.join(map(str, row)) + '\n')
    enc_line, p1 = best_pass(lambda: [sp.encode(t) for t in texts], a.min_seconds)
    enc_batch, p2 = best_pass(lambda: sp.encode(texts, num_threads=a.threads), a.min_seconds)
    dec_line, p3 = best_pass(lambda: [sp.decode(r) for r in ids], a.min_seconds)
    dec_batch, p4 = best_pass(lambda: sp.decode(ids, num_threads=a.threads), a.min_seconds)
    print(json.dumps({
        'peer': f'python3-sentencepiece {spm.__version__} (Python {sys.version.split()[0]})',
        'encode_first_s': first, 'encode_line_s': enc_line, 'encode_batch_s': enc_batch, 'decode_line_s': dec_line, 'decode_batch_s': dec_batch,
        'passes': [p1, p2, p3, p4], 'threads': a.threads,
        'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == '__main__':
    main()
