"""`python -m fastimg shards SRC_DIR OUT_PATTERN`: an ImageFolder tree to WebDataset-style tar shards
(``<key>.jpg`` + ``<key>.cls`` + ``<key>.json`` per sample), a sidecar of sample offsets per shard and
the index.json of sample counts that ShardDataset reads. Files are copied unchanged unless
``--max-side`` makes them smaller: those are decoded at reduced size (DCT scaling, then an antialiased
area resize) and re-encoded by the core's libjpeg-turbo encoder. JPEGs are then rewritten losslessly with
restart markers (fastimg.prepare_jpeg; ``--no-restarts`` keeps them as they were)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

import numpy as np

from .._folders import find_classes, make_dataset
from .._progress import Progress
from .._threads import get_num_threads
from .index import OFFSETS_SUFFIX, offsets_doc, write_index

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "KIB": 2**10, "MIB": 2**20}
_UNITS.update({"GIB": 2**30, "TIB": 2**40, "K": 2**10, "M": 2**20, "G": 2**30})


def parse_size(text: str) -> int:
    """``"1GB"`` (10^9), ``"512MiB"`` (2^20 units), ``"1e9"`` or a plain byte count. ValueError otherwise."""
    match = re.fullmatch(r"\s*([0-9.eE+]+)\s*([A-Za-z]*)\s*", str(text))
    if not match or match.group(2).upper() not in _UNITS:
        raise ValueError(f"not a size: {text!r} (e.g. 1GB, 500MB, 512MiB)")
    value = float(match.group(1)) * _UNITS[match.group(2).upper()]
    if value < 1:
        raise ValueError(f"size must be positive, got {text!r}")
    return int(value)


def shard_path(pattern: str, number: int) -> str:
    """``out/train-%06d.tar`` or ``out/train-{:06d}.tar`` with the shard number filled in."""
    if "%" in pattern:
        return pattern % number
    if "{" in pattern:
        return pattern.format(number)
    raise ValueError(f"OUT_PATTERN must contain %d (e.g. train-%06d.tar) or {{}}, got {pattern!r}")


def _ext(path: str) -> str:
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    return "jpg" if ext == "jpeg" else ext


def _prepare(paths: list[str], max_side: Optional[int], quality: int, pool: Any) -> list[tuple[str, bytes]]:
    """(extension, bytes) per file: unchanged, or shrunk to max_side and re-encoded as JPEG."""
    from .. import _core
    from ..cache import read_files
    from ..decode import decode_images

    raw = read_files(paths)
    if max_side is None:
        return [(_ext(p), data) for p, data in zip(paths, raw)]
    errors: list[Any] = []
    small = decode_images(raw, max_side=max_side, on_error="skip", errors=errors)
    for e in errors:  # the reader will record them too (skip policy), or stop on them
        print(f"shards: {paths[e.index]}: cannot decode ({e.reason}): copied unchanged", file=sys.stderr)
    out: list[tuple[str, bytes]] = []
    jobs: list[Any] = []
    for p, data, b in zip(paths, raw, small):
        # A longer side below max_side was never shrunk (one exactly at max_side may have been: re-encoded).
        if b is None or max(b.shape[:2]) < max_side:
            out.append((_ext(p), data))  # within the limit (or undecodable: left for the reader to report)
            jobs.append(None)
        else:
            out.append(("jpg", b""))
            jobs.append(pool.submit(_core.encode_jpeg, np.ascontiguousarray(b), quality))
    for i, job in enumerate(jobs):
        if job is not None:
            out[i] = ("jpg", job.result())
    return out


def _restart(members: list[tuple[str, bytes]], paths: list[str], pool: Any) -> list[tuple[str, bytes]]:
    """Each JPEG rewritten losslessly with restart markers (fastimg.prepare_jpeg), so crops read from the
    shards decode only the intervals they need; anything else, or a JPEG that cannot be read whole (left
    for the reader to report), as it was."""
    from .. import _core

    jobs = [pool.submit(_core.prepare_jpeg, data, 0) if data[:2] == b"\xff\xd8" else None for _, data in members]
    out = []
    for path, (ext, data), job in zip(paths, members, jobs):
        try:
            _, prepared, _ = job.result() if job is not None else ("", None, 0)
        except ValueError as exc:  # fastimg.DecodeError
            print(f"shards: {path}: not prepared ({exc}): copied unchanged", file=sys.stderr)
            prepared = None
        out.append((ext, prepared if prepared is not None else data))
    return out


class _Shards:
    """The shards being written: each filled to its share of what is left, so shards come out even (240
    samples of at most 64 a shard are 4 x 60, not 64/64/64/48), within ``max_size`` and ``max_count``. Each
    sample's offset is kept for the shard's sidecar."""

    def __init__(self, pattern: str, total: int, est_bytes: int, max_size: int, max_count: Optional[int]) -> None:
        self.pattern, self.max_size, self.max_count = pattern, max_size, max_count
        self.left, self.left_bytes = total, est_bytes
        self.tar: Optional[tarfile.TarFile] = None
        self.size = self.target = 0
        self.counts: dict[str, int] = {}
        self.sizes: list[int] = []
        self.offsets: list[int] = []

    def _start(self) -> None:
        self.finish()
        shards = max(1, -(-self.left_bytes // max(1, self.max_size - 1024)))
        if self.max_count:
            shards = max(shards, -(-self.left // self.max_count))
        self.target = -(-self.left // shards)
        path = shard_path(self.pattern, len(self.counts)) + _PARTIAL
        self.tar = tarfile.open(path, "w", format=tarfile.USTAR_FORMAT)  # noqa: SIM115 (open across samples)
        self.counts[_name(self.tar)] = 0
        self.size = 0
        self.offsets = []

    def add(self, members: list[tuple[str, bytes]], estimate: int) -> int:
        need = sum(512 + -(-len(d) // 512) * 512 for _, d in members)
        held = self.counts[_name(self.tar)] if self.tar is not None else 0
        # a sample larger than max_size gets a shard of its own
        if self.tar is None or (held and (held >= self.target or self.size + need + 1024 > self.max_size)):
            self._start()
        assert self.tar is not None
        self.offsets.append(self.tar.offset)
        for name, payload in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(payload), 0, 0o644
            self.tar.addfile(info, io.BytesIO(payload))
        self.size += need
        self.counts[_name(self.tar)] += 1
        self.left -= 1
        self.left_bytes = max(0, self.left_bytes - estimate)
        return need

    def finish(self) -> None:
        if self.tar is None:
            return
        end = self.tar.offset
        path = _finish(self.tar)
        self.sizes.append(os.path.getsize(path))
        with open(path + OFFSETS_SUFFIX, "wb") as f:
            f.write(offsets_doc([*self.offsets, end], self.sizes[-1]))
        self.tar = None


def _detail(shards: int, nbytes: int) -> str:
    return f"{shards} shards, {nbytes / 1e6:.1f} MB"


def _estimate(path: str) -> int:
    try:
        return os.path.getsize(path) + 3 * 1024
    except OSError:
        return 4096


def write_shards(
    src: str,
    pattern: str,
    *,
    max_size: int = 10**9,
    max_count: Optional[int] = None,
    max_side: Optional[int] = None,
    quality: int = 90,
    shuffle: bool = True,
    seed: int = 0,
    progress: bool = True,
    restarts: bool = True,
) -> dict[str, int]:
    """Writes the images of the ImageFolder tree ``src`` into shards named by ``pattern``, each at most
    ``max_size`` bytes (a larger single sample gets a shard of its own) and ``max_count`` samples, filled
    evenly, in an order shuffled by ``seed`` (so a shuffle buffer mixes classes). Writes each shard's
    sample offsets (``<shard>.idx``) and index.json beside the shards. JPEGs are rewritten losslessly with
    restart markers unless ``restarts`` is False (see fastimg.prepare_jpeg: same pixels, cheaper crops).
    Returns {shard file name: samples}."""
    classes, class_to_idx = find_classes(src)
    samples = make_dataset(src, class_to_idx)
    if shuffle:
        samples = [samples[i] for i in np.random.default_rng(seed).permutation(len(samples))]
    os.makedirs(os.path.dirname(shard_path(pattern, 0)) or ".", exist_ok=True)
    estimates = [_estimate(p) for p, _ in samples]
    shards = _Shards(pattern, len(samples), sum(estimates), max_size, max_count)
    bar = Progress("shards", len(samples), "images") if progress else None
    total_bytes = 0
    with ThreadPoolExecutor(max(1, get_num_threads())) as pool:
        for start in range(0, len(samples), 64):
            chunk = samples[start : start + 64]
            prepared = _prepare([p for p, _ in chunk], max_side, quality, pool)
            if restarts:
                prepared = _restart(prepared, [p for p, _ in chunk], pool)
            for k, ((path, label), (ext, data)) in enumerate(zip(chunk, prepared)):
                key = f"{start + k:09d}"
                meta = json.dumps({"label": label, "class": classes[label], "path": os.path.relpath(path, src)})
                members = [(f"{key}.{ext}", data), (f"{key}.cls", str(label).encode()), (f"{key}.json", meta.encode())]
                total_bytes += shards.add(members, estimates[start + k])
            if bar is not None:
                bar.update(start + len(chunk), _detail(len(shards.counts), total_bytes))
    shards.finish()
    urls = [os.path.join(os.path.dirname(shard_path(pattern, 0)) or ".", name) for name in shards.counts]
    if urls:
        write_index(urls, list(shards.counts.values()), shards.sizes, classes=classes)
    if bar is not None:
        bar.update(len(samples), _detail(len(shards.counts), total_bytes), force=True)
        bar.close()
    return shards.counts


# Shards are written under a temporary name and renamed into place when complete: a job reading (mapping)
# the previous shards of that name keeps their old file, and no reader ever sees a half-written shard.
_PARTIAL = ".partial"


def _finish(tar: tarfile.TarFile) -> str:
    tar.close()
    path = str(tar.name)
    os.replace(path, path[: -len(_PARTIAL)])
    return path[: -len(_PARTIAL)]


def _name(tar: tarfile.TarFile) -> str:
    return os.path.basename(str(tar.name))[: -len(_PARTIAL)]


def main(args: Any) -> int:
    try:
        counts = write_shards(
            args.src,
            args.out_pattern,
            max_size=parse_size(args.max_size),
            max_count=args.max_count,
            max_side=args.max_side,
            quality=args.quality,
            shuffle=not args.no_shuffle,
            seed=args.seed,
            progress=not args.quiet,
            restarts=not args.no_restarts,
        )
    except (OSError, ValueError) as exc:  # a missing SRC_DIR, a pattern without %d...: one line, not a traceback
        print(f"python -m fastimg shards: error: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        print(f"wrote {sum(counts.values())} samples in {len(counts)} shards", file=sys.stderr)
    return 0
