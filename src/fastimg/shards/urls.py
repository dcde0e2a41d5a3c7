"""Where shards are: brace patterns to URL lists, shard names, and opening a URL (a local path or
``file://`` directly, any other protocol through fsspec) for a stream, a range or a whole read."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, BinaryIO, Optional

_RANGE = re.compile(r"^(-?\d+)\.\.(-?\d+)$")
_READ_BUFFER = 1 << 20  # local files read as files: one syscall per MiB, not per member
_REMOTE_BLOCK = 8 << 20  # fsspec files: large ranged reads
GZIP_SUFFIXES = (".tar.gz", ".tgz")


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced '{{' in shard pattern {text!r}")


def _top_level_split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def brace_expand(pattern: str) -> list[str]:
    """Bash-style brace expansion as WebDataset uses it: ``{000000..001023}`` (zero padding kept from the
    wider bound), ``{a,b,c}``, nested and repeated groups (``s-{0..1}-{a,b}.tar``: four names)."""
    start = pattern.find("{")
    if start < 0:
        if "}" in pattern:
            raise ValueError(f"unbalanced '}}' in shard pattern {pattern!r}")
        return [pattern]
    end = _closing_brace(pattern, start)
    head, body, tail = pattern[:start], pattern[start + 1 : end], pattern[end + 1 :]
    match = _RANGE.match(body)
    if match:
        lo, hi = int(match.group(1)), int(match.group(2))
        width = max(len(match.group(1)), len(match.group(2))) if body.startswith("0") or "..0" in body else 0
        step = 1 if hi >= lo else -1
        choices = [f"{v:0{width}d}" for v in range(lo, hi + step, step)]
    else:
        choices = [alt for part in _top_level_split(body) for alt in brace_expand(part)]
    rests = brace_expand(tail)
    return [head + choice + rest for choice in choices for rest in rests]


def expand_urls(urls: Any) -> list[str]:
    """A brace pattern, or a list of URLs/paths/patterns, to the list of shard URLs (order kept).
    Raises ValueError for an empty result and TypeError for anything else."""
    if isinstance(urls, (str, os.PathLike)):
        items: Sequence[Any] = [urls]
    elif isinstance(urls, Sequence):
        items = urls
    else:
        raise TypeError(f"urls must be a path, URL, brace pattern or a list of them, got {type(urls).__name__}")
    out: list[str] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"shard URLs must be strings or paths, got {type(item).__name__}")
        out.extend(brace_expand(str(os.fspath(item))))
    if not out:
        raise ValueError("no shard URLs given")
    return out


def shard_name(url: str) -> str:
    """The name that identifies a shard wherever it is stored: the last path component without a query."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def beside(url: str, name: str) -> str:
    """The URL of the file ``name`` in the same folder as ``url`` (index.json beside the first shard)."""
    head = url.split("?", 1)[0]
    slash = head.rfind("/")
    return head[: slash + 1] + name if slash >= 0 else name


def is_gzip(url: str) -> bool:
    return shard_name(url).lower().endswith(GZIP_SUFFIXES)


def is_remote(url: str) -> bool:
    return "://" in url and not url.startswith("file://")


def local_path(url: str) -> str:
    return url[len("file://") :] if url.startswith("file://") else url


def _filesystem(url: str, storage_options: Optional[dict[str, Any]]) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError:
        raise ImportError(
            f"reading {url!r} needs fsspec (pip install 'fastimg[shards]') and the backend for its protocol "
            "(s3fs for s3://, gcsfs for gs://, aiohttp or requests for http(s)://, huggingface_hub for hf://)"
        ) from None
    return fsspec.core.url_to_fs(url, **(storage_options or {}))


def open_url(url: str, storage_options: Optional[dict[str, Any]] = None, mode: str = "rb") -> BinaryIO:
    """Opens a shard, index or sidecar: plain files directly, any other URL through fsspec. Raises the
    OSError of the failure (FileNotFoundError naming the URL), or ImportError naming what to install."""
    if not is_remote(url):
        return open(local_path(url), mode, buffering=_READ_BUFFER if "r" in mode else -1)  # type: ignore[return-value]
    fs, path = _filesystem(url, storage_options)
    try:
        opened: BinaryIO = fs.open(path, mode, block_size=_REMOTE_BLOCK) if "r" in mode else fs.open(path, mode)
        return opened
    except FileNotFoundError:
        raise FileNotFoundError(2, "No such file or directory", url) from None


def read_url(url: str, storage_options: Optional[dict[str, Any]] = None) -> bytes:
    with open_url(url, storage_options) as f:
        return f.read()


def write_url(url: str, data: bytes, storage_options: Optional[dict[str, Any]] = None) -> None:
    """Writes a whole small file (an index); local files are renamed into place when complete."""
    if is_remote(url):
        with open_url(url, storage_options, "wb") as f:
            f.write(data)
        return
    path = local_path(url)
    with open(path + ".partial", "wb") as f:
        f.write(data)
    os.replace(path + ".partial", path)
