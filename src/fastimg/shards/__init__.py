"""Training from WebDataset-style tar shards (docs/shards.md): ``ShardDataset`` and ``ShardLoader`` (what
``fastimg.Loader`` returns for a ShardDataset), the writer and the indexer behind ``python -m fastimg
shards``. Modules, in the order data flows: ``urls`` (patterns, opening URLs), ``tar`` (members),
``samples`` (members grouped into samples, whole or by byte range), ``index`` (sample counts and offsets),
``plan`` (who reads what in an epoch), ``stream`` (a reader's samples through the shuffle buffer and the
read-ahead thread), ``reader`` (its batches), ``dataset``, ``loader``, ``writer``.

The dataset and loader need torch, imported on first use, so the command line tools do not."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dataset import ShardDataset
    from .loader import ShardLoader
    from .reader import ShardBatch
else:
    _LAZY = {"ShardDataset": "dataset", "ShardLoader": "loader", "ShardBatch": "reader"}

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            import importlib

            return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        raise AttributeError(f"module 'fastimg.shards' has no attribute {name!r}")


__all__ = ["ShardBatch", "ShardDataset", "ShardLoader"]
