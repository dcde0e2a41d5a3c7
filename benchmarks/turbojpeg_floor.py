"""libjpeg-turbo's own decode, called through ctypes on the system libturbojpeg (the library fastimg links):
the floor a JPEG pipeline cannot go below. `decode_yuv` is tjDecompressToYUV2 (Y, Cb, Cr planes at their
coded resolution: no chroma upsampling, no colour conversion), `decode_rgb` is tjDecompress2 to packed RGB.
One ctypes call per image costs a fraction of a microsecond; `call_overhead_s` measures it so that figures
for tiny images can leave it out."""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from typing import Any

_TJPF_RGB = 0


def _load() -> ctypes.CDLL:
    for name in ("libturbojpeg.so.0", ctypes.util.find_library("turbojpeg")):
        if name:
            try:
                return ctypes.CDLL(name)
            except OSError:
                continue
    raise OSError("libturbojpeg not found (Debian: apt-get install libturbojpeg0)")


class TurboJpeg:
    def __init__(self) -> None:
        lib = self._lib = _load()
        handle, data, n, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_int
        lib.tjInitDecompress.restype = handle
        lib.tjDestroy.argtypes = [handle]
        lib.tjDecompressHeader3.argtypes = [handle, data, n] + [ctypes.POINTER(i)] * 4
        lib.tjBufSizeYUV2.argtypes, lib.tjBufSizeYUV2.restype = [i] * 4, n
        lib.tjDecompressToYUV2.argtypes = [handle, data, n, ctypes.c_void_p] + [i] * 4
        lib.tjDecompress2.argtypes = [handle, data, n, ctypes.c_void_p] + [i] * 5
        lib.tjGetErrorStr2.argtypes, lib.tjGetErrorStr2.restype = [handle], ctypes.c_char_p
        self._handle = lib.tjInitDecompress()
        if not self._handle:
            raise OSError("tjInitDecompress failed")
        self._buffer: Any = None

    def close(self) -> None:
        if self._handle:
            self._lib.tjDestroy(self._handle)
            self._handle = None

    def _check(self, status: int) -> None:
        if status:
            raise ValueError(self._lib.tjGetErrorStr2(self._handle).decode())

    def prepare(self, data: bytes, yuv: bool) -> tuple[bytes, int, int, int]:
        """What one decode call needs, so a timed loop does no header parsing in Python; grows the shared
        output buffer to fit."""
        w, h, sub, cs = (ctypes.c_int() for _ in range(4))
        self._check(self._lib.tjDecompressHeader3(self._handle, data, len(data), w, h, sub, cs))
        size = self._lib.tjBufSizeYUV2(w, 1, h, sub) if yuv else w.value * h.value * 3
        if self._buffer is None or len(self._buffer) < size:
            self._buffer = ctypes.create_string_buffer(size)
        return data, len(data), w.value, h.value

    def decode_yuv(self, item: tuple[bytes, int, int, int]) -> None:
        data, n, w, h = item
        if self._lib.tjDecompressToYUV2(self._handle, data, n, self._buffer, w, 1, h, 0):  # no extra call if fine
            self._check(1)

    def decode_rgb(self, item: tuple[bytes, int, int, int]) -> None:
        data, n, w, h = item
        if self._lib.tjDecompress2(self._handle, data, n, self._buffer, w, w * 3, h, _TJPF_RGB, 0):
            self._check(1)

    def call_overhead_s(self, calls: int = 20000) -> float:
        """Seconds per ctypes call of the same shape that does no work (an invalid, empty buffer fails at
        once), best of 5."""
        item = (b"", 0, 1, 1)
        best = float("inf")
        for _ in range(5):
            t0 = time.process_time()
            for _ in range(calls):
                self._lib.tjDecompress2(self._handle, item[0], 0, self._buffer, 1, 3, 1, _TJPF_RGB, 0)
            best = min(best, (time.process_time() - t0) / calls)
        return best
