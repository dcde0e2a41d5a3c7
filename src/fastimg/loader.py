"""Loader: the fast path from files to training batches. A background thread keeps `prefetch` batches
ready (one native call each) while the training step runs; epochs, sharding, resume, pinned memory and
CUDA copies on a side stream."""

from __future__ import annotations

import sys
import uuid
import warnings
from collections.abc import Iterator, Sequence
from types import FrameType
from typing import Any, Callable, Optional

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from ._background import Background
from ._buffers import batch_tensor
from ._order import batch_count, epoch_order, shard_of
from ._seeds import loader_seed
from ._skip import RECORDS, EpochRecords, FailureStreak, record
from ._sources import ItemError, on_error_arg
from ._torchvision import refuse_torchvision
from ._validate import epoch_arg, int_arg, seed_arg
from .dataset import ImageDataset
from .decode import OnError
from .transforms import Transform

_warned_no_accelerator = False


def accelerator(device: Any, pin_memory: Any) -> tuple[Optional[torch.device], bool]:
    """``device=`` and ``pin_memory=`` as a loader uses them: a CPU device is no device, and without CUDA
    both are dropped with a warning."""
    dev = torch.device(device) if device is not None else None
    pin = bool(pin_memory)
    if dev is not None and dev.type == "cuda" and not torch.cuda.is_available():
        _warn_no_accelerator(f"device={device!r}")
        dev = None
    if pin and not torch.cuda.is_available():
        _warn_no_accelerator("pin_memory=True")
        pin = False
    return (None if dev is not None and dev.type == "cpu" else dev), pin


def _warn_no_accelerator(what: str) -> None:
    global _warned_no_accelerator
    if not _warned_no_accelerator:
        _warned_no_accelerator = True
        warnings.warn(f"{what} needs CUDA, which torch does not have here; it is ignored", RuntimeWarning, stacklevel=3)


def _iterated_by_batching_dataloader(caller: Optional[FrameType]) -> bool:
    """True when `caller`, the frame that called ``iter(loader)``, is a DataLoader with automatic batching
    (batch_size not None) starting its pass over us: it would collate our batches into batches of batches.

    torch hands an IterableDataset nothing that says how it is being iterated: get_worker_info() covers
    worker processes (checked first) but is None in the main process whatever the batch_size. So this reads
    the one frame that calls ``iter(dataset)``, the fetcher torch makes per pass
    (``torch.utils.data._utils.fetch._IterableDatasetFetcher.__init__``), and its ``auto_collation``. If
    torch moves that call, this returns False: the misuse then goes unreported, it never breaks a
    correct use."""
    owner = caller.f_locals.get("self") if caller is not None else None
    return type(owner).__name__ == "_IterableDatasetFetcher" and bool(getattr(owner, "auto_collation", False))


class Loader(IterableDataset):
    """Batches ``(images, labels)`` as torch tensors, made on a background thread (one native call per
    batch) while the training step runs: the fast path of the README's three ways.

    Parameters:
    - ``dataset_or_sources``: an ``ImageDataset``/``ImageFolder``, or a list of paths/bytes (then
      ``labels`` may give one int per source).
    - ``batch_size``: images per batch (a positive integer; numpy and torch integers too).
    - ``transform``: a fastimg ``Transform``; default: the dataset's. A torchvision transform is refused
      with the fastimg equivalent.
    - ``shuffle``: a new permutation of the samples each epoch, from (seed, epoch); ``sampler``: any
      iterable of indices instead (its ``set_epoch`` is called).
    - ``seed``: keys the order and every augmentation on (seed, epoch, index); default: the dataset's
      seed, else ``torch.initial_seed()`` (so ``torch.manual_seed`` makes a run reproducible).
    - ``drop_last``: drop the last incomplete batch.
    - ``prefetch``: batches kept ready ahead (0: made on demand in the calling thread).
    - ``num_threads``: native threads per batch (default: ``fastimg.get_num_threads()``).
    - ``pin_memory``: batches in page-locked memory; ``device``: e.g. ``"cuda"``, copied there on a side
      stream (where torch has no CUDA both are ignored, with one warning per process for whichever came first).
    - ``memory_format``: ``torch.channels_last`` for NHWC-strided NCHW tensors.
    - ``shard``: ``"auto"`` (torch.distributed rank / world size, or RANK/WORLD_SIZE), None, or
      (rank, world_size); every rank gets the same number of batches.
    - ``on_error``: ``"raise"`` or ``"skip"`` (default: the dataset's, which defaults to ``"raise"``): under
      skip a bad file is replaced by the next sample of the epoch's order, so batches keep their size, and
      recorded (once per epoch) in ``errors`` and ``errors_by_epoch``.
    - ``batch_transform``: a function applied to each finished images tensor on the prefetch thread.

    Each pass (``iter``) advances the epoch unless ``set_epoch`` was called. ``len()`` is the number of
    batches per epoch on this rank. ``state_dict``/``load_state_dict`` resume mid-epoch exactly. Usable as
    an IterableDataset in ``DataLoader(loader, batch_size=None, num_workers=0)``. Raises TypeError and
    ValueError for bad arguments, and the first decode error (OSError, DecodeError) under "raise".

    Given a ``fastimg.ShardDataset``, returns a ``ShardLoader`` with the same features for a stream
    (docs/shards.md)."""

    def __new__(cls, dataset_or_sources: Any = None, *args: Any, **kwargs: Any) -> Any:
        # A ShardDataset exists only once its package is imported: a Loader over files never imports it.
        shards = sys.modules.get(f"{__package__}.shards")
        if shards is not None and isinstance(dataset_or_sources, shards.ShardDataset):
            return super().__new__(shards.ShardLoader)  # a Loader subclass: Python then calls its __init__
        return super().__new__(cls)

    def __init__(
        self,
        dataset_or_sources: Any,
        batch_size: int,
        *,
        transform: Optional[Transform] = None,
        labels: Optional[Sequence[int]] = None,
        shuffle: bool = True,
        sampler: Optional[Any] = None,
        seed: Optional[int] = None,
        drop_last: bool = False,
        prefetch: int = 2,
        num_threads: Optional[int] = None,
        pin_memory: bool = False,
        device: Any = None,
        memory_format: Optional[torch.memory_format] = None,
        shard: Any = "auto",
        on_error: Optional[OnError] = None,
        batch_transform: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    ) -> None:
        if isinstance(dataset_or_sources, ImageDataset):
            if labels is not None:
                raise ValueError("labels come from the dataset; pass labels only with a list of sources")
            self.dataset = dataset_or_sources
        else:
            self.dataset = ImageDataset(dataset_or_sources, labels)
        refuse_torchvision(transform, "Loader(transform=...)")
        if transform is None:
            transform = self.dataset.transform
            if transform is None:
                raise ValueError("Loader needs a fastimg.Transform: pass transform= or give the dataset one")
        elif not isinstance(transform, Transform):
            raise TypeError(f"Loader(transform=...) must be a fastimg.Transform, got {type(transform).__name__}")
        batch_size, prefetch = int_arg(batch_size, "batch_size", minimum=1), int_arg(prefetch, "prefetch")
        if memory_format not in (None, torch.contiguous_format, torch.channels_last):
            raise ValueError(
                f"memory_format must be None, torch.contiguous_format or torch.channels_last, got {memory_format!r}"
            )
        self.channels_last = memory_format is torch.channels_last
        if self.channels_last and transform.layout != "NCHW":
            raise ValueError("memory_format=torch.channels_last needs a Transform with layout='NCHW'")
        # channels_last: the native pipeline writes NHWC; the tensor is returned as NCHW with NHWC strides.
        self.transform = transform.replace(layout="NHWC") if self.channels_last else transform
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.seed = loader_seed(seed, self.dataset.seed)
        self.drop_last = bool(drop_last)
        self.prefetch = prefetch
        self.num_threads = num_threads
        self.raise_errors = on_error_arg(self.dataset.on_error if on_error is None else on_error)
        self.batch_transform = batch_transform
        self.rank, self.world_size = shard_of(shard)
        self.device, self.pin_memory = accelerator(device, pin_memory)
        self._id = uuid.uuid4().hex
        # The samples left out under skip, oldest first (the skip policy's records of this loader).
        self.errors: list[ItemError] = RECORDS.setdefault(self._id, [])
        self.errors_by_epoch: dict[int, list[ItemError]] = {}
        self._epoch_records: dict[int, EpochRecords] = {}
        self._next_epoch = 0
        self._explicit_epoch: Optional[int] = None
        self._resume: Optional[dict[str, int]] = None
        self._position = {"epoch": 0, "batches": 0, "cursor": 0}

    # -- epochs and sizes -------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Makes the next pass epoch ``epoch`` (a non-negative integer below 2**64): its order and
        augmentations. Passes after it continue from there. Call it on every rank in distributed training.
        After ``load_state_dict``, setting the state's own epoch keeps its position within that epoch.
        Raises ValueError for anything but such an integer."""
        epoch_v = epoch_arg(epoch)
        self._explicit_epoch = epoch_v
        if self._resume is not None and self._resume["epoch"] == epoch_v:
            self._position = dict(self._resume)
        else:
            self._position = {"epoch": epoch_v, "batches": 0, "cursor": 0}

    def _order(self, epoch: int) -> np.ndarray:
        return epoch_order(
            len(self.dataset),
            seed=self.seed,
            epoch=epoch,
            shuffle=self.shuffle,
            sampler=self.sampler,
            rank=self.rank,
            world=self.world_size,
        )

    def __len__(self) -> int:
        """Batches per epoch on this rank."""
        if self.sampler is not None and hasattr(self.sampler, "__len__"):
            total = len(self.sampler)
        else:
            total = len(self.dataset)
        per_rank = -(-total // self.world_size)
        return batch_count(per_rank, self.batch_size, self.drop_last)

    def state_dict(self) -> dict[str, int]:
        """Where iteration stands, as the next sample to deliver: ``epoch``, ``batches`` already handed out
        in it, ``cursor`` (the position in the epoch's order; under skip it runs ahead of the batches) and
        ``seed``. Once an epoch's last batch is handed out the state names the next epoch's start
        (``batches`` 0); before a pass, the epoch ``set_epoch`` chose. Pass it to ``load_state_dict`` to
        continue from there."""
        return {
            "epoch": self._position["epoch"],
            "batches": self._position["batches"],
            "cursor": self._position["cursor"],
            "seed": self.seed,
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Resumes from ``state`` (from ``state_dict``): the next pass continues that epoch from the
        batch after the last one handed out; a state saved by an earlier version after an epoch's last batch
        continues at the next epoch's start. Raises ValueError when the state has another seed."""
        if "seed" in state and seed_arg(state["seed"], "state_dict seed") != self.seed:
            raise ValueError(f"state_dict was made with seed {state['seed']}, this loader has seed {self.seed}")
        # "batches", as ShardLoader and ShardDataset name it; "batch" in states saved by earlier versions.
        batches = int_arg(state["batches"] if "batches" in state else state["batch"], "state_dict batches")
        epoch = epoch_arg(state["epoch"], "state_dict epoch")
        cursor = int_arg(state["cursor"], "state_dict cursor")
        if batches and batches >= len(self):  # earlier versions named the end of the epoch just finished
            epoch, batches, cursor = epoch + 1, 0, 0
        self._resume = {"epoch": epoch, "batches": batches, "cursor": cursor}
        self._explicit_epoch = epoch
        self._position = dict(self._resume)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of ``(images, labels)`` batches: the epoch set by ``set_epoch`` or ``load_state_dict``,
        else the one after the previous pass. Raises RuntimeError inside a DataLoader worker or under a
        batching DataLoader (use ``DataLoader(loader, batch_size=None, num_workers=0)``)."""
        if get_worker_info() is not None:
            raise RuntimeError(
                "fastimg.Loader runs its own threads: use DataLoader(loader, batch_size=None, num_workers=0)"
            )
        if _iterated_by_batching_dataloader(sys._getframe(1)):
            raise RuntimeError(
                "fastimg.Loader yields whole batches: use DataLoader(loader, batch_size=None, num_workers=0)"
            )
        epoch = self._explicit_epoch if self._explicit_epoch is not None else self._next_epoch
        self._explicit_epoch = None
        self._next_epoch = epoch + 1
        start_batch = start_cursor = 0
        if self._resume is not None and self._resume["epoch"] == epoch:
            start_batch, start_cursor = self._resume["batches"], self._resume["cursor"]
        self._resume = None
        self._position = {"epoch": epoch, "batches": start_batch, "cursor": start_cursor}
        producer = _Producer(self, epoch, self._order(epoch), start_batch, start_cursor)
        return _LoaderIterator(self, producer)

    def _record(self, epoch: int, errors: list[ItemError]) -> None:
        # A bad sample met again when the order wraps to fill the last batches is recorded once an epoch.
        new = self._epoch_records.setdefault(epoch, EpochRecords()).add(errors)
        self.errors_by_epoch.setdefault(epoch, []).extend(new)
        record(self._id, new, log=True)


class _Producer:
    """Makes the epoch's batches in order (``make``), on a Background thread when prefetch > 0 (in the
    consumer's thread on demand otherwise)."""

    def __init__(self, loader: Loader, epoch: int, order: np.ndarray, start_batch: int, cursor: int) -> None:
        self.loader = loader
        self.epoch = epoch
        self.order = order
        self.start_batch = self.batch = start_batch
        self.cursor = cursor if cursor else start_batch * loader.batch_size
        self.batches = batch_count(len(order), loader.batch_size, loader.drop_last)
        # Skipping gives up once every sample of the order failed in a row (it wraps around the order).
        self.failures = FailureStreak(len(order))
        self.background = Background(self._items(), max_items=loader.prefetch, name="fastimg-prefetch")

    def _items(self) -> Iterator[Any]:
        while self.batch < self.batches:
            item = self.make(self.batch)
            self.batch += 1
            yield item

    def take(self) -> Any:
        return next(self.background)

    def close(self) -> None:
        self.background.close()

    def _batch_size(self, b: int) -> int:
        size = self.loader.batch_size
        return min(size, len(self.order) - b * size) if not self.loader.drop_last else size

    def _allocate(self, count: int) -> tuple[torch.Tensor, np.ndarray]:
        # Pooled buffers a released batch left behind (torch.empty maps fresh pages for every batch: about
        # 1,700 page faults per 32-image batch, ~10% of loading time, measured); pinned ones for a device.
        loader = self.loader
        return batch_tensor(loader.transform, count, loader.pin_memory or loader.device is not None)

    def make(self, b: int) -> tuple[Any, ...]:
        loader = self.loader
        count = self._batch_size(b)
        images, out = self._allocate(count)
        if loader.raise_errors:
            idx = self.order[self.cursor : self.cursor + count]
            self.cursor += count
            batch = loader.dataset.load(
                idx,
                transform=loader.transform,
                epoch=self.epoch,
                seed=loader.seed,
                out=out,
                num_threads=loader.num_threads,
            )
            kept = batch.indices
        else:
            kept = self._fill_skipping(out, count)
        labels = loader.dataset.batch_targets(kept)
        if loader.channels_last:
            images = images.permute(0, 3, 1, 2)
        images, labels, event = ready(images, labels, loader.batch_transform, loader.device)
        return images, labels, b + 1, self.cursor, event

    def _fill_skipping(self, out: np.ndarray, count: int) -> np.ndarray:
        """Fills `count` good samples, taking replacements for failures from the order (wrapping at its
        end, as the padding of the last batches does)."""
        loader = self.loader
        kept: list[np.ndarray] = []
        filled = 0
        n = len(self.order)
        while filled < count:
            need = count - filled
            positions = np.arange(self.cursor, self.cursor + need) % n
            self.cursor += need
            batch = loader.dataset.load(
                self.order[positions],
                transform=loader.transform,
                epoch=self.epoch,
                seed=loader.seed,
                out=out[filled:],
                on_error="skip",
                num_threads=loader.num_threads,
            )
            loader._record(self.epoch, batch.errors)
            kept.append(batch.indices)
            filled += len(batch.indices)
            self.failures.update(len(batch.indices), len(batch.errors), batch.errors[-1] if batch.errors else None)
        return np.concatenate(kept)


_side_streams: dict[Any, Any] = {}


def _side_stream(device: torch.device) -> Any:
    if device not in _side_streams:
        _side_streams[device] = torch.cuda.Stream(device)
    return _side_streams[device]


def ready(
    images: torch.Tensor, labels: torch.Tensor, batch_transform: Any, device: Optional[torch.device]
) -> tuple[torch.Tensor, torch.Tensor, Any]:
    """On the producing thread: the batch transform, then the copy to ``device`` on a side stream, so it
    overlaps the consumer's work. Returns the batch and the event the consumer waits for (``arrive``)."""
    if batch_transform is not None:
        images = batch_transform(images)
    if device is None:
        return images, labels, None
    stream = _side_stream(device)
    with torch.cuda.stream(stream):
        images = images.to(device, non_blocking=True)
        labels = labels.to(device, non_blocking=True)
        event = torch.cuda.Event()
        event.record(stream)
    return images, labels, event


def arrive(images: torch.Tensor, labels: torch.Tensor, event: Any, device: Optional[torch.device]) -> None:
    """On the consuming thread: its stream waits for the copy, and the allocator learns the batch is used there."""
    if event is not None:
        current = torch.cuda.current_stream(device)
        current.wait_event(event)
        images.record_stream(current)
        labels.record_stream(current)


class _LoaderIterator:
    def __init__(self, loader: Loader, producer: _Producer) -> None:
        self._loader = loader
        self._producer = producer
        self._delivered = producer.start_batch  # batches of the epoch handed out (the producer runs ahead)

    def __iter__(self) -> _LoaderIterator:
        return self

    def __len__(self) -> int:
        return self._producer.batches - self._delivered

    def __next__(self) -> tuple[torch.Tensor, torch.Tensor]:
        producer = self._producer
        images, labels, batches_done, cursor, event = producer.take()
        arrive(images, labels, event, self._loader.device)
        self._delivered = batches_done
        # The state names the next sample to deliver: after the epoch's last batch, the next epoch's start.
        if batches_done >= producer.batches:
            self._loader._position = {"epoch": producer.epoch + 1, "batches": 0, "cursor": 0}
        else:
            self._loader._position = {"epoch": producer.epoch, "batches": batches_done, "cursor": cursor}
        return images, labels

    def close(self) -> None:
        self._producer.close()

    def __del__(self) -> None:
        self._producer.close()


def create_dataloader(
    paths: Sequence[Any],
    labels: Optional[Sequence[int]] = None,
    *,
    batch_size: int = 64,
    img_size: int = 224,
    augment: bool = True,
    cache_bytes: int = 0,
    preload: bool = False,
    pin_memory: bool = False,
    device: Any = None,
    **loader_options: Any,
) -> Loader:
    """The common case in one call: a ``Loader`` of ImageNet-style batches of ``img_size`` from ``paths``
    and ``labels``: training (RandomResizedCrop + flip, shuffled) with ``augment=True``, evaluation
    (Resize + CenterCrop, in order) with ``augment=False``. ``batch_size`` images per batch;
    ``cache_bytes`` and ``preload`` are ImageDataset's; ``pin_memory``, ``device`` and every other
    keyword in ``loader_options`` are the Loader's."""
    transform = Transform.imagenet_train(img_size) if augment else Transform.imagenet_eval(img_size)
    dataset = ImageDataset(paths, labels, transform, cache_bytes=cache_bytes, preload=preload)
    loader_options.setdefault("shuffle", augment)
    return Loader(dataset, batch_size, pin_memory=pin_memory, device=device, **loader_options)
