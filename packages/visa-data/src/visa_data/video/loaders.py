"""The registered video loaders: ReVOS, MeViS, Ref-YouTube-VOS, Ref-DAVIS17 and LV-VIS.

Each reads its published layout (root = the dataset folder, e.g. ``$RVOS_ROOT/ReVOS``); see
:class:`~visa_data.video.base.SplitLayout` for the files of every split. On the splits the original
evaluated on (ReVOS ``valid``, MeViS ``valid_u`` / ``valid``, Ref-YouTube-VOS ``valid``,
Ref-DAVIS17 ``valid``) query texts are lower-cased and whitespace-normalised as the original's
evaluation did (``normalise_queries`` overrides it).
"""

from __future__ import annotations

from typing import ClassVar

from visa_core.annotations import ExpressionEntry, VideoEntry, read_json, require_key
from visa_data.video.base import MetaExpressionsDataset, SplitLayout
from visa_data.video.problems import ProblemLog


def _revos_split(split: str) -> SplitLayout:
    return SplitLayout(
        frames="JPEGImages",
        meta_expressions=f"meta_expressions_{split}_.json",
        masks="mask_dict",
        mask_file="mask_dict.json",
        foreground="mask_dict_foreground.json",
    )


class ReVOSDataset(MetaExpressionsDataset):
    """ReVOS: type_id 0 referring, 1 reasoning, 2 no target; meta["foreground"] is bool[T, H, W].

    ``valid`` queries are lower-cased and whitespace-normalised (the original's evaluation).
    """

    name: ClassVar[str] = "revos"
    evaluation_splits: ClassVar[frozenset[str]] = frozenset({"valid"})
    layouts: ClassVar[dict[str, SplitLayout]] = {
        split: _revos_split(split) for split in ("train", "valid", "train_sub")
    }


class MeViSDataset(MetaExpressionsDataset):
    """MeViS motion expressions: ``train`` and ``valid_u`` with masks, ``valid`` without.

    ``valid_u`` and ``valid`` queries are lower-cased and whitespace-normalised (the original's evaluation).
    """

    name: ClassVar[str] = "mevis"
    evaluation_splits: ClassVar[frozenset[str]] = frozenset({"valid_u", "valid"})
    layouts: ClassVar[dict[str, SplitLayout]] = {
        "train": SplitLayout(
            "train/JPEGImages", "train/meta_expressions.json", "mask_dict", "train/mask_dict.json"
        ),
        "valid_u": SplitLayout(
            "valid_u/JPEGImages", "valid_u/meta_expressions.json", "mask_dict", "valid_u/mask_dict.json"
        ),
        "valid": SplitLayout("valid/JPEGImages", "valid/meta_expressions.json"),
    }


class RefYouTubeVOSDataset(MetaExpressionsDataset):
    """Ref-YouTube-VOS: PNG annotations (``train``); ``valid`` without masks, minus the test videos.

    The ``valid`` split is the 202 videos of ``meta_expressions/valid`` that are not listed in
    ``meta_expressions/test`` (the original hard-codes that list). Pass ``mask_dict`` /
    ``meta_expressions`` to read ``visa data convert ref_youtube_vos`` output instead of the PNGs.
    ``valid`` queries are lower-cased and whitespace-normalised (the original's evaluation).
    """

    name: ClassVar[str] = "ref_youtube_vos"
    evaluation_splits: ClassVar[frozenset[str]] = frozenset({"valid"})
    layouts: ClassVar[dict[str, SplitLayout]] = {
        "train": SplitLayout(
            "train/JPEGImages", "meta_expressions/train/meta_expressions.json", "png", "train/Annotations"
        ),
        "valid": SplitLayout("valid/JPEGImages", "meta_expressions/valid/meta_expressions.json"),
    }

    def _select_videos(self, videos: list[VideoEntry], problems: ProblemLog) -> list[VideoEntry]:
        videos = super()._select_videos(videos, problems)
        test_meta = self.config.root / "meta_expressions" / "test" / "meta_expressions.json"
        if self.config.split != "valid" or not test_meta.is_file():
            return videos
        test_videos = set(
            require_key(read_json(test_meta, self.name), "videos", self.name, test_meta, "the top level")
        )
        return [video for video in videos if video.video_id not in test_videos]


class Davis17Dataset(MetaExpressionsDataset):
    """Ref-DAVIS17 (ReferFormer layout): PNG annotations for ``train`` and ``valid``.

    ``valid`` queries are lower-cased and whitespace-normalised (the original's evaluation).
    """

    name: ClassVar[str] = "davis17"
    evaluation_splits: ClassVar[frozenset[str]] = frozenset({"valid"})
    layouts: ClassVar[dict[str, SplitLayout]] = {
        split: SplitLayout(
            f"{split}/JPEGImages",
            f"meta_expressions/{split}/meta_expressions.json",
            "png",
            f"{split}/Annotations",
        )
        for split in ("train", "valid")
    }


class LVVISDataset(MetaExpressionsDataset):
    """LV-VIS train (author-converted meta_expressions): the expression is the category name."""

    name: ClassVar[str] = "lvvis"
    layouts: ClassVar[dict[str, SplitLayout]] = {
        "train": SplitLayout(
            "train/JPEGImages", "train/meta_expressions.json", "mask_dict", "train/mask_dict.json"
        )
    }

    def text_of(self, expression: ExpressionEntry) -> str:
        return expression.text.replace("_", " ").strip()
