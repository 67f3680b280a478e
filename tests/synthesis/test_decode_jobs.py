"""glowtts-decode: splitting a set into jobs changes nothing."""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
from conftest import make_exp

from glowtts.bin import decode


def _token_file(path: Path, n: int, n_vocab: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    utts = [f"utt{i:02d}" for i in range(n)]
    with open(path, "w") as f:
        for u in utts:
            ids = rng.integers(2, n_vocab, rng.integers(3, 15))
            f.write(f"{u} {' '.join(map(str, ids))}\n")
    return utts


def _decode(exp: Path, token: Path, out: Path, *extra: str) -> dict[str, np.ndarray]:
    decode.main(
        [
            "--exp_dir",
            str(exp),
            "--token",
            str(token),
            "--out_dir",
            str(out),
            "--verbose",
            "false",
            *extra,
        ]
    )
    return dict(kaldiio.load_scp(str(out / "feats.scp")))


def test_one_job_and_three_jobs_give_identical_outputs(tmp_path):
    exp = make_exp(tmp_path / "exp")
    n_vocab = len((exp / "tokens.txt").read_text().splitlines())
    token = tmp_path / "token"
    utts = _token_file(token, 10, n_vocab)
    whole = _decode(exp, token, tmp_path / "nj1", "--seed", "7")
    lines = token.read_text().splitlines()
    parts = {}
    for j in range(3):  # the recipe's split: contiguous thirds
        part = tmp_path / f"token.{j}"
        part.write_text("\n".join(lines[j * 4 : (j + 1) * 4]) + "\n")
        parts.update(_decode(exp, part, tmp_path / f"nj3_{j}", "--seed", "7", "--batch_size", "3"))
    assert sorted(parts) == sorted(whole) == utts
    for u in utts:
        assert whole[u].shape == parts[u].shape
        # same noise, same durations; the mel differs only by float rounding of padded batches
        np.testing.assert_allclose(whole[u], parts[u], rtol=0, atol=1e-5)
    durs = [(tmp_path / "nj1" / "durations").read_text()]
    durs.append("".join((tmp_path / f"nj3_{j}" / "durations").read_text() for j in range(3)))
    assert durs[0] == durs[1]
    # another seed gives other noise
    other = _decode(exp, token, tmp_path / "seed8", "--seed", "8")
    assert not np.allclose(other[utts[0]], whole[utts[0]])


def test_precision_from_the_flag_or_the_decode_config(tmp_path, autocast_dtypes, capsys):
    """--precision bf16 (or decode.precision in --decode_config) decodes under bf16
    autocast, close to fp32; a bad decode.precision is an error naming the key."""
    import pytest
    import torch

    exp = make_exp(tmp_path / "exp")
    n_vocab = len((exp / "tokens.txt").read_text().splitlines())
    token = tmp_path / "token"
    _token_file(token, 4, n_vocab)
    ref = _decode(exp, token, tmp_path / "fp32", "--seed", "3")
    assert torch.bfloat16 not in autocast_dtypes
    bf = _decode(exp, token, tmp_path / "bf16", "--seed", "3", "--precision", "bf16")
    assert torch.bfloat16 in autocast_dtypes
    for u in ref:
        if ref[u].shape == bf[u].shape:  # durations may round differently in bf16
            assert np.abs(ref[u] - bf[u]).max() < 0.1 * np.abs(ref[u]).max() + 0.1
    conf = tmp_path / "decode.yaml"
    conf.write_text("decode:\n  precision: bf16\n")
    autocast_dtypes.clear()
    _decode(exp, token, tmp_path / "conf", "--seed", "3", "--decode_config", str(conf))
    assert torch.bfloat16 in autocast_dtypes
    conf.write_text("decode:\n  precision: fp8\n")
    with pytest.raises(SystemExit, match="decode.precision must be one of"):
        _decode(exp, token, tmp_path / "bad", "--decode_config", str(conf))
