"""The copying check of the language stage: which tokens it scores and what it refuses."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from visa_core import Turn
from visa_data.synthetic import SyntheticConfig, generate_dataset
from visa_data.synthetic.language_check import repeat_accuracy, text_repeat_accuracy


class OracleLanguageModel:
    """Logits that predict each next token of the input; ``wrong_in`` picks where it predicts
    the current token instead: ``"list"`` up to the repeat's colon, ``"repeat"`` after it."""

    device = torch.device("cpu")

    def __init__(self, vocab: int, colon_id: int, wrong_in: str | None = None) -> None:
        self.vocab, self.colon_id, self.wrong_in = vocab, colon_id, wrong_in
        self.language_model = self

    def __call__(self, input_ids: torch.Tensor) -> SimpleNamespace:
        ids = input_ids[0]
        predicted = torch.cat([ids[1:], ids[-1:]])
        colon = int((ids == self.colon_id).nonzero().max())  # the repeat's "Again:" colon comes last
        positions = torch.arange(len(ids))
        if self.wrong_in == "list":
            predicted = torch.where(positions < colon, ids, predicted)
        elif self.wrong_in == "repeat":
            predicted = torch.where(positions >= colon, ids, predicted)
        return SimpleNamespace(logits=torch.nn.functional.one_hot(predicted, self.vocab).float()[None])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synthetic")
    generate_dataset(root, SyntheticConfig(videos=2, images=0, texts=40, seed=5, frames=6), progress=False)
    return root


@pytest.fixture(scope="module")
def processor(tiny_visa_model_dir: Path):
    from visa_core.model import VisaProcessor

    return VisaProcessor.from_pretrained(tiny_visa_model_dir)


def oracle(processor, wrong_in: str | None = None) -> OracleLanguageModel:
    return OracleLanguageModel(
        len(processor.tokenizer), processor.tokenizer.convert_tokens_to_ids(":"), wrong_in
    )


def test_only_the_repeated_names_are_scored(corpus: Path, processor) -> None:
    assert text_repeat_accuracy(oracle(processor), processor, corpus) == 1.0
    assert text_repeat_accuracy(oracle(processor, "list"), processor, corpus) == 1.0
    assert text_repeat_accuracy(oracle(processor, "repeat"), processor, corpus) == 0.0


def test_a_random_model_scores_between_the_bounds(corpus: Path, processor, tiny_visa_model_dir: Path) -> None:
    from visa_core.model import VisaForSegmentation

    model = VisaForSegmentation.from_pretrained(tiny_visa_model_dir).eval()
    assert 0.0 <= text_repeat_accuracy(model, processor, corpus, split="train") < 0.9


def test_conversations_that_are_not_repeated_lists_are_refused(processor) -> None:
    chat = [Turn("human", "How many squares?"), Turn("gpt", "Two.")]
    with pytest.raises(ValueError, match="not a question and a repeated list"):
        repeat_accuracy(oracle(processor), processor, [chat])
    no_names = [Turn("human", "List some shapes, then list them again."), Turn("gpt", "1, 2. Again: 1, 2.")]
    with pytest.raises(ValueError, match="no name word"):
        repeat_accuracy(oracle(processor), processor, [no_names])
