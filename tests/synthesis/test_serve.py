"""glowtts-serve: the HTTP server on loopback (port 0), incl. concurrency and bad input."""

from __future__ import annotations

import http.client
import io
import json
import wave
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from conftest import FEATS

from glowtts.synthesis.server import make_server, serve_in_thread
from glowtts.synthesis.synthesizer import Synthesizer


@pytest.fixture(scope="module")
def server(tiny_exp):
    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 2})
    srv = make_server(syn, "127.0.0.1", 0, max_request_bytes=4096, max_text_chars=300)
    thread = serve_in_thread(srv)
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=10)
    assert not thread.is_alive()


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
    real, calls = syn._vocode, []

    def fail_second(mels):
        calls.append(1)
        wavs = real(mels)
        return [w * np.nan for w in wavs] if len(calls) == 2 else wavs

    monkeypatch.setattr(syn, "_vocode", fail_second)
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
