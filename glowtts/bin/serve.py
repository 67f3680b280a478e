"""glowtts-serve: an HTTP text-to-speech server for a trained experiment.

::

    glowtts-serve --exp exp/<tag> [--host 127.0.0.1 --port 8080]
    curl -s localhost:8080/health
    curl -s -X POST localhost:8080/tts -H 'Content-Type: application/json' \\
        -d '{"text": "Hello world."}' -o hello.wav

``POST /tts`` takes JSON ``{"text", "noise_scale", "length_scale", "spk", "seed"}`` and
returns ``audio/wav``; errors come back as JSON with a status code. Optional request keys
``ssml``, ``sentence_silence``, ``lexicon``, ``format`` (wav | pcm), ``stream`` (chunked
audio as it is made; also ``POST /tts?stream=1``) and ``timings`` (JSON with word/token
times and the WAV in base64)::

    curl -sN -X POST 'localhost:8080/tts?stream=1' -H 'Content-Type: application/json' \\
        -d '{"text": "Hello there. How are you?", "format": "pcm"}' | aplay -r 22050 -f S16_LE

More endpoints: ``GET /voices`` (name, rate, speakers, defaults and bounds),
``GET /tts?text=Hello&speaker=...&length_scale=...&format=wav|pcm`` and the
OpenAI-compatible ``POST /v1/audio/speech`` (``input``, ``voice``, ``speed``,
``response_format`` wav | pcm)::

    curl -s 'localhost:8080/tts?text=Hello%20world.' -o hello.wav
    curl -s localhost:8080/v1/audio/speech -H 'Content-Type: application/json' \\
        -d '{"input": "Hello world.", "voice": "alloy", "response_format": "wav"}' -o hello.wav

``--device`` defaults to ``auto`` (CUDA when available, else CPU). A request without a
``seed`` draws fresh noise (two requests differ slightly); give ``"seed"`` in
``POST /tts`` for the same audio every time. ``--list_speakers`` prints the voice's
speakers and exits.

Limits: ``--max_request_bytes`` (default 65536), ``--max_text_chars`` (default 5000) and
``--max_seconds`` of audio (default: the config's ``decode`` section, 600).
Binds to loopback by default; there is no authentication, so only pass
``--host 0.0.0.0`` behind a proxy you trust. See :mod:`glowtts.synthesis.server`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from ..synthesis.batch_decode import option_type
from ..synthesis.server import MAX_REQUEST_BYTES, MAX_TEXT_CHARS, make_server
from ..synthesis.synthesizer import Synthesizer
from ._synth_options import add_runtime_options, add_vocoder_options, hifigan_options, voice_parser
from .synthesize import add_device_options, device_of, print_speakers

PROG = "glowtts-serve"


def voice_name(source: str) -> str:
    """The voice's name in ``GET /voices``: the voice file's stem or the experiment dir's name."""
    path = Path(source).resolve()
    return path.stem if path.suffix == ".glowtts" else path.name


def get_parser() -> argparse.ArgumentParser:
    p = voice_parser(PROG, __doc__, required=True)
    p.add_argument(
        "--checkpoint", default=None, help="default: best.pth, else the newest step_*.pth"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    p.add_argument("--port", type=int, default=8080, help="port (0: any free port)")
    add_vocoder_options(p)
    add_device_options(p)
    add_runtime_options(p)
    p.add_argument(
        "--max_request_bytes", type=int, default=MAX_REQUEST_BYTES, help="largest request body"
    )
    p.add_argument(
        "--max_text_chars", type=int, default=MAX_TEXT_CHARS, help="longest text per request"
    )
    p.add_argument(
        "--max_seconds",
        type=option_type("max_seconds"),
        default=None,
        help="longest audio per request, refused (413) before decoding (default: config, 600)",
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.list_speakers:
        return print_speakers(args, PROG)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    try:
        syn = Synthesizer.from_exp(
            args.exp,
            args.checkpoint,
            device_of(args, PROG),
            args.vocoder,
            hifigan_options(args),
            cuda_graphs=args.cuda_graphs,
            precision=args.precision,
        )
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"{PROG}: {e}")
    server = make_server(
        syn,
        args.host,
        args.port,
        max_request_bytes=args.max_request_bytes,
        max_text_chars=args.max_text_chars,
        max_seconds=args.max_seconds,
        name=voice_name(args.exp),
    )
    logging.info(
        "serving %s on %s (GET /health, /voices, /tts?text=; POST /tts, /v1/audio/speech)",
        args.exp,
        server.url,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
