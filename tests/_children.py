"""Helpers for the tests that run a child process and interrupt it (Ctrl-C tests)."""
import signal


def finish(proc, timeout):
    """The rest of a child's stdout and stderr once it exits, read through the text buffers that
    ``readline()`` filled: ``communicate(timeout=...)`` reads the pipes' file descriptors directly
    and loses lines that ``readline()`` had already buffered (a child printing two lines at once)."""
    proc.wait(timeout=timeout)
    return proc.stdout.read(), (proc.stderr.read() if proc.stderr else "")


def sigint_default():
    """In the child before exec: SIGINT back to its default, so Python turns it into KeyboardInterrupt
    even when these tests run in a background job (a non-interactive shell starts those with SIGINT
    ignored, and Python keeps an inherited SIG_IGN)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
