"""Keeping freed memory for the next training step, instead of faulting in fresh pages.

Every training step makes the same arrays again: the batch's activations and their
gradients, several megabytes each in a convolutional network. glibc's ``malloc`` (Linux)
gives a freed block of that size back to the operating system, so the next step's array
is fresh memory, and the kernel maps and zeroes each of its 4 KB pages when it is first
written (a "minor page fault", a few microseconds each). Measured on a conv + ReLU +
max-pool network on 28x28 images: about 1700 faults per step, and a quarter to a third of
the training time.

Asking ``malloc`` to keep some freed memory at the top of its heap (``M_TOP_PAD``) lets
the next step reuse the same pages: tens of faults per step instead of thousands, once
training is under way.
``Sequential.fit`` calls :func:`keep_freed_memory` once; the environment variable
``NNLAB_KEEP_FREED_MB`` sets the amount (default 64, 0 to leave ``malloc`` as it is, at most
2047: ``mallopt`` takes the number of bytes as a C ``int``); a ``MALLOC_TOP_PAD_`` set in
the environment is left in charge. Memory kept this way stays available to the whole
process.
"""

import ctypes
import os
import platform

M_TOP_PAD = -2   # from glibc's <malloc.h>
MAX_MB = (2**31 - 1) >> 20   # the most megabytes whose bytes fit mallopt's C int: 2047
_kept = None


def keep_freed_memory():
    """Ask glibc to keep ``NNLAB_KEEP_FREED_MB`` MB of freed memory; once per process.

    Returns the number of bytes kept (0 where this is not glibc, or if disabled).
    """
    global _kept
    if _kept is None:
        megabytes = _setting()
        if "MALLOC_TOP_PAD_" in os.environ:
            megabytes = 0
        mallopt = _mallopt() if megabytes > 0 else None
        done = mallopt is not None and mallopt(M_TOP_PAD, megabytes << 20) == 1
        _kept = megabytes << 20 if done else 0
    return _kept


def _setting():
    """``NNLAB_KEEP_FREED_MB`` in megabytes, from 0 to ``MAX_MB``, or a ValueError naming it.

    A larger number would not fail where it is passed: ctypes cuts an int to the low 32 bits
    of a C ``int`` in silence, so 2048 MB became -2**31 bytes (a padding glibc reads as
    huge, after which allocations failed) and 4096 MB became 0.
    """
    setting = os.environ.get("NNLAB_KEEP_FREED_MB", "64")
    try:
        valid = 0 <= int(setting) <= MAX_MB
    except ValueError:   # not a whole number ("lots", "1.5")
        valid = False
    if not valid:
        raise ValueError(f"NNLAB_KEEP_FREED_MB must be a whole number of megabytes from 0 "
                         f"(to disable) to {MAX_MB}; got {setting!r}")
    return int(setting)


def _mallopt():
    """glibc's ``mallopt(int, int)``, its C types declared, or None where the C library is
    another (which may have no ``mallopt``)."""
    if platform.libc_ver()[0] != "glibc":
        return None
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt.restype = ctypes.c_int
    return mallopt
