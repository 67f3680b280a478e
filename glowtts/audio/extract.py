"""Feature extraction over a wav.scp into Kaldi ark/scp, and global statistics over feats.scp.

Outputs are written under temporary names and renamed only when the whole job succeeds, so a
failure never leaves a truncated ark or an scp pointing into one, and never destroys the outputs
of an earlier successful run.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import kaldiio
import numpy as np
from tqdm import tqdm

from glowtts.audio.features import MelConfig, logmel
from glowtts.audio.io import AudioError, load_wav
from glowtts.audio.stats import RunningStats, save_stats
from glowtts.data.kaldi import DataDirError, FeatsReader, TableNotFoundError, read_table

__all__ = ["ExtractResult", "FeatureError", "extract_feats", "compute_stats", "iter_wavs"]

log = logging.getLogger(__name__)


class FeatureError(RuntimeError):
    """A bad utterance in a feature-extraction job; the message names the utterance and file."""


@dataclass
class ExtractResult:
    n_done: int = 0
    n_frames: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (utt, reason)


def _read_table(path: str | Path) -> list[tuple[str, str]]:
    """``key value`` lines in file order (value = rest of line), rejecting repeated keys."""
    try:
        table = read_table(path, hint="; run utils/fix_data_dir.sh on the data dir")
    except TableNotFoundError:
        raise  # an OSError, as before
    except DataDirError as e:
        raise FeatureError(str(e)) from None
    return list(table.items())


def _strip_rspecifier(path: str) -> str:
    # Accept Kaldi-style "scp:path" for convenience; options such as "scp,s,cs:" too.
    if ":" in path and path.split(":", 1)[0].replace(",", "").isalpha():
        head, rest = path.split(":", 1)
        if "scp" in head.split(","):
            return rest
    return path


def iter_wavs(
    wav_scp: str | Path, fs: int, segments: str | Path | None = None
) -> Iterator[tuple[str, str, np.ndarray | AudioError]]:
    """Yield ``(utt, source, wav_or_error)`` for each utterance.

    ``source`` is the wav.scp entry (plus the time range with segments). Per-utterance audio
    problems are yielded as :class:`AudioError` values instead of raised, so the caller
    decides whether to stop or skip.
    """
    table = _read_table(_strip_rspecifier(str(wav_scp)))
    if segments is None:
        for utt, spec in table:
            try:
                yield utt, spec, load_wav(spec, fs)
            except AudioError as e:
                yield utt, spec, e
        return
    recos = dict(table)
    cache: tuple[str, np.ndarray | AudioError] | None = None
    for utt, value in _read_table(segments):
        f = value.split()
        if len(f) != 3:
            raise FeatureError(f"{segments}: '{utt}': expected 'utt reco start end'")
        reco, start, end = f[0], float(f[1]), float(f[2])
        if reco not in recos:
            yield utt, reco, AudioError(f"recording '{reco}' is not in {wav_scp}")
            continue
        spec = recos[reco]
        if cache is None or cache[0] != reco:
            try:
                cache = (reco, load_wav(spec, fs))
            except AudioError as e:
                cache = (reco, e)
        audio = cache[1]
        src = f"{spec} [{start}:{end}]"
        if isinstance(audio, AudioError):
            yield utt, src, audio
            continue
        b = int(round(start * fs))
        e_ = len(audio) if end < 0 else int(round(end * fs))
        if not 0 <= b < e_ <= len(audio) + int(0.01 * fs):
            yield (
                utt,
                src,
                AudioError(
                    f"segment {start}-{end} s lies outside recording '{reco}' "
                    f"({len(audio) / fs:.2f} s, {spec})"
                ),
            )
            continue
        yield utt, src, audio[b:e_]


def _replace_all(pairs: Sequence[tuple[Path, Path]]) -> None:
    for tmp, final in pairs:
        os.replace(tmp, final)


def extract_feats(
    wav_scp: str | Path,
    conf: MelConfig,
    out_ark: str | Path,
    out_scp: str | Path,
    out_utt2num_frames: str | Path,
    *,
    segments: str | Path | None = None,
    skip_bad: bool = False,
    skipped_list: str | Path | None = None,
    progress: bool = True,
) -> ExtractResult:
    """Log-mel features of every utterance in ``wav_scp``.

    Writes ``out_ark`` (float32 ``(T, n_mels)`` matrices), ``out_scp`` (``utt ark:offset``, the
    ark path exactly as given) and ``out_utt2num_frames`` (``utt T``), in the order of the input.
    With ``skip_bad``, bad utterances (missing / corrupt / empty / multi-channel / too short /
    wrong sample rate) are logged and listed in ``skipped_list`` (``utt reason`` lines);
    without it the first one raises :class:`FeatureError` and nothing is written.
    """
    out_ark, out_scp, out_n = Path(out_ark), Path(out_scp), Path(out_utt2num_frames)
    finals = [out_ark, out_scp, out_n]
    if skipped_list is not None:
        finals.append(Path(skipped_list))
    for p in finals:
        p.parent.mkdir(parents=True, exist_ok=True)
    tmps = [p.with_name(p.name + f".tmp{os.getpid()}") for p in finals]
    res = ExtractResult()
    ark_name = str(out_ark)
    try:
        with (
            open(tmps[0], "wb") as fa,
            open(tmps[1], "w", encoding="utf-8") as fs_,
            open(tmps[2], "w", encoding="utf-8") as fn,
        ):
            it = iter_wavs(wav_scp, conf.fs, segments)
            bar = tqdm(
                it,
                desc=f"extract {Path(str(wav_scp)).name}",
                unit="utt",
                disable=not progress,
                mininterval=1.0 if sys.stderr.isatty() else 30.0,
            )
            for utt, src, wav in bar:
                if not isinstance(wav, AudioError):
                    try:
                        feats = logmel(wav, conf)
                    except ValueError as e:
                        wav = AudioError(f"{src}: {e}")
                    else:
                        if not np.all(np.isfinite(feats)):
                            wav = AudioError(f"{src}: features contain NaN or Inf")
                if isinstance(wav, AudioError):
                    msg = f"utterance '{utt}' ({src}): {wav}"
                    if not skip_bad:
                        raise FeatureError(
                            msg + "; fix or drop it (utils/fix_data_dir.sh after removing it "
                            "from wav.scp), or pass --skip_bad to skip bad utterances"
                        )
                    log.warning("skipping %s", msg)
                    res.skipped.append((utt, str(wav).replace("\n", " ")))
                    continue
                pos = fa.tell()
                kaldiio.save_ark(fa, {utt: feats})
                # The scp offset points just past "utt ", at the binary marker.
                fs_.write(f"{utt} {ark_name}:{pos + len(utt.encode('utf-8')) + 1}\n")
                fn.write(f"{utt} {feats.shape[0]}\n")
                res.n_done += 1
                res.n_frames += feats.shape[0]
        if skipped_list is not None:
            with open(tmps[3], "w", encoding="utf-8") as fk:
                for utt, reason in res.skipped:
                    fk.write(f"{utt} {reason}\n")
        _replace_all(list(zip(tmps, finals)))
    finally:
        for t in tmps:
            if t.exists():
                t.unlink()
    return res


def compute_stats(
    feats_scps: Sequence[str | Path],
    out: str | Path,
    progress: bool = True,
    *,
    allow_pipes: bool = False,
    allow_pickle: bool = False,
) -> RunningStats:
    """Mean and standard deviation per dimension over all frames of the scps.

    Writes ``out`` (``stats.npy``, float64 ``(2, D)`` = ``[mean; std]``) and ``stats.json``
    with the counts beside it. Only numeric ark records are read: pipe entries and pickled
    records are refused unless ``allow_pipes`` / ``allow_pickle`` (see
    :class:`~glowtts.data.kaldi.FeatsReader`).
    """
    stats = RunningStats()
    for scp in feats_scps:
        scp = _strip_rspecifier(str(scp))
        if not Path(scp).is_file():
            raise FileNotFoundError(f"features scp '{scp}' does not exist; run stage 1 first")
        for utt, mat in tqdm(
            FeatsReader(scp, allow_pipes=allow_pipes, allow_pickle=allow_pickle).iter_items(),
            desc=f"stats {Path(scp).name}",
            unit="utt",
            disable=not progress,
            mininterval=1.0 if sys.stderr.isatty() else 30.0,
        ):
            mat = np.asarray(mat)
            if mat.ndim != 2:
                raise ValueError(f"{scp}: '{utt}' is not a matrix (shape {mat.shape})")
            if not np.all(np.isfinite(mat)):
                raise ValueError(f"{scp}: '{utt}' contains NaN or Inf")
            stats.update(mat)
    if stats.n_frames == 0:
        raise ValueError(f"no frames found in {', '.join(map(str, feats_scps))}")
    save_stats(out, stats)
    return stats
