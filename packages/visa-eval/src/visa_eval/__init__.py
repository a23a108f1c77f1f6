"""visa-eval: J, F, J&F, A, ReVOS R, gIoU and cIoU exactly as the official tools compute them, fast.

* :mod:`visa_eval.revos`: ReVOS scoring and the official table, callable from a training script
  (``score_expression``, ``summarise``, ``format_table``, ``RevosGroundTruth``).
* :mod:`visa_eval.region`, :mod:`visa_eval.boundary`, :mod:`visa_eval.lisa`: per-frame vectorised
  measures (``region_iou``, ``boundary_f``, ``accuracy``, ``robustness``, gIoU / cIoU).
* :mod:`visa_eval.metrics`: the ``metric`` components ``j``, ``f``, ``j_and_f``, ``a``, ``r``,
  ``giou``, ``ciou``; :mod:`visa_eval.command`: ``visa eval``.
* :mod:`visa_eval.reference`: the slow per-frame reference the tests check them against (no speed baseline).
"""
