"""Converters to the ``mask_dict`` + ``meta_expressions`` layout that the video loaders read.

* :func:`~visa_data.convert.png.convert_png_annotations`: Ref-YouTube-VOS / DAVIS17 PNGs.
* :func:`~visa_data.convert.foreground.make_foreground`: ReVOS ``mask_dict_foreground.json``.
* :func:`~visa_data.convert.lvvis.convert_lvvis`: LV-VIS (YouTube-VIS json) annotations.

Converters read the dataset folder and write only into the output path they are given.
"""
