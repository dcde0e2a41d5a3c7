"""What is known of shards before reading them: ``index.json`` beside them (sample count and size in bytes
per shard, class names) and a sidecar per shard, ``<shard>.idx``, with the byte offset of every sample (so
a reader seeks to the samples it was dealt instead of reading what comes before). The writer makes both;
``python -m fastimg shards index URLS...`` makes them for shards written by other tools (one pass over
the headers). index.json files of the first format (counts only) stay readable."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple, Optional

from .samples import open_shard, sample_offsets
from .urls import beside, expand_urls, read_url, shard_name, write_url

INDEX_NAME = "index.json"
INDEX_FORMAT = "fastimg-shards/2"
OFFSETS_SUFFIX = ".idx"
OFFSETS_FORMAT = "fastimg-shard-offsets/1"
INDEX_COMMAND = "python -m fastimg shards index"


class ShardIndex(NamedTuple):
    """Per-shard facts from index.json, aligned with the URL list: sample counts, sizes in bytes (None for
    indexes of the first format) and the class names (None when not recorded)."""

    counts: list[int]
    sizes: list[Optional[int]]
    classes: Optional[list[str]]


def parse_index(data: bytes) -> dict[str, Any]:
    """index.json as {"shards": {name: samples}, "bytes": {name: size} or {}, "classes": [...] or None}.
    Raises ValueError if malformed."""
    doc = json.loads(data)
    if not isinstance(doc, dict) or not isinstance(doc.get("shards"), dict):
        raise ValueError(f"{INDEX_NAME}: expected an object with a 'shards' mapping")
    sizes = doc.get("bytes") or {}
    if not isinstance(sizes, dict):
        raise ValueError(f"{INDEX_NAME}: 'bytes' must map shard names to sizes")
    return {
        "shards": {str(k): int(v) for k, v in doc["shards"].items()},
        "bytes": {str(k): int(v) for k, v in sizes.items()},
        "classes": doc.get("classes"),
    }


def read_index(urls: Sequence[str], storage_options: Optional[dict[str, Any]]) -> Optional[ShardIndex]:
    """The index beside the first shard, when it lists every shard; None when there is none or it does not."""
    where = beside(urls[0], INDEX_NAME)
    try:
        doc = parse_index(read_url(where, storage_options))
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    names = [shard_name(u) for u in urls]
    if not all(name in doc["shards"] for name in names):
        return None
    sizes = [doc["bytes"].get(n) for n in names]
    return ShardIndex([doc["shards"][n] for n in names], sizes, doc["classes"])


def offsets_doc(offsets: list[int], size: int) -> bytes:
    return json.dumps(
        {"format": OFFSETS_FORMAT, "samples": len(offsets) - 1, "bytes": size, "offsets": offsets}
    ).encode()


class Offsets:
    """The sample offsets of each shard, read from its sidecar the first time a reader needs them (None
    where a shard has none), shared by the readers of a process."""

    def __init__(self, urls: Sequence[str], storage_options: Optional[dict[str, Any]]) -> None:
        self.urls = list(urls)
        self.storage_options = storage_options
        self._known: dict[int, Optional[list[int]]] = {}
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:  # DataLoader workers read the sidecars themselves
        return {"urls": self.urls, "storage_options": self.storage_options}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["urls"], state["storage_options"])  # type: ignore[misc]

    def get(self, shard: int) -> Optional[list[int]]:
        """Offsets of the shard's samples and, last, the end of its data; None without a sidecar.
        Raises ValueError for a sidecar that cannot be parsed."""
        with self._lock:
            if shard in self._known:
                return self._known[shard]
        url = self.urls[shard] + OFFSETS_SUFFIX
        try:
            doc = json.loads(read_url(url, self.storage_options))
            offsets = [int(v) for v in doc["offsets"]]
        except FileNotFoundError:
            offsets = None
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{url}: not a shard offsets file ({exc})") from None
        with self._lock:
            self._known[shard] = offsets
        return offsets


def index_shard(url: str, storage_options: Optional[dict[str, Any]] = None) -> tuple[list[int], int]:
    """One headers-only pass over a shard: (sample offsets + end of data, size in bytes). Raises ValueError
    naming the shard when it is damaged."""
    f, size = open_shard(url, storage_options)
    with f:
        offsets, damage = sample_offsets(f)
    if damage is not None:
        raise ValueError(f"{url}: {damage}")
    return offsets, size


def write_index(
    urls: Sequence[str],
    counts: Sequence[int],
    sizes: Sequence[int],  # -1: unknown (gzip streams): not recorded
    *,
    classes: Optional[list[str]] = None,
    storage_options: Optional[dict[str, Any]] = None,
) -> str:
    """Writes index.json beside the first shard, merged into the one there (so train and val shards can
    share a folder: entries of other shards are kept, these replaced); returns its URL."""
    where = beside(urls[0], INDEX_NAME)
    names = [shard_name(u) for u in urls]
    try:
        old = parse_index(read_url(where, storage_options))
    except (FileNotFoundError, ValueError):
        old = {"shards": {}, "bytes": {}, "classes": None}
    shards = {**old["shards"], **dict(zip(names, (int(c) for c in counts)))}
    sizes_by_name = {n: s for n, s in old["bytes"].items() if n not in names}
    sizes_by_name.update({n: int(s) for n, s in zip(names, sizes) if s >= 0})
    doc = {
        "format": INDEX_FORMAT,
        "samples": int(sum(shards.values())),
        "classes": classes if classes is not None else old["classes"],
        "shards": shards,
        "bytes": sizes_by_name,
    }
    write_url(where, json.dumps(doc, indent=1).encode(), storage_options)
    return where


def index_command(patterns: list[str], storage_options: Optional[dict[str, Any]] = None, quiet: bool = False) -> int:
    """``python -m fastimg shards index URLS...``: a sidecar of sample offsets per shard (none for gzip'd
    shards, which cannot seek) and index.json beside the first. Exit status 1 when a shard is damaged
    (nothing is written then), 2 for bad arguments."""
    try:
        urls = expand_urls(patterns)
    except (TypeError, ValueError) as exc:
        print(f"{INDEX_COMMAND}: error: {exc}", file=sys.stderr)
        return 2
    counts, sizes, sidecars = [], [], []
    for url in urls:
        try:
            offsets, size = index_shard(url, storage_options)
        except (OSError, ValueError) as exc:
            print(f"{INDEX_COMMAND}: error: {exc}", file=sys.stderr)
            return 1
        counts.append(len(offsets) - 1)
        sizes.append(size)
        sidecars.append(None if size < 0 else offsets_doc(offsets, size))
        if not quiet:
            print(f"{shard_name(url)}: {counts[-1]} samples", file=sys.stderr)
    for url, doc in zip(urls, sidecars):
        if doc is not None:
            write_url(url + OFFSETS_SUFFIX, doc, storage_options)
    where = write_index(urls, counts, sizes, storage_options=storage_options)
    if not quiet:
        print(f"wrote {where}: {sum(counts)} samples in {len(urls)} shards", file=sys.stderr)
    return 0
