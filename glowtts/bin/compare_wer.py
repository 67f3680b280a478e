"""glowtts-compare-wer: is the stage-7 WER of two experiments really different?

Example (from ``egs/<corpus>/tts1``)::

    glowtts-compare-wer exp/fp32/report.json exp/bf16/report.json --set eval

A paired bootstrap over the utterances of --set present in both reports (the same
resampled utterances for both systems) of the WER difference B - A, from the per-utterance
hypotheses that glowtts-evaluate keeps in report.json. Prints one JSON object: the WERs
``a`` and ``b``, ``difference``, its percentile interval ``ci``, ``same_within_ci``
(whether 0 lies inside it), ``p_b_worse`` (the fraction of resamples where B is worse),
``n_utts`` and ``n_words``. --system_b compares another audio set of B (e.g. ``ref``,
the recordings, against ``synth`` of the same report).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from glowtts.utils import command_parser

PROG = "glowtts-compare-wer"


def get_parser() -> argparse.ArgumentParser:
    p = command_parser(PROG, __doc__)
    p.add_argument("report_a", help="report.json of experiment A (glowtts-evaluate)")
    p.add_argument("report_b", help="report.json of experiment B")
    p.add_argument("--set", default="eval", dest="set_name", help="evaluated set to compare")
    p.add_argument("--system", default="synth", help="audio set of A (and of B without --system_b)")
    p.add_argument("--system_b", default=None, help="audio set of B (default: --system)")
    p.add_argument("--n_resamples", type=int, default=10000, help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="seed of the resampling")
    p.add_argument("--ci", type=float, default=0.95, help="level of the interval, in (0, 1)")
    return p


def _load(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"{path}: no such file (the report.json that stage 7 writes)")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not JSON ({e})") from e


def main(argv: Sequence[str] | None = None) -> int:
    args = get_parser().parse_args(argv)
    from glowtts.evaluation.compare import compare_reports

    try:
        res = compare_reports(
            _load(args.report_a),
            _load(args.report_b),
            args.set_name,
            args.system,
            args.system_b,
            n_resamples=args.n_resamples,
            seed=args.seed,
            ci=args.ci,
            labels=(args.report_a, args.report_b),
        )
    except (ImportError, ValueError, OSError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(res.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
