from __future__ import annotations

import numpy as np

from fastembed import index
from fastembed._kernels import _config, _simd
from fastembed._threads import cpu_count
from fastembed._version import __version__


def show_config(print_out: bool = True) -> dict:
    """Report how the kernels were built and run: version, OpenMP, threads, the active SIMD level
    (with the levels compiled in and the ones this CPU supports), the search index kinds and the
    integer kernel the int8 index runs at this level, compiler and flags.

    Returns the facts as a dict and, with ``print_out``, prints them one per line.
    """
    info = {
        "fastembed": __version__,
        "numpy": np.__version__,
        "openmp": _config.openmp_enabled(),
        "max_threads": _config.omp_max_threads(),
        "cpu_count": cpu_count(),
        "simd": _simd.get_level(),
        "simd_compiled": " ".join(_simd.compiled_levels()),
        "simd_supported": " ".join(_simd.supported_levels()),
        "streaming_stores": _config.streaming_stores(),
        "index_kinds": " ".join(index.KINDS),
        "int8_kernel": index.kernel_name(),
        "compiler": _config.compiler(),
        "compile_flags": _config.build_flags(),
    }
    if print_out:
        for k, v in info.items():
            print(f"{k:>16}: {v}")
    return info
