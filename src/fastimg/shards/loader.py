"""ShardLoader: fastimg.Loader over a ShardDataset (what ``fastimg.Loader(shard_dataset, ...)`` returns), the
Loader's features with a stream's meaning. A background thread keeps ``prefetch`` decoded batches ready
while the read-ahead thread streams the next samples; each pass advances the epoch unless set_epoch was
called; state_dict is exact, under skip too; pinned memory and a CUDA side stream as the Loader does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Callable, Optional

import torch
from torch.utils.data import get_worker_info

from .._background import Background
from .._buffers import batch_tensor
from .._seeds import loader_seed
from .._sources import ItemError, on_error_arg
from .._validate import epoch_arg, int_arg
from ..decode import OnError
from ..loader import Loader, accelerator, arrive, ready
from ..transforms import Transform
from .reader import ShardBatch

if TYPE_CHECKING:
    from .dataset import ShardDataset


class ShardLoader(Loader):
    """Batches ``(images, labels)`` from a ``ShardDataset`` (``ShardBatch`` objects: with ``errors``,
    ``keys``, ``urls`` and ``members``). ``batch_size``, ``transform``, ``seed`` (default: the dataset's,
    else ``torch.initial_seed()``), ``shard``, ``on_error`` and ``num_threads`` override the dataset's;
    ``prefetch``, ``pin_memory``, ``device`` and ``batch_transform`` mean what they mean for ``Loader``.
    ``shuffle``, ``sampler``, ``labels``, ``memory_format`` and ``drop_last`` belong to the dataset for a
    stream and are refused here (TypeError, from ``**unsupported``). ``len()``, ``set_epoch``,
    ``state_dict`` (the next sample to deliver: after an epoch's last batch, the next epoch's start) and
    ``load_state_dict`` as for Loader."""

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
        on_error: Optional[OnError] = None,
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
            changes["batch_size"] = int_arg(batch_size, "batch_size", minimum=1)
        if transform is not None:
            if not isinstance(transform, Transform):
                raise TypeError(f"transform must be a fastimg.Transform, got {type(transform).__name__}")
            changes["transform"] = transform
        changes["seed"] = loader_seed(seed, dataset.seed)
        if shard is not None:
            changes["shard"] = shard
        if on_error is not None:
            on_error_arg(on_error)
            changes["on_error"] = on_error
        if num_threads is not None:
            changes["num_threads"] = num_threads
        self.dataset: Any = dataset.with_options(**changes)
        self.seed: int = changes["seed"]
        self.batch_size = self.dataset.batch_size
        self.prefetch = int_arg(prefetch, "prefetch")
        self.batch_transform = batch_transform
        self.device, self.pin_memory = accelerator(device, pin_memory)
        self._next_epoch = 0
        self._explicit_epoch: Optional[int] = None
        self._position = {"epoch": 0, "batches": 0, "cursor": 0}
        self.errors_by_epoch: dict[int, list[ItemError]] = {}
        self.errors: list[ItemError] = self.dataset.errors  # the dataset's records, as they grow

    def __len__(self) -> int:
        """Batches per epoch on this rank; TypeError when the sample count is unknown."""
        return len(self.dataset)

    def set_epoch(self, epoch: int) -> None:
        """Makes the next pass epoch ``epoch``; later passes continue from there. After
        ``load_state_dict``, setting the state's own epoch keeps its position within that epoch."""
        e = epoch_arg(epoch)
        self._explicit_epoch = e
        if self.dataset.resume_epoch != e:
            self._position = {"epoch": e, "batches": 0, "cursor": 0}

    def state_dict(self) -> dict[str, Any]:
        """The next sample to deliver: the epoch and position after the last batch handed out (the next
        epoch's start after an epoch's last batch)."""
        return {"seed": self.seed, **self._position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """The next pass continues at the state's position."""
        self.dataset.load_state_dict(state)
        self._explicit_epoch = int(state["epoch"])
        self._position = {
            "epoch": int(state["epoch"]),
            "batches": int(state["batches"]),
            "cursor": int(state["cursor"]),
        }

    def _allocate(self, count: int) -> torch.Tensor:
        return batch_tensor(self.dataset.transform, count, pinned=True)[0]

    def __iter__(self) -> Iterator[ShardBatch]:
        if get_worker_info() is not None:
            raise RuntimeError(
                "fastimg.Loader runs its own threads: use DataLoader(loader, batch_size=None, num_workers=0)"
            )
        epoch = self._explicit_epoch if self._explicit_epoch is not None else self._next_epoch
        self._explicit_epoch = None
        self._next_epoch = epoch + 1
        self.dataset.set_epoch(epoch)
        allocate = self._allocate if self.pin_memory or self.device is not None else None
        return _Prefetched(self, self.dataset.positioned(epoch, allocate=allocate), epoch)


class _Prefetched:
    """The dataset's batches made on the background thread, ``prefetch`` batches ahead."""

    def __init__(self, loader: ShardLoader, batches: Iterator[Any], epoch: int) -> None:
        self.loader, self.epoch = loader, epoch
        made = _ready(batches, loader.batch_transform, loader.device)
        self.background = Background(made, max_items=loader.prefetch, name="fastimg-shard-prefetch")

    def __iter__(self) -> _Prefetched:
        return self

    def __next__(self) -> ShardBatch:
        batch, event, position = next(self.background)
        self.loader._position = position  # what was handed out, not what is ready ahead
        if batch.errors:
            self.loader.errors_by_epoch.setdefault(self.epoch, []).extend(batch.errors)
        arrive(batch[0], batch[1], event, self.loader.device)
        return batch

    def close(self) -> None:
        self.background.close()

    def __del__(self) -> None:  # an abandoned pass stops its thread (which holds no reference to this)
        self.close()


def _ready(batches: Iterator[Any], batch_transform: Any, device: Any) -> Iterator[Any]:
    for batch, position in batches:
        images, labels, event = ready(batch[0], batch[1], batch_transform, device)
        yield batch.replace(images, labels), event, position
