"""Text-to-mel dataset over a dump dir: ``feats.scp`` (numeric arks) + ``token`` (+ ``utt2spk``).

A dump dir written by stages 1-2 holds::

    feats.scp        utt  ark:offset      float32 (T_mel, n_mels) matrices
    utt2num_frames   utt  T_mel           (optional; read from the arks when missing)
    token            utt  id1 id2 ...     token ids without blanks

Features are loaded lazily (one matrix per ``__getitem__``), so DataLoader workers
each read only what they serve.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from glowtts.data.kaldi import FeatsReader, read_fields
from glowtts.text.blanks import intersperse

logger = logging.getLogger(__name__)


def read_token_list(path: str | Path) -> list[str]:
    """Token list ``tokens.txt``: one token per line; the id is the line index."""
    with open(path, encoding="utf-8") as f:
        toks = [line.rstrip("\n") for line in f]
    while toks and toks[-1] == "":
        toks.pop()
    if not toks:
        raise ValueError(f"{path}: empty token list")
    return toks


def read_spk_list(path: str | Path) -> list[str]:
    """Speaker list: one speaker id per line; the index is the embedding id."""
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def make_spk_list(utt2spk: str | Path) -> list[str]:
    """Sorted unique speakers of a ``utt2spk`` file."""
    return sorted({v[0] for v in read_fields(utt2spk, n_fields=1).values()})


def find_utt2spk(
    data_dir: str | Path, explicit: str | Path | None = None, option: str = "--utt2spk"
) -> Path:
    """``explicit``, else ``<data_dir>/utt2spk``, else ``data/<set>/utt2spk`` beside ``dump/``.

    ``option``: the command-line option the error message tells the user to pass.
    """
    if explicit:
        return Path(explicit)
    data_dir = Path(data_dir)
    for cand in (data_dir / "utt2spk", data_dir.parent.parent / "data" / data_dir.name / "utt2spk"):
        if cand.is_file():
            return cand
    raise FileNotFoundError(
        f"multi-speaker model but no utt2spk for {data_dir} (looked in {data_dir}/utt2spk and "
        f"data/{data_dir.name}/utt2spk); pass {option}"
    )


class TTSDataset(Dataset):
    """``(tokens, feats[, spk])`` items of one dump dir.

    Args:
        dump_dir: dir with ``feats.scp``, ``token`` and optionally ``utt2num_frames``.
        n_vocab: size of the token list; ids outside ``[0, n_vocab)`` raise ``ValueError``.
        add_blank: intersperse blank id 0 around every token (``n`` -> ``2n + 1``).
        utt2spk: optional ``utt2spk`` file; with ``spk_list`` gives speaker ids.
        spk_list: speaker names, index = id. Required with ``utt2spk``.
        min_frames_per_token: drop utterances whose frame count (trimmed to a multiple
            of ``squeeze``) is below ``min_frames_per_token * T_text`` (MAS needs at
            least one frame per token).
        squeeze: the model's time squeeze factor (frames are trimmed to a multiple of it).
        allow_pipes, allow_pickle: read ``feats.scp`` entries that are commands and ark
            records that are pickles (refused by default: see
            :class:`~glowtts.data.kaldi.FeatsReader`). Only for files you trust.

    Items are dicts: ``utt_id`` str, ``tokens`` (T_text,) long, ``feats`` (T_mel, n_mels)
    float32, ``spk`` int or absent.
    """

    def __init__(
        self,
        dump_dir: str | Path,
        n_vocab: int,
        *,
        add_blank: bool = False,
        utt2spk: str | Path | None = None,
        spk_list: Sequence[str] | None = None,
        min_frames_per_token: int = 1,
        squeeze: int = 1,
        allow_pipes: bool = False,
        allow_pickle: bool = False,
    ) -> None:
        self.dump_dir = Path(dump_dir)
        self.add_blank = add_blank
        scp, tok = self._required_files()
        feats = FeatsReader(scp, allow_pipes=allow_pipes, allow_pickle=allow_pickle)
        tokens = read_fields(tok)
        self.spk2id: dict[str, int] | None = None
        utt2spk_map: dict[str, list[str]] = {}
        if utt2spk is not None:
            if spk_list is None:
                raise ValueError("TTSDataset: utt2spk given without a speaker list")
            self.spk2id = {s: i for i, s in enumerate(spk_list)}
            utt2spk_map = read_fields(utt2spk, n_fields=1)
        keys = self._common_keys(feats, tokens, utt2spk_map, utt2spk is not None)
        n_frames = self._frame_counts(feats, keys)

        self.utt_ids: list[str] = []
        self._tokens: list[np.ndarray] = []
        self._spk: list[int] = []
        self.feat_lengths: list[int] = []
        self.token_lengths: list[int] = []
        too_short: list[str] = []
        for k in sorted(keys):
            ids = self._token_ids(tok, k, tokens[k], n_vocab)
            usable = n_frames[k] // squeeze * squeeze
            if usable < min_frames_per_token * len(ids):
                too_short.append(f"{k} ({usable} frames < {min_frames_per_token} x {len(ids)})")
                continue
            if self.spk2id is not None:
                self._spk.append(self._speaker_id(utt2spk, k, utt2spk_map[k][0]))
            self.utt_ids.append(k)
            self._tokens.append(np.asarray(ids, dtype=np.int64))
            self.feat_lengths.append(n_frames[k])
            self.token_lengths.append(len(ids))
        if too_short:
            self._warn_too_short(too_short, min_frames_per_token, squeeze)
        if not self.utt_ids:
            raise ValueError(f"{self.dump_dir}: no usable utterances")
        self._feats = feats

    def _warn_too_short(self, drops: list[str], min_frames_per_token: int, squeeze: int) -> None:
        """Name every utterance dropped for having too few frames for its tokens, and why."""
        logger.warning(
            "%s: %d utterances have fewer frames than tokens and are dropped (limit: "
            "min_frames_per_token=%d x tokens, as the alignment needs >= 1 frame per token; "
            "frames are trimmed to a "
            "multiple of the model's squeeze model.n_sqz=%d; tokens are %s): %s. A transcript "
            "far longer than its audio is usually a wrong or joined transcript: fix it in "
            "the data dir's text and rerun stage 2",
            self.dump_dir,
            len(drops),
            min_frames_per_token,
            squeeze,
            "2n+1 with the blanks of text.add_blank" if self.add_blank else "the stage-2 ids",
            ", ".join(drops),
        )

    def _required_files(self) -> tuple[Path, Path]:
        """``feats.scp`` and ``token`` of the dump dir; a missing one names the stage to run."""
        scp, tok = self.dump_dir / "feats.scp", self.dump_dir / "token"
        for p in (scp, tok):
            if not p.is_file():
                raise FileNotFoundError(
                    f"{p} not found: run the feature (stage 1) and tokenisation (stage 2) "
                    "stages for this set first"
                )
        return scp, tok

    def _common_keys(
        self,
        feats: Mapping[str, object],
        tokens: dict[str, list[str]],
        utt2spk_map: dict[str, list[str]],
        with_spk: bool,
    ) -> set[str]:
        """Utterances with feats, tokens (and a speaker); the others are counted in a warning."""
        keys = set(feats) & set(tokens)
        if with_spk:
            keys &= set(utt2spk_map)
        everything = set(feats) | set(tokens) | set(utt2spk_map)
        if len(keys) < len(everything):
            lacking = {"feats.scp": set(feats), "token": set(tokens)}
            if with_spk:
                lacking["utt2spk"] = set(utt2spk_map)
            detail = "; ".join(
                f"not in {name}: {' '.join(sorted(everything - have))}"
                for name, have in lacking.items()
                if everything - have
            )
            logger.warning(
                "%s: %d of %d utterances are dropped (%s); stages 1-2 skip bad utterances "
                "with --skip_bad true (see the 'skipped' lists they write)",
                self.dump_dir,
                len(everything) - len(keys),
                len(everything),
                detail,
            )
        return keys

    def _frame_counts(self, feats: FeatsReader, keys: set[str]) -> dict[str, int]:
        """``T_mel`` per utterance from ``utt2num_frames``, or from the arks where it lacks them."""
        frames_file = self.dump_dir / "utt2num_frames"
        if frames_file.is_file():
            n_frames = {k: int(v[0]) for k, v in read_fields(frames_file, n_fields=1).items()}
            missing = keys - set(n_frames)
        else:
            n_frames, missing = {}, keys
        if missing:
            logger.warning(
                "%s: no utt2num_frames for %d utterances; reading their shapes from the arks",
                self.dump_dir,
                len(missing),
            )
            for k in missing:
                n_frames[k] = int(feats[k].shape[0])
        return n_frames

    def _token_ids(self, tok: Path, utt: str, fields: list[str], n_vocab: int) -> list[int]:
        """Checked token ids of ``utt`` (``(T_text,)``, blanks interspersed with ``add_blank``)."""
        try:
            ids = [int(x) for x in fields]
        except ValueError as e:
            raise ValueError(f"{tok}: utterance {utt}: non-integer token id ({e})") from None
        if not ids:
            raise ValueError(f"{tok}: utterance {utt} has no tokens (empty text?)")
        bad = [i for i in ids if i < 0 or i >= n_vocab]
        if bad:
            raise ValueError(
                f"{tok}: utterance {utt} has token id {bad[0]} outside the token list "
                f"(n_vocab={n_vocab}); was it tokenised with a different tokens.txt?"
            )
        return intersperse(ids, blank_id=0) if self.add_blank else ids

    def _speaker_id(self, utt2spk: str | Path | None, utt: str, spk: str) -> int:
        """The embedding id of ``utt``'s speaker ``spk``; one outside the list is an error."""
        assert self.spk2id is not None
        if spk not in self.spk2id:
            raise ValueError(
                f"{utt2spk}: speaker {spk!r} of {utt} is not in the speaker list "
                f"({len(self.spk2id)} speakers)"
            )
        return self.spk2id[spk]

    def __len__(self) -> int:
        return len(self.utt_ids)

    def _load(self, utt: str) -> np.ndarray:
        # FeatsReader opens the ark per call: safe in forked workers, no shared fds.
        return self._feats[utt]

    def __getitem__(self, i: int) -> dict:
        utt = self.utt_ids[i]
        feats = np.array(self._load(utt), dtype=np.float32)  # a writable copy
        if feats.ndim != 2:
            raise ValueError(f"{self.dump_dir}/feats.scp: {utt} is not a (T, n_mels) matrix")
        if not np.isfinite(feats).all():
            raise ValueError(
                f"{self.dump_dir}/feats.scp: {utt} has NaN or Inf features; re-extract it "
                "(stage 1) or remove it from the data dir (utils/fix_data_dir.sh)"
            )
        item = {
            "utt_id": utt,
            "tokens": torch.from_numpy(self._tokens[i]),
            "feats": torch.from_numpy(feats),
        }
        if self.spk2id is not None:
            item["spk"] = self._spk[i]
        return item
