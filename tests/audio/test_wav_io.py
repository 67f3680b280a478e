"""wav I/O: round trip, pipes, and errors that name the file."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from glowtts.audio import AudioError, load_wav, save_wav


def test_round_trip_pcm16(tmp_path) -> None:
    wav = (0.5 * np.sin(np.arange(4000) / 7.0)).astype(np.float32)
    p = tmp_path / "a" / "x.wav"
    save_wav(p, wav, 22050)
    info = sf.info(str(p))
    assert (info.samplerate, info.channels, info.subtype) == (22050, 1, "PCM_16")
    back = load_wav(p, 22050)
    assert back.dtype == np.float32 and back.shape == wav.shape
    assert np.max(np.abs(back - wav)) <= 1.0 / 32768 + 1e-7
    assert not list(tmp_path.glob("a/*.tmp"))


def test_save_clips_and_rejects_nan(tmp_path) -> None:
    save_wav(tmp_path / "c.wav", np.array([2.0, -2.0, 0.0], np.float32), 16000)
    back = load_wav(tmp_path / "c.wav")
    assert back[0] == pytest.approx(32767 / 32768) and back[1] == -1.0
    with pytest.raises(AudioError, match="NaN"):
        save_wav(tmp_path / "n.wav", np.array([np.nan], np.float32), 16000)


def test_pipe(tmp_path) -> None:
    wav = np.linspace(-0.5, 0.5, 3000).astype(np.float32)
    save_wav(tmp_path / "p.wav", wav, 22050)
    back = load_wav(f"cat {tmp_path / 'p.wav'} |", 22050)
    np.testing.assert_allclose(back, load_wav(tmp_path / "p.wav"), atol=0)
    with pytest.raises(AudioError, match="exit status 3"):
        load_wav("exit 3 |", 22050)
    with pytest.raises(AudioError, match="wrote no audio"):
        load_wav("true |", 22050)


def test_errors_name_the_file(tmp_path) -> None:
    missing = tmp_path / "missing.wav"
    with pytest.raises(AudioError, match="missing.wav.*does not exist"):
        load_wav(missing, 22050)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        load_wav(empty, 22050)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x01garbage" * 20)
    with pytest.raises(AudioError, match="corrupt.wav.*corrupt"):
        load_wav(corrupt, 22050)
    nosamples = tmp_path / "nosamples.wav"
    sf.write(str(nosamples), np.zeros(0, np.float32), 22050, subtype="PCM_16")
    with pytest.raises(AudioError, match="nosamples.wav.*no samples"):
        load_wav(nosamples, 22050)
    rate = tmp_path / "rate.wav"
    sf.write(str(rate), np.zeros(1600, np.float32), 16000, subtype="PCM_16")
    with pytest.raises(AudioError, match="rate.wav.*16000 Hz.*22050 Hz.*sox"):
        load_wav(rate, 22050)
    stereo = tmp_path / "stereo.wav"
    sf.write(str(stereo), np.zeros((1600, 2), np.float32), 22050, subtype="PCM_16")
    with pytest.raises(AudioError, match="stereo.wav.*2 channels"):
        load_wav(stereo, 22050)


def test_truncated_wav_is_refused(tmp_path) -> None:
    """A wav cut short under an intact header (a failed copy) is an error, not half an
    utterance; a file with extra chunks after the samples, or a streamed header, still loads."""
    wav = np.linspace(-0.5, 0.5, 4000).astype(np.float32)
    full = tmp_path / "full.wav"
    save_wav(full, wav, 22050)
    data = full.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    assert sf.info(str(cut)).frames < len(wav)  # libsndfile alone would accept it
    with pytest.raises(AudioError, match=r"cut.wav.*truncated.*8000 bytes.*holds 3978"):
        load_wav(cut, 22050)
    # a trailing LIST chunk after the data, and a streamed header (data size 0xFFFFFFFF)
    extra = tmp_path / "extra.wav"
    extra.write_bytes(data + b"LIST\x04\x00\x00\x00abcd")
    assert load_wav(extra, 22050).shape == wav.shape
    pos = data.index(b"data")
    streamed = tmp_path / "streamed.wav"
    streamed.write_bytes(data[: pos + 4] + b"\xff\xff\xff\xff" + data[pos + 8 :])
    assert load_wav(streamed, 22050).shape == wav.shape
