"""The HTTP server over raw sockets: framing on kept-alive connections (no desync),
content types, JSON nesting and limits (issue 20, fault 9).

Every socket has a timeout and every read loop is bounded, so a server bug fails a test
instead of hanging it.
"""

from __future__ import annotations

import json
import socket

import pytest
from conftest import running_server

from glowtts.synthesis.synthesizer import Synthesizer

TIMEOUT = 30  # seconds per socket operation; generous for a loaded 2-core machine
MAX_BODY = 4096


@pytest.fixture(scope="module")
def server(tiny_exp):
    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 1})
    with running_server(syn, max_request_bytes=MAX_BODY, max_text_chars=300) as srv:
        yield srv


def request(
    method: str,
    path: str,
    body: bytes = b"",
    ctype: str | None = "application/json",
    headers: dict[str, str] | None = None,
    length: int | None = None,
) -> bytes:
    """One raw HTTP/1.1 request (``length`` overrides the Content-Length header)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if ctype is not None:
        lines.append(f"Content-Type: {ctype}")
    if body or length is not None:
        lines.append(f"Content-Length: {len(body) if length is None else length}")
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def tts(obj, **kwargs) -> bytes:
    return request("POST", "/tts", json.dumps(obj).encode(), **kwargs)


def read_response(f) -> dict | None:
    """``{"status", "headers", "body"}`` of the next response on ``f``; None at EOF."""
    line = f.readline(65537)
    if not line:
        return None
    status = int(line.split()[1])
    headers = {}
    for _ in range(100):  # bounded: the server sends a handful of headers
        h = f.readline(65537)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", 0)))
    return {"status": status, "headers": headers, "body": body}


def exchange(srv, data: bytes, shut_write: bool = False, max_responses: int = 10) -> list[dict]:
    """Send ``data`` on one connection and read responses until the server closes it
    (the last request should say ``Connection: close``, or the server closes)."""
    with socket.create_connection(srv.server_address[:2], timeout=TIMEOUT) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        f = sock.makefile("rb")
        out = []
        for _ in range(max_responses):
            r = read_response(f)
            if r is None:
                break
            out.append(r)
        else:
            pytest.fail(
                f"more than {max_responses} responses: the server parsed a body as requests"
            )
        return out


CLOSE = {"Connection": "close"}
HEALTH_CLOSE = request("GET", "/health", ctype=None, headers=CLOSE)
# a body that is itself a request: parsed as one if the server leaves it unread
SMUGGLED = request("GET", "/health", ctype=None)


def statuses(responses: list[dict]) -> list[int]:
    return [r["status"] for r in responses]


def error(r: dict) -> str:
    assert r["headers"]["content-type"] == "application/json"
    return json.loads(r["body"])["error"]


# ------------------------------------------------------------ desync
def test_unknown_post_path_body_is_not_parsed_as_the_next_request(server):
    rs = exchange(server, request("POST", "/nope", SMUGGLED) + HEALTH_CLOSE)
    assert statuses(rs) == [404, 200]
    assert "unknown path" in error(rs[0])
    assert json.loads(rs[1]["body"])["status"] == "ok"


def test_get_with_a_body_is_not_parsed_as_the_next_request(server):
    rs = exchange(server, request("GET", "/health", SMUGGLED, ctype=None) + HEALTH_CLOSE)
    assert statuses(rs) == [200, 200]
    rs = exchange(server, request("GET", "/nope", SMUGGLED, ctype=None) + HEALTH_CLOSE)
    assert statuses(rs) == [404, 200]


def test_pipelined_requests_are_answered_in_order(server):
    data = tts({"text": "abc", "seed": 1}) + request("GET", "/health", ctype=None)
    data += tts({"text": "abc", "length_scale": 300}) + HEALTH_CLOSE
    rs = exchange(server, data)
    assert statuses(rs) == [200, 200, 400, 200]
    assert rs[0]["headers"]["content-type"] == "audio/wav" and rs[0]["body"][:4] == b"RIFF"
    assert "length_scale" in error(rs[2])


@pytest.mark.parametrize(
    "data, status",
    [
        (request("POST", "/tts", SMUGGLED, length=MAX_BODY + 1), 413),  # too large: unread
        (request("POST", "/tts", SMUGGLED, ctype="text/plain"), 415),
        (request("POST", "/tts", SMUGGLED, headers={"Transfer-Encoding": "chunked"}), 400),
        (request("POST", "/tts", SMUGGLED, headers={"Content-Length": "3"}), 400),  # two
        (request("POST", "/tts", ctype="application/json", length=None), 411),
        (
            request("POST", "/tts", SMUGGLED, length=None).replace(
                b"\r\n\r\n", b"\r\nContent-Length: +5\r\n\r\n", 1
            ),
            400,
        ),
        (request("PUT", "/tts", SMUGGLED), 501),
    ],
    ids=["too-large", "text-plain", "chunked", "two-lengths", "no-length", "bad-length", "put"],
)
def test_an_unreadable_body_closes_the_connection(server, data, status):
    """The error comes with Connection: close and nothing after it is parsed."""
    rs = exchange(server, data + HEALTH_CLOSE)
    assert statuses(rs) == [status]
    assert rs[0]["headers"].get("connection", "").lower() == "close"


def test_truncated_body_is_a_400(server):
    rs = exchange(server, request("POST", "/tts", b'{"text": "a', length=100), shut_write=True)
    assert statuses(rs) == [400] and "ended after" in error(rs[0])


# ------------------------------------------------------------ content types
@pytest.mark.parametrize(
    "ctype",
    [
        None,
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonp",
        "text/json",
    ],
)
def test_only_json_bodies_are_accepted(server, ctype):
    # the requests a web page can send cross-site without a preflight
    rs = exchange(server, tts({"text": "abc"}, ctype=ctype, headers=CLOSE))
    assert statuses(rs) == [415]
    assert "application/json" in error(rs[0])


@pytest.mark.parametrize("ctype", ["application/json; charset=utf-8", "Application/JSON"])
def test_json_content_type_with_parameters_or_case(server, ctype):
    rs = exchange(server, tts({"text": "abc"}, ctype=ctype, headers=CLOSE))
    assert statuses(rs) == [200] and rs[0]["body"][:4] == b"RIFF"


# ------------------------------------------------------------ nesting
@pytest.mark.parametrize(
    "body",
    [b"[" * 2000 + b"]" * 2000, b'{"text": ' + b"[" * 1900 + b"]" * 1900 + b"}"],
    ids=["array", "in-object"],
)
def test_deeply_nested_json_is_a_400_not_a_500(server, body):
    assert len(body) <= MAX_BODY
    rs = exchange(server, request("POST", "/tts", body) + HEALTH_CLOSE)
    assert statuses(rs) == [400, 200]
    assert "nested" in error(rs[0])


# ------------------------------------------------------------ limits
@pytest.mark.parametrize(
    "obj, status, word",
    [
        ({"text": "a" * 301}, 413, "limit"),
        ({"text": "abc", "length_scale": 1e6}, 400, "length_scale"),
        ({"text": "abc", "length_scale": 0}, 400, "length_scale"),
        ({"text": "abc", "noise_scale": 1e30}, 400, "noise_scale"),
        ({"text": "abc", "noise_scale": -1}, 400, "noise_scale"),
        ({"text": "abc", "noise_scale": True}, 400, "noise_scale"),
        ({"text": "abc", "seed": -1}, 400, "seed"),
    ],
)
def test_limits_and_bad_scales_keep_the_connection(server, obj, status, word):
    rs = exchange(server, tts(obj) + HEALTH_CLOSE)
    assert statuses(rs) == [status, 200]
    assert word in error(rs[0])


def test_nan_and_infinity_literals_are_refused(server):
    for lit in (b"NaN", b"Infinity", b"-Infinity"):
        rs = exchange(
            server,
            request("POST", "/tts", b'{"text": "abc", "noise_scale": ' + lit + b"}") + HEALTH_CLOSE,
        )
        assert statuses(rs) == [400, 200] and "noise_scale" in error(rs[0])


def test_output_over_max_seconds_is_a_413(server, monkeypatch):
    monkeypatch.setattr(server.synthesizer, "max_seconds", 0.05)
    rs = exchange(server, tts({"text": "A sentence that is long enough."}) + HEALTH_CLOSE)
    assert statuses(rs) == [413, 200] and "max_seconds" in error(rs[0])


# ------------------------------------------------------------ GET /voices, GET /tts, OpenAI
def test_new_paths_keep_the_connection_in_step(server):
    rs = exchange(
        server,
        request("GET", "/voices", SMUGGLED, ctype=None)
        + request("GET", "/tts?text=abc&format=pcm", SMUGGLED, ctype=None)
        + request("POST", "/v1/audio/speech", json.dumps({"input": "abc"}).encode())
        + HEALTH_CLOSE,
    )
    assert statuses(rs) == [200, 200, 200, 200]
    assert rs[1]["headers"]["content-type"].startswith("audio/pcm")


def test_unknown_method_and_path_do_not_desync(server):
    rs = exchange(server, request("PUT", "/v1/audio/speech", SMUGGLED) + HEALTH_CLOSE)
    assert rs[0]["status"] in (405, 501) and len(rs) <= 2
    if len(rs) == 2:  # the server may close instead of reading the PUT body
        assert rs[1]["status"] == 200
    rs = exchange(server, request("POST", "/v1/audio/nope", SMUGGLED) + HEALTH_CLOSE)
    assert statuses(rs) == [404, 200]


def test_openai_endpoint_refuses_bodies_like_tts(server):
    body = json.dumps({"input": "abc"}).encode()
    rs = exchange(server, request("POST", "/v1/audio/speech", body, ctype="text/plain"))
    assert statuses(rs) == [415] and rs[0]["headers"].get("connection") == "close"
    rs = exchange(server, request("POST", "/v1/audio/speech", b"x", length=MAX_BODY + 1))
    assert statuses(rs) == [413]
    nested = b"[" * 2000 + b"]" * 2000
    rs = exchange(server, request("POST", "/v1/audio/speech", nested) + HEALTH_CLOSE)
    assert statuses(rs) == [400, 200] and "nested" in error(rs[0])


@pytest.mark.parametrize("n", [301, 70_000])
def test_get_tts_query_too_long(server, n):
    rs = exchange(server, request("GET", "/tts?text=" + "a" * n, ctype=None) + HEALTH_CLOSE)
    assert rs[0]["status"] in (400, 414)
    if n == 301:  # parsed: a JSON error, and the connection stays usable
        assert "limit" in error(rs[0]) and statuses(rs) == [414, 200]
