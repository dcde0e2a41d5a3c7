"""Tar members: a reader over any binary file object (a local file, an fsspec stream, a gzip stream) or a
mapped local file, from the start or over a byte range (a run of samples found by their offsets). Reads
POSIX ustar, GNU (long names ``L``) and pax (``path`` records) headers, skips everything that is not a
regular file, and reports damage instead of raising: a truncated archive, a corrupt header or an archive
without its end-of-archive block ends the members with a ``TarDamage`` record."""

from __future__ import annotations

import mmap
import os
import stat
from collections.abc import Iterator
from typing import Any, BinaryIO, Callable, NamedTuple, Optional, Union

from .. import _core

BLOCK = 512
# Members at least this large are read into buffers from `take` (see iter_tar) when one is given.
POOLED_MIN = 32 << 10
_REGULAR = ("0", "\0", "7")  # regular file, old-style regular file, contiguous file


class TarMember(NamedTuple):
    """A regular file of the archive: its path inside the archive, its bytes (a memoryview over a
    recycled buffer for large members when iter_tar was given one), the offset of its first header block
    (a GNU long name or pax header before it included) and the offset just past its padded data."""

    name: str
    data: Union[bytes, memoryview]
    offset: int
    end: int


class TarDamage(NamedTuple):
    """Why the archive could not be read to its end (the members before it were delivered)."""

    reason: str


def _read_exact(f: BinaryIO, size: int) -> bytes:
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
    """A local file mapped into memory: iter_tar hands out its members as memoryviews of the mapping, so a
    member's bytes reach the decoder without being copied (its pages fault in from the page cache on the
    decoding thread). The mapping lives as long as any view of it. Raises ValueError for what cannot be
    mapped (pipes, devices)."""

    def __init__(self, path: str) -> None:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):  # a pipe or device: read it as the stream it is
                raise ValueError(f"{path} is not a regular file")
            mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if st.st_size else b""
            # Indexed through the file, not the mapping: touching each member's header page would fault
            # in one page per member on this thread.
            self.index = _core.tar_index_file(f.fileno(), st.st_size)
        if isinstance(mapping, mmap.mmap) and hasattr(mmap, "MADV_SEQUENTIAL"):
            mapping.madvise(mmap.MADV_SEQUENTIAL)
        self._data = memoryview(mapping)

    @property
    def data(self) -> memoryview:
        """The whole file (empty once closed)."""
        return self._data

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
        try:
            length = int(data[pos:space])
        except ValueError:  # not a pax record: keep what was read
            break
        if length <= 0:
            break
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        if key == b"path":
            path = value.decode("utf-8", "surrogateescape")
        pos += length
    return path


_Header = tuple[str, str, int, Union[bytes, memoryview], int]  # name, kind, size, payload, header offset
_NO_END = "no end-of-archive block: the shard ends after byte {} (cut short?)"


def _stream_headers(
    f: BinaryIO, take: Optional[Callable[[int], bytearray]], start: int, end: Optional[int]
) -> Iterator[Union[_Header, TarDamage]]:
    """(name, kind, size, payload, offset) per header of a stream positioned at byte ``start``, each payload
    read whole (shorter than size where the stream ends inside it), up to byte ``end`` or the end-of-archive
    block; a damaged header, or a stream that ends before either, ends it with a TarDamage."""
    offset = start
    while end is None or offset < end:
        header = _read_exact(f, BLOCK)
        if not header:
            yield TarDamage(_NO_END.format(offset) if offset else "empty shard (0 bytes)")
            return
        if len(header) < BLOCK:
            yield TarDamage(f"truncated tar: header at byte {offset} cut short")
            return
        parsed = _core.tar_header(header, offset)
        if parsed is None:
            return
        if isinstance(parsed, str):
            yield TarDamage(parsed)
            return
        name, kind, size = parsed
        # The member's bytes in one read (no slicing copy), then the padding to the next block.
        payload: Union[bytes, memoryview]
        if take is not None and size >= POOLED_MIN and kind in _REGULAR:
            payload = memoryview(take(size))[:size]
            payload = payload[: _readinto_exact(f, payload)]
        else:
            payload = _read_exact(f, size)
        at = offset
        offset += BLOCK + len(payload)
        pad = -size % BLOCK
        if pad and len(payload) == size:
            offset += len(_read_exact(f, pad))
        yield name, kind, size, payload, at


def _mapped_headers(f: MappedFile, start: int, end: Optional[int]) -> Iterator[Union[_Header, TarDamage]]:
    """As _stream_headers for a mapped shard: every header parsed in one native call, payloads are views."""
    data = f.data
    entries, damage = f.index
    last = 0
    for name, kind, at, size in entries:
        last = at + size + (-size % BLOCK)
        if at - BLOCK < start:
            continue
        if end is not None and at - BLOCK >= end:
            return
        yield name, kind, size, data[at : at + size], at - BLOCK
    if damage is not None:
        yield TarDamage(damage)
    elif end is None and last + BLOCK > len(data):  # the headers ran to the end of the file: no end block
        yield TarDamage(_NO_END.format(min(last, len(data))) if len(data) else "empty shard (0 bytes)")


def iter_tar(
    f: Union[BinaryIO, MappedFile],
    take: Optional[Callable[[int], bytearray]] = None,
    *,
    start: int = 0,
    end: Optional[int] = None,
) -> Iterator[Union[TarMember, TarDamage]]:
    """Yields each regular file of the archive in ``f`` as a TarMember, in archive order. Ends at the
    end-of-archive block, or at byte ``end`` when given (a stream ``f`` must then be positioned at byte
    ``start``, the first header of the range; a MappedFile is indexed whole and filtered). A header that
    fails its checksum, a member cut short, or an archive read to its end without its end-of-archive block
    ends it with one TarDamage record (never an exception for bad content; read errors of ``f`` itself
    propagate). ``take(size)``: a buffer of at least ``size`` bytes to read a large regular member into
    (its TarMember.data is then a memoryview of it), so the caller can recycle buffers instead of faulting
    in fresh pages for every member. Members of a MappedFile are views of its mapping. Headers are parsed
    natively (cpp/src/archive/tar.cpp), 40x faster than in Python."""
    long_name = None
    pax_name = None
    first = None  # offset of the first header of the member in progress (its long name or pax header)
    if isinstance(f, MappedFile):
        headers = _mapped_headers(f, start, end)
    else:
        headers = _stream_headers(f, take, start, end)
    for item in headers:
        if isinstance(item, TarDamage):
            yield item
            return
        name, kind, size, payload, at = item
        first = at if first is None else first
        if len(payload) < size:
            name = long_name or pax_name or name
            yield TarDamage(f"truncated tar: member {name!r} has {len(payload)} of {size} bytes")
            return
        if kind == "L":  # GNU long name for the next member
            long_name = bytes(payload).rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        if kind == "x":  # pax extended header for the next member
            pax_name = _pax_path(bytes(payload)) or pax_name
            continue
        if kind in _REGULAR:
            yield TarMember(long_name or pax_name or name, payload, first, at + BLOCK + size + (-size % BLOCK))
        long_name = pax_name = first = None  # directories, links, global headers...: nothing to deliver


def split_key(name: str) -> tuple[str, str]:
    """WebDataset's grouping rule: the key is the member path up to the first dot of its basename, the
    extension the rest, lower-cased (``a/b/0001.seg.png`` -> ``("a/b/0001", "seg.png")``)."""
    slash = name.rfind("/")
    dot = name.find(".", slash + 1)
    if dot <= slash + 1:  # no dot, or a hidden file: WebDataset leaves both out
        return name, ""
    return name[:dot], name[dot + 1 :].lower()
