"""Collate a list of dataset items into a padded batch."""

from __future__ import annotations

import torch


def _round_up(n: int, m: int) -> int:
    return -(-n // m) * m


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
    tl = torch.tensor([len(it["tokens"]) for it in items], dtype=torch.long)
    fl = torch.tensor([it["feats"].shape[0] for it in items], dtype=torch.long)
    n_mels = items[0]["feats"].shape[1]
    tokens = torch.zeros(b, _round_up(int(tl.max()), pad_multiple_tokens), dtype=torch.long)
    feats = torch.zeros(
        b, _round_up(int(fl.max()), pad_multiple_frames), n_mels, dtype=torch.float32
    )
    for i, it in enumerate(items):
        if it["feats"].shape[1] != n_mels:
            raise ValueError(
                f"collate_tts: {it['utt_id']} has {it['feats'].shape[1]} mel bands, "
                f"{items[0]['utt_id']} has {n_mels}"
            )
        tokens[i, : tl[i]] = it["tokens"]
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
