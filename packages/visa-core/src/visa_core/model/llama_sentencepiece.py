"""Token ids of a Llama ``tokenizer.model`` exactly as the original's tokenizer gave them.

LISA and VISA tokenised with transformers 4.31's slow ``LlamaTokenizer`` over sentencepiece. Its
rules, which newer transformers no longer follow:

* the text is cut at every added token (``[SEG]``, LISA's ``<im_start>`` / ``<im_end>``) and at
  ``<s>`` / ``</s>`` / ``<unk>``, leftmost-longest; the whitespace next to an added token is
  stripped on both sides, next to ``<s>`` / ``</s>`` / ``<unk>`` it is kept;
* every remaining span is encoded by sentencepiece on its own, so each gets the dummy prefix ``▁``:
  a span that starts with a space gives ``▁`` *and* the space (``" \\nTarget"`` -> ``▁ ▁\\n ...``),
  and with ``legacy=True`` the text after ``[SEG]`` gets one too (``"[SEG]."`` -> ``[SEG] ▁ .``);
* with ``legacy=False`` the text gets one leading ``▁`` (literal ``▁`` become spaces), and a span
  that follows an added token loses the ``▁`` of its first piece (``"[SEG]."`` -> ``[SEG] .``; the
  shortened piece is looked up again, ``<unk>`` when the vocabulary lacks it);
* ``legacy`` comes from ``tokenizer_config.json``: absent means ``True`` (4.31's default), a value
  means its truth (``null`` -> ``False``).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path

from visa_core.errors import CheckpointError

SENTENCEPIECE_FILE = "tokenizer.model"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
LEGACY_KEY = "legacy"
SPIECE_UNDERLINE = "▁"
_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")

Token = tuple[int, int, int]
"""``(id, begin, end)``: a token id and the characters ``text[begin:end]`` it stands for."""


def legacy_from_config(config: Mapping) -> bool:
    """The ``legacy`` mode transformers 4.31 chose for a ``tokenizer_config.json``: absent -> True."""
    return bool(config.get(LEGACY_KEY, True))


def read_tokenizer_config(folder: Path) -> dict:
    """``folder/tokenizer_config.json`` (empty when absent); a clear error when it is no JSON object."""
    path = folder / TOKENIZER_CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: invalid JSON ({error})") from error
    if not isinstance(config, dict):
        raise CheckpointError(f"{path}: expected a JSON object, got {type(config).__name__}")
    return config


def _piece_bytes(piece: str) -> bytes:
    byte = _BYTE_PIECE.fullmatch(piece)
    return bytes([int(byte[1], 16)]) if byte else piece.encode()


@functools.lru_cache(maxsize=32)
def _splitter(tokens: tuple[str, ...]) -> re.Pattern[str] | None:
    """Leftmost-longest matcher of ``tokens`` (None when there are none)."""
    if not tokens:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=len, reverse=True)))


class LlamaSentencePiece:
    """transformers 4.31's slow ``LlamaTokenizer`` encoding of one ``tokenizer.model``.

    Args:
        model_file: the sentencepiece model.
        legacy: 4.31's ``legacy`` flag (see :func:`legacy_from_config`).
    """

    def __init__(self, model_file: str | Path, legacy: bool) -> None:
        import sentencepiece

        self.model_file = Path(model_file)
        self.legacy = legacy
        try:
            self.model = sentencepiece.SentencePieceProcessor(model_file=str(self.model_file))
        except (OSError, RuntimeError) as error:
            raise CheckpointError(f"{self.model_file}: not a sentencepiece model ({error})") from error
        probe = b"".join(_piece_bytes(p) for p in self.model.encode("a", out_type=str))
        self.dummy_prefix = probe.startswith(SPIECE_UNDERLINE.encode())

    @classmethod
    def from_folder(cls, folder: str | Path) -> LlamaSentencePiece | None:
        """The encoding of a tokenizer folder's ``tokenizer.model`` with the ``legacy`` mode of its
        ``tokenizer_config.json``; None without a ``tokenizer.model`` or for a non-Llama tokenizer."""
        folder = Path(folder)
        if not (folder / SENTENCEPIECE_FILE).is_file():
            return None
        config = read_tokenizer_config(folder)
        if not str(config.get("tokenizer_class") or "LlamaTokenizer").startswith("Llama"):
            return None
        return cls(folder / SENTENCEPIECE_FILE, legacy_from_config(config))

    @property
    def vocab_size(self) -> int:
        """Pieces of the sentencepiece model (added tokens come after them)."""
        return self.model.get_piece_size()

    def pieces(self) -> list[str]:
        """Every piece, by id."""
        return [self.model.id_to_piece(i) for i in range(self.vocab_size)]

    def encode(self, text: str, added: Mapping[str, int], keep_spaces: Collection[str]) -> list[Token]:
        """``text`` as 4.31 tokenised it without special tokens (``tokenizer(text,
        add_special_tokens=False)``), with character offsets.

        Args:
            added: the tokens that are never split (added tokens, ``<s>`` / ``</s>`` / ``<unk>``) -> ids.
            keep_spaces: those of them that keep the whitespace around them (``<s>``, ``</s>``, ``<unk>``).
        """
        shift = 0
        if not self.legacy:
            text, shift = SPIECE_UNDERLINE + text.replace(SPIECE_UNDERLINE, " "), 1
        spans = self._spans(text, added, keep_spaces)
        tokens: list[Token] = []
        for begin, end, is_added in spans:
            if is_added:
                tokens.append((added[text[begin:end]], begin, end))
            else:
                tokens.extend(self._encode_span(text, begin, end))
        length = len(text) - shift
        return [(i, min(max(b - shift, 0), length), min(max(e - shift, 0), length)) for i, b, e in tokens]

    @staticmethod
    def _spans(
        text: str, added: Mapping[str, int], keep_spaces: Collection[str]
    ) -> list[tuple[int, int, bool]]:
        """Non-empty ``(begin, end, is_added)`` spans of ``text`` after 4.31's whitespace stripping."""
        pattern = _splitter(tuple(sorted(added)))
        spans: list[list] = []
        position = 0
        for match in pattern.finditer(text) if pattern else ():
            if match.start() > position:
                spans.append([position, match.start(), False])
            spans.append([match.start(), match.end(), True])
            position = match.end()
        if position < len(text):
            spans.append([position, len(text), False])
        for index, (begin, end, is_added) in enumerate(spans):
            if not is_added or text[begin:end] in keep_spaces:
                continue
            if index + 1 < len(spans):
                right = spans[index + 1]
                while right[0] < right[1] and text[right[0]].isspace():
                    right[0] += 1
            if index > 0:
                left = spans[index - 1]
                while left[0] < left[1] and text[left[1] - 1].isspace():
                    left[1] -= 1
        return [(begin, end, is_added) for begin, end, is_added in spans if begin < end]

    def _encode_span(self, text: str, begin: int, end: int) -> list[Token]:
        """One span through sentencepiece, with 4.31's ``legacy=False`` prefix handling."""
        span = text[begin:end]
        is_first = not self.legacy and span.startswith(SPIECE_UNDERLINE)
        if is_first:
            span, begin = span[1:], begin + 1
        if not span:
            return []
        pieces = self.model.encode(span, out_type=str)
        ids = [self.model.piece_to_id(p) for p in pieces]
        offsets = self._piece_offsets(span, pieces)
        strip_prefix = not self.legacy and not is_first and not span.startswith(" ")
        if strip_prefix and pieces and pieces[0].startswith(SPIECE_UNDERLINE):
            if len(pieces[0]) > 1:
                ids[0] = self.model.piece_to_id(pieces[0][1:])
            else:
                ids, offsets = ids[1:], offsets[1:]
        return [(i, begin + b, begin + e) for i, (b, e) in zip(ids, offsets, strict=True)]

    def _piece_offsets(self, span: str, pieces: list[str]) -> list[tuple[int, int]]:
        """Character range of ``span`` each piece stands for (the dummy prefix stands for nothing).

        Raises:
            CheckpointError: the pieces do not spell the span (the model normalises text, which
                the Llama tokenizers do not).
        """
        prefix = SPIECE_UNDERLINE if self.dummy_prefix else ""
        spelled = prefix + span.replace(" ", SPIECE_UNDERLINE)
        char_starts = [0]
        for char in spelled:
            char_starts.append(char_starts[-1] + len(char.encode()))
        piece_bytes = [_piece_bytes(p) for p in pieces]
        if b"".join(piece_bytes) != spelled.encode():
            raise CheckpointError(
                f"{self.model_file}: its pieces do not spell {span!r} (a normalising sentencepiece "
                "model; Llama tokenizers keep text as it is)"
            )
        offsets, position = [], 0
        for chunk in piece_bytes:
            first = bisect.bisect_right(char_starts, position) - 1
            position += len(chunk)
            last = bisect.bisect_left(char_starts, position)
            offsets.append((max(first - len(prefix), 0), max(last - len(prefix), 0)))
        return offsets
