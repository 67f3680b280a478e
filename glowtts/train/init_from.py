"""Fine-tuning: start a new experiment from the weights of a trained one (``--init_from``).

The weights load strictly: every parameter and buffer of the new model comes from the
source unless ``--init_exclude`` matches its name, or it grows:

- the token embedding, when the new token list is a superset of the source's (rows of
  the known tokens are copied, the new tokens keep their fresh initialisation);
- the speaker table, when speakers are added to a multi-speaker model.

Loaded ActNorm layers keep their ``initialized`` flag, so the data-dependent init of the
trainer only touches excluded (fresh) layers. The optimizer and the schedule start afresh
(``conf/tuning/finetune.yaml``). ``init.json`` in the new experiment dir records the
source checkpoint, its sha256 and what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

import torch

from glowtts.data.dataset import read_spk_list, read_token_list
from glowtts.train import checkpoint as ckpt

logger = logging.getLogger("glowtts.train")

TOKEN_EMBEDDING = "encoder.emb.weight"  # (n_vocab, hidden_channels)
SPEAKER_EMBEDDING = "emb_g.weight"  # (n_speakers, gin_channels)
INIT_FILE = "init.json"


def source_checkpoint(src: str | Path) -> tuple[Path, dict[str, Any]]:
    """The checkpoint of ``src``: a checkpoint file, or an experiment dir (its
    ``checkpoints/best.pth``, else its newest readable step checkpoint)."""
    src = Path(src)
    if src.is_file():
        try:
            return src, ckpt.load_checkpoint(src)
        except Exception as e:  # noqa: BLE001 - name the file whatever went wrong
            raise ValueError(f"--init_from {src}: not a readable checkpoint ({e})") from e
    ckpt_dir = src / "checkpoints"
    best = ckpt.load_best(ckpt_dir)
    if best is not None:
        return ckpt_dir / "best.pth", best
    found = ckpt.find_latest_valid(ckpt_dir)
    if found is None:
        raise ValueError(
            f"--init_from {src}: no readable checkpoint (looked for {ckpt_dir}/best.pth and "
            f"step_*.pth); give an experiment dir of a trained model or a .pth file"
        )
    return found


def _source_list(path: Path, name: str) -> list[str] | None:
    """``tokens.txt`` / ``spk_list.txt`` of the source experiment (beside ``checkpoints/``)."""
    for d in (path.parent.parent, path.parent):
        if (d / name).is_file():
            return read_spk_list(d / name) if name == "spk_list.txt" else read_token_list(d / name)
    return None


def _row_map(what: str, old: list[str], new: list[str], *, superset: bool) -> list[int | None]:
    """For each entry of ``new``, its row in ``old`` (None: new). ``superset``: every
    entry of ``old`` must be in ``new`` (else a ``ValueError`` naming the missing ones)."""
    index = {t: i for i, t in enumerate(old)}
    missing = [t for t in old if t not in set(new)]
    if superset and missing:
        raise ValueError(
            f"--init_from: the new {what} lacks {len(missing)} of the source's entries "
            f"{missing[:20]}: the model was trained with them. Use a {what} that "
            "contains every source entry (new ones may be added), or exclude the "
            f"embedding with --init_exclude"
        )
    return [index.get(t) for t in new]


def _grow(fresh: torch.Tensor, old: torch.Tensor, rows: list[int | None]) -> torch.Tensor:
    out = fresh.clone()
    for i, j in enumerate(rows):
        if j is not None:
            out[i] = old[j]
    return out


def _grown_tables(
    src_path: Path,
    src_state: dict,
    fresh: dict,
    tokens: list[str],
    speakers: list[str] | None,
    excluded: list[str],
) -> tuple[dict[str, torch.Tensor], dict[str, list[str]]]:
    """The token / speaker tables mapped by name from the source onto the new lists
    (not the excluded ones: they stay fresh, whatever the lists)."""
    out, added = {}, {}
    if TOKEN_EMBEDDING not in excluded:
        _grow_tokens(src_path, src_state, fresh, tokens, out, added)
    if SPEAKER_EMBEDDING in excluded:
        return out, added
    if SPEAKER_EMBEDDING in fresh and SPEAKER_EMBEDDING in src_state["model"]:
        old_spk = _source_list(src_path, "spk_list.txt") or []
        new_spk = list(speakers or [])
        rows = _row_map("speaker list", old_spk, new_spk, superset=False)
        rows += [None] * (fresh[SPEAKER_EMBEDDING].shape[0] - len(rows))  # unused rows
        added["speakers"] = [s for s, r in zip(new_spk, rows) if r is None]
        out[SPEAKER_EMBEDDING] = _grow(
            fresh[SPEAKER_EMBEDDING], src_state["model"][SPEAKER_EMBEDDING], rows
        )
    return out, added


def _grow_tokens(
    src_path: Path, src_state: dict, fresh: dict, tokens: list[str], out: dict, added: dict
) -> None:
    old_tokens = _source_list(src_path, "tokens.txt")
    n_old = src_state["model"][TOKEN_EMBEDDING].shape[0]
    if old_tokens is None or len(old_tokens) != n_old:
        if n_old != len(tokens):
            raise ValueError(
                f"--init_from {src_path}: no tokens.txt of {n_old} tokens beside the "
                f"checkpoint to compare with the new {len(tokens)} tokens"
            )
        logger.warning("--init_from: no source tokens.txt; assuming the same token list")
        old_tokens = tokens
    rows = _row_map("token list", old_tokens, tokens, superset=True)
    added["tokens"] = [t for t, r in zip(tokens, rows) if r is None]
    out[TOKEN_EMBEDDING] = _grow(fresh[TOKEN_EMBEDDING], src_state["model"][TOKEN_EMBEDDING], rows)


def merged_state(
    model: torch.nn.Module,
    src_path: Path,
    src_state: dict,
    tokens: list[str],
    speakers: list[str] | None,
    exclude: str | None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict to load into ``model`` and a record of what was kept fresh/grown."""
    fresh = model.state_dict()
    source = src_state["model"]
    pattern = re.compile(exclude) if exclude else None
    excluded = sorted(k for k in fresh if pattern is not None and pattern.search(k))
    grown, added = _grown_tables(src_path, src_state, fresh, tokens, speakers, excluded)
    state, problems = {}, []
    for k, v in fresh.items():
        if k in excluded:
            state[k] = v
        elif k in grown:
            state[k] = grown[k]
        elif k not in source:
            problems.append(f"{k} missing from the source")
        elif source[k].shape != v.shape:
            problems.append(f"{k}: {tuple(source[k].shape)} in the source, {tuple(v.shape)} here")
        else:
            state[k] = source[k]
    unused = [k for k in source if k not in fresh and not (pattern and pattern.search(k))]
    problems += [f"{k} not in the new model" for k in unused]
    if problems:
        raise ValueError(
            f"--init_from {src_path}: the new model does not match the source "
            f"({'; '.join(problems[:12])}{' ...' if len(problems) > 12 else ''}). Use the "
            "source's model section, or --init_exclude REGEX for the parts meant to change"
        )
    return state, {"excluded": excluded, **added}


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks (also glowtts-import-official's)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def init_from(
    model: torch.nn.Module,
    src: str | Path,
    *,
    tokens: list[str],
    speakers: list[str] | None,
    exclude: str | None = None,
) -> dict[str, Any]:
    """Load the weights of ``src`` into ``model`` (see the module docstring); returns
    the record :func:`write_init_record` writes."""
    path, state = source_checkpoint(src)
    merged, changes = merged_state(model, path, state, tokens, speakers, exclude)
    model.load_state_dict(merged, strict=True)
    logger.info(
        "fine-tuning from %s (step %d); %d tensors kept fresh by --init_exclude %r",
        path,
        int(state["step"]),
        len(changes["excluded"]),
        exclude,
    )
    for what in ("tokens", "speakers"):
        if changes.get(what):
            logger.info("--init_from: new %s (fresh rows): %s", what, " ".join(changes[what]))
    return {
        "init_from": str(src),
        "checkpoint": str(path.resolve()),
        "sha256": sha256_of(path),
        "step": int(state["step"]),
        "exclude": exclude,
        **changes,
    }


def write_init_record(exp_dir: Path, record: dict[str, Any]) -> None:
    """``exp_dir/init.json``: where this experiment started from."""
    exp_dir.mkdir(parents=True, exist_ok=True)
    (exp_dir / INIT_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
