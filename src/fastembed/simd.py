"""Which SIMD level fastembed's kernels run at, chosen at import and switchable at run time.

Every hot kernel is compiled once per SIMD level and all levels return the same bits; one level is
active per process:

==========  ===================  ==========================================================================
level       where                notes
==========  ===================  ==========================================================================
generic     every platform       portable C (what CPUs without a dedicated level run)
sse2        x86-64               the x86-64 baseline; 128-bit streaming stores
avx2        x86-64 with AVX2     8 floats per register, masked tails (Haswell+, AMD Zen 1-3)
avx512      x86-64 AVX-512F      16 floats per register (Skylake-SP+, AMD Zen 4+)
avx512vnni  x86-64 AVX-512 VNNI  the avx512 level plus vpdpbusd for the int8 index (Ice Lake+, Zen 4+)
neon        aarch64              the AArch64 baseline (Apple Silicon, Graviton, Ampere)
==========  ===================  ==========================================================================

At import the best level this CPU supports is chosen, unless the environment variable
``FASTEMBED_SIMD`` names one (a level, or ``default`` for the architecture's baseline, or ``best``);
an unknown or unsupported name is an error at import, never a silent fallback.

    >>> import fastembed.simd as simd
    >>> simd.get_level() in simd.supported_levels()
    True
    >>> with simd.using("default"):          # e.g. compare the baseline with the best level
    ...     pass
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from fastembed._kernels import _simd
from fastembed._kernels._simd import (baseline_level, best_level, compiled_levels, get_level, set_level,
                                      supported_levels)

__all__ = ["compiled_levels", "supported_levels", "best_level", "baseline_level", "get_level", "set_level",
           "resolve_level", "using"]


def resolve_level(name: str) -> str:
    """The level ``name`` would select (resolving ``"default"`` and ``"best"``), without switching;
    ValueError naming the levels that work if this build or CPU has no such level."""
    return _simd.resolve_level(name, compiled_levels(), supported_levels(), baseline_level())


@contextmanager
def using(level: str) -> Iterator[str]:
    """Run a block at SIMD ``level`` (see :func:`set_level`), then restore the previous level.

    Switches every kernel of the process: not for use while other threads run kernels."""
    previous = set_level(level)
    try:
        yield get_level()
    finally:
        set_level(previous)
