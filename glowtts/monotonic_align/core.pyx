# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Monotonic Alignment Search (Glow-TTS, Sec. 2.3), Cython kernel.

The DP of the paper, Q[i, j] = log_p[i, j] + max(Q[i, j-1], Q[i-1, j-1]), has a
serial dependency along each token row, so scoring a row at a time is bound by
the latency of one max + add per cell. Instead the tokens are taken in blocks
of ``R`` and each block sweeps the frames as a wavefront: at frame j all ``R``
tokens of the block are updated together from the values at frame j-1 (``R``
independent chains, written so the compiler can use SIMD). Only the feasible
band ``i <= j <= i + (T_mel - T_text)`` is kept; the last token of a block hands
its row to the next block through a buffer of length ``T_mel``.

Backtracking needs only the decision taken at each cell (``adv > stay``, the
very comparison of the forward pass), stored as one byte per cell in a
block-major layout ``[block][frame - first token of block][r]``.

Tie-breaking (kept identical by the numpy reference and the GPU kernel): a
frame moves to the previous token on backtracking only when staying is strictly
worse (``Q[i, j-1] < Q[i-1, j-1]``), or when it must (``i == j``). All
arithmetic is in the input's precision, so every backend gives the same path.

The batch loop runs in parallel with OpenMP, without the GIL; each thread owns
one scratch allocation sized for the largest item, and writes the whole
``(T_text_max, T_mel_max)`` slab of its items' output (zeros included), so the
caller need not zero it.
"""

cimport cython
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY
from libc.stdlib cimport free, malloc
from libc.string cimport memset

ctypedef fused real:
    float
    double

ctypedef fused out_t:
    unsigned char
    float
    double

cdef enum:
    # tokens per block: two SSE vectors of float, enough independent chains to hide latency
    R = 8


cdef void _forward(const real* lp, Py_ssize_t ls, int t_x, int t_y,
                   unsigned char* dec, real* edge) noexcept nogil:
    """Fill ``dec`` with the forward decisions of one item.

    ``lp``: the item's scores, row stride ``ls``; ``dec``: ``ceil(t_x / R) * (w + R - 1) * R``
    bytes, ``w = t_y - t_x + 1``; ``edge``: ``t_y`` scratch values.
    """
    cdef int d = t_y - t_x
    cdef int span = d + R            # frames swept by a block: i0 .. i0 + R - 1 + d
    cdef int bi, i0, j, r, last
    cdef real neg = -INFINITY
    cdef real e, a, s, v
    cdef real cur[R]
    cdef real sh[R]
    cdef const real* rows[R]
    cdef unsigned char* blk
    cdef int nb = (t_x + R - 1) // R
    for bi in range(nb):
        i0 = bi * R
        blk = dec + <Py_ssize_t> bi * span * R
        for r in range(R):
            # rows past the last token compute harmless garbage from a valid row
            rows[r] = lp + <Py_ssize_t> min(i0 + r, t_x - 1) * ls
            cur[r] = neg
        last = min(R, t_x - i0) - 1
        # e = Q[i0 - 1, j - 1], the "advance" input of the block's first token; edge[] holds
        # row i0 - 1 (by frame) until this block overwrites it with its own last row
        e = edge[i0 - 1] if i0 > 0 else neg
        for j in range(i0, i0 + last + 1 + d):
            sh[0] = e
            for r in range(1, R):
                sh[r] = cur[r - 1]
            for r in range(R):
                a = sh[r]
                s = cur[r]
                blk[r] = a > s
                v = (a if a > s else s) + rows[r][j]
                # before its diagonal a token is unreachable: -inf also makes the diagonal advance
                cur[r] = v if j >= i0 + r else neg
            if i0 == 0 and j == 0:
                cur[0] = rows[0][0]  # the path starts at (0, 0)
            if i0 > 0:
                e = edge[j]
            edge[j] = cur[last]
            blk += R


cdef void _backtrack(const unsigned char* dec, int t_x, int t_y, out_t* path,
                     Py_ssize_t ps) noexcept nogil:
    """Write ones along the best path into ``path`` (row stride ``ps``), already zero."""
    cdef int span = t_y - t_x + R
    cdef int i = t_x - 1
    cdef int j, i0
    for j in range(t_y - 1, -1, -1):
        path[i * ps + j] = 1
        if i != 0:
            i0 = (i // R) * R
            if i == j or dec[(<Py_ssize_t> (i0 // R) * span + (j - i0)) * R + (i - i0)]:
                i -= 1


def maximum_path_c(real[:, :, ::1] log_p, out_t[:, :, ::1] path,
                   int[::1] t_xs, int[::1] t_ys, int num_threads=1):
    """Fill ``path`` (B, T_text, T_mel) with the MAS alignment (0/1; zeros written too).

    ``log_p`` (B, T_text, T_mel) float32 or float64; ``path`` uint8, float32 or
    float64, same shape; ``t_xs``/``t_ys`` (B,) hold valid token / frame counts
    with ``1 <= t_x <= t_y``. ``num_threads`` OpenMP threads share the batch.
    """
    cdef int b = log_p.shape[0]
    cdef int n, tx, ty
    cdef Py_ssize_t need_dec = 1, need_edge = 1, nd
    cdef Py_ssize_t ls = log_p.shape[2], ps = path.shape[2]
    cdef Py_ssize_t slab = path.shape[1] * path.shape[2]
    cdef unsigned char* dec
    cdef real* edge
    cdef int nt
    if path.shape[0] != b or path.shape[1] != log_p.shape[1] or path.shape[2] != ls:
        raise ValueError("maximum_path: path and log_p must have the same (B, T_text, T_mel) shape")
    if t_xs.shape[0] != b or t_ys.shape[0] != b:
        raise ValueError("maximum_path: t_xs and t_ys need one entry per batch item")
    for n in range(b):
        tx = t_xs[n]
        ty = t_ys[n]
        if tx < 1 or ty < tx or tx > log_p.shape[1] or ty > ls:
            raise ValueError(f"maximum_path: item {n} has T_text={tx}, T_mel={ty}")
        nd = <Py_ssize_t> ((tx + R - 1) // R) * (ty - tx + R) * R
        need_dec = max(need_dec, nd)
        need_edge = max(need_edge, ty)
    nt = max(1, min(num_threads, b))
    # one scratch per thread, allocated once for the largest item
    dec = <unsigned char*> malloc(nt * need_dec)
    edge = <real*> malloc(nt * need_edge * sizeof(real))
    if dec == NULL or edge == NULL:
        free(dec)
        free(edge)
        raise MemoryError("maximum_path: could not allocate the DP scratch")
    try:
        for n in prange(b, nogil=True, num_threads=nt, schedule="dynamic"):
            memset(&path[n, 0, 0], 0, slab * sizeof(out_t))
            _forward(&log_p[n, 0, 0], ls, t_xs[n], t_ys[n],
                     dec + threadid() * need_dec, edge + threadid() * need_edge)
            _backtrack(dec + threadid() * need_dec, t_xs[n], t_ys[n], &path[n, 0, 0], ps)
    finally:
        free(dec)
        free(edge)
