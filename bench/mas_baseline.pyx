# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""Benchmark baseline for MAS: a serial, classic kernel written for bench/mas.py.

It mirrors the common public formulation: the whole ``(T_text, T_mel)`` grid is
scored (no band), frame by frame in the outer loop and token by token in the
inner loop (so ``value`` is walked with a stride of ``T_mel``), in place on a
float32 copy of the scores, one item after another. Same recursion and
tie-breaking as ``glowtts.monotonic_align`` so the paths must be identical.
"""

from libc.math cimport INFINITY


cdef void _one(float[:, ::1] value, int[:, ::1] path, int t_x, int t_y) noexcept nogil:
    cdef int x, y
    cdef float stay, adv
    cdef float neg = -INFINITY
    # frame 0: only token 0 is reachable
    for x in range(1, t_x):
        value[x, 0] = neg
    for y in range(1, t_y):
        for x in range(t_x):
            stay = value[x, y - 1] if x != y else neg
            adv = value[x - 1, y - 1] if x > 0 else neg
            value[x, y] = (adv if adv > stay else stay) + value[x, y]
    x = t_x - 1
    for y in range(t_y - 1, -1, -1):
        path[x, y] = 1
        if x != 0 and (x == y or value[x, y - 1] < value[x - 1, y - 1]):
            x -= 1


def maximum_path_baseline(int[:, :, ::1] path, float[:, :, ::1] value, int[::1] t_xs, int[::1] t_ys):
    """In place: ``value`` (B, T_text, T_mel) float32 becomes Q; ``path`` int32 gets the alignment."""
    cdef int n
    for n in range(value.shape[0]):
        _one(value[n], path[n], t_xs[n], t_ys[n])
