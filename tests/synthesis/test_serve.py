"""glowtts-serve: the HTTP server on loopback (port 0), incl. concurrency and bad input."""

from __future__ import annotations

import http.client
import io
import json
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import FEATS, break_vocoder_call, running_server

from glowtts.synthesis.server import make_server
from glowtts.synthesis.synthesizer import Synthesizer


@pytest.fixture(scope="module")
def server(tiny_exp):
    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 2})
    with running_server(syn, max_request_bytes=4096, max_text_chars=300) as srv:
        yield srv


JSON = {"Content-Type": "application/json"}


def _request(srv, method, path, body=None, headers=None):
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


def _tts(srv, obj):
    return _request(
        srv, "POST", "/tts", json.dumps(obj).encode(), {"Content-Type": "application/json"}
    )


def _error(status_ct_body, status):
    code, ctype, body = status_ct_body
    assert code == status, body
    assert ctype == "application/json"
    return json.loads(body)["error"]


def test_binds_loopback_and_reports_health(server):
    assert server.server_address[0] == "127.0.0.1" and server.server_address[1] > 0
    code, ctype, body = _request(server, "GET", "/health")
    assert code == 200 and ctype == "application/json"
    info = json.loads(body)
    assert (
        info["status"] == "ok"
        and info["sample_rate"] == FEATS["fs"]
        and info["max_text_chars"] == 300
    )


def test_tts_returns_a_wav(server):
    code, ctype, body = _tts(
        server, {"text": "Hello there.", "noise_scale": 0.3, "length_scale": 1.1, "seed": 4}
    )
    assert code == 200 and ctype == "audio/wav"
    with wave.open(io.BytesIO(body)) as w:
        assert w.getframerate() == FEATS["fs"] and w.getnchannels() == 1 and w.getsampwidth() == 2
        assert w.getnframes() > 0
    assert (
        _tts(server, {"text": "Hello there.", "seed": 4})[2]
        == _tts(server, {"text": "Hello there.", "seed": 4})[2]
    )


def test_concurrent_requests(server):
    texts = [f"Request number {i} of a few." for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda t: _tts(server, {"text": t, "seed": 1}), texts))
    assert all(code == 200 and ctype == "audio/wav" for code, ctype, _ in results)
    # the same as one at a time: the lock keeps requests from interfering
    assert results[2][2] == _tts(server, {"text": texts[2], "seed": 1})[2]


def test_bad_requests_get_json_errors_and_the_server_survives(server):
    assert "JSON" in _error(_request(server, "POST", "/tts", b"{not json", JSON), 400)
    assert "JSON" in _error(_request(server, "POST", "/tts", b"\xff\xfe", JSON), 400)
    assert "object" in _error(_request(server, "POST", "/tts", b"[1, 2]", JSON), 400)
    assert "text" in _error(_tts(server, {"noise_scale": 0.5}), 400)
    assert "empty" in _error(_tts(server, {"text": "   "}), 400)
    assert "letters" in _error(_tts(server, {"text": "?!"}), 400)
    assert "length_scale" in _error(_tts(server, {"text": "abc", "length_scale": -1}), 400)
    assert "noise_scale" in _error(_tts(server, {"text": "abc", "noise_scale": "hot"}), 400)
    assert "unknown key" in _error(_tts(server, {"text": "abc", "speed": 2}), 400)
    assert "single-speaker" in _error(_tts(server, {"text": "abc", "spk": 4}), 400)
    assert "limit" in _error(_tts(server, {"text": "a" * 301}), 413)
    assert "limit" in _error(_request(server, "POST", "/tts", b"x" * 5000, JSON), 413)
    assert _error(_request(server, "GET", "/nope"), 404)
    assert _error(_request(server, "POST", "/health", b"{}"), 404)
    # a request without Content-Length
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.putrequest("POST", "/tts")
    conn.endheaders()
    r = conn.getresponse()
    assert r.status == 411 and "Content-Length" in json.loads(r.read())["error"]
    conn.close()
    assert _request(server, "GET", "/health")[0] == 200


def test_internal_error_is_a_500_and_the_server_keeps_serving(server, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(server.synthesizer, "tts", boom)
    err = _error(_tts(server, {"text": "abc"}), 500)
    assert "RuntimeError" in err and "simulated" not in err  # no internals leak to the client
    monkeypatch.undo()
    assert _tts(server, {"text": "abc"})[0] == 200


def test_scales_out_of_range_and_too_long_output_are_refused(server, monkeypatch):
    # the probes of issue 20: length_scale 300 held the server 28 s, 1e30 noise gave silence
    for key, value in [("length_scale", 300), ("length_scale", 1e6), ("noise_scale", 1e30)]:
        err = _error(_tts(server, {"text": "abc", key: value}), 400)
        assert key in err and "[" in err
    monkeypatch.setattr(server.synthesizer, "max_seconds", 0.05)
    err = _error(_tts(server, {"text": "A sentence that is long enough."}), 413)
    assert "max_seconds" in err
    monkeypatch.undo()
    assert _tts(server, {"text": "abc"})[0] == 200


def test_non_finite_audio_is_a_500_not_silence(server, monkeypatch):
    real = server.synthesizer.vocoder
    monkeypatch.setattr(
        server.synthesizer, "vocoder", lambda mels, device=None: [w * np.nan for w in real(mels)]
    )
    assert "non-finite" in _error(_tts(server, {"text": "abc"}), 500)


def test_make_server_sets_the_output_cap(tiny_exp):
    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 1})
    srv = make_server(syn, "127.0.0.1", 0, max_seconds=3)
    try:
        assert syn.max_seconds == 3.0
    finally:
        srv.server_close()
    with pytest.raises(ValueError, match="max_seconds"):
        make_server(syn, "127.0.0.1", 0, max_seconds=-1)


# ---------------------------------------------------------------- streaming, timings, SSML


def _post(srv, path, obj, http10=False):
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    if http10:
        conn._http_vsn, conn._http_vsn_str = 10, "HTTP/1.0"
    try:
        conn.request("POST", path, body=json.dumps(obj).encode(), headers=JSON)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


LONG = "One sentence here. Another one follows! And a third, with a clause."


def test_stream_is_chunked_and_equals_the_whole_wav(server):
    whole = _tts(server, {"text": LONG, "seed": 5})[2]
    for path, obj in (("/tts", {"stream": True}), ("/tts?stream=1", {})):
        code, headers, body = _post(server, path, {"text": LONG, "seed": 5, **obj})
        assert code == 200 and headers["Transfer-Encoding"] == "chunked"
        assert headers["Content-Type"] == "audio/wav" and "Content-Length" not in headers
        assert body[:4] == b"RIFF" and body[4:8] == b"\xff\xff\xff\xff"
        assert body[40:44] == b"\xff\xff\xff\xff"  # data size unknown
        assert body[44:] == whole[44:]  # the same PCM as the non-streamed answer


def test_stream_pcm_and_http10(server):
    whole = _tts(server, {"text": LONG, "seed": 5})[2]
    code, headers, body = _post(
        server, "/tts", {"text": LONG, "seed": 5, "stream": True, "format": "pcm"}
    )
    assert code == 200 and headers["Content-Type"].startswith("audio/pcm; rate=8000")
    assert body == whole[44:]
    code, headers, body = _post(server, "/tts?stream=1", {"text": LONG, "seed": 5}, http10=True)
    assert code == 200 and "Transfer-Encoding" not in headers and body[44:] == whole[44:]
    code, headers, body = _post(server, "/tts", {"text": LONG, "seed": 5, "format": "pcm"})
    assert code == 200 and body == whole[44:]


def test_stream_errors_come_as_json_before_audio(server):
    err = _error(_tts(server, {"text": "<speak><foo/></speak>", "stream": True}), 400)
    assert "foo" in err
    err = _error(_tts(server, {"text": "Hi.", "stream": True, "length_scale": 11}), 400)
    assert "length_scale" in err
    code, _, body = _post(server, "/tts?stream=2", {"text": "Hi."})
    assert code == 400 and b"stream" in body
    code, _, body = _post(server, "/tts?foo=1", {"text": "Hi."})
    assert code == 400 and b"foo" in body
    for bad in ({"stream": "yes"}, {"format": "mp3"}, {"timings": True, "stream": True}):
        _error(_tts(server, {"text": "Hi.", **bad}), 400)


def test_ssml_and_sentence_silence_fields(server):
    def n_samples(obj):
        code, _, body = _tts(server, {"seed": 1, **obj})
        assert code == 200, body
        return (len(body) - 44) // 2

    base = n_samples({"text": '<speak>Hi there.<break strength="none"/>Bye now.</speak>'})
    brk = n_samples({"text": '<speak>Hi there.<break time="400ms"/>Bye now.</speak>'})
    assert brk - base == round(0.4 * FEATS["fs"])
    forced_off = n_samples(
        {"text": '<speak>Hi there.<break time="400ms"/>Bye now.</speak>', "ssml": False}
    )
    assert forced_off != brk
    assert n_samples({"text": "Hi there. Bye now.", "sentence_silence": 0.5}) > n_samples(
        {"text": "Hi there. Bye now."}
    )
    assert "malformed" in _error(_tts(server, {"text": "<speak>Hi", "ssml": True}), 400)
    assert "sentence_silence" in _error(_tts(server, {"text": "Hi.", "sentence_silence": 99}), 400)
    assert "sentence_silence" in _error(_tts(server, {"text": "Hi.", "sentence_silence": "1"}), 400)
    assert "phoneme" in _error(_tts(server, {"text": "Hi.", "lexicon": {"hi": "HH AY1"}}), 400)
    assert "lexicon" in _error(_tts(server, {"text": "Hi.", "lexicon": ["hi"]}), 400)


def test_timings_answer_json_with_the_wav(server):
    import base64

    code, ctype, body = _tts(server, {"text": "Hello there. Bye.", "seed": 2, "timings": True})
    assert code == 200 and ctype == "application/json"
    info = json.loads(body)
    wav = base64.b64decode(info["audio"])
    assert wav == _tts(server, {"text": "Hello there. Bye.", "seed": 2})[2]
    n = (len(wav) - 44) / 2
    assert info["tokens"][-1]["end"] == pytest.approx(n / FEATS["fs"])
    assert [w["word"] for w in info["words"]] == ["Hello", "there.", "Bye."]


def test_a_failure_mid_stream_truncates_the_body(server, monkeypatch):
    syn = server.synthesizer
    break_vocoder_call(monkeypatch, syn, 2)
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(
            "POST", "/tts?stream=1", body=json.dumps({"text": LONG}).encode(), headers=JSON
        )
        r = conn.getresponse()
        assert r.status == 200  # the headers left with the first chunk
        with pytest.raises(http.client.IncompleteRead):
            r.read()  # no final empty chunk: the client knows the audio is incomplete
    finally:
        conn.close()
    monkeypatch.undo()
    assert _tts(server, {"text": "Still serving."})[0] == 200


# ------------------------------------------------------------ GET /voices, GET /tts, OpenAI
def _speech(srv, obj):
    return _request(srv, "POST", "/v1/audio/speech", json.dumps(obj).encode(), JSON)


def test_voices_describes_the_voice(server):
    code, ctype, body = _request(server, "GET", "/voices")
    assert code == 200 and ctype == "application/json"
    (voice,) = json.loads(body)["voices"]
    syn = server.synthesizer
    assert voice["sample_rate"] == FEATS["fs"] and voice["n_speakers"] == 1
    assert voice["speakers"] == [] and voice["formats"] == ["wav", "pcm"]
    assert voice["token_type"] == syn.frontend.conf["token_type"]
    assert voice["vocoder"] == type(syn.vocoder).__name__
    assert voice["defaults"]["length_scale"] == syn.length_scale
    assert voice["bounds"]["length_scale"] == [0.1, 10.0]


def test_get_tts_equals_post_tts(server):
    code, ctype, body = _request(server, "GET", "/tts?text=Hello%20there.&length_scale=1.2")
    assert code == 200 and ctype == "audio/wav"
    with wave.open(io.BytesIO(body)) as w:
        n = w.getnframes()
        assert w.getframerate() == FEATS["fs"] and n > 0
    # the same durations as the POST with the same options (noise differs without a seed)
    with wave.open(io.BytesIO(_tts(server, {"text": "Hello there.", "length_scale": 1.2})[2])) as w:
        assert w.getnframes() == n
    code, ctype, pcm = _request(server, "GET", "/tts?text=Hello+there.&length_scale=1.2&format=pcm")
    assert code == 200 and ctype.startswith("audio/pcm") and len(pcm) == 2 * n


def test_get_tts_validates_like_post(server):
    assert "text" in _error(_request(server, "GET", "/tts"), 400)
    assert "unknown query" in _error(_request(server, "GET", "/tts?text=abc&seed=1"), 400)
    assert "once" in _error(_request(server, "GET", "/tts?text=abc&text=def"), 400)
    assert "length_scale" in _error(_request(server, "GET", "/tts?text=abc&length_scale=99"), 400)
    assert "noise_scale" in _error(_request(server, "GET", "/tts?text=abc&noise_scale=hot"), 400)
    assert "format" in _error(_request(server, "GET", "/tts?text=abc&format=mp3"), 400)
    assert "single-speaker" in _error(_request(server, "GET", "/tts?text=abc&speaker=2"), 400)
    assert "limit" in _error(_request(server, "GET", "/tts?text=" + "a" * 301), 414)
    # percent-encoded characters count once: 300 decoded characters are within the limit
    assert _request(server, "GET", "/tts?text=" + "%C3%A9" * 100 + "+abc")[0] in (200, 400)
    assert _request(server, "GET", "/health")[0] == 200


def test_openai_speech_endpoint(server):
    syn = server.synthesizer
    code, ctype, body = _speech(
        server, {"model": "tts-1", "input": "Hello there.", "voice": "alloy"}
    )
    assert code == 200 and ctype == "audio/wav"
    with wave.open(io.BytesIO(body)) as w:
        n1 = w.getnframes()
    # speed 2 halves the voice's length_scale: the same frames as the native request
    code, _, body = _speech(server, {"input": "Hello there.", "voice": "x", "speed": 2.0})
    with wave.open(io.BytesIO(body)) as w:
        n2 = w.getnframes()
    native = _tts(server, {"text": "Hello there.", "length_scale": syn.length_scale / 2})[2]
    with wave.open(io.BytesIO(native)) as w:
        assert w.getnframes() == n2 < n1
    code, ctype, pcm = _speech(server, {"input": "Hello there.", "response_format": "pcm"})
    assert code == 200 and ctype.startswith("audio/pcm") and len(pcm) == 2 * n1


def test_openai_speech_errors(server):
    for fmt in ("mp3", "opus", "aac", "flac"):
        err = _error(_speech(server, {"input": "abc", "response_format": fmt}), 400)
        assert fmt in err and "wav" in err and "pcm" in err
    for speed in (0.1, 5, "fast", True):
        assert "speed" in _error(_speech(server, {"input": "abc", "speed": speed}), 400)
    assert "input" in _error(_speech(server, {"text": "abc"}), 400)
    assert "input" in _error(_speech(server, {"voice": "alloy"}), 400)
    assert "limit" in _error(_speech(server, {"input": "a" * 301}), 413)
    body = json.dumps({"input": "abc"}).encode()
    assert _error(_request(server, "POST", "/v1/audio/speech", body, {}), 415)
    assert "nested" in _error(
        _request(server, "POST", "/v1/audio/speech", b"[" * 2000 + b"]" * 2000, JSON), 400
    )
    assert _request(server, "GET", "/health")[0] == 200


def test_openai_voice_on_a_multi_speaker_voice(tmp_path):
    from conftest import make_exp

    syn = Synthesizer.from_exp(
        make_exp(tmp_path / "multi", n_speakers=3), vocoder_options={"n_iter": 2}
    )
    with running_server(syn, name="multi") as srv:
        (voice,) = json.loads(_request(srv, "GET", "/voices")[2])["voices"]
        assert voice["name"] == "multi" and voice["speakers"] == ["spk0", "spk1", "spk2"]
        text = {"input": "Hello there.", "speed": 1.0}
        alloy = _speech(srv, {**text, "voice": "alloy"})
        code, _, spk1 = _speech(srv, {**text, "voice": "spk1"})
        assert alloy[0] == code == 200
        assert _speech(srv, {**text, "voice": 1})[0] == 200
        assert "unknown speaker" in _error(_speech(srv, {**text, "voice": "bob"}), 400)
        assert _request(srv, "GET", "/tts?text=abc&speaker=spk2")[0] == 200
        assert _request(srv, "GET", "/tts?text=abc&speaker=2")[0] == 200
        assert "out of range" in _error(_request(srv, "GET", "/tts?text=abc&speaker=7"), 400)
