"""Tiny tokenizer files in each family's own format, so import/export can be shown to carry them:
SentencePiece tokenizer.model (ChatGLM2/3), tiktoken-style tokenizer.model (GLM-4: "base64 rank"
lines), and a Hugging Face tokenizer.json (LLaMA-3/Qwen2; byte-level BPE over a small alphabet)."""
import base64
import io
import json
import os

TEXT = ("Permission denied. 权限不够。 File not found: %s 找不到文件：%s\n"
        "Cannot open display. 无法打开显示。 Usage: ls [OPTION]... [FILE]... 用法：ls [选项]... [文件]...\n") * 20


def write(kind, out, cfg):
    if kind == "sentencepiece":
        import sentencepiece as spm
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(sentence_iterator=iter(TEXT.splitlines()), model_writer=model,
                                       vocab_size=60, model_type="bpe", character_coverage=1.0,
                                       num_threads=1, hard_vocab_limit=False, minloglevel=2,
                                       normalization_rule_name="identity")
        with open(os.path.join(out, "tokenizer.model"), "wb") as f:
            f.write(model.getvalue())
        conf = {"name_or_path": cfg.get("_name_or_path", "tiny"), "remove_space": False, "do_lower_case": False,
                "tokenizer_class": "ChatGLMTokenizer",
                "auto_map": {"AutoTokenizer": ["tokenization_chatglm.ChatGLMTokenizer", None]}}
    elif kind == "tiktoken":
        ranks = [bytes([b]) for b in range(32, 127)] + [b"er", b"or", b" n"]
        with open(os.path.join(out, "tokenizer.model"), "w") as f:
            for rank, tok in enumerate(ranks):
                f.write(f"{base64.b64encode(tok).decode()} {rank}\n")
        conf = {"tokenizer_class": "ChatGLM4Tokenizer", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                "auto_map": {"AutoTokenizer": ["tokenization_chatglm.ChatGLM4Tokenizer", None]}}
    else:
        alphabet = sorted(set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:%[]") | {"Ġ"})
        vocab = {"<|begin_of_text|>": 0, "<unk>": 1, "<|end_of_text|>": 2}
        for ch in alphabet:
            vocab.setdefault(ch, len(vocab))
        merges = ["e r", "o r", "Ġ n"]
        for m in merges:
            vocab[m.replace(" ", "")] = len(vocab)
        tj = {"version": "1.0", "truncation": None, "padding": None,
              "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                                "normalized": False, "special": True} for t, i in list(vocab.items())[:3]],
              "normalizer": None,
              "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
              "post_processor": None,
              "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
              "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                        "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                        "vocab": vocab, "merges": merges}}
        with open(os.path.join(out, "tokenizer.json"), "w") as f:
            json.dump(tj, f, ensure_ascii=False)
        conf = {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|begin_of_text|>",
                "eos_token": "<|end_of_text|>", "model_max_length": cfg.get("max_position_embeddings", 2048)}
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(conf, f, indent=2)
        f.write("\n")
