"""Monotonic Alignment Search on the GPU, in Triton.

One program per batch item does the whole search on the device:

* forward: a wavefront over frames. At frame j the feasible tokens
  ``max(0, j - (T_mel - T_text)) <= i <= min(j, T_text - 1)`` are updated
  together, ``BLOCK`` tokens at a time, from the column of frame j-1:
  ``Q[i, j] = log_p[i, j] + max(Q[i, j-1], Q[i-1, j-1])``. The columns live in a
  scratch ``(B, T_mel, T_text)`` buffer (the token shift i-1 crosses threads, so
  it goes through memory, with a barrier between frames); only band cells are
  written or read, so the scratch needs no initialisation.
* backtracking: sequential over frames from ``(T_text-1, T_mel-1)``, moving to
  the previous token iff ``i == j`` or ``Q[i, j-1] < Q[i-1, j-1]``.

Arithmetic and comparisons are those of the CPU kernel in the same precision
(float32, or float64 for float64 input; bf16/fp16 scores are scored in float32
like on the CPU), so the paths are identical.

Triton is optional: importing this module raises ImportError without it, and
``maximum_path`` then falls back to the CPU kernel. With ``TRITON_INTERPRET=1``
(read when the kernel is first needed) the kernel runs in Triton's interpreter
and accepts CPU tensors; this is how the tests exercise it without a GPU.
"""

from __future__ import annotations

import os

import torch

try:
    import triton
    import triton.language as tl
except Exception as _err:  # noqa: BLE001 - any failure means "no Triton backend"
    raise ImportError(f"glowtts.monotonic_align.gpu needs triton: {_err}") from _err


def _mas_kernel(
    lp_ptr,  # (B, T_mel, T_text) scores, token-contiguous
    q_ptr,  # (B, T_mel, T_text) scratch, same dtype
    path_ptr,  # (B, T_text, T_mel) output, zero on entry
    tx_ptr,  # (B,) valid tokens
    ty_ptr,  # (B,) valid frames
    s_lb,  # batch stride of lp and q
    s_lj,  # frame stride of lp and q (= T_text_max)
    s_pb,  # batch stride of path
    s_pi,  # token stride of path
    BLOCK: tl.constexpr,
):
    n = tl.program_id(0)
    t_x = tl.load(tx_ptr + n).to(tl.int32)
    t_y = tl.load(ty_ptr + n).to(tl.int32)
    d = t_y - t_x
    lp_n = lp_ptr + n.to(tl.int64) * s_lb
    q_n = q_ptr + n.to(tl.int64) * s_lb
    offs = tl.arange(0, BLOCK)

    # frame 0: the path starts at (0, 0); other tokens are out of the band
    first = tl.load(lp_n)
    tl.store(q_n, first)
    tl.debug_barrier()

    # while loops, not range(): Triton's interpreter cannot take loaded bounds in range()
    # on every version; the compiled code is the same
    j = t_x * 0 + 1
    while j < t_y:
        lo = tl.maximum(j - d, 0)
        hi = tl.minimum(j, t_x - 1)
        prev = q_n + (j - 1) * s_lj
        t0 = lo - lo % BLOCK
        while t0 <= hi:
            i = t0 + offs
            band = (i >= lo) & (i <= hi)
            # Q[i, j-1]: -inf on the diagonal (the frame must advance); Q[i-1, j-1]: none for i = 0
            stay = tl.load(prev + i, mask=band & (i < j), other=float("-inf"))
            adv = tl.load(prev + i - 1, mask=band & (i > 0), other=float("-inf"))
            x = tl.load(lp_n + j * s_lj + i, mask=band, other=0.0)
            v = tl.where(adv > stay, adv, stay) + x
            tl.store(q_n + j * s_lj + i, v, mask=band)
            t0 += BLOCK
        # the next frame reads tokens written by other threads
        tl.debug_barrier()
        j += 1

    path_n = path_ptr + n.to(tl.int64) * s_pb
    i = t_x - 1
    j = t_y - 1
    while j >= 0:
        tl.store(path_n + i * s_pi + j, 1)
        look = (i != 0) & (i != j)
        cell = q_n + (j - 1) * s_lj + i
        stay = tl.load(cell, mask=look, other=0.0)
        adv = tl.load(cell - 1, mask=look, other=0.0)
        move = (i != 0) & ((i == j) | (stay < adv))
        i = i - move.to(tl.int32)
        j -= 1


_kernels: dict[bool, object] = {}


def _kernel(interpret: bool):
    """The jitted kernel; built on first use so ``TRITON_INTERPRET`` is read then."""
    if interpret not in _kernels:
        _kernels[interpret] = triton.jit(_mas_kernel)
    return _kernels[interpret]


def _interpret() -> bool:
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "on", "yes")


def maximum_path_gpu(
    log_p: torch.Tensor, t_x: torch.Tensor, t_y: torch.Tensor, *, block: int | None = None
) -> torch.Tensor:
    """MAS with the Triton kernel, all on ``log_p``'s device.

    Args:
        log_p: ``(B, T_text, T_mel)`` scores, CUDA (or CPU under ``TRITON_INTERPRET=1``).
        t_x: ``(B,)`` valid tokens per item, ``1 <= t_x <= T_text``.
        t_y: ``(B,)`` valid frames per item, ``t_x <= t_y <= T_mel``.
        block: tokens per vector step, a power of two >= 16; by default
            ``T_text`` rounded up (at most 1024). Smaller values exercise the
            loop over token blocks.

    Returns:
        ``(B, T_text, T_mel)`` 0/1 path in ``log_p``'s dtype and device. The
        lengths are trusted (``maximum_path`` checks them).
    """
    interpret = _interpret()
    if not (log_p.is_cuda or interpret):
        raise ValueError(
            "maximum_path_gpu: log_p must be a CUDA tensor (or set TRITON_INTERPRET=1)"
        )
    if log_p.dim() != 3 or t_x.shape != (log_p.shape[0],) or t_y.shape != (log_p.shape[0],):
        raise ValueError(
            f"maximum_path_gpu: log_p must be (B, T_text, T_mel) with t_x, t_y (B,); got "
            f"{tuple(log_p.shape)}, {tuple(t_x.shape)}, {tuple(t_y.shape)}"
        )
    b, tx_max, ty_max = log_p.shape
    # contiguous whatever log_p's strides: the kernel writes frames at stride 1
    path = torch.zeros(log_p.shape, dtype=log_p.dtype, device=log_p.device)
    if path.numel() == 0:
        return path
    work = torch.float64 if log_p.dtype == torch.float64 else torch.float32
    # token-contiguous columns make the per-frame loads coalesced
    lp_t = log_p.detach().to(work).transpose(1, 2).contiguous()
    q = torch.empty_like(lp_t)
    if block is None:
        block = min(max(triton.next_power_of_2(tx_max), 32), 1024)
    elif block < 16 or block & (block - 1):
        raise ValueError(f"maximum_path_gpu: block must be a power of two >= 16, got {block}")
    kwargs = {} if interpret else {"num_warps": max(1, min(8, block // 64)), "num_stages": 1}
    _kernel(interpret)[(b,)](
        lp_t,
        q,
        path,
        t_x.to(device=log_p.device, dtype=torch.int32),
        t_y.to(device=log_p.device, dtype=torch.int32),
        lp_t.stride(0),
        lp_t.stride(1),
        path.stride(0),
        path.stride(1),
        BLOCK=block,
        **kwargs,
    )
    return path


__all__ = ["maximum_path_gpu"]
