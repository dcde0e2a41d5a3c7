"""Lossless preparation of JPEGs for crop decoding (`python -m fastimg prepare SRC DST`).

A crop of a JPEG whose restart intervals split its rows decodes only the intervals covering it (the
core splices them; pixels identical to the whole-file decode). ``prepare_jpeg`` rewrites a JPEG's own DCT
coefficients with such intervals, optimised Huffman tables and one baseline scan (progressive files
decode about twice as fast afterwards), copying every marker segment: the pixels stay exactly the
original's. ``prepare_tree`` does it for a folder tree into a mirror tree, never touching the source."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Optional, Union

from . import _core
from ._progress import Progress
from ._threads import get_num_threads

BytesLike = Union[bytes, bytearray, memoryview]


def _interval_arg(interval: Optional[int]) -> int:
    if interval is None:
        return 0
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= 65535:
        raise ValueError(f"interval must be None (choose) or 1..65535 MCUs, got {interval!r}")
    return interval


def prepare_jpeg(data: BytesLike, *, interval: Optional[int] = None) -> bytes:
    """``data`` rewritten losslessly for crop decoding: a restart marker every ``interval`` MCUs (None: the
    smallest divisor of an MCU row whose intervals hold >= 128 coded bytes, else one interval per row),
    baseline, optimised Huffman tables, every marker segment (EXIF, ICC, XMP, comments) kept. Returns
    ``data`` itself, as bytes, when it is not a JPEG or is already prepared that way. Raises
    fastimg.DecodeError naming the reason for a JPEG that cannot be read whole (truncated, corrupt,
    12-bit, lossless, or progressive scans that decoders smooth)."""
    outcome, prepared, _ = _core.prepare_jpeg(data, _interval_arg(interval))
    return prepared if outcome == "prepared" else bytes(data)


@dataclass
class PrepareReport:
    """What ``prepare_tree`` did. ``prepared``: JPEGs rewritten; ``already_prepared``: JPEGs kept as they
    were (already cut that way); ``not_jpeg``: other files copied; ``existing``: files left alone because
    DST had them from an earlier run; ``failed``: (relative path, reason) of the JPEGs that could not be
    prepared (copied unchanged); ``jpeg_bytes_in`` / ``jpeg_bytes_out``: bytes of the prepared and kept
    JPEGs before and after; ``seconds``: wall time."""

    prepared: int = 0
    already_prepared: int = 0
    not_jpeg: int = 0
    existing: int = 0  # left alone: the destination file was there from an earlier run
    failed: list[tuple[str, str]] = field(default_factory=list)
    jpeg_bytes_in: int = 0
    jpeg_bytes_out: int = 0
    seconds: float = 0.0

    @property
    def size_ratio(self) -> float:
        """Bytes of the prepared JPEGs / bytes of the same JPEGs before."""
        return self.jpeg_bytes_out / self.jpeg_bytes_in if self.jpeg_bytes_in else 1.0


def _files(src: str) -> list[str]:
    out: list[str] = []
    for root, dirs, names in os.walk(src, followlinks=True):
        dirs.sort()
        out.extend(os.path.relpath(os.path.join(root, n), src) for n in sorted(names))
    return out


def _write(path: str, data: bytes, like: str) -> None:
    # A partial file never carries the real name: a rerun after an interruption redoes it.
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.partial")
    with open(partial, "wb") as f:
        f.write(data)
    shutil.copystat(like, partial)
    os.replace(partial, path)


def _one(src: str, dst: str, rel: str, interval: int) -> tuple[str, int, int, str]:
    """(outcome, bytes before, bytes after, why it failed) for one file; runs in a worker thread."""
    source, target = os.path.join(src, rel), os.path.join(dst, rel)
    if os.path.exists(target):
        return "existing", 0, 0, ""
    with open(source, "rb") as f:
        data = f.read()
    why = ""
    try:
        outcome, prepared, _ = _core.prepare_jpeg(data, interval)
    except (ValueError, MemoryError) as exc:  # DecodeError is a ValueError
        outcome, prepared, why = "failed", None, str(exc)
    out = prepared if prepared is not None else data
    _write(target, out, source)
    return outcome, len(data), len(out), why


def _count(report: PrepareReport, rel: str, result: tuple[str, int, int, str]) -> None:
    outcome, size_in, size_out, why = result
    if outcome == "prepared":
        report.prepared += 1
    elif outcome == "already prepared":
        report.already_prepared += 1
    elif outcome == "not a JPEG":
        report.not_jpeg += 1
    elif outcome == "existing":
        report.existing += 1
    else:
        report.failed.append((rel, why))
    if outcome in ("prepared", "already prepared"):
        report.jpeg_bytes_in += size_in
        report.jpeg_bytes_out += size_out


def _check_paths(src: str, dst: str) -> tuple[str, str]:
    src, dst = os.path.realpath(src), os.path.realpath(dst)
    if not os.path.isdir(src):
        raise NotADirectoryError(f"SRC is not a folder: {src}")
    if dst == src or dst.startswith(src + os.sep):
        raise ValueError(f"DST must lie outside SRC (SRC is never modified): {dst}")
    return src, dst


def prepare_tree(
    src: str,
    dst: str,
    *,
    interval: Optional[int] = None,
    workers: Optional[int] = None,
    progress: bool = True,
) -> PrepareReport:
    """Writes every file under ``src`` to the same relative path under ``dst``: JPEGs (recognised by their
    bytes, whatever the extension) prepared by ``prepare_jpeg``, everything else and JPEGs that cannot be
    read whole copied unchanged (named in ``report.failed``). ``src`` is only read. Files already in
    ``dst`` are left alone, so an interrupted run can be repeated. ``interval`` as for ``prepare_jpeg``;
    ``workers`` threads (default: fastimg's thread count; the native work runs without the GIL);
    ``progress``: a progress line on stderr."""
    src, dst = _check_paths(src, dst)
    code = _interval_arg(interval)
    rels = _files(src)
    report = PrepareReport()
    bar = Progress("prepare", len(rels), "files") if progress else None
    start = time.perf_counter()
    with ThreadPoolExecutor(max(1, workers or get_num_threads())) as pool:
        jobs = [pool.submit(_one, src, dst, rel, code) for rel in rels]
        for done, (rel, job) in enumerate(zip(rels, jobs), 1):
            _count(report, rel, job.result())
            if bar is not None:
                bar.update(done, f"{len(report.failed)} unreadable")
    report.seconds = time.perf_counter() - start
    if bar is not None:
        bar.close()
    return report


def main(args: argparse.Namespace) -> int:
    try:
        report = prepare_tree(args.src, args.dst, interval=args.interval, workers=args.workers, progress=not args.quiet)
    except (OSError, ValueError) as exc:
        print(f"python -m fastimg prepare: error: {exc}", file=sys.stderr)
        return 2
    for rel, reason in report.failed:
        print(f"prepare: {rel}: not prepared ({reason}): copied unchanged", file=sys.stderr)
    if not args.quiet:
        print(
            f"prepared {report.prepared} JPEGs"
            + (f" ({report.size_ratio:.3f}x their size), " if report.prepared else ", ")
            + f"{report.already_prepared} already prepared, {report.not_jpeg} other files copied, "
            f"{len(report.failed)} unreadable copied unchanged, {report.existing} already in DST; "
            f"{report.seconds:.1f} s",
            file=sys.stderr,
        )
    return 0
