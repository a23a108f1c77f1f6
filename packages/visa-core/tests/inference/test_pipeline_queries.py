"""The Python API refuses a query the model can never answer before any frame is selected or encoded."""

from __future__ import annotations

from pathlib import Path

import pytest

from visa_core.errors import QueryError
from visa_core.inference import VisaPipeline
from visa_core.testing import moving_squares
from visa_core.types import Query


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "query 'q7' is empty"), ("red " * 5000, r"query 'q7' has \d+ tokens: .* context")],
)
def test_the_pipeline_refuses_empty_and_overlong_queries(
    tiny_visa_model_dir: Path, text: str, message: str
) -> None:
    pipeline = VisaPipeline.from_pretrained(tiny_visa_model_dir, forced_answer="Sure, [SEG].")
    video, _ = moving_squares(num_frames=4)
    with pytest.raises(QueryError, match=message):
        pipeline.answer(video, Query(text, query_id="q7"))
