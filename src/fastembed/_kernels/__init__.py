"""Compiled kernels. Import errors here mean the package was not built; see fastembed/_build.py."""
