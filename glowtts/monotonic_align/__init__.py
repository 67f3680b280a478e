"""Monotonic Alignment Search: ``maximum_path(log_p, mask) -> path``.

Backends, chosen by the input's device:

* CUDA tensors: a Triton kernel on the device (no host round trip) when Triton
  is importable, else the CPU kernel with a copy.
* CPU: the Cython/OpenMP kernel (``core.pyx``); if the extension was not built,
  a warning once and the numpy reference.
"""

from __future__ import annotations

import warnings

import torch

from .reference import maximum_path_numpy

try:
    from .core import maximum_path_c as _maximum_path_c
except ImportError as _err:  # pragma: no cover - exercised only on broken installs
    _maximum_path_c = None
    _IMPORT_ERROR = _err
else:
    _IMPORT_ERROR = None

_warned = False


def backend() -> str:
    """Name of the CPU backend in use: ``"cython"`` or ``"numpy"``."""
    return "cython" if _maximum_path_c is not None else "numpy"


def _lengths(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Valid token and frame counts ``(B,)`` from a ``(B, T_text, T_mel)`` mask.

    Reads only the first frame column and the first token row (the mask is a
    rectangle per item), so it costs nothing next to the DP.
    """
    return (mask[:, :, 0] != 0).sum(1), (mask[:, 0, :] != 0).sum(1)


def _check_shapes(log_p: torch.Tensor, mask: torch.Tensor) -> None:
    if log_p.dim() != 3 or mask.shape != log_p.shape:
        raise ValueError(
            f"maximum_path: log_p must be (B, T_text, T_mel) and mask the same shape; "
            f"got {tuple(log_p.shape)} and {tuple(mask.shape)}"
        )
    if log_p.numel() == 0:
        raise ValueError(f"maximum_path: empty input of shape {tuple(log_p.shape)}")
    if log_p.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        raise ValueError(f"maximum_path: log_p must be a floating tensor, got {log_p.dtype}")


def _check(log_p: torch.Tensor, mask: torch.Tensor, t_x: torch.Tensor, t_y: torch.Tensor) -> None:
    bad = (t_x < 1) | (t_y < t_x)
    if bool(bad.any()):
        n = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"maximum_path: batch item {n} has T_text={int(t_x[n])} and T_mel={int(t_y[n])}; "
            "MAS needs 1 <= T_text <= T_mel (a mel shorter than its token sequence cannot be aligned)"
        )


def maximum_path_cpu(
    log_p: torch.Tensor, mask: torch.Tensor, num_threads: int | None = None
) -> torch.Tensor:
    """MAS on the CPU. ``log_p``, ``mask``: ``(B, T_text, T_mel)``.

    Returns the 0/1 path ``(B, T_text, T_mel)`` in ``log_p``'s dtype and device.
    float32/float64 scores are used as they are; bf16/fp16 ones are scored in
    float32. ``num_threads`` defaults to ``torch.get_num_threads()``.
    """
    _check_shapes(log_p, mask)
    t_x, t_y = _lengths(mask)
    _check(log_p, mask, t_x, t_y)
    device, dtype = log_p.device, log_p.dtype
    x = log_p.detach()
    if x.dtype not in (torch.float32, torch.float64):
        x = x.float()  # bf16/fp16 scores: the DP runs in float32
    x = x.cpu().contiguous().numpy()
    tx = t_x.to(torch.int32).cpu().numpy()
    ty = t_y.to(torch.int32).cpu().numpy()
    if _maximum_path_c is not None:
        # the kernel writes every element (zeros too), straight in the output dtype when it can
        direct = device.type == "cpu" and dtype in (torch.float32, torch.float64)
        out = torch.empty(log_p.shape, dtype=dtype if direct else torch.uint8)
        _maximum_path_c(x, out.numpy(), tx, ty, num_threads or torch.get_num_threads())
        # bytes cross to the device, the cast runs there (cheaper than a float copy)
        return out if direct else out.to(device=device).to(dtype)
    global _warned
    if not _warned:
        warnings.warn(
            f"glowtts.monotonic_align: the Cython extension is missing ({_IMPORT_ERROR}); "
            "using the slow numpy reference. Rebuild with `make install`.",
            stacklevel=2,
        )
        _warned = True
    path = maximum_path_numpy(x, tx, ty)
    return torch.from_numpy(path).to(device=device, dtype=dtype)


_gpu_impl: list = []  # [maximum_path_gpu or None] once the import was tried


def _gpu_backend():
    """The Triton MAS, or None without Triton (tried once: a failed import is slow)."""
    if not _gpu_impl:
        try:
            from .gpu import maximum_path_gpu
        except ImportError:
            maximum_path_gpu = None
        _gpu_impl.append(maximum_path_gpu)
    return _gpu_impl[0]


def maximum_path(log_p: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Most likely monotonic, surjective alignment for each batch item.

    Args:
        log_p: ``(B, T_text, T_mel)`` log-likelihood of frame j under token i.
        mask: ``(B, T_text, T_mel)``, 1 on valid (token, frame) cells.

    Returns:
        ``(B, T_text, T_mel)`` 0/1 path in ``log_p``'s dtype and device; every
        valid frame belongs to exactly one token, token indices never decrease.
    """
    if log_p.is_cuda:
        maximum_path_gpu = _gpu_backend()
        if maximum_path_gpu is not None:
            _check_shapes(log_p, mask)
            t_x, t_y = _lengths(mask)
            _check(log_p, mask, t_x, t_y)
            return maximum_path_gpu(log_p, t_x, t_y)
    return maximum_path_cpu(log_p, mask)


__all__ = ["maximum_path", "maximum_path_cpu", "maximum_path_numpy", "backend"]
