"""Giving back the memory a large request took, once it is answered.

A hostile body under the size limit (hundreds of thousands of comments, elements or attributes)
makes libxml2 and Python allocate many small blocks in the request thread's malloc arena; freed,
they stay with the process (glibc keeps an arena's free memory), so RSS grew with every burst
and never came down. ``malloc_trim`` gives the free pages back. Only after large bodies: it walks
the heap (a millisecond or so).
"""

import ctypes
import ctypes.util

LARGE = 256 * 1024   # bodies from this size on are followed by a trim

_libc = None


def _trim_function():
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            _libc.malloc_trim.argtypes = [ctypes.c_size_t]
        except (OSError, AttributeError):  # not glibc: nothing to do
            _libc = False
    return _libc.malloc_trim if _libc else None


def give_back() -> None:
    """Return the heap's free pages to the system (glibc; elsewhere nothing). Blocking: a thread."""
    trim = _trim_function()
    if trim is not None:
        trim(0)
