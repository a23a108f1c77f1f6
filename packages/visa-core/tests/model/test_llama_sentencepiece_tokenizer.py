"""A Llama tokenizer published as ``tokenizer.model`` (sentencepiece) loads offline and gets ``[SEG]``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def llama_tokenizer_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shaped like a Vicuna / Chat-UniVi checkpoint's tokenizer files (tiny vocabulary)."""
    import sentencepiece

    folder = tmp_path_factory.mktemp("llama-tokenizer")
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(["What is the red circle in the video?", "Sure, it is the dog."] * 50))
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "tokenizer"), vocab_size=320, model_type="bpe",
        bos_id=1, eos_id=2, unk_id=0, pad_id=-1, byte_fallback=True, minloglevel=2,
    )  # fmt: skip
    corpus.unlink()
    (folder / "tokenizer.vocab").unlink()
    config = {
        "tokenizer_class": "LlamaTokenizer",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    return folder


def test_llama_tokenizer_model_loads_and_gets_seg_after_the_vocabulary(llama_tokenizer_folder: Path) -> None:
    from transformers import AutoTokenizer

    from visa_core.model.tokenization import prepare_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(llama_tokenizer_folder))
    base = len(tokenizer)
    prepare_tokenizer(tokenizer)
    assert tokenizer.convert_tokens_to_ids("[SEG]") == base
    assert tokenizer.convert_tokens_to_ids("<image>") == base + 1
    ids = tokenizer("It is [SEG].", add_special_tokens=False)["input_ids"]
    assert ids.count(base) == 1
    # as transformers 4.31 (LISA / VISA training) tokenised it: no lone "▁" before [SEG]
    assert tokenizer.convert_ids_to_tokens(ids[: ids.index(base)])[-1] == "▁is"
