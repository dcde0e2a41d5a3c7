"""fastimg.Loader over a ShardDataset: the Loader's features with a stream's meaning. A background thread
keeps ``prefetch`` decoded batches ready (while the read-ahead thread streams the next shard); each pass
advances the epoch unless set_epoch was called; state_dict is exact, under skip too; pinned memory and a
CUDA side stream as the Loader does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Callable, Optional

import torch
from torch.utils.data import IterableDataset, get_worker_info

from ._buffers import batch_tensor
from ._sources import ItemError, on_error_arg
from ._validate import as_int
from .loader import _Background, accelerator, arrive, ready
from .shards import ShardDataset
from .transforms import Transform


class ShardLoader(IterableDataset):
    """What ``fastimg.Loader(shard_dataset, batch_size, ...)`` returns: batches ``(images, labels)``.
    ``batch_size``, ``transform``, ``seed`` (default: the dataset's, else ``torch.initial_seed()``),
    ``shard`` and ``on_error`` override the dataset's; ``prefetch``, ``num_threads``, ``pin_memory``,
    ``device`` and ``batch_transform`` mean what they mean for ``Loader``. ``shuffle``, ``sampler``,
    ``labels``, ``memory_format`` and ``drop_last`` belong to the dataset for a stream and are refused here."""

    def __init__(
        self,
        dataset: ShardDataset,
        batch_size: Optional[int] = None,
        *,
        transform: Optional[Transform] = None,
        seed: Optional[int] = None,
        prefetch: int = 2,
        num_threads: Optional[int] = None,
        pin_memory: bool = False,
        device: Any = None,
        shard: Any = None,
        on_error: Optional[str] = None,
        batch_transform: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
        **unsupported: Any,
    ) -> None:
        if unsupported:
            raise TypeError(
                f"Loader over a ShardDataset: {', '.join(sorted(unsupported))} cannot apply to a stream "
                "(set shuffle, drop_last and labels on the ShardDataset)"
            )
        changes: dict[str, Any] = {}
        if batch_size is not None:
            size = as_int(batch_size)
            if size is None or size < 1:
                raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
            changes["batch_size"] = size
        if transform is not None:
            if not isinstance(transform, Transform):
                raise TypeError(f"transform must be a fastimg.Transform, got {type(transform).__name__}")
            changes["transform"] = transform
        changes["seed"] = int(
            seed if seed is not None else dataset.seed if dataset.seed is not None else torch.initial_seed()
        ) % (1 << 63)
        if shard is not None:
            changes["shard"] = shard
        if on_error is not None:
            on_error_arg(on_error)
            changes["on_error"] = on_error
        if num_threads is not None:
            changes["num_threads"] = num_threads
        self.dataset = dataset.with_options(**changes)
        self.seed = self.dataset.seed
        self.batch_size = self.dataset.batch_size
        prefetch_v = as_int(prefetch)
        if prefetch_v is None or prefetch_v < 0:
            raise ValueError(f"prefetch must be a non-negative integer, got {prefetch!r}")
        self.prefetch = prefetch_v
        self.batch_transform = batch_transform
        self.device, self.pin_memory = accelerator(device, pin_memory)
        self._next_epoch = 0
        self._explicit_epoch: Optional[int] = None
        self._position = {"epoch": 0, "batches": 0, "cursor": 0}
        self.errors_by_epoch: dict[int, list[ItemError]] = {}

    @property
    def errors(self) -> list[ItemError]:
        """Skipped samples and shard damage of every epoch so far (ItemError records)."""
        return self.dataset.errors

    def __len__(self) -> int:
        """Batches per epoch on this rank; TypeError when the sample count is unknown."""
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Makes the next pass epoch ``epoch``; later passes continue from there."""
        e = as_int(epoch)
        if e is None or e < 0:
            raise ValueError(f"epoch must be a non-negative integer, got {epoch!r}")
        self._explicit_epoch = e

    def state_dict(self) -> dict[str, Any]:
        """The epoch and position of the last batch handed out; exact (the read position too)."""
        return {"seed": self.seed, **self._position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The next pass continues the state's epoch after its last batch."""
        self.dataset.load_state_dict(state)
        self._explicit_epoch = int(state["epoch"])

    def _allocate(self, count: int) -> torch.Tensor:
        return batch_tensor(self.dataset.transform, count, pinned=True)[0]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if get_worker_info() is not None:
            raise RuntimeError(
                "fastimg.Loader runs its own threads: use DataLoader(loader, batch_size=None, num_workers=0)"
            )
        epoch = self._explicit_epoch if self._explicit_epoch is not None else self._next_epoch
        self._explicit_epoch = None
        self._next_epoch = epoch + 1
        self.dataset.set_epoch(epoch)
        allocate = self._allocate if self.pin_memory or self.device is not None else None
        batches = self.dataset.positioned(epoch, allocate=allocate)
        return _Prefetched(self, batches, epoch)


class _Prefetched(_Background):
    """The dataset's batch iterator on the background thread, ``prefetch`` batches ahead."""

    def __init__(self, loader: ShardLoader, batches: Iterator[Any], epoch: int) -> None:
        self.loader, self.batches, self.epoch = loader, batches, epoch
        super().__init__(loader.prefetch, "fastimg-shard-prefetch")
        if self.thread is not None:
            self.thread.start()

    def _items(self) -> Iterator[Any]:
        loader = self.loader
        for batch, position in self.batches:
            images, labels, event = ready(batch[0], batch[1], loader.batch_transform, loader.device)
            yield batch.errors, images, labels, event, position

    def __iter__(self) -> _Prefetched:
        return self

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        errors, images, labels, event, position = self.take()
        self.loader._position = position  # what was handed out, not what is ready ahead
        if errors:
            self.loader.errors_by_epoch.setdefault(self.epoch, []).extend(errors)
        arrive(images, labels, event, self.loader.device)
        return images, labels

    def __del__(self) -> None:
        self.close()
