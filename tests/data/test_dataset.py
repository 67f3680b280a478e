"""TTSDataset over a dump dir, and collate_tts."""

from __future__ import annotations

import logging

import pytest
import tinytts
import torch

from glowtts.data.collate import collate_tts
from glowtts.data.dataset import TTSDataset, make_spk_list


@pytest.fixture
def dump(tmp_path):
    utts = tinytts.write_dump(tmp_path / "dump", 6, seed=0, token_lengths=[3, 5, 4, 6, 2, 7])
    return tmp_path / "dump", utts


def test_items_and_lengths(dump):
    d, utts = dump
    ds = TTSDataset(d, tinytts.N_VOCAB)
    assert ds.utt_ids == sorted(utts)
    assert ds.token_lengths == [3, 5, 4, 6, 2, 7]
    assert ds.feat_lengths == [4 * n for n in ds.token_lengths]
    it = ds[1]
    assert it["utt_id"] == utts[1]
    assert it["tokens"].dtype == torch.long and it["tokens"].shape == (5,)
    assert it["feats"].dtype == torch.float32 and it["feats"].shape == (20, tinytts.N_MELS)
    assert "spk" not in it


def test_add_blank(dump):
    d, _ = dump
    plain = TTSDataset(d, tinytts.N_VOCAB)[0]["tokens"]
    blank = TTSDataset(d, tinytts.N_VOCAB, add_blank=True)[0]["tokens"]
    assert len(blank) == 2 * len(plain) + 1
    assert blank[0::2].eq(0).all() and torch.equal(blank[1::2], plain)


def test_intersection_warns_count(dump, caplog):
    d, utts = dump
    with open(d / "token", "a") as f:
        f.write("extra_utt 1 2 3\n")
    with caplog.at_level(logging.WARNING):
        ds = TTSDataset(d, tinytts.N_VOCAB)
    assert len(ds) == len(utts)
    assert "1 of 7 utterances" in caplog.text


def test_missing_utt2num_frames_read_from_arks(tmp_path, caplog):
    tinytts.write_dump(tmp_path / "d", 3, token_lengths=[2, 3, 4], with_num_frames=False)
    with caplog.at_level(logging.WARNING):
        ds = TTSDataset(tmp_path / "d", tinytts.N_VOCAB)
    assert ds.feat_lengths == [8, 12, 16]
    assert "utt2num_frames" in caplog.text


def test_too_short_dropped_and_bad_ids(tmp_path, caplog):
    d = tmp_path / "d"
    tinytts.write_dump(d, 3, token_lengths=[2, 3, 4], frames_per_token=1)
    with caplog.at_level(logging.WARNING):
        # frames trimmed to a multiple of 4: 2 -> 0, 3 -> 0, 4 -> 4 (enough for 4 tokens)
        ds = TTSDataset(d, tinytts.N_VOCAB, squeeze=4)
    assert "2 utterances have fewer frames than tokens" in caplog.text
    assert ds.token_lengths == [4]
    with pytest.raises(ValueError, match="outside the token list"):
        TTSDataset(d, 3)


def test_long_transcript_drop_names_utterance_and_limit(dump, caplog):
    """A 10,000-token transcript on short audio is dropped with its name, the limit and why."""
    d, utts = dump
    lines = (d / "token").read_text().splitlines()
    long_utt = lines[2].split()[0]
    lines[2] = long_utt + " " + " ".join(["3"] * 10_000)
    (d / "token").write_text("\n".join(lines) + "\n")
    with open(d / "token", "a") as f:
        f.write("no_feats_utt 1 2 3\n")
    with caplog.at_level(logging.WARNING):
        ds = TTSDataset(d, tinytts.N_VOCAB, squeeze=2)
    assert long_utt not in ds.utt_ids and len(ds) == len(utts) - 1
    assert f"{long_utt} (16 frames < 1 x 10000)" in caplog.text
    assert "min_frames_per_token=1" in caplog.text and "model.n_sqz=2" in caplog.text
    assert "not in feats.scp: no_feats_utt" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        TTSDataset(d, tinytts.N_VOCAB, add_blank=True)
    assert f"{long_utt} (16 frames < 1 x 20001)" in caplog.text
    assert "text.add_blank" in caplog.text


def test_no_usable_utts_and_missing_files(tmp_path):
    d = tmp_path / "d"
    tinytts.write_dump(d, 2, token_lengths=[5, 5], frames_per_token=1)
    with pytest.raises(ValueError, match="no usable"):
        TTSDataset(d, tinytts.N_VOCAB, add_blank=True)
    with pytest.raises(FileNotFoundError, match="stage"):
        TTSDataset(tmp_path / "nothing", tinytts.N_VOCAB)


def test_speakers(dump, tmp_path):
    d, utts = dump
    u2s = tmp_path / "utt2spk"
    u2s.write_text("".join(f"{u} spk{i % 2}\n" for i, u in enumerate(utts[:-1])))
    spks = make_spk_list(u2s)
    assert spks == ["spk0", "spk1"]
    ds = TTSDataset(d, tinytts.N_VOCAB, utt2spk=u2s, spk_list=spks)
    assert len(ds) == len(utts) - 1  # the utterance without a speaker is dropped
    assert [ds[i]["spk"] for i in range(len(ds))] == [i % 2 for i in range(len(ds))]
    with pytest.raises(ValueError, match="not in the speaker list"):
        TTSDataset(d, tinytts.N_VOCAB, utt2spk=u2s, spk_list=["spk0"])


def test_collate_pads(dump):
    d, _ = dump
    ds = TTSDataset(d, tinytts.N_VOCAB)
    items = [ds[i] for i in (0, 3, 4)]
    b = collate_tts(items)
    assert b["utt_ids"] == [it["utt_id"] for it in items]
    assert b["tokens"].shape == (3, 6) and b["feats"].shape == (3, 24, tinytts.N_MELS)
    assert b["token_lengths"].tolist() == [3, 6, 2]
    assert b["feat_lengths"].tolist() == [12, 24, 8]
    assert b["spk"] is None
    for i, it in enumerate(items):
        n, t = len(it["tokens"]), it["feats"].shape[0]
        assert torch.equal(b["tokens"][i, :n], it["tokens"]) and b["tokens"][i, n:].eq(0).all()
        assert torch.equal(b["feats"][i, :t], it["feats"]) and b["feats"][i, t:].eq(0).all()


def test_non_finite_features_name_the_utterance(tmp_path):
    import kaldiio
    import numpy as np

    d = tmp_path / "dump"
    utts = tinytts.write_dump(d, 2, seed=0, token_lengths=[3, 4])
    bad = np.full((16, tinytts.N_MELS), np.nan, dtype=np.float32)
    with kaldiio.WriteHelper(f"ark,scp:{tmp_path / 'bad.ark'},{tmp_path / 'bad.scp'}") as w:
        w(utts[1], bad)
    lines = (d / "feats.scp").read_text().splitlines()
    fixed = [ln for ln in lines if not ln.startswith(utts[1] + " ")]
    fixed += (tmp_path / "bad.scp").read_text().splitlines()
    (d / "feats.scp").write_text("\n".join(sorted(fixed)) + "\n")
    ds = TTSDataset(d, tinytts.N_VOCAB)
    with pytest.raises(ValueError, match=f"{utts[1]} has NaN or Inf"):
        ds[ds.utt_ids.index(utts[1])]


def test_pipe_and_pickle_feats_refused(tmp_path):
    import pickle

    import numpy as np

    from glowtts.audio.extract import compute_stats

    d = tmp_path / "dump"
    utts = tinytts.write_dump(d, 2, seed=0, token_lengths=[3, 4])
    good = (d / "feats.scp").read_text()
    flag = tmp_path / "RAN"
    (d / "feats.scp").write_text(good + f"extra touch {flag} |\n")
    with pytest.raises(ValueError, match=r"feats.scp: line 3: utterance 'extra' is a command"):
        TTSDataset(d, tinytts.N_VOCAB)
    with pytest.raises(ValueError, match="allow_pipes=True"):
        compute_stats([d / "feats.scp"], tmp_path / "stats.npy", progress=False)
    assert not flag.exists()
    # a pickled record in place of utts[0]'s matrix is refused when read, not unpickled
    ark = tmp_path / "p.ark"
    ark.write_bytes(b"x PKL" + pickle.dumps(np.zeros((12, tinytts.N_MELS), np.float32)))
    lines = [
        f"{utts[0]} {ark}:2" if ln.startswith(utts[0] + " ") else ln for ln in good.split("\n")
    ]
    (d / "feats.scp").write_text("\n".join(lines))
    ds = TTSDataset(d, tinytts.N_VOCAB)
    with pytest.raises(ValueError, match=rf"utterance '{utts[0]}' .*pickled.*allow_pickle=True"):
        ds[ds.utt_ids.index(utts[0])]
    ok = TTSDataset(d, tinytts.N_VOCAB, allow_pickle=True)
    assert ok[ok.utt_ids.index(utts[0])]["feats"].abs().sum() == 0  # the pickled zeros
