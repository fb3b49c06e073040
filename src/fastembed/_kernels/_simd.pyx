"""The SIMD level the kernels run at: chosen once at import, switchable at run time.

Every hot kernel is compiled once per SIMD level (csrc/fe_simd.h). This module owns the pointer to
the active level's dispatch table; the kernel modules read it through ``ops()`` (``_simd.pxd``), so
one ``set_level`` switches every kernel of the process. All levels return the same bits.

Levels: ``generic`` (portable C, every platform), ``sse2`` (the x86-64 baseline), ``avx2``,
``avx512`` (AVX-512F), ``neon`` (the AArch64 baseline). Aliases: ``default`` = this architecture's
baseline level (sse2 on x86-64, neon on aarch64, generic elsewhere), ``best`` = the best level this
CPU supports (what is chosen at import unless ``FASTEMBED_SIMD`` names another).
"""
import os

from fastembed._kernels._csrc cimport fe_ops, FE_KIND_COUNT, fe_kind_names, fe_kind_itemsize, fe_kind_scaled

cdef extern from "fe_simd.h" nogil:
    int fe_simd_count() noexcept
    const fe_ops *fe_simd_ops_at(int i) noexcept
    int fe_simd_supported_at(int i) noexcept
    int fe_simd_baseline() noexcept

cdef const fe_ops *_active = NULL

ENV_VAR = "FASTEMBED_SIMD"


cdef const fe_ops *ops() noexcept nogil:
    return _active


def resolve_level(name, compiled, supported, baseline):
    """The canonical level ``name`` asks for among ``compiled`` levels (worst first) of which
    ``supported`` run on this CPU; ``baseline`` is the architecture's baseline level.

    ``"default"`` is the baseline, ``"best"`` the last supported level. Raises TypeError for a
    non-str, ValueError naming the levels that would work for an unknown or unsupported level."""
    if not isinstance(name, str):
        raise TypeError(f"SIMD level must be a str, got {name!r}")
    key = name.strip().lower()
    level = baseline if key == "default" else supported[len(supported) - 1] if key == "best" else key
    if level not in compiled:
        raise ValueError(f"unknown SIMD level {name!r}: this build has {', '.join(compiled)} "
                         f"(and the aliases 'default', 'best'); this CPU supports {', '.join(supported)}")
    if level not in supported:
        raise ValueError(f"SIMD level {name!r} is not supported by this CPU; it supports "
                         f"{', '.join(supported)}")
    return level


def compiled_levels():
    """The SIMD levels this build carries, worst first (e.g. ``('generic', 'sse2', 'avx2', 'avx512')``)."""
    return tuple(fe_simd_ops_at(i).name.decode() for i in range(fe_simd_count()))


def supported_levels():
    """The compiled levels this CPU can run, worst first."""
    return tuple(fe_simd_ops_at(i).name.decode() for i in range(fe_simd_count()) if fe_simd_supported_at(i))


def best_level():
    """The best level this CPU supports: the one chosen at import when ``FASTEMBED_SIMD`` is unset."""
    supported = supported_levels()
    return supported[len(supported) - 1]


def baseline_level():
    """This architecture's baseline level (what ``"default"`` asks for): sse2 on x86-64, neon on
    aarch64, generic elsewhere."""
    return fe_simd_ops_at(fe_simd_baseline()).name.decode()


def get_level():
    """The active SIMD level's name."""
    return _active.name.decode()


def set_level(name):
    """Make ``name`` the SIMD level of every kernel in this process; returns the previous level.

    ``name``: a level of :func:`compiled_levels`, or ``"default"`` (the architecture's baseline) or
    ``"best"``. A level this build does not have, or this CPU cannot run, raises ValueError naming
    the levels that would work: never a silent fallback. Not to be called while another thread runs
    kernels (a running kernel keeps the level it started with).
    """
    global _active
    cdef int i
    compiled = compiled_levels()
    level = resolve_level(name, compiled, supported_levels(), baseline_level())
    previous = None if _active == NULL else get_level()
    i = compiled.index(level)
    _active = fe_simd_ops_at(i)
    return previous


def vector_floats():
    """Floats per vector register at the active level."""
    return int(_active.vector_floats)


def streaming_stores():
    """True if the active level writes large gathers with non-temporal stores."""
    return bool(_active.streaming_stores)


def _from_environment():
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        set_level("best")
        return
    try:
        set_level(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{ENV_VAR}={value!r}: {exc}") from None


_from_environment()


def storage_kinds():
    """The storage kinds the kernels are built for (csrc/fe_kinds.h), the one list
    fastembed._dtypes takes its codes from: ``(name, code, bytes per value, row-scaled)`` each."""
    cdef int k
    return tuple([(fe_kind_names[k].decode(), k, fe_kind_itemsize[k], bool(fe_kind_scaled[k]))
                  for k in range(<int>FE_KIND_COUNT)])
