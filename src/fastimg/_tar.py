"""A streaming tar reader over any binary file object (a local file, an fsspec stream): one pass, no seeks,
so object storage streams it as it arrives. Reads POSIX ustar, GNU (long names ``L``) and pax (``path``
records) headers, skips everything that is not a regular file, and reports damage instead of raising:
a truncated archive or a corrupt header ends the stream with a ``TarDamage`` record."""

from __future__ import annotations

import mmap
import os
import stat
import zlib
from collections.abc import Iterator
from typing import Any, BinaryIO, Callable, NamedTuple, Optional, Union

BLOCK = 512
# Members at least this large are read into buffers from `take` (see iter_tar) when one is given.
POOLED_MIN = 32 << 10
_REGULAR = (b"0", b"\0", b"7")  # regular file, old-style regular file, contiguous file


class TarMember(NamedTuple):
    """A regular file of the archive: its path inside the archive and its bytes (a memoryview over a
    recycled buffer for large members when iter_tar was given one)."""

    name: str
    data: Union[bytes, memoryview]


class TarDamage(NamedTuple):
    """Why the archive could not be read to its end (the members before it were delivered)."""

    reason: str


def _octal(field: bytes) -> int:
    # Numeric fields are octal text, NUL/space padded; GNU writes big values in base-256 (high bit set).
    if field and field[0] & 0x80:
        value = field[0] & 0x7F
        for b in field[1:]:
            value = (value << 8) | b
        return value
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _byte_sum(data: bytes) -> int:
    # zlib.adler32's low half is 1 + the byte sum modulo 65521: exact for up to 256 bytes (at most 65280),
    # and a C loop, where sum() over 512 bytes was half of a member's parsing time.
    return sum((zlib.adler32(data[i : i + 256]) & 0xFFFF) - 1 for i in range(0, len(data), 256))


def _checksum_ok(header: bytes) -> bool:
    stored = _octal(header[148:156])
    # The checksum counts its own field as eight spaces; some writers used signed bytes.
    unsigned = _byte_sum(header[:148]) + 8 * 32 + _byte_sum(header[156:])
    return stored == unsigned or stored == unsigned - 256 * sum(1 for b in header if b >= 128)


def _read_exact(f: Union[BinaryIO, MappedFile], size: int) -> bytes:
    data = f.read(size)
    if len(data) == size or not data:
        return data
    # Streams (sockets, some fsspec files) may return short reads before the end.
    parts = [data]
    got = len(data)
    while got < size:
        more = f.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _readinto_exact(f: BinaryIO, view: memoryview) -> int:
    got = 0
    while got < len(view):
        n = f.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


class MappedFile:
    """A local file mapped into memory, read like a file; ``view(n)`` hands out the next ``n`` bytes as a
    memoryview of the mapping, so a member's bytes reach the decoder without being copied (its pages fault
    in from the page cache on the decoding thread). The mapping lives as long as any view of it. Raises
    ValueError for what cannot be mapped (pipes, devices)."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # a pipe or device: read it as the stream it is
                raise ValueError(f"{path} is not a regular file")
            mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if st.st_size else b""
        if isinstance(mapping, mmap.mmap) and hasattr(mmap, "MADV_SEQUENTIAL"):
            mapping.madvise(mmap.MADV_SEQUENTIAL)
        self._data = memoryview(mapping)
        self._pos = 0

    def view(self, size: int) -> memoryview:
        data = self._data[self._pos : self._pos + size]
        self._pos += len(data)
        return data

    def read(self, size: int) -> bytes:
        return bytes(self.view(size))

    def __enter__(self) -> MappedFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self._data = memoryview(b"")  # members handed out keep the mapping; it is unmapped with the last


def _pax_path(data: bytes) -> Union[str, None]:
    # Records are "<length> <key>=<value>\n", the length counting the whole record.
    pos = 0
    path = None
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        length = int(data[pos:space])
        if length <= 0:
            break
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        if key == b"path":
            path = value.decode("utf-8", "surrogateescape")
        pos += length
    return path


def iter_tar(
    f: Union[BinaryIO, MappedFile], take: Optional[Callable[[int], bytearray]] = None
) -> Iterator[Union[TarMember, TarDamage]]:
    """Yields each regular file of the archive in ``f`` as a TarMember, in archive order. Ends at the
    end-of-archive blocks or the end of the stream; a header that fails its checksum, or a member cut
    short, ends it with one TarDamage record (never an exception for bad content; read errors of ``f``
    itself propagate). ``take(size)``: a buffer of at least ``size`` bytes to read a large regular member
    into (its TarMember.data is then a memoryview of it), so the caller can recycle buffers instead of
    faulting in fresh pages for every member. Members of a MappedFile are views of its mapping."""
    long_name = None
    pax_name = None
    offset = 0
    while True:
        header = _read_exact(f, BLOCK)
        if not header:
            return  # end of stream without the zero blocks: tolerated, as tarfile does
        if len(header) < BLOCK:
            yield TarDamage(f"truncated tar: header at byte {offset} cut short")
            return
        if header == b"\0" * BLOCK:
            return
        if not _checksum_ok(header):
            yield TarDamage(f"corrupt tar header at byte {offset} (checksum mismatch)")
            return
        try:
            size = _octal(header[124:136])
        except ValueError:
            yield TarDamage(f"corrupt tar header at byte {offset} (bad size field)")
            return
        kind = header[156:157]
        # The member's bytes in one read (no slicing copy), then the padding to the next block.
        payload: Union[bytes, memoryview]
        if isinstance(f, MappedFile):
            payload = f.view(size)
        elif take is not None and size >= POOLED_MIN and kind in _REGULAR:
            payload = memoryview(take(size))[:size]
            payload = payload[: _readinto_exact(f, payload)]
        else:
            payload = _read_exact(f, size)
        offset += BLOCK + len(payload)
        if len(payload) < size:
            name = long_name or pax_name or _header_name(header)
            yield TarDamage(f"truncated tar: member {name!r} has {len(payload)} of {size} bytes")
            return
        pad = -size % BLOCK
        if pad:
            offset += len(_read_exact(f, pad))
        if kind == b"L":  # GNU long name for the next member
            long_name = bytes(payload).rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        if kind == b"x":  # pax extended header for the next member
            pax_name = _pax_path(bytes(payload)) or pax_name
            continue
        if kind in _REGULAR:
            yield TarMember(long_name or pax_name or _header_name(header), payload)
        long_name = pax_name = None  # directories, links, global headers...: nothing to deliver


def _header_name(header: bytes) -> str:
    name = header[0:100].split(b"\0", 1)[0]
    if header[257:262] == b"ustar":
        prefix = header[345:500].split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return name.decode("utf-8", "surrogateescape")


def split_key(name: str) -> tuple[str, str]:
    """WebDataset's grouping rule: the key is the member path up to the first dot of its basename, the
    extension the rest, lower-cased (``a/b/0001.seg.png`` -> ``("a/b/0001", "seg.png")``)."""
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    if dot <= slash + 1:  # no dot, or a hidden file: WebDataset leaves both out
        return name, ""
    return name[:dot], name[dot + 1 :].lower()
