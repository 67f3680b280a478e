"""Build script for glowtts: metadata lives in setup.cfg; this file adds the
Cython Monotonic Alignment Search extension, compiled with OpenMP so the batch
loop of MAS runs in parallel without the GIL."""

import os
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup


def _openmp_flags() -> tuple[list[str], list[str]]:
    """Compiler and linker flags for OpenMP (gcc/clang on Linux; none on macOS clang)."""
    if os.environ.get("GLOWTTS_NO_OPENMP") == "1" or sys.platform == "darwin":
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


_cflags, _lflags = _openmp_flags()

extensions = [
    Extension(
        "glowtts.monotonic_align.core",
        sources=["glowtts/monotonic_align/core.pyx"],
        include_dirs=[np.get_include()],
        extra_compile_args=["-O3", *_cflags],
        extra_link_args=_lflags,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
]

setup(
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3", "boundscheck": False, "wraparound": False},
    )
)
