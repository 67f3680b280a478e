"""Kaldi data directories: read/write scp-like files, validate, fix, subset, copy, split.

A data dir holds text files with one ``<key> <value>`` line each, sorted by key in C (byte)
order:

- ``wav.scp``: ``utt path`` or ``utt cmd |`` (``reco ...`` when ``segments`` exists)
- ``text``: ``utt transcript``
- ``utt2spk``: ``utt spk``; ``spk2utt``: ``spk utt1 utt2 ...``
- optional ``segments`` (``utt reco start end``), ``feats.scp``, ``utt2num_frames``, ``utt2dur``

Command line (what ``utils/*.sh`` call)::

    python -m glowtts.data.datadir validate [--no-text] [--no-wav] DIR
    python -m glowtts.data.datadir fix DIR
    python -m glowtts.data.datadir subset (--first N | --last N | --num N | --utt-list F) SRC DST
    python -m glowtts.data.datadir copy [--utt-prefix P] [--utt-suffix S] [--spk-prefix P]
                                        [--spk-suffix S] SRC DST
    python -m glowtts.data.datadir split-scp IN OUT_1 ... OUT_N
    python -m glowtts.data.datadir utt2spk-to-spk2utt [UTT2SPK] > spk2utt
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from glowtts.data.kaldi import (
    DataDirError,
    Line,
    atomic_write_text,
    c_sorted,
    format_table,
    read_lines,
    read_table,
    utt2spk_to_spk2utt,
    write_table,
)
from glowtts.utils import pick

__all__ = [
    "DataDirError",
    "read_scp",
    "read_scp_lines",
    "write_scp",
    "utt2spk_to_spk2utt",
    "validate_data_dir",
    "fix_data_dir",
    "subset_data_dir",
    "copy_data_dir",
    "write_data_dirs",
    "split_scp",
    "main",
]

log = logging.getLogger(__name__)

# Files keyed by utterance id that travel with a data dir when present (wav.scp is handled
# apart: it is keyed by recording id when segments exist).
UTT_FILES = ("text", "utt2spk", "segments", "feats.scp", "utt2num_frames", "utt2dur", "durations")
SPK_FILES = ("spk2gender",)


# The old names of the Kaldi table helpers, kept for callers of this module.
read_scp = read_table
write_scp = write_table


def read_scp_lines(path: str | Path) -> list[Line]:
    """All non-blank lines of an scp-like file as ``(line_number, key, value)``, in file order."""
    return list(read_lines(path))


def _spk2utt_table(utt2spk: Mapping[str, str]) -> dict[str, str]:
    """The content of ``spk2utt`` for ``utt2spk``: speaker -> space-joined utterances."""
    return {spk: " ".join(utts) for spk, utts in utt2spk_to_spk2utt(utt2spk).items()}


def _fix_hint(d: Path) -> str:
    return f"run utils/fix_data_dir.sh {d}"


def _check_file(path: Path, problems: list[str], hint: str, need_value: bool = True) -> dict:
    """Duplicate / order / empty-value checks of one file; returns key -> value."""
    d: dict[str, str] = {}
    seen: dict[str, int] = {}
    prev = None
    unsorted_reported = False
    for lineno, key, value in read_scp_lines(path):
        if key in seen:
            problems.append(
                f"{path}: line {lineno}: duplicate key '{key}' (first on line {seen[key]}); {hint}"
            )
            continue
        if need_value and not value:
            problems.append(f"{path}: line {lineno}: '{key}' has an empty value; {hint}")
        if prev is not None and not unsorted_reported and key.encode() < prev.encode():
            problems.append(
                f"{path}: line {lineno}: not sorted ('{key}' after '{prev}'); "
                f"sort it with LC_ALL=C sort, or {hint}"
            )
            unsorted_reported = True
        seen[key] = lineno
        d[key] = value
        prev = key
    return d


def _compare_sets(name_a: str, a: Iterable[str], name_b: Path, b: Iterable[str]) -> str | None:
    sa, sb = set(a), set(b)
    if sa == sb:
        return None
    only_a = c_sorted(sa - sb)
    only_b = c_sorted(sb - sa)
    msg = f"{name_b} and {name_a} have different utterances:"
    if only_a:
        msg += f" {len(only_a)} only in {name_a} (e.g. '{only_a[0]}')"
    if only_b:
        msg += f" {len(only_b)} only in {name_b} (e.g. '{only_b[0]}')"
    return msg


def validate_data_dir(
    data_dir: str | Path, *, no_text: bool = False, no_wav: bool = False
) -> list[str]:
    """Check a data dir; returns the list of utterance ids (sorted) when it is valid.

    Raises:
        DataDirError: listing every problem found, each naming the file (and line) and the fix.
    """
    d = Path(data_dir)
    if not d.is_dir():
        raise DataDirError(f"data dir '{d}' does not exist")
    hint = _fix_hint(d)
    problems: list[str] = []
    required = ["utt2spk", "spk2utt"]
    if not no_wav:
        required.insert(0, "wav.scp")
    if not no_text:
        required.append("text")
    missing = [n for n in required if not (d / n).is_file()]
    if missing:
        extra = (
            f" (make spk2utt with utils/utt2spk_to_spk2utt.sh {d}/utt2spk > {d}/spk2utt, or {hint})"
            if missing == ["spk2utt"]
            else ""
        )
        raise DataDirError(f"{d}: missing required file(s): {', '.join(missing)}{extra}")

    utt2spk = _check_file(d / "utt2spk", problems, hint)
    utts = list(utt2spk)
    spk2utt_file = _check_file(d / "spk2utt", problems, hint)
    if spk2utt_file != _spk2utt_table(utt2spk):
        problems.append(
            f"{d}/spk2utt does not match {d}/utt2spk; regenerate it with "
            f"utils/utt2spk_to_spk2utt.sh {d}/utt2spk > {d}/spk2utt"
        )
    if not no_text:
        text = _check_file(d / "text", problems, hint, need_value=False)
        for lineno, key, value in read_scp_lines(d / "text"):
            if not value.strip():
                problems.append(f"{d}/text: line {lineno}: '{key}' has empty text; {hint}")
        msg = _compare_sets("utt2spk", utts, d / "text", text)
        if msg:
            problems.append(f"{msg}; {hint}")
    has_segments = (d / "segments").is_file()
    if not no_wav:
        wav = _check_file(d / "wav.scp", problems, hint)
        if has_segments:
            segs = _check_file(d / "segments", problems, hint)
            msg = _compare_sets("utt2spk", utts, d / "segments", segs)
            if msg:
                problems.append(f"{msg}; {hint}")
            for utt, v in segs.items():
                f = v.split()
                if len(f) != 3:
                    problems.append(
                        f"{d}/segments: '{utt}': expected 'utt reco start end', got '{utt} {v}'"
                    )
                    continue
                if f[0] not in wav:
                    problems.append(
                        f"{d}/segments: '{utt}' refers to recording '{f[0]}' absent from "
                        f"{d}/wav.scp; {hint}"
                    )
        else:
            msg = _compare_sets("utt2spk", utts, d / "wav.scp", wav)
            if msg:
                problems.append(f"{msg}; {hint}")
    for name in ("feats.scp", "utt2num_frames", "utt2dur"):
        if (d / name).is_file():
            other = _check_file(d / name, problems, hint)
            msg = _compare_sets("utt2spk", utts, d / name, other)
            if msg:
                problems.append(f"{msg}; {hint}")
    if not utts and not problems:
        problems.append(f"{d}/utt2spk is empty: the data dir has no utterances")
    if problems:
        raise DataDirError(f"invalid data dir {d}:\n  " + "\n  ".join(problems))
    return c_sorted(utts)


def _write_filtered(
    d: Path, name: str, data: Mapping[str, str], keep: set[str], removed: list[str]
) -> None:
    removed.extend(f"{k} {v}" for k, v in data.items() if k not in keep)
    write_table(d / name, {k: v for k, v in data.items() if k in keep})


def next_backup_dir(data_dir: str | Path) -> Path:
    """Where the next :func:`fix_data_dir` of ``data_dir`` puts its backups.

    ``<dir>/.backup`` when it is absent or empty (the first run), else the first absent or
    empty ``<dir>/.backup.N`` (N = 1, 2, ...): existing backups are never overwritten, so
    ``.backup/`` always holds the data dir as it was before the first fix.
    """
    d = Path(data_dir)
    cand, n = d / ".backup", 0
    while cand.exists() and (not cand.is_dir() or any(cand.iterdir())):
        n += 1
        cand = d / f".backup.{n}"
    return cand


def fix_data_dir(data_dir: str | Path) -> tuple[int, int]:
    """Make a data dir valid: keep the utterances present in every file, drop repeated keys,
    empty values and empty text, sort every file, regenerate ``spk2utt``.

    The original files are copied to ``<backup>/<file>`` and the dropped lines written to
    ``<backup>/<file>.removed``, where ``<backup>`` is :func:`next_backup_dir`: ``.backup/``
    on the first run, then ``.backup.1/``, ``.backup.2/``... so a later run never overwrites
    the originals of an earlier one.

    Returns:
        ``(kept, before)``: utterances kept, and utterances in ``utt2spk`` before.
    """
    d = Path(data_dir)
    if not (d / "utt2spk").is_file():
        raise DataDirError(
            f"{d}/utt2spk does not exist; create it (one speaker per utterance: "
            f"awk '{{print $1, $1}}' {d}/wav.scp > {d}/utt2spk) and rerun"
        )
    backup = next_backup_dir(d)
    backup.mkdir(exist_ok=True)
    names = [n for n in ("wav.scp", *UTT_FILES, *SPK_FILES, "spk2utt") if (d / n).is_file()]
    for n in names:
        shutil.copy2(d / n, backup / n)
    removed: dict[str, list[str]] = {n: [] for n in names}
    data = {}
    for n in names:
        if n == "spk2utt":
            continue
        data[n] = read_table(d / n, tolerant=True, dropped=removed[n])
    before = len(data["utt2spk"])
    utt_files = [n for n in UTT_FILES if n in data]
    keep = set(data["utt2spk"])
    for n in utt_files:
        keep &= set(data[n])
    has_segments = "segments" in data
    if "wav.scp" in data:
        if has_segments:
            keep = {u for u in keep if data["segments"][u].split()[0] in data["wav.scp"]}
        else:
            keep &= set(data["wav.scp"])
    for n in utt_files:
        _write_filtered(d, n, data[n], keep, removed[n])
    if "wav.scp" in data:
        if has_segments:
            recos = {data["segments"][u].split()[0] for u in keep}
            _write_filtered(d, "wav.scp", data["wav.scp"], recos, removed["wav.scp"])
        else:
            _write_filtered(d, "wav.scp", data["wav.scp"], keep, removed["wav.scp"])
    utt2spk = {u: data["utt2spk"][u] for u in keep}
    spks = set(utt2spk.values())
    for n in SPK_FILES:
        if n in data:
            _write_filtered(d, n, data[n], spks, removed[n])
    write_table(d / "spk2utt", _spk2utt_table(utt2spk))
    for n, lines in removed.items():
        if lines:
            (backup / f"{n}.removed").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(keep), before


def _copy_filtered(src: Path, dst: Path, utts: Sequence[str]) -> None:
    keep = set(utts)
    dst.mkdir(parents=True, exist_ok=True)
    utt2spk = {u: s for u, s in read_table(src / "utt2spk").items() if u in keep}
    for n in UTT_FILES:
        if (src / n).is_file():
            data = read_table(src / n, allow_empty_value=(n == "text"))
            write_table(dst / n, {k: v for k, v in data.items() if k in keep})
    if (src / "wav.scp").is_file():
        wav = read_table(src / "wav.scp")
        if (src / "segments").is_file():
            segs = read_table(src / "segments")
            recos = {segs[u].split()[0] for u in keep if u in segs}
            write_table(dst / "wav.scp", {k: v for k, v in wav.items() if k in recos})
        else:
            write_table(dst / "wav.scp", {k: v for k, v in wav.items() if k in keep})
    spks = set(utt2spk.values())
    for n in SPK_FILES:
        if (src / n).is_file():
            write_table(dst / n, {k: v for k, v in read_table(src / n).items() if k in spks})
    write_table(dst / "spk2utt", _spk2utt_table(utt2spk))


def subset_data_dir(
    src: str | Path,
    dst: str | Path,
    *,
    first: int | None = None,
    last: int | None = None,
    num: int | None = None,
    utt_list: str | Path | None = None,
) -> list[str]:
    """Copy a subset of ``src`` to ``dst``: the first / last N utterances, N evenly spaced
    ones (``num``), or those listed (first column) in ``utt_list``. Returns the kept ids."""
    src, dst = Path(src), Path(dst)
    chosen = [x for x in (first, last, num, utt_list) if x is not None]
    if len(chosen) != 1:
        raise ValueError("give exactly one of --first N, --last N, --num N, --utt-list FILE")
    if src.resolve() == dst.resolve():
        raise ValueError(f"source and destination are the same dir '{src}'")
    utts = c_sorted(read_table(src / "utt2spk"))
    if utt_list is not None:
        wanted = [k for _, k, _ in read_scp_lines(utt_list)]
        present = set(utts)
        missing = [u for u in wanted if u not in present]
        if missing:
            log.warning(
                "%d utterance(s) of %s are not in %s (e.g. '%s'); skipping them",
                len(missing),
                utt_list,
                src,
                missing[0],
            )
        wset = set(wanted)
        sel = [u for u in utts if u in wset]
    else:
        n = int(next(x for x in (first, last, num) if x is not None))
        if n < 0:
            raise ValueError(f"N must be >= 0, got {n}")
        if n > len(utts):
            log.warning("%s has only %d utterances (asked for %d); taking all", src, len(utts), n)
            n = len(utts)
        if first is not None:
            sel = utts[:n]
        elif last is not None:
            sel = utts[len(utts) - n :]
        else:
            # Evenly spaced, deterministic: utterance floor((i + 0.5) * len / n) for i < n.
            sel = [utts[int((i + 0.5) * len(utts) / n)] for i in range(n)]
    _copy_filtered(src, dst, sel)
    return sel


def copy_data_dir(
    src: str | Path,
    dst: str | Path,
    *,
    utt_prefix: str = "",
    utt_suffix: str = "",
    spk_prefix: str = "",
    spk_suffix: str = "",
) -> None:
    """Copy a data dir, optionally renaming utterance and speaker ids (Kaldi's
    copy_data_dir.sh options). Recording ids in ``wav.scp`` change only without ``segments``."""
    src, dst = Path(src), Path(dst)
    if src.resolve() == dst.resolve():
        raise ValueError(f"source and destination are the same dir '{src}'")
    validate_data_dir(
        src, no_text=not (src / "text").is_file(), no_wav=not (src / "wav.scp").is_file()
    )
    dst.mkdir(parents=True, exist_ok=True)

    def u(x: str) -> str:
        return f"{utt_prefix}{x}{utt_suffix}"

    def s(x: str) -> str:
        return f"{spk_prefix}{x}{spk_suffix}"

    utt2spk = {u(k): s(v) for k, v in read_table(src / "utt2spk").items()}
    write_table(dst / "utt2spk", utt2spk)
    write_table(dst / "spk2utt", _spk2utt_table(utt2spk))
    for n in UTT_FILES:
        if n != "utt2spk" and (src / n).is_file():
            data = read_table(src / n, allow_empty_value=(n == "text"))
            write_table(dst / n, {u(k): v for k, v in data.items()})
    if (src / "wav.scp").is_file():
        wav = read_table(src / "wav.scp")
        if (src / "segments").is_file():
            write_table(dst / "wav.scp", wav)
        else:
            write_table(dst / "wav.scp", {u(k): v for k, v in wav.items()})
    for n in SPK_FILES:
        if (src / n).is_file():
            write_table(dst / n, {s(k): v for k, v in read_table(src / n).items()})


def write_data_dirs(
    data_dir: str | Path, sets: Mapping[str, Mapping[str, Mapping[str, str]]]
) -> None:
    """Write several data dirs under ``data_dir`` (e.g. train/dev/eval) and swap them in together.

    Args:
        data_dir: parent dir; set ``name`` becomes ``<data_dir>/<name>``.
        sets: set name -> file name (``wav.scp``, ``text``, ``utt2spk``, ``spk2gender``, ...)
            -> ``key -> value``; each file is written sorted by key in C order. ``spk2utt`` is
            derived from ``utt2spk`` unless given.

    Every set is written to ``<data_dir>/.<name>.tmp`` first; the previous set dirs are
    replaced only once all new ones are complete, so a failure part-way leaves them as they were.
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp_dirs = {}
    for name, files in sets.items():
        tmp = data_dir / f".{name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for fname, entries in files.items():
            write_table(tmp / fname, entries)
        if "utt2spk" in files and "spk2utt" not in files:
            write_table(tmp / "spk2utt", _spk2utt_table(files["utt2spk"]))
        tmp_dirs[name] = tmp
    for name, tmp in tmp_dirs.items():
        final, old = data_dir / name, data_dir / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)


def split_scp(in_path: str | Path, out_paths: Sequence[str | Path]) -> list[int]:
    """Split the lines of ``in_path`` into ``len(out_paths)`` contiguous parts whose sizes differ
    by at most one (earlier parts get the extra line). More parts than lines gives empty files.

    Returns the number of lines written to each part.
    """
    if not out_paths:
        raise ValueError("need at least one output file")
    with open(in_path, encoding="utf-8") as f:
        lines = [ln if ln.endswith("\n") else ln + "\n" for ln in f if ln.strip()]
    n_parts = len(out_paths)
    base, extra = divmod(len(lines), n_parts)
    sizes = [base + (1 if i < extra else 0) for i in range(n_parts)]
    start = 0
    for path, size in zip(out_paths, sizes):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "".join(lines[start : start + size]))
        start += size
    return sizes


def _build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m glowtts.data.datadir", description="Kaldi data dir tools."
    )
    sub = p.add_subparsers(dest="verb", required=True)
    v = sub.add_parser("validate", help="check a data dir (exit 1 with every problem found)")
    v.add_argument("--no-text", "--no_text", action="store_true", help="text is not required")
    v.add_argument("--no-wav", "--no_wav", action="store_true", help="wav.scp is not required")
    v.add_argument("data_dir")
    f = sub.add_parser("fix", help="keep common utterances, sort, regenerate spk2utt")
    f.add_argument("data_dir")
    s = sub.add_parser("subset", help="copy a subset of the utterances into a new dir")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--first", type=int, metavar="N")
    g.add_argument("--last", type=int, metavar="N")
    g.add_argument("--num", type=int, metavar="N", help="N evenly spaced utterances")
    g.add_argument("--utt-list", "--utt_list", metavar="FILE")
    s.add_argument("src")
    s.add_argument("dst")
    c = sub.add_parser("copy", help="copy a data dir, optionally renaming ids")
    for opt in ("utt-prefix", "utt-suffix", "spk-prefix", "spk-suffix"):
        c.add_argument(f"--{opt}", f"--{opt.replace('-', '_')}", default="")
    c.add_argument("src")
    c.add_argument("dst")
    sp = sub.add_parser("split-scp", help="split an scp into N contiguous parts")
    sp.add_argument("in_scp")
    sp.add_argument("out_scps", nargs="+")
    u = sub.add_parser("utt2spk-to-spk2utt", help="invert utt2spk (file or stdin) to stdout")
    u.add_argument("utt2spk", nargs="?", default="-")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(message)s")
    args = _build_parser().parse_args(argv)
    prog = {
        "validate": "validate_data_dir.sh",
        "fix": "fix_data_dir.sh",
        "subset": "subset_data_dir.sh",
        "copy": "copy_data_dir.sh",
        "split-scp": "split_scp.sh",
        "utt2spk-to-spk2utt": "utt2spk_to_spk2utt.sh",
    }[args.verb]
    try:
        if args.verb == "validate":
            utts = validate_data_dir(args.data_dir, no_text=args.no_text, no_wav=args.no_wav)
            print(f"{prog}: {args.data_dir} is OK ({len(utts)} utterances)", file=sys.stderr)
        elif args.verb == "fix":
            backup = next_backup_dir(args.data_dir)
            kept, before = fix_data_dir(args.data_dir)
            print(
                f"{prog}: kept {kept} of {before} utterances in {args.data_dir}; originals and "
                f"removed lines in {backup}",
                file=sys.stderr,
            )
        elif args.verb == "subset":
            opts = pick(args, "first", "last", "num", "utt_list")
            sel = subset_data_dir(args.src, args.dst, **opts)
            print(f"{prog}: wrote {len(sel)} utterances to {args.dst}", file=sys.stderr)
        elif args.verb == "copy":
            opts = pick(args, "utt_prefix", "utt_suffix", "spk_prefix", "spk_suffix")
            copy_data_dir(args.src, args.dst, **opts)
        elif args.verb == "split-scp":
            split_scp(args.in_scp, args.out_scps)
        else:
            path = "/dev/stdin" if args.utt2spk == "-" else args.utt2spk
            sys.stdout.write(format_table(_spk2utt_table(read_table(path))))
    except (DataDirError, ValueError, OSError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
