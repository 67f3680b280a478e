"""PNG figures of training: loss curves, mel spectrograms, alignments (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from glowtts.train.logs import read_loss_log  # noqa: F401 - its old home, still imported


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss_curves(records: list[dict], out_png: str | Path) -> None:
    """Train (per step) and dev (per evaluation) losses: total, MLE, duration."""
    plt = _plt()
    keys = ("loss", "mle_loss", "dur_loss")
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, k in zip(axes, keys):
        for split, style in (("train", "-"), ("dev", "o-")):
            rs = [r for r in records if r.get("split") == split and k in r]
            if rs:
                ax.plot([r["step"] for r in rs], [r[k] for r in rs], style, label=split, ms=3)
        ax.set_title(k)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def plot_mel_alignment(
    mel: np.ndarray,
    path: np.ndarray,
    out_png: str | Path,
    gen_mel: np.ndarray | None = None,
    title: str = "",
) -> None:
    """Ground-truth mel ``(T_mel, n_mels)``, MAS alignment ``(T_text, T_mel)``, optional
    synthesised mel ``(T_gen, n_mels)``."""
    plt = _plt()
    n = 3 if gen_mel is not None else 2
    fig, axes = plt.subplots(n, 1, figsize=(10, 3 * n))
    axes[0].imshow(mel.T, aspect="auto", origin="lower", interpolation="none")
    axes[0].set_title(f"{title} mel (target)")
    axes[1].imshow(path, aspect="auto", origin="lower", interpolation="none")
    axes[1].set_title("MAS alignment (token x frame)")
    if gen_mel is not None:
        axes[2].imshow(gen_mel.T, aspect="auto", origin="lower", interpolation="none")
        axes[2].set_title("synthesised mel (predicted durations)")
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
    plt.close(fig)
