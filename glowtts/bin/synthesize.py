"""glowtts-synthesize: text -> wav with a trained experiment.

One utterance::

    glowtts-synthesize --exp exp/<tag> --text "Hello world." --out hello.wav

Many (one utterance per line of a file, or of stdin with ``-``; blank lines are
skipped), synthesised in length-sorted batches into ``<out_dir>/<n>.wav`` where
``n`` is the line number (1-based)::

    glowtts-synthesize --exp exp/<tag> --text_file sentences.txt --out_dir wavs/
    cat sentences.txt | glowtts-synthesize --exp exp/<tag> --text_file - --out_dir wavs/

``--noise_scale`` / ``--length_scale`` / ``--max_seconds`` default to the experiment's
``decode`` section; out-of-range values are refused before the model loads.
``--durations "d1 d2 ..."`` gives the frames of every model input token (blanks
included when the model uses them; one utterance only). The vocoder is the public
HiFi-GAN universal generator where it is installed and fits the mel, else Griffin-Lim
(``--vocoder griffin_lim`` forces it); ``--vocoder hifigan --vocoder_checkpoint
g_02500000`` uses another generator (``config.json`` beside it, or ``--vocoder_config``).
``--plot`` writes ``<wav>.png`` with the mel and alignment.
``--onnx VOICE_DIR`` (instead of ``--exp``) synthesises with a voice exported by
``glowtts-export --format onnx --out VOICE_DIR`` on onnxruntime
(:mod:`glowtts.synthesis.runtime`; ``python -m glowtts.synthesis.runtime`` runs without torch).
Long text is split at sentence boundaries and joined with a short pause.
``--device`` defaults to ``auto`` (CUDA when available, else CPU). The noise seed
defaults to 0, so the same command gives the same audio (``--seed N`` for another take;
chunk ``k`` of a text uses ``N + k``). ``--list_speakers`` prints the speakers of
``--model``, one per line, and exits.

For applications (each text synthesised chunk by chunk, see ``Synthesizer.stream``)::

    glowtts-synthesize --exp exp/<tag> --text "Hello." --output_raw | aplay -r 22050 -f S16_LE
    glowtts-synthesize --exp exp/<tag> --text "Hello." --out - > hello.wav
    glowtts-synthesize --exp exp/<tag> --text "Hello there." --out h.wav --timings h.json
    echo '{"text": "Hi.", "output_file": "hi.wav"}' | glowtts-synthesize --exp exp/<tag> --json_input

``--output_raw`` writes 16-bit mono PCM at the voice's rate to stdout as soon as each
chunk is made (nothing else goes to stdout; logs go to stderr). ``--json_input [FILE|-]``
reads JSON lines ``{"text", "speaker", "length_scale", "noise_scale", "output_file"}``
(all but text optional) and answers each as it arrives: into ``output_file``, else
``<out_dir>/<line>.wav``, else PCM on stdout with ``--output_raw``; a bad line stops
with an error naming its number. ``--ssml`` reads SSML (a text starting with ``<speak``
is SSML anyway), ``--sentence_silence SECONDS`` puts silence between sentences,
``--lexicon FILE`` adds ``word PHONES`` pronunciations (phoneme voices).
``--timings FILE.json`` writes the start/end seconds of every word and token.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

import torch

from ..audio import save_wav
from ..registry import AUTO_VOCODER
from ..synthesis.batch_decode import option_type
from ..synthesis.cli_io import (
    JSONLineError,
    open_text,
    read_json_lines,
    write_raw,
    write_timings,
    write_wav,
)
from ..synthesis.synthesizer import SynthesisError, Synthesizer, check_silence, plot_utterance
from ..text.lexicon import Lexicon
from ..text.ssml import is_ssml
from ..utils import resolve_device
from ._synth_options import add_runtime_options, add_vocoder_options, hifigan_options, voice_parser

PROG = "glowtts-synthesize"
# A fixed default, so two runs of one command give the same audio; a random default made
# them differ without saying so.
DEFAULT_SEED = 0


def get_parser() -> argparse.ArgumentParser:
    p = voice_parser(PROG, __doc__, required=False)
    p.add_argument(
        "--onnx",
        default=None,
        help="instead of --model: a voice dir from glowtts-export (onnxruntime, no torch model)",
    )
    src = p.add_mutually_exclusive_group()  # one is required unless --list_speakers
    src.add_argument("--text", help="the text of one utterance")
    src.add_argument("--text_file", help="one utterance per line; '-' reads stdin")
    src.add_argument(
        "--json_input",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE|-",
        help='JSON lines {"text", "speaker", "length_scale", "noise_scale", "output_file"} '
        "from FILE or stdin (default -); one synthesis per line",
    )
    p.add_argument("--out", default=None, help="output wav for --text (default: out.wav)")
    p.add_argument("--out_dir", default=None, help="output dir for --text_file (<n>.wav per line)")
    p.add_argument(
        "--checkpoint", default=None, help="default: best.pth, else the newest step_*.pth"
    )
    # Checked by the same rules (option_type) as a JSON line's or a request's fields.
    for name, doc in (
        ("noise_scale", "prior temperature in [0, 5] (default: config)"),
        ("length_scale", "speaking rate in [0.1, 10], >1 slower (default: config)"),
        ("max_seconds", "longest audio per text, checked before decoding (default: config, 600)"),
    ):
        p.add_argument(f"--{name}", type=option_type(name), default=None, help=doc)
    p.add_argument(
        "--durations",
        default=None,
        help='frames per model input token, e.g. "3 5 2 ..." (--text only)',
    )
    p.add_argument("--spk", default=None, help="speaker id or name (multi-speaker models)")
    p.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help=f"noise seed (default {DEFAULT_SEED}: the same command gives the same audio; "
        "change it for another take)",
    )
    add_vocoder_options(p)
    p.add_argument(
        "--griffin_lim_iters", type=int, default=None, help="Griffin-Lim iterations (default 60)"
    )
    add_device_options(p)
    add_runtime_options(p)
    p.add_argument("--compile", action="store_true", help="torch.compile the model (slow start)")
    p.add_argument("--plot", action="store_true", help="also write <wav>.png: mel and alignment")
    add_app_options(p)
    return p


def add_device_options(p: argparse.ArgumentParser) -> None:
    """``--device`` (default auto) and ``--list_speakers``: shared with glowtts-serve."""
    p.add_argument(
        "--device",
        default="auto",
        help="auto (CUDA when available, else CPU; the default) | cpu | cuda | cuda:N",
    )
    p.add_argument(
        "--list_speakers",
        action="store_true",
        help="print the voice's speakers (names, else ids), one per line, and exit "
        "(a single-speaker voice prints none and says so on stderr)",
    )


def print_speakers(args: argparse.Namespace, prog: str) -> None:
    """The ``--list_speakers`` answer: loads the model only, not the vocoder."""
    from ..synthesis.loading import load_experiment

    try:
        exp = load_experiment(args.exp, args.checkpoint, "cpu")
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"{prog}: {e}")
    n = int(exp.model.n_speakers)
    if n <= 1:
        print(f"{prog}: {args.exp} is a single-speaker voice", file=sys.stderr)
        return
    for name in exp.speakers() or [str(i) for i in range(n)]:
        print(name)


def device_of(args: argparse.Namespace, prog: str) -> torch.device:
    """``--device`` resolved (``auto``: CUDA when available, else CPU)."""
    try:
        device = resolve_device(args.device)
    except (ValueError, RuntimeError) as e:
        sys.exit(f"{prog}: {e}")
    logging.info("device: %s", device)
    return device


def add_app_options(p: argparse.ArgumentParser) -> None:
    """Streaming output, timings, SSML, sentence silence and a lexicon."""
    g = p.add_argument_group("application i/o")
    g.add_argument(
        "--output_raw",
        action="store_true",
        help="write 16-bit PCM mono to stdout as each chunk is made (logs go to stderr)",
    )
    g.add_argument("--timings", default=None, metavar="FILE.json", help="word/token times (--text)")
    g.add_argument(
        "--ssml", action="store_true", help="read the text as SSML (default: when it starts <speak)"
    )
    g.add_argument(
        "--sentence_silence",
        type=_silence,
        default=0.0,
        metavar="SECONDS",
        help="silence between sentences (default 0)",
    )
    g.add_argument("--lexicon", default=None, help="'word PHONES' lines (phoneme voices)")


def _silence(text: str) -> float:
    try:
        return check_silence("sentence_silence", float(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _read_lines(path: str) -> list[tuple[int, str]]:
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        lines = [(n, line.strip()) for n, line in enumerate(stream, 1)]
    finally:
        if stream is not sys.stdin:
            stream.close()
    return [(n, t) for n, t in lines if t]


def _fail(msg: str) -> NoReturn:
    sys.exit(f"{PROG}: {msg}")


def check_args(args: argparse.Namespace) -> list[int] | None:
    """Reject option combinations that do not fit together; the parsed ``--durations``."""
    check_app_args(args)
    if args.text is not None and args.out_dir:
        _fail("--text writes --out FILE; --out_dir is for --text_file")
    if args.text_file is not None:
        if args.out:
            _fail("--text_file writes into --out_dir DIR; --out is for --text")
        if not args.out_dir and not args.output_raw:
            _fail("--text_file needs --out_dir (or --output_raw)")
        if args.durations:
            _fail("--durations applies to one utterance (--text)")
    if not args.durations:
        return None
    try:
        return [int(x) for x in args.durations.split()]
    except ValueError:
        _fail(f"--durations must be integers, got {args.durations!r}")


def load_synthesizer(args: argparse.Namespace) -> Synthesizer:
    """The experiment with the vocoder the command line asks for."""
    vopts = hifigan_options(args)
    if args.vocoder in ("griffin_lim", AUTO_VOCODER) and args.griffin_lim_iters:
        vopts["n_iter"] = args.griffin_lim_iters  # under auto: chooses Griffin-Lim
    try:
        return Synthesizer.from_exp(
            args.exp,
            args.checkpoint,
            device_of(args, PROG),
            args.vocoder,
            vopts,
            compile=args.compile,
            cuda_graphs=args.cuda_graphs,
            max_seconds=args.max_seconds,
            precision=args.precision,
        )
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))


def collect_items(
    args: argparse.Namespace, syn: Synthesizer
) -> tuple[list[tuple[Path, str]], list[int]]:
    """``[(wav path, text)]`` to synthesise and the line numbers skipped (no speakable text)."""
    if args.text is not None:
        return [(Path(args.out or "out.wav"), args.text)], []
    try:
        lines = _read_lines(args.text_file)
    except OSError as e:
        _fail(f"cannot read {args.text_file}: {e}")
    if not lines:
        _fail(f"no text in {args.text_file}")
    items, bad = [], []
    for n, t in lines:
        try:
            syn.split(t)
        except ValueError as e:
            logging.warning("line %d skipped: %s", n, e)
            bad.append(n)
            continue
        items.append((Path(args.out_dir or ".") / f"{n}.wav", t))  # no out_dir: --output_raw
    if not items:
        _fail(f"no line of {args.text_file} has text to synthesise")
    return items, bad


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if bool(args.exp) == bool(args.onnx):
        _fail(
            "give --model (a voice file or experiment dir; --exp is the same) or --onnx VOICE_DIR (an export)"
        )
    if args.list_speakers:
        if not args.exp:
            _fail("--list_speakers reads the speakers of --model")
        return print_speakers(args, PROG)
    if args.text is None and args.text_file is None and args.json_input is None:
        _fail("give one of --text, --text_file or --json_input (or --list_speakers)")
    if args.seed == DEFAULT_SEED:
        logging.info("noise seed %d (the default; --seed N for another take)", args.seed)
    if args.onnx:
        from ..synthesis.runtime import run_cli

        return run_cli(args)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    durations = check_args(args)
    syn = load_synthesizer(args)
    if args.json_input is not None:
        return run_json_lines(args, syn)
    items, bad = collect_items(args, syn)
    if uses_app_path(args, items):
        return run_texts(args, syn, items, durations, bad)
    try:
        utts = syn.synthesize(
            [t for _, t in items],
            noise_scale=args.noise_scale,
            length_scale=args.length_scale,
            spk=args.spk,
            durations=durations,
            seed=args.seed,
        )
    except (ValueError, SynthesisError) as e:  # SynthesisError: non-finite audio, not written
        _fail(str(e))
    for (path, _), utt in zip(items, utts):
        save_wav(path, utt.wav, utt.sample_rate)
        if args.plot:
            plot_utterance(utt, path.with_suffix(".png"))
        logging.info("wrote %s (%.2f s)", path, len(utt.wav) / utt.sample_rate)
    if bad:
        _fail(f"skipped line(s) {bad} of {args.text_file}: no speakable text")


# ------------------------------------------------------------ application i/o
def check_app_args(args: argparse.Namespace) -> None:
    """Combinations of the application options that cannot work."""
    if args.output_raw and (args.out or args.out_dir):
        _fail("--output_raw writes to stdout; drop --out/--out_dir")
    if args.timings and args.text is None:
        _fail("--timings FILE.json is for one utterance (--text)")
    if args.out == "-" and args.text is None:
        _fail("--out - writes the WAV of --text to stdout")
    if args.plot and (args.output_raw or args.out == "-" or args.json_input is not None):
        _fail("--plot writes <wav>.png beside a wav file; not with stdout output or --json_input")
    if args.json_input is not None and (args.out or args.durations):
        _fail(
            '--json_input writes each line\'s "output_file" (or into --out_dir); no --out/--durations'
        )


def uses_app_path(args: argparse.Namespace, items: list[tuple[Path, str]]) -> bool:
    """Whether the texts go through Synthesizer.tts/stream one by one (streaming, stdout,
    timings, SSML, sentence silence, a lexicon) rather than the batched path."""
    if args.plot:
        if args.ssml or any(is_ssml(t) for _, t in items):
            _fail("--plot does not take SSML")
        return False
    return bool(
        args.output_raw
        or args.out == "-"
        or args.timings
        or args.ssml
        or args.sentence_silence
        or args.lexicon
        or any(is_ssml(t) for _, t in items)
    )


def app_options(args: argparse.Namespace) -> dict:
    """Keyword arguments of Synthesizer.tts/stream from the command line; the lexicon
    file is read once here (errors name its line)."""
    lexicon = None
    if args.lexicon:
        try:
            lexicon = Lexicon.coerce(args.lexicon)
        except (OSError, ValueError) as e:
            _fail(f"--lexicon {args.lexicon}: {e}")
    return {
        "noise_scale": args.noise_scale,
        "length_scale": args.length_scale,
        "spk": args.spk,
        "seed": args.seed,
        "ssml": True if args.ssml else None,
        "sentence_silence": args.sentence_silence,
        "lexicon": lexicon,
    }


def run_texts(args, syn: Synthesizer, items, durations, bad) -> None:
    """Each text on its own: PCM to stdout (--output_raw), a WAV to stdout (--out -) or
    to its file, and --timings."""
    opts = app_options(args)
    stdout = sys.stdout.buffer
    try:
        for path, text in items:
            if args.output_raw:
                n = write_raw(syn.stream(text, durations=durations, **opts), stdout)
                logging.info("wrote %.2f s of PCM to stdout", n / syn.sample_rate)
                continue
            if args.timings:
                wav, sr, info = syn.tts_timed(text, durations=durations, **opts)
                write_timings(args.timings, info, text)
                logging.info("wrote %s", args.timings)
            else:
                wav, sr = syn.tts(text, durations=durations, **opts)
            if str(path) == "-":
                write_wav(wav, sr, stdout)
            else:
                save_wav(path, wav, sr)
            logging.info("wrote %s (%.2f s)", path, len(wav) / sr)
    except (ValueError, SynthesisError) as e:
        _fail(str(e))
    if bad:
        _fail(f"skipped line(s) {bad} of {args.text_file}: no speakable text")


def run_json_lines(args, syn: Synthesizer) -> None:
    """One synthesis per JSON line, answered as it arrives; a bad line stops with its number."""
    base = app_options(args)
    stdout = sys.stdout.buffer
    try:
        src = open_text(args.json_input, sys.stdin)
    except OSError as e:
        _fail(f"cannot read {args.json_input}: {e}")
    n_done = 0
    with src:
        try:
            for n, item in read_json_lines(src):
                opts = {**base, **item["options"]}
                out = item["output_file"] or (args.out_dir and Path(args.out_dir) / f"{n}.wav")
                if out:
                    wav, sr = syn.tts(item["text"], **opts)
                    save_wav(out, wav, sr)
                    logging.info("line %d: wrote %s (%.2f s)", n, out, len(wav) / sr)
                elif args.output_raw:
                    write_raw(syn.stream(item["text"], **opts), stdout)
                else:
                    raise ValueError('no "output_file"; give one, or --out_dir or --output_raw')
                n_done += 1
        except JSONLineError as e:
            _fail(str(e))
        except (ValueError, SynthesisError) as e:
            _fail(f"JSON input line {n}: {e}")
    if not n_done:
        _fail(f"no JSON lines in {args.json_input}")


if __name__ == "__main__":
    main()
