"""Kaldi tables and atomic writes: the one reader/writer of ``key value...`` files.

A Kaldi table (``wav.scp``, ``text``, ``utt2spk``, ``spk2utt``, ``feats.scp``, ``token``,
``durations``, ...) holds one ``<key> <value>`` line per entry: the key is the first
whitespace-separated word, the value the rest of the line with surrounding whitespace
stripped (it may itself hold several fields). Blank lines are skipped. Files are written
sorted by key in C (byte) order, through a temp file in the same dir and ``os.replace``,
so a reader (or a crash at any instant) sees the old file or the complete new one.

Format errors raise :class:`DataDirError` naming the file and line; a missing file raises
:class:`TableNotFoundError` (both a ``DataDirError`` and a ``FileNotFoundError``).

Feature matrices are read through :class:`FeatsReader`, which refuses scp entries that are
commands and ark records that are pickles (kaldiio would run / unpickle them) unless the
caller opts in.

This module is a leaf (stdlib; numpy and kaldiio imported only to read features), so every
layer may import it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "DataDirError",
    "TableNotFoundError",
    "Line",
    "read_lines",
    "iter_fields",
    "read_table",
    "read_fields",
    "read_int_table",
    "write_table",
    "format_table",
    "atomic_open",
    "atomic_write_text",
    "atomic_write_bytes",
    "fsync_dir",
    "c_sorted",
    "utt2spk_to_spk2utt",
    "FeatsReader",
]

Value = str | Iterable[object]


class DataDirError(ValueError):
    """A data dir or Kaldi table that breaks the format; the message names file, line and fix."""


class TableNotFoundError(DataDirError, FileNotFoundError):
    """A Kaldi table that does not exist (or is a directory)."""


class Line(NamedTuple):
    """One non-blank line of a table: 1-based line number, key, and the rest (maybe ``""``)."""

    lineno: int
    key: str
    rest: str


def c_sorted(keys: Iterable[str]) -> list[str]:
    """Keys in Kaldi's ``LC_ALL=C`` order (bytes; for UTF-8 the same as code points)."""
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def read_lines(path: str | Path) -> Iterator[Line]:
    """Every non-blank line of ``path`` as a :class:`Line`, in file order, read lazily.

    No check of repeated keys or empty values: that is the job of the callers below.

    Raises:
        TableNotFoundError: ``path`` is missing or a directory (on the first ``next``).
    """
    path = Path(path)
    if not path.exists() or path.is_dir():  # not is_file(): /dev/stdin and FIFOs are tables too
        raise TableNotFoundError(f"'{path}' does not exist or is not a file")
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.strip().split(maxsplit=1)
            if parts:
                yield Line(lineno, parts[0], parts[1].strip() if len(parts) > 1 else "")


def iter_fields(path: str | Path) -> Iterator[tuple[str, list[str]]]:
    """``(key, fields)`` per line, lazily, keys not checked (``dict()`` of it: last wins)."""
    for ln in read_lines(path):
        yield ln.key, ln.rest.split()


def read_table(
    path: str | Path,
    *,
    allow_empty_value: bool = False,
    tolerant: bool = False,
    dropped: list[str] | None = None,
    hint: str = "",
) -> dict[str, str]:
    """``key -> value`` in file order.

    Args:
        allow_empty_value: accept a key with no value (``""``); otherwise such a line is bad.
        tolerant: keep the first line of each key and skip bad lines (a repeated key, an
            empty value) instead of raising; each skipped line goes to ``dropped``.
        dropped: with ``tolerant``, receives the skipped lines as ``"key value"``.
        hint: appended to error messages, e.g. ``"; run utils/fix_data_dir.sh DIR"``.

    Raises:
        DataDirError: (not ``tolerant``) a repeated key or an empty value, naming file and line.
    """
    lines = _unique_lines(path, allow_empty_value, tolerant, dropped, hint)
    return {key: ln.rest for key, ln in lines.items()}


def _unique_lines(
    path: str | Path, allow_empty: bool, tolerant: bool, dropped: list[str] | None, hint: str
) -> dict[str, Line]:
    out: dict[str, Line] = {}
    for ln in read_lines(path):
        if ln.key in out:
            problem = f"key '{ln.key}' repeats line {out[ln.key].lineno}"
        elif not ln.rest and not allow_empty:
            problem = f"key '{ln.key}' has no value"
        else:
            out[ln.key] = ln
            continue
        if not tolerant:
            raise DataDirError(f"{path}: line {ln.lineno}: {problem}{hint}")
        if dropped is not None:
            dropped.append(f"{ln.key} {ln.rest}".rstrip())
    return out


def read_fields(
    path: str | Path, *, n_fields: int | None = None, hint: str = ""
) -> dict[str, list[str]]:
    """``key -> [field, ...]`` (the value split on whitespace); a repeated key raises.

    Args:
        n_fields: when given, every line must hold exactly this many fields after the key.
    """
    return {ln.key: fields for ln, fields in _field_lines(path, n_fields, hint)}


def read_int_table(
    path: str | Path, *, n_fields: int | None = None, hint: str = ""
) -> dict[str, list[int]]:
    """``key -> [int, ...]`` (token ids, durations, frame counts); a non-integer raises."""
    out: dict[str, list[int]] = {}
    for ln, fields in _field_lines(path, n_fields, hint):
        try:
            out[ln.key] = [int(x) for x in fields]
        except ValueError as e:
            raise DataDirError(f"{path}: line {ln.lineno}: key '{ln.key}': {e}{hint}") from None
    return out


def _field_lines(
    path: str | Path, n_fields: int | None, hint: str
) -> Iterator[tuple[Line, list[str]]]:
    for ln in _unique_lines(path, True, False, None, hint).values():
        fields = ln.rest.split()
        if n_fields is not None and len(fields) != n_fields:
            got = f"{ln.key} {ln.rest}".rstrip()
            raise DataDirError(
                f"{path}: line {ln.lineno}: expected 'key' + {n_fields} field(s), got '{got}'{hint}"
            )
        yield ln, fields


def format_table(
    items: Mapping[str, Value] | Iterable[tuple[str, Value]], sort: bool = True
) -> str:
    """The text of a table: ``key value`` lines (a non-string value is joined with spaces),
    sorted by key in C order unless ``sort=False``; a key with an empty value stands alone."""
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    if sort:
        pairs.sort(key=lambda kv: kv[0].encode("utf-8"))
    lines = []
    for k, v in pairs:
        v = v if isinstance(v, str) else " ".join(map(str, v))
        lines.append(f"{k} {v}\n" if v != "" else f"{k}\n")
    return "".join(lines)


def write_table(
    path: str | Path, items: Mapping[str, Value] | Iterable[tuple[str, Value]], sort: bool = True
) -> None:
    """Write :func:`format_table` atomically, creating the parent dir."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, format_table(items, sort=sort))


def utt2spk_to_spk2utt(utt2spk: Mapping[str, str]) -> dict[str, list[str]]:
    """Invert ``utt -> spk`` into ``spk -> [utt, ...]`` (speakers and utterances C-sorted)."""
    spk2utt: dict[str, list[str]] = {}
    for utt in c_sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    return {spk: spk2utt[spk] for spk in c_sorted(spk2utt)}


@contextmanager
def atomic_open(path: str | Path, mode: str = "w", *, fsync: bool = False) -> Iterator[IO]:
    """Open a temp file beside ``path`` (``.<name>.XXXX.tmp``); on a clean exit it replaces
    ``path``, on an exception it is removed and ``path`` is untouched.

    Args:
        mode: ``"w"`` (UTF-8 text) or ``"wb"``.
        fsync: flush the file and its dir to disk (checkpoints: survive a power cut).
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding="utf-8" if mode == "w" else None) as f:
            yield f
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if fsync:
        fsync_dir(path.parent)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically; the parent dir must exist."""
    with atomic_open(path, "w") as f:
        f.write(text)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; the parent dir must exist."""
    with atomic_open(path, "wb") as f:
        f.write(data)


def fsync_dir(d: str | Path) -> None:
    """Flush a dir entry (after a rename) where the OS allows it; a no-op elsewhere."""
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- feature matrices (feats.scp)

# Record headers kaldiio reads that hold numbers only: Kaldi binary float/double matrices and
# vectors (plain or compressed), text matrices, and .npy records (np.load refuses pickles).
_BINARY_NUMERIC = (b"FM", b"DM", b"FV", b"DV", b"CM")
_UNSAFE_HINT = "if you trust this file"


def _is_pipe(spec: str) -> bool:
    return spec.endswith("|") or spec.startswith("|")


def _split_spec(spec: str) -> tuple[str, int]:
    """``ark:offset[range]`` -> ``(ark, offset)`` (offset 0 when absent)."""
    if spec.endswith("]") and "[" in spec:
        spec = spec[: spec.rindex("[")]
    name, sep, offset = spec.rpartition(":")
    if sep and offset.isdigit():
        return name, int(offset)
    return spec, 0


def _record_kind(head: bytes) -> str:
    """What a record starting with ``head`` holds: ``numeric``, ``pickle`` or ``other``."""
    if head[:2] == b"\0B":
        return "numeric" if head[2:4] in _BINARY_NUMERIC else "other"
    if head[:3] == b"NPY" or head.lstrip()[:1] == b"[":
        return "numeric"
    return "pickle" if head[:3] == b"PKL" else "other"


class FeatsReader(Mapping):
    """Lazy per-utterance feature matrices of a ``feats.scp`` (``utt ark:offset`` lines).

    ``reader[utt]`` reads one ``(T, D)`` matrix (as stored: float32 for our arks) and opens
    the ark per call, so it is safe in forked DataLoader workers. Only numeric records are
    read: an scp entry that is a command (``... |``) and an ark record that is a pickle (which
    kaldiio would unpickle, running any code in it) or audio are refused, with the file, line
    and utterance named, unless the caller opts in with ``allow_pipes`` / ``allow_pickle``.

    Raises:
        DataDirError: a malformed scp line or a pipe entry (at construction); a refused record
            (when read).
    """

    def __init__(
        self, scp: str | Path, *, allow_pipes: bool = False, allow_pickle: bool = False
    ) -> None:
        self.scp = Path(scp)
        self.allow_pickle = allow_pickle
        self._lines = _unique_lines(self.scp, False, False, None, "")
        for ln in self._lines.values():
            if _is_pipe(ln.rest):
                if not allow_pipes:
                    raise DataDirError(
                        f"{self._where(ln)} is a command ('{ln.rest}'): glowtts does not run "
                        "commands found in data files. Write the features to an ark "
                        "(stage 1) or opt in with allow_pipes=True " + _UNSAFE_HINT
                    )
            elif len(ln.rest.split()) != 1:
                raise DataDirError(
                    f"{self.scp}: line {ln.lineno}: expected 'key' + 1 field(s), "
                    f"got '{ln.key} {ln.rest}'"
                )

    def _where(self, ln: Line) -> str:
        return f"{self.scp}: line {ln.lineno}: utterance '{ln.key}'"

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[str]:
        return iter(self._lines)

    def __getitem__(self, utt: str) -> np.ndarray:
        return self._load(self._lines[utt], None)

    def spec(self, utt: str) -> str:
        """The scp value of ``utt`` (``ark:offset``)."""
        return self._lines[utt].rest

    def iter_items(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(utt, matrix)`` in scp order, each ark opened once (for a full pass: statistics)."""
        fds: dict[str, IO[bytes]] = {}
        try:
            for ln in self._lines.values():
                yield ln.key, self._load(ln, fds)
        finally:
            for f in fds.values():
                f.close()

    def _load(self, ln: Line, fds: dict[str, IO[bytes]] | None) -> np.ndarray:
        import kaldiio
        import numpy as np

        if not _is_pipe(ln.rest):  # a pipe got here only with allow_pipes
            self._check_record(ln, fds)
        mat = kaldiio.load_mat(ln.rest, fd_dict=fds)
        if not isinstance(mat, np.ndarray) or mat.dtype.kind not in "fiu":
            raise DataDirError(
                f"{self._where(ln)} ({ln.rest}) holds {type(mat).__name__}, not a numeric "
                "matrix; re-extract the features (stage 1)"
            )
        return mat

    def _check_record(self, ln: Line, fds: dict[str, IO[bytes]] | None) -> None:
        """Refuse a record that is not numbers, reading only its first bytes."""
        ark, offset = _split_spec(ln.rest)
        if fds is not None and ark in fds:
            f = fds[ark]
        else:
            f = open(ark, "rb")  # noqa: SIM115 - kept open in fds or closed below
            if fds is not None:
                fds[ark] = f
        try:
            f.seek(offset)
            kind = _record_kind(f.read(8))
        finally:
            if fds is None:
                f.close()
        if kind == "numeric" or (kind == "pickle" and self.allow_pickle):
            return
        if kind == "pickle":
            raise DataDirError(
                f"{self._where(ln)} ({ln.rest}) is a pickled record: glowtts does not "
                "unpickle feature files (it can run any code). Re-extract the features "
                "(stage 1) or opt in with allow_pickle=True " + _UNSAFE_HINT
            )
        raise DataDirError(
            f"{self._where(ln)} ({ln.rest}) is not a numeric matrix record (audio or an "
            "unknown format); re-extract the features (stage 1)"
        )
