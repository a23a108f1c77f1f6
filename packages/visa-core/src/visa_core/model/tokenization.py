"""Tokenizers: adding ``[SEG]`` / ``<image>`` to any tokenizer, building the offline tiny one,
and encoding a prompt with image placeholders the way the original does.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from transformers import AddedToken, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from visa_core.model import templates
from visa_core.model.llama_sentencepiece import LlamaSentencePiece, Token
from visa_core.model.templates import IMAGE_TOKEN, SEG_TOKEN

IGNORE_INDEX = -100
SEG_ADDED_TOKEN = AddedToken(SEG_TOKEN, lstrip=True, rstrip=True, normalized=False, special=False)
"""``[SEG]`` as transformers 4.31 treated a string added with ``add_tokens``: spaces around it stripped."""


def prepare_tokenizer(
    tokenizer: PreTrainedTokenizerBase, special_tokens: Sequence[str] = ()
) -> PreTrainedTokenizerBase:
    """Add ``[SEG]`` (an ordinary added token, as the original), then ``special_tokens`` (e.g.
    LISA's ``<im_start>`` / ``<im_end>``), then ``<image>`` (special), each only if absent.

    This order gives a 32000-token Llama tokenizer ``[SEG]`` = 32000 (and LISA's ``<im_start>`` /
    ``<im_end>`` = 32001 / 32002) as in the published checkpoints; ``<image>`` never reaches the
    embedding table. The pad token defaults to the unk token (as LISA does).

    ``[SEG]`` (new or already in the tokenizer) strips the whitespace on both sides, as every
    added token did in transformers 4.31, which LISA and VISA were trained with, so the state that
    becomes the mask prompt is that of ``is`` in ``"It is [SEG]."`` (newer transformers keep the
    space as a token of its own, ``is, ▁, [SEG]``). What follows ``[SEG]`` depends on 4.31's
    ``legacy`` mode, which this tokenizer alone does not reproduce: ``It, is, [SEG], ▁, .`` with
    ``legacy=True`` (4.31's default when ``tokenizer_config.json`` has no ``legacy`` key),
    ``It, is, [SEG], .`` with ``legacy=False``. ``VisaProcessor`` therefore encodes the prompts of a
    Llama ``tokenizer.model`` with :class:`~visa_core.model.llama_sentencepiece.LlamaSentencePiece`.
    """
    # re-adding an existing token updates its flags and keeps its id
    tokenizer.add_tokens([SEG_ADDED_TOKEN], special_tokens=False)
    vocab = tokenizer.get_vocab()
    missing = [token for token in special_tokens if token not in vocab]
    if missing:
        tokenizer.add_tokens(missing, special_tokens=True)
    if IMAGE_TOKEN not in vocab:
        tokenizer.add_tokens([IMAGE_TOKEN], special_tokens=True)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return tokenizer


QUERY_WORDS: tuple[str, ...] = (
    "red green blue yellow orange purple white black brown pink grey colour colours",
    "circle square triangle rectangle shape object objects thing things",
    "small large big largest smallest biggest same different other as with",
    "up down left right top bottom middle centre nearest farthest near far front behind",
    "moves moving move fastest slowest faster slower does not stop stops starts ends enters leaves",
    "the object that changes direction disappears appears scene video frame first last",
    "What How many Which Is there colour shape It is a No Yes one two three four five",
)
"""Words of common video queries, so that the tiny tokenizer learns merges for them (most end up
one token each instead of several byte pieces)."""


def build_tiny_tokenizer(vocab_size: int = 640) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained (deterministically, offline) on VISA's own prompt text.

    Ids 0, 1, 2 are ``<unk>``, ``<s>``, ``</s>`` as in Llama; ``<s>`` is prepended to every
    encoding; any text can be encoded (byte fallback through the byte-level alphabet).
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [
        templates.SYSTEM_PROMPT,
        *templates.SHORT_QUESTION_TEMPLATES,
        *templates.LONG_QUESTION_TEMPLATES,
        *templates.ANSWER_TEMPLATES,
        "USER: ASSISTANT: USER: ASSISTANT:",
        # answers as they follow "ASSISTANT:", so the space merges into the first answer token: that
        # token is then supervised and is what a generation prompt ending in "ASSISTANT:" predicts
        " ".join(f"{templates.ROLES['gpt']}: {answer}" for answer in templates.ANSWER_TEMPLATES),
        "the person the dog the cat the car the ball the bird on the left right which object moves "
        "fastest who is holding the red square blue circle a man a woman running walking (0) (1) (2) (3)",
        *QUERY_WORDS,
    ]
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", 1)]
    )
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>"
    )
    return prepare_tokenizer(wrapped)


def special_token_texts(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    """``<s>`` / ``</s>`` / ``<unk>`` (those the tokenizer has) -> ids."""
    named = (tokenizer.bos_token, tokenizer.eos_token, tokenizer.unk_token)
    return {str(token): int(tokenizer.convert_tokens_to_ids(str(token))) for token in named if token}


def _chunk_tokens(
    tokenizer: PreTrainedTokenizerBase, sentencepiece: LlamaSentencePiece | None, chunk: str, first: bool
) -> list[Token]:
    """``(id, begin, end)`` of one chunk, BOS on the ``first``; tokens that stand for no
    characters of the chunk (BOS) get ``begin = end = -1``."""
    if sentencepiece is None:
        encoded = tokenizer(chunk, add_special_tokens=first, return_offsets_mapping=True)
        return [
            (token_id, -1, -1) if begin == end else (token_id, begin, end)
            for token_id, (begin, end) in zip(encoded["input_ids"], encoded["offset_mapping"], strict=True)
        ]
    keep_spaces = special_token_texts(tokenizer)
    added = {**tokenizer.get_added_vocab(), **keep_spaces}
    tokens = sentencepiece.encode(chunk, added, keep_spaces)
    return [(tokenizer.bos_token_id, -1, -1), *tokens] if first else tokens


def _in_answer(begin: int, end: int, answer_spans: Sequence[tuple[int, int]]) -> bool:
    """Whether characters ``[begin, end)`` overlap an answer span (an empty range: lies inside one)."""
    if begin == end:
        return any(a_start <= begin < a_end for a_start, a_end in answer_spans)
    return any(end > a_start and begin < a_end for a_start, a_end in answer_spans)


def encode_pieces(
    tokenizer: PreTrainedTokenizerBase,
    pieces: Sequence[tuple[str, bool]],
    image_token_id: int,
    sentencepiece: LlamaSentencePiece | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``long[L]`` and labels ``long[L]`` of a prompt given as ``(text, is_answer)`` pieces.

    Like the original ``tokenizer_image_token``: the text is split at every ``<image>``, each
    chunk tokenised on its own (BOS on the first only) and ``image_token_id`` put between chunks.
    With ``sentencepiece`` (a Llama ``tokenizer.model``) each chunk is tokenised exactly as
    transformers 4.31 did (:class:`~visa_core.model.llama_sentencepiece.LlamaSentencePiece`; ids
    beyond its pieces from ``tokenizer``), else by ``tokenizer`` itself. A token is supervised
    (label = its id) when its characters overlap an answer piece (a piece that stands for no
    character, as the ``▁`` in ``[SEG] ▁ .``: when it lies inside one); BOS and images are
    ``IGNORE_INDEX``.
    """
    text = "".join(piece for piece, _ in pieces)
    answer_spans, start = [], 0
    for piece, is_answer in pieces:
        if is_answer:
            answer_spans.append((start, start + len(piece)))
        start += len(piece)
    ids: list[int] = []
    labels: list[int] = []
    offset = 0
    for index, chunk in enumerate(text.split(IMAGE_TOKEN)):
        if index > 0:
            ids.append(image_token_id)
            labels.append(IGNORE_INDEX)
            offset += len(IMAGE_TOKEN)
        for token_id, begin, end in _chunk_tokens(tokenizer, sentencepiece, chunk, index == 0):
            ids.append(token_id)
            supervised = begin >= 0 and _in_answer(begin + offset, end + offset, answer_spans)
            labels.append(token_id if supervised else IGNORE_INDEX)
        offset += len(chunk)
    return torch.tensor(ids, dtype=torch.long), torch.tensor(labels, dtype=torch.long)
