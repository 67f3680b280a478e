"""A small HTTP synthesis server on the standard library (``http.server``).

Endpoints:

- ``GET /health`` -> 200 JSON ``{"status": "ok", "sample_rate": ..., "n_speakers": ...,
  "max_text_chars": ..., "max_request_bytes": ..., "max_seconds": ...}``.
- ``POST /tts`` with a JSON body (``Content-Type: application/json``) ``{"text": "...",
  "noise_scale": 0.667, "length_scale": 1.0, "spk": 0, "seed": 1}`` (all but ``text``
  optional) -> 200 ``audio/wav`` (16-bit PCM mono). More optional keys:

  - ``"ssml": true|false`` (absent: SSML when the text starts with ``<speak``; the subset
    of :mod:`glowtts.text.ssml`, anything else a 400 naming the tag),
    ``"sentence_silence": 0.3`` (seconds between sentences, at most 10),
    ``"lexicon": {"word": "PHONES", ...}`` (phoneme voices; this request only).
  - ``"format": "pcm"``: raw 16-bit little-endian mono PCM, ``Content-Type: audio/pcm;
    rate=<Hz>; encoding=s16le; channels=1``, instead of a WAV.
  - ``"stream": true`` (or the query ``POST /tts?stream=1``): the audio is sent as it is
    made, chunk by chunk (a sentence or clause, then the pause after it), with
    ``Transfer-Encoding: chunked``. A WAV stream starts with a header whose RIFF and data
    sizes are ``0xFFFFFFFF`` (unknown), then PCM; ``"format": "pcm"`` sends PCM only.
    Errors in the request or the text are still answered with a JSON error before any
    audio; a failure mid-stream ends the connection without the final empty chunk.
  - ``"timings": true``: 200 ``application/json`` ``{"sample_rate", "seconds", "tokens":
    [{"token", "start", "end"}], "words": [{"word", "start", "end"}], "audio": "<base64
    WAV>"}`` (see :mod:`glowtts.synthesis.timings`); not with ``stream`` or ``pcm``.

- ``GET /voices`` -> 200 JSON ``{"voices": [{"name", "sample_rate", "n_speakers",
  "speakers", "token_type", "vocoder", "defaults": {"noise_scale", "length_scale",
  "max_seconds"}, "bounds": {"noise_scale": [lo, hi], "length_scale": [lo, hi]},
  "formats"}]}``.
- ``GET /tts?text=...`` with optional ``speaker`` (name or id), ``length_scale``,
  ``noise_scale`` and ``format=wav|pcm``: the checks and limits of ``POST /tts``; a
  decoded text over ``max_text_chars`` is 414, an unknown or repeated parameter 400.
- ``POST /v1/audio/speech`` (OpenAI's text-to-speech request, so its clients work with
  ``base_url`` pointed here): JSON ``{"input", "voice", "speed", "response_format",
  "model"}``; see :func:`parse_openai` for what ``voice`` and ``speed`` map to.
  ``response_format`` is ``wav`` (the default here) or ``pcm``; mp3, opus, aac and flac
  are 400.

Only ``Content-Type: application/json`` bodies are accepted (415 otherwise): browsers
send text/plain and form posts cross-site without asking, JSON they do not. A request
whose body cannot be read (unknown length, too large, wrong type) gets its error with
``Connection: close``, so unread bytes are never parsed as the next request.

Errors are JSON ``{"error": "..."}`` with a status code: 400 (bad or too deeply nested
JSON, missing or empty text, text without letters, option values outside their range, see
:data:`glowtts.synthesis.batch_decode.SCALE_RANGES`), 404 (unknown path), 411 (no
Content-Length), 415 (not application/json), 413 (body over ``max_request_bytes``, default 64 KiB, text over
``max_text_chars``, default 5,000 characters, or predicted audio over the synthesizer's
``max_seconds``, refused before decoding), 500 (an unexpected failure or non-finite
audio, logged; the server keeps running).

The server binds to 127.0.0.1 by default. It uses :class:`ThreadingHTTPServer`, so
requests are accepted concurrently; the :class:`Synthesizer` serialises model and
vocoder calls with its own lock. There is no authentication: put it behind a proxy
before exposing it beyond the machine.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import numpy as np

from .batch_decode import SCALE_RANGES, check_max_seconds, check_scale
from .pcm import pcm16, wav_bytes, wav_header
from .synthesizer import OutputTooLongError, SynthesisError, Synthesizer, check_silence

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 64 * 1024
MAX_TEXT_CHARS = 5000
_OPTION_KEYS = ("noise_scale", "length_scale", "spk", "seed")
# keys that shape the text (see Synthesizer.plan) and the response
_TEXT_KEYS = ("ssml", "sentence_silence", "lexicon")
_RESPONSE_KEYS = ("stream", "format", "timings")
FORMATS = ("wav", "pcm")
MAX_LEXICON_WORDS = 1000


class RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def parse_request(body: bytes, max_text_chars: int) -> tuple[str, dict[str, Any]]:
    """``(text, options)`` of a ``/tts`` body; raises :class:`RequestError` (400/413)."""
    return check_request(load_json(body, "text"), max_text_chars)


def load_json(body: bytes, key: str) -> dict[str, Any]:
    """The JSON object of a body; raises :class:`RequestError` (400) naming ``key``."""
    try:
        req = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"body is not valid UTF-8 JSON: {e}") from None
    except RecursionError:  # e.g. 10,000 nested brackets
        raise RequestError(HTTPStatus.BAD_REQUEST, "body JSON is nested too deeply") from None
    if not isinstance(req, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"body must be a JSON object with a '{key}' key")
    return req


def check_request(req: dict[str, Any], max_text_chars: int) -> tuple[str, dict[str, Any]]:
    """``(text, options)`` of a ``/tts`` request object; raises :class:`RequestError`."""
    valid = ("text", *_OPTION_KEYS, *_TEXT_KEYS, *_RESPONSE_KEYS)
    unknown = sorted(set(req) - set(valid))
    if unknown:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"unknown key(s) {unknown}; valid: {', '.join(valid)}"
        )
    text = check_text(req.get("text"), "text", max_text_chars)
    opts: dict[str, Any] = {}
    for key in ("noise_scale", "length_scale"):
        val = req.get(key)
        if val is None:
            continue
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"'{key}' must be a number, got {val!r}")
        try:
            opts[key] = check_scale(key, val)
        except ValueError as e:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
    if req.get("spk") is not None:
        spk = req["spk"]
        if isinstance(spk, bool) or not isinstance(spk, (int, str)):
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"'spk' must be an id or a name, got {spk!r}"
            )
        opts["spk"] = spk
    if req.get("seed") is not None:
        seed = req["seed"]
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"'seed' must be an integer in [0, 2^62), got {seed!r}"
            )
        opts["seed"] = seed
    opts.update(_text_options(req))
    return text, opts


def check_text(text: Any, key: str, max_text_chars: int) -> str:
    """``text`` if it is a string within the limit; else 400, or 413 when too long."""
    if not isinstance(text, str):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"'{key}' (a string) is required")
    if len(text) > max_text_chars:
        raise RequestError(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"{key} has {len(text)} characters; the limit is {max_text_chars}",
        )
    return text


def _text_options(req: dict[str, Any]) -> dict[str, Any]:
    """``ssml`` (true/false, absent: when the text starts with ``<speak``),
    ``sentence_silence`` (seconds) and ``lexicon`` (``{"word": "PHONES"}``; a request
    never names a file on the server)."""
    opts: dict[str, Any] = {}
    if req.get("ssml") is not None:
        opts["ssml"] = _flag(req, "ssml")
    if req.get("sentence_silence") is not None:
        val = req["sentence_silence"]
        try:
            if isinstance(val, bool) or not isinstance(val, (int, float)):
                raise ValueError(f"'sentence_silence' must be a number of seconds, got {val!r}")
            opts["sentence_silence"] = check_silence("sentence_silence", val)
        except ValueError as e:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
    lex = req.get("lexicon")
    if lex is not None:
        if not (
            isinstance(lex, dict)
            and len(lex) <= MAX_LEXICON_WORDS
            and all(isinstance(v, str) for v in lex.values())
        ):
            raise RequestError(
                HTTPStatus.BAD_REQUEST,
                f"'lexicon' must be an object of at most {MAX_LEXICON_WORDS} "
                '"word": "PHONES" entries',
            )
        opts["lexicon"] = lex
    return opts


def _flag(req: dict[str, Any], key: str) -> bool:
    val = req.get(key, False)
    if not isinstance(val, bool):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"'{key}' must be true or false, got {val!r}")
    return val


def response_options(req: dict[str, Any], query: str) -> dict[str, Any]:
    """``stream`` (body key, or ``?stream=1``), ``format`` (wav | pcm) and ``timings``
    of a ``/tts`` request; raises :class:`RequestError` (400)."""
    params = parse_qs(query, keep_blank_values=True)
    if set(params) - {"stream"}:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"unknown query parameter(s) {sorted(set(params) - {'stream'})}"
        )
    stream = _flag(req, "stream")
    for v in params.get("stream", []):
        if v not in ("0", "1", "true", "false"):
            raise RequestError(HTTPStatus.BAD_REQUEST, f"stream must be 0 or 1, got {v!r}")
        stream = stream or v in ("1", "true")
    fmt = req.get("format", "wav")
    if fmt not in FORMATS:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"'format' must be one of {FORMATS}, got {fmt!r}"
        )
    timings = _flag(req, "timings")
    if timings and (stream or fmt != "wav"):
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            "'timings' answers JSON with a WAV inside: not with stream or pcm",
        )
    return {"stream": stream, "format": fmt, "timings": timings}


GET_TTS_PARAMS = ("text", "speaker", "length_scale", "noise_scale", "format")


def parse_get_tts(query: str, syn: Synthesizer, max_text_chars: int) -> tuple[str, dict, str]:
    """``(text, options, format)`` of ``GET /tts?text=...``: the checks of ``POST /tts``;
    a decoded text over ``max_text_chars`` is 414 (the text is the URI)."""
    try:
        params = parse_qs(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError as e:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"bad query string: {e}") from None
    unknown = sorted(set(params) - set(GET_TTS_PARAMS))
    if unknown:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"unknown query parameter(s) {unknown}; valid: {', '.join(GET_TTS_PARAMS)}",
        )
    if any(len(v) > 1 for v in params.values()):
        raise RequestError(HTTPStatus.BAD_REQUEST, "each query parameter may be given once")
    q = {k: v[0] for k, v in params.items()}
    if "text" not in q:
        raise RequestError(HTTPStatus.BAD_REQUEST, "GET /tts needs ?text=...")
    if len(q["text"]) > max_text_chars:
        raise RequestError(
            HTTPStatus.REQUEST_URI_TOO_LONG,
            f"text has {len(q['text'])} characters; the limit is {max_text_chars} "
            "(POST /tts for long texts takes the same limit)",
        )
    req: dict[str, Any] = {"text": q["text"]}
    for key in ("length_scale", "noise_scale"):
        if key in q:
            try:
                req[key] = float(q[key])
            except ValueError:
                raise RequestError(
                    HTTPStatus.BAD_REQUEST, f"'{key}' must be a number, got {q[key]!r}"
                ) from None
    if "speaker" in q:
        req["spk"] = _speaker_value(syn, q["speaker"])
    text, opts = check_request(req, max_text_chars)
    fmt = q.get("format", "wav")
    if fmt not in FORMATS:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"'format' must be one of {FORMATS}, got {fmt!r}"
        )
    return text, opts, fmt


def _speaker_value(syn: Synthesizer, value: str) -> int | str:
    """A speaker name of the voice as it is; else digits as an id (the synthesizer
    checks either and names the known speakers)."""
    if value in (syn.speakers or []) or not value.isdigit():
        return value
    return int(value)


OPENAI_KEYS = ("input", "voice", "speed", "response_format", "model", "instructions")
OPENAI_SPEED = (0.25, 4.0)
# OpenAI's own voice names: a client written for OpenAI gets the voice's default speaker
OPENAI_VOICES = (
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
    "verse",
)  # fmt: skip


def parse_openai(
    req: dict[str, Any], syn: Synthesizer, max_text_chars: int
) -> tuple[str, dict, str]:
    """``(text, options, format)`` of ``POST /v1/audio/speech`` (OpenAI's request shape).

    ``input`` is the text. ``voice``: a single-speaker voice ignores it; a multi-speaker
    voice takes a speaker name or id, and OpenAI's names (``alloy``, ...) mean speaker 0.
    ``speed`` in [0.25, 4] divides the voice's default ``length_scale``.
    ``response_format`` is wav (the default here) or pcm (16-bit mono at the voice's
    rate, not OpenAI's fixed 24 kHz). ``model`` and ``instructions`` are ignored.
    """
    unknown = sorted(set(req) - set(OPENAI_KEYS))
    if unknown:
        raise RequestError(
            HTTPStatus.BAD_REQUEST, f"unknown key(s) {unknown}; valid: {', '.join(OPENAI_KEYS)}"
        )
    text = check_text(req.get("input"), "input", max_text_chars)
    fmt = req.get("response_format", "wav")
    if fmt not in FORMATS:
        raise RequestError(
            HTTPStatus.BAD_REQUEST,
            f"response_format {fmt!r} is not supported; this server answers {' or '.join(FORMATS)}",
        )
    out: dict[str, Any] = {"text": text}
    speed = req.get("speed")
    if speed is not None:
        lo, hi = OPENAI_SPEED
        if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not lo <= speed <= hi:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, f"'speed' must be a number in [{lo}, {hi}], got {speed!r}"
            )
        out["length_scale"] = syn.length_scale / speed  # then checked against our bounds
    spk = _openai_voice(syn, req.get("voice"))
    if spk is not None:
        out["spk"] = spk
    text, opts = check_request(out, max_text_chars)
    return text, opts, fmt


def _openai_voice(syn: Synthesizer, voice: Any) -> int | str | None:
    """``voice`` as a speaker: None for a single-speaker voice (any value is ignored);
    else a name or id of the voice, where OpenAI's names and no voice mean speaker 0."""
    if int(syn.model.n_speakers) <= 1:
        return None
    if voice is None:
        return 0
    if isinstance(voice, bool) or not isinstance(voice, (int, str)):
        raise RequestError(HTTPStatus.BAD_REQUEST, f"'voice' must be a name or id, got {voice!r}")
    if isinstance(voice, int):
        return voice
    if voice not in (syn.speakers or []) and voice.lower() in OPENAI_VOICES:
        return 0
    return _speaker_value(syn, voice)


def voices_info(syn: Synthesizer, name: str) -> dict[str, Any]:
    """``GET /voices``: what a client needs to choose options for this voice."""
    n = max(1, int(syn.model.n_speakers))
    return {
        "voices": [
            {
                "name": name,
                "sample_rate": syn.sample_rate,
                "n_speakers": n,
                # names by id; ids as strings for a multi-speaker voice without names
                "speakers": (syn.speakers or [str(i) for i in range(n)]) if n > 1 else [],
                "token_type": syn.frontend.conf.get("token_type"),
                "vocoder": type(syn.vocoder).__name__,
                "defaults": {
                    "noise_scale": syn.noise_scale,
                    "length_scale": syn.length_scale,
                    "max_seconds": syn.max_seconds,
                },
                "bounds": {k: list(v) for k, v in SCALE_RANGES.items()},
                "formats": list(FORMATS),
            }
        ]
    }


def _pcm_type(sample_rate: int) -> str:
    return f"audio/pcm; rate={int(sample_rate)}; encoding=s16le; channels=1"


@contextlib.contextmanager
def _request_errors(path: str) -> Iterator[None]:
    """Synthesis errors as :class:`RequestError`: 413 over-long output, 400 bad input,
    500 non-finite audio."""
    try:
        yield
    except OutputTooLongError as e:
        raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(e)) from None
    except (ValueError, TypeError) as e:
        raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
    except SynthesisError as e:
        logger.error("%s: %s", path, e)
        raise RequestError(HTTPStatus.INTERNAL_SERVER_ERROR, str(e)) from None


class TTSServer(ThreadingHTTPServer):
    """:class:`ThreadingHTTPServer` holding the synthesizer and the limits."""

    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        synthesizer: Synthesizer,
        *,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_text_chars: int = MAX_TEXT_CHARS,
        max_seconds: float | None = None,
        name: str = "voice",
    ) -> None:
        super().__init__(address, TTSHandler)
        self.name = name
        if max_seconds is not None:  # the cap of one request, checked by the synthesizer
            synthesizer.max_seconds = check_max_seconds(max_seconds)
        self.synthesizer = synthesizer
        self.max_request_bytes = max_request_bytes
        self.max_text_chars = max_text_chars

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class TTSHandler(BaseHTTPRequestHandler):
    server: TTSServer
    protocol_version = "HTTP/1.1"
    server_version = "glowtts"
    timeout = 60  # seconds a client may stall mid-request before its socket is closed

    def log_message(self, fmt: str, *args: Any) -> None:  # route access logs to logging
        logger.info("%s %s", self.address_string(), fmt % args)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:  # tell the client; it must not send more on this socket
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: HTTPStatus, obj: dict[str, Any]) -> None:
        self._send(status, (json.dumps(obj) + "\n").encode(), "application/json")

    def _error(self, status: HTTPStatus, message: str) -> None:
        self._json(status, {"error": message, "status": int(status)})

    def _send_stream(self, first: np.ndarray, rest: Iterator[np.ndarray], fmt: str) -> None:
        """200 with the audio written chunk by chunk as the synthesizer makes it:
        ``Transfer-Encoding: chunked`` (HTTP/1.0 clients: until the connection closes).
        A failure after the headers cannot change the status: it is logged and the
        connection closed without the final empty chunk, so the client sees a truncated
        body rather than a complete one."""
        sr = self.server.synthesizer.sample_rate
        chunked = self.request_version == "HTTP/1.1"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "audio/wav" if fmt == "wav" else _pcm_type(sr))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
            self.send_header("Connection", "close")
        self.end_headers()

        def write(data: bytes) -> None:
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data) if data else b"0\r\n\r\n"
            self.wfile.write(data)
            self.wfile.flush()

        try:
            if fmt == "wav":
                write(wav_header(sr))
            write(pcm16(first))
            for wav in rest:
                if len(wav):
                    write(pcm16(wav))
        except ConnectionError:  # the client went away: stop making its audio
            logger.info("client left during the stream of %s", self.path)
            self.close_connection = True
            return
        except Exception:
            logger.exception("stream of %s failed after its headers", self.path)
            self.close_connection = True
            return
        write(b"")

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        try:
            self._read_body(required=False)  # a GET body must not be parsed as a request
            if path == "/tts":
                syn = self.server.synthesizer
                text, opts, fmt = parse_get_tts(query, syn, self.server.max_text_chars)
                self._answer(text, opts, {"stream": False, "format": fmt, "timings": False})
            elif path == "/voices":
                self._json(HTTPStatus.OK, voices_info(self.server.synthesizer, self.server.name))
            elif path == "/health":
                self._json(HTTPStatus.OK, self._health())
            else:
                raise RequestError(
                    HTTPStatus.NOT_FOUND,
                    f"unknown path {self.path}; use GET /health, /voices, /tts?text=..., "
                    "POST /tts or /v1/audio/speech",
                )
        except RequestError as e:
            self._error(e.status, str(e))
        except Exception as e:  # never let one request take the server down
            logger.exception("internal error on %s", self.path)
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(e).__name__}")

    def _health(self) -> dict[str, Any]:
        syn = self.server.synthesizer
        return {
            "status": "ok",
            "sample_rate": syn.sample_rate,
            "n_speakers": max(1, int(syn.model.n_speakers)),
            "max_text_chars": self.server.max_text_chars,
            "max_request_bytes": self.server.max_request_bytes,
            "max_seconds": syn.max_seconds,
        }

    def do_POST(self) -> None:
        # Every error before the body is read closes the connection (see _read_body), so
        # an unread body is never parsed as the next request of a kept-alive connection.
        path, _, query = self.path.partition("?")
        try:
            if path not in ("/tts", "/v1/audio/speech"):
                self._read_body(required=False)
                raise RequestError(
                    HTTPStatus.NOT_FOUND,
                    f"unknown path {self.path}; use POST /tts or POST /v1/audio/speech",
                )
            body = self._read_body(json_only=True)
            limit = self.server.max_text_chars
            if path == "/tts":
                text, opts = parse_request(body, limit)
                resp = response_options(json.loads(body), query)
            else:
                if query:
                    raise RequestError(HTTPStatus.BAD_REQUEST, f"{path} takes no query string")
                req = load_json(body, "input")
                text, opts, fmt = parse_openai(req, self.server.synthesizer, limit)
                resp = {"stream": False, "format": fmt, "timings": False}
            self._answer(text, opts, resp)
        except RequestError as e:
            self._error(e.status, str(e))
        except Exception as e:  # never let one request take the server down
            logger.exception("internal error on %s", self.path)
            self.close_connection = True  # the body may be unread
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(e).__name__}")

    def _answer(self, text: str, opts: dict[str, Any], resp: dict[str, Any]) -> None:
        """Synthesise ``text`` and send it as ``resp`` asks (stream, format, timings)."""
        syn = self.server.synthesizer
        with _request_errors(self.path):
            if resp["stream"]:
                chunks = syn.stream(text, **opts)
                first = next(chunks)  # bad options, markup, an over-long text: raised here
            elif resp["timings"]:
                wav, sr, info = syn.tts_timed(text, **opts)
            else:
                wav, sr = syn.tts(text, **opts)
        if resp["stream"]:
            self._send_stream(first, chunks, resp["format"])
        elif resp["timings"]:
            info["audio"] = base64.b64encode(wav_bytes(wav, sr)).decode("ascii")
            self._json(HTTPStatus.OK, info)
        elif resp["format"] == "pcm":
            self._send(HTTPStatus.OK, pcm16(wav), _pcm_type(sr))
        else:
            self._send(HTTPStatus.OK, wav_bytes(wav, sr), "audio/wav")

    def _check_json_content_type(self) -> None:
        """Only ``application/json`` (any parameters): a web page can POST text/plain or a
        form to localhost without a CORS preflight, but not JSON."""
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise RequestError(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type must be application/json, got {ctype or 'none'!r}",
            )

    def _read_body(self, required: bool = True, json_only: bool = False) -> bytes:
        """The body by its Content-Length (``json_only``: and only application/json).
        Errors (no or bad length, chunked, too large, wrong type) close the connection,
        since the unread bytes cannot be skipped safely."""
        lengths = self.headers.get_all("Content-Length") or []
        chunked = "Transfer-Encoding" in self.headers
        try:
            if chunked:
                raise RequestError(
                    HTTPStatus.BAD_REQUEST if lengths else HTTPStatus.LENGTH_REQUIRED,
                    "Transfer-Encoding is not supported; send a Content-Length",
                )
            if not lengths:
                if required:
                    raise RequestError(HTTPStatus.LENGTH_REQUIRED, "Content-Length is required")
                return b""
            if len(lengths) > 1 or not lengths[0].strip().isdigit():
                raise RequestError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {lengths!r}")
            n = int(lengths[0])
            if n > self.server.max_request_bytes:
                raise RequestError(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"body of {n} bytes exceeds the limit of {self.server.max_request_bytes}",
                )
            if json_only:
                self._check_json_content_type()
        except RequestError:
            self.close_connection = True
            raise
        body = self.rfile.read(n)
        if len(body) < n:  # the client closed early
            self.close_connection = True
            raise RequestError(HTTPStatus.BAD_REQUEST, f"body ended after {len(body)} of {n} bytes")
        return body


def make_server(
    synthesizer: Synthesizer,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_text_chars: int = MAX_TEXT_CHARS,
    max_seconds: float | None = None,
    name: str = "voice",
) -> TTSServer:
    """A bound (not yet serving) server; ``port=0`` picks a free port (see ``.url``).
    ``max_seconds`` (default: the synthesizer's) caps the audio of one request; ``name``
    is the voice's name in ``GET /voices``."""
    return TTSServer(
        (host, port),
        synthesizer,
        max_request_bytes=max_request_bytes,
        max_text_chars=max_text_chars,
        max_seconds=max_seconds,
        name=name,
    )


def serve_in_thread(server: TTSServer) -> threading.Thread:
    """Run ``server.serve_forever`` in a daemon thread (stop with ``server.shutdown()``)."""
    t = threading.Thread(target=server.serve_forever, name="glowtts-serve", daemon=True)
    t.start()
    return t
