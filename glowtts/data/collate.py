"""Collate a list of dataset items into a padded batch; pad token id sequences."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


def pad_tokens(
    seqs: Sequence[Sequence[int] | torch.Tensor], pad_multiple: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Batch integer sequences (token ids, or frames per token) with 0 padding.

    Returns ``tokens`` ``(B, T_text)`` long, where ``T_text`` is the longest length rounded
    up to ``pad_multiple``, and ``lengths`` ``(B,)`` long.
    """
    if not seqs:
        raise ValueError("pad_tokens: empty batch")
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    tokens = torch.zeros(len(seqs), _round_up(int(lengths.max()), pad_multiple), dtype=torch.long)
    for i, s in enumerate(seqs):
        tokens[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return tokens, lengths


def collate_tts(
    items: list[dict], pad_multiple_tokens: int = 1, pad_multiple_frames: int = 1
) -> dict:
    """Pad a list of :class:`~glowtts.data.dataset.TTSDataset` items.

    The token and frame axes are padded to the batch maximum rounded up to
    ``pad_multiple_tokens`` / ``pad_multiple_frames`` (1: no rounding), which bounds
    the number of distinct batch shapes for compiled or graphed training.

    Returns a dict:
        ``utt_ids`` list[str]; ``tokens`` (B, T_text) long, 0-padded; ``token_lengths`` (B,)
        long; ``feats`` (B, T_mel, n_mels) float32, 0-padded; ``feat_lengths`` (B,) long;
        ``spk`` (B,) long or ``None``.
    """
    if not items:
        raise ValueError("collate_tts: empty batch")
    b = len(items)
    tokens, tl = pad_tokens([it["tokens"] for it in items], pad_multiple_tokens)
    fl = torch.tensor([it["feats"].shape[0] for it in items], dtype=torch.long)
    n_mels = items[0]["feats"].shape[1]
    feats = torch.zeros(
        b, _round_up(int(fl.max()), pad_multiple_frames), n_mels, dtype=torch.float32
    )
    for i, it in enumerate(items):
        if it["feats"].shape[1] != n_mels:
            raise ValueError(
                f"collate_tts: {it['utt_id']} has {it['feats'].shape[1]} mel bands, "
                f"{items[0]['utt_id']} has {n_mels}"
            )
        feats[i, : fl[i]] = it["feats"]
    spk = None
    if "spk" in items[0]:
        spk = torch.tensor([it["spk"] for it in items], dtype=torch.long)
    return {
        "utt_ids": [it["utt_id"] for it in items],
        "tokens": tokens,
        "token_lengths": tl,
        "feats": feats,
        "feat_lengths": fl,
        "spk": spk,
    }
