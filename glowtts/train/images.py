"""Training images: TensorBoard scalars and mel/alignment images, and the PNGs written
when training ends (``images/loss_curves.png``, ``images/dev_<utt>_stepXXXXXXXX.png``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from glowtts.train.logs import read_loss_log
from glowtts.train.plots import plot_loss_curves, plot_mel_alignment

logger = logging.getLogger("glowtts.train")


class TensorBoard:
    """A ``SummaryWriter`` when tensorboard is installed; see :meth:`open`."""

    def __init__(self, writer) -> None:
        self.writer = writer

    @classmethod
    def open(cls, log_dir: Path, purge_step: int) -> TensorBoard | None:
        """None (with an info line) when tensorboard is not installed."""
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            logger.info(
                "tensorboard is not installed (pip install tensorboard): no TensorBoard "
                "events; losses are in loss.jsonl and images/"
            )
            return None
        return cls(SummaryWriter(str(log_dir), purge_step=purge_step))

    def scalars(self, prefix: str, rec: dict, keys: tuple[str, ...], step: int) -> None:
        for k in keys:
            self.writer.add_scalar(f"{prefix}/{k}", rec[k], step)

    def alignment_and_mel(self, path: torch.Tensor, batch: dict, step: int) -> None:
        """The first utterance's alignment ``path`` (B, T_text, T_mel) and target mel."""
        tl, fl = int(batch["token_lengths"][0]), int(batch["feat_lengths"][0])
        path = path[0, :tl, :fl].float().cpu()
        mel = batch["feats"][0, :fl].T.float()
        mel = (mel - mel.min()) / (mel.max() - mel.min() + 1e-8)
        self.writer.add_image("train/alignment", path.flip(0), step, dataformats="HW")
        self.writer.add_image("train/mel", mel.flip(0), step, dataformats="HW")

    def close(self) -> None:
        self.writer.close()


DevSample = tuple[dict, np.ndarray, "np.ndarray | None"]


def write_final_images(
    img_dir: Path, loss_log: Path, step: int, dev_sample: Callable[[], DevSample] | None
) -> None:
    """Loss curves, and (``dev_sample`` given) the first dev utterance's target mel,
    alignment and synthesised mel. ``dev_sample()`` -> ``(item, path (T_text, T), gen_mel
    (T_gen, n_mels) or None)``. A failure is only a warning: plots must never lose a
    finished training."""
    img_dir.mkdir(parents=True, exist_ok=True)
    try:
        plot_loss_curves(read_loss_log(loss_log), img_dir / "loss_curves.png")
    except Exception as e:  # noqa: BLE001
        logger.warning("could not plot loss curves: %s", e)
    if dev_sample is None:
        return
    try:
        item, path, gen = dev_sample()
        plot_mel_alignment(
            item["feats"][: path.shape[1]].numpy(),
            path,
            img_dir / f"dev_{item['utt_id']}_step{step:08d}.png",
            gen_mel=gen,
            title=item["utt_id"],
        )
    except Exception as e:  # noqa: BLE001
        logger.warning("could not plot the dev sample: %s", e)
