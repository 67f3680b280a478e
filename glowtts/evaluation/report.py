"""The stage-7 evaluation report of an experiment, in three parts:
:mod:`glowtts.evaluation.metrics` (per-set metrics), :mod:`glowtts.evaluation.driver`
(:func:`evaluate`: inputs, sets, the report dict) and :mod:`glowtts.evaluation.render`
(``report.json``, ``report.md``, plots). This module keeps the names users import.
"""

from glowtts.evaluation.driver import evaluate
from glowtts.evaluation.metrics import EvalOptions, MissingInputError
from glowtts.evaluation.render import render_markdown, write_report

__all__ = ["EvalOptions", "MissingInputError", "evaluate", "write_report", "render_markdown"]
