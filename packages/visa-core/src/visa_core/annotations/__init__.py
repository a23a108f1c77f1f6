"""Readers and writers of the published annotation formats, shared by every VISA package.

* :mod:`~visa_core.annotations.json_files`: JSON files (:func:`read_json`, :func:`require_key`,
  :func:`write_json`) and :func:`where`, the "dataset: file: item" start of every error.
* :mod:`~visa_core.annotations.rle`: COCO RLEs and polygons (pycocotools), decoded to ``uint8``.
* :mod:`~visa_core.annotations.meta_expressions`: ``meta_expressions*.json`` videos and expressions.
* :mod:`~visa_core.annotations.label_png`: palette PNGs whose values are object ids.
* :mod:`~visa_core.annotations.labelme`: ReasonSeg's labelme polygons and its 0 / 1 / 255 label map.

Errors are :class:`~visa_core.errors.DataFormatError` naming the file and the item. Importing this
package loads only numpy; pycocotools and Pillow are imported by the functions that need them.
"""

from visa_core.annotations.json_files import read_json, require_key, where, write_json
from visa_core.annotations.label_png import read_label_png
from visa_core.annotations.labelme import label_map, polygon_mask, read_labelme_json
from visa_core.annotations.meta_expressions import (
    ExpressionEntry,
    VideoEntry,
    natural_key,
    read_meta_expressions,
)
from visa_core.annotations.rle import (
    decode_frames,
    decode_polygons,
    decode_rle,
    decode_segmentation,
    encode_rle,
    rle_size,
)

__all__ = [
    "ExpressionEntry",
    "VideoEntry",
    "decode_frames",
    "decode_polygons",
    "decode_rle",
    "decode_segmentation",
    "encode_rle",
    "label_map",
    "natural_key",
    "polygon_mask",
    "read_json",
    "read_label_png",
    "read_labelme_json",
    "read_meta_expressions",
    "require_key",
    "rle_size",
    "where",
    "write_json",
]
