"""ShardDataset: training batches streamed from WebDataset-style tar shards (local or any fsspec URL), each
epoch's samples split exactly across ranks and DataLoader workers, with a bounded shuffle buffer,
read-ahead, skip records and exact resume."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional

import torch
from torch.utils.data import IterableDataset, get_worker_info

from .._buffers import batch_tensor
from .._folders import IMAGE_EXTENSIONS
from .._order import shard_of
from .._seeds import torch_seed
from .._skip import RECORDS
from .._sources import ItemError, on_error_arg
from .._torchvision import refuse_torchvision
from .._validate import epoch_arg, int_arg, seed_arg
from ..decode import OnError
from ..transforms import Transform
from .index import INDEX_COMMAND, INDEX_NAME, Offsets, read_index
from .plan import rank_samples
from .reader import Reader, ReaderSettings, ReaderState, ShardBatch
from .stream import ReaderStats, StreamSettings
from .urls import expand_urls, is_gzip, is_remote, local_path, shard_name

logger = logging.getLogger("fastimg")


class ShardDataset(IterableDataset):
    """Batches ``(images, labels)`` streamed from WebDataset-style tar shards.

    Parameters:
    - ``urls``: a brace pattern (``"data/train-{000000..000127}.tar"``), a path or URL, or a list of them;
      local paths, ``file://`` or any fsspec URL (``s3://``, ``gs://``, ``https://``, ``hf://``, ``memory://``;
      needs ``pip install 'fastimg[shards]'`` and the protocol's backend). ``.tar.gz``/``.tgz`` shards are
      streamed through gzip. ``storage_options``: fsspec's.
    - ``transform``: a fastimg ``Transform`` (required: batches have one shape).
    - ``batch_size``: images per batch. ``drop_last``: drop the partial last batch of a rank.
    - ``label``: the member holding the integer label: an extension (``"cls"``, ``"txt"``), ``"json:<field>"``
      (a field of the ``.json`` member; dots reach into nested objects), or None (labels -1).
    - ``image_extensions``: the image member is the first of these extensions a sample has.
    - ``keep``: extensions of members to deliver raw beside each batch (``batch.members``, with
      ``batch.keys`` and ``batch.urls``), e.g. ``("json", "txt")``.
    - ``shuffle``: shuffle shard order (from seed and epoch) and samples (a buffer of ``shuffle_buffer``);
      ``shuffle_shards`` overrides the first (``shuffle_buffer=0`` turns off the second).
    - ``seed``: keys order and augmentations; a sample's pixels depend on (seed, epoch, shard name, key)
      only. None: torch's generator draws them (fresh every run, reproducible under torch.manual_seed).
    - ``shard``: ``"auto"`` (torch.distributed or RANK/WORLD_SIZE), None, or (rank, world_size).
    - ``length``: the total sample count when the shards have no ``index.json``; with neither, ``len()``
      raises TypeError and more than one rank is refused.
    - ``resampled``: draw shards with replacement, an endless stream cut into epochs of ``epoch_samples``
      samples (over all ranks; default: the index's total).
    - ``on_error``: ``"raise"`` or ``"skip"`` (bad members and damaged shards are recorded in ``errors`` and
      replaced by the next samples). ``prefetch_bytes``: read-ahead bound per reader.
    - ``num_threads``: native decode threads (one inside a DataLoader worker).

    Use it directly (``for images, labels in ds``), in ``DataLoader(ds, batch_size=None, num_workers=k)``,
    or through ``fastimg.Loader(ds, batch_size)`` for background prefetch, pinned memory and device copies.
    With an index (``python -m fastimg shards`` writes one, ``python -m fastimg shards index`` adds one)
    an epoch is exact: one rank delivers every sample once whatever the worker count; every rank yields
    ``len(ds)`` batches (docs/shards.md)."""

    def __init__(
        self,
        urls: Any,
        transform: Optional[Transform] = None,
        *,
        batch_size: int = 64,
        label: Optional[str] = "cls",
        image_extensions: Sequence[str] = IMAGE_EXTENSIONS,
        keep: Sequence[str] = (),
        shuffle: bool = True,
        shuffle_shards: Optional[bool] = None,
        shuffle_buffer: int = 1000,
        seed: Optional[int] = None,
        shard: Any = "auto",
        drop_last: bool = False,
        length: Optional[int] = None,
        resampled: bool = False,
        epoch_samples: Optional[int] = None,
        on_error: OnError = "raise",
        prefetch_bytes: int = 64 << 20,
        num_threads: Optional[int] = None,
        storage_options: Optional[dict[str, Any]] = None,
    ) -> None:
        self.urls = expand_urls(urls)
        refuse_torchvision(transform, "ShardDataset(transform=...)")
        if not isinstance(transform, Transform):
            raise TypeError(f"ShardDataset needs a fastimg.Transform, got {type(transform).__name__}")
        self.transform = transform
        self.batch_size = int_arg(batch_size, "batch_size", minimum=1)
        if label is not None and (not isinstance(label, str) or not label or label == "json:"):
            raise ValueError(f"label must be an extension such as 'cls', 'json:<field>' or None, got {label!r}")
        self.label = label.lower() if label is not None and not label.startswith("json:") else label
        self.image_extensions = _extensions(image_extensions, "image_extensions")
        if not self.image_extensions:
            raise ValueError("image_extensions must name at least one extension")
        self.keep = _extensions(keep, "keep")
        self.shuffle = bool(shuffle)
        self.shuffle_shards = self.shuffle if shuffle_shards is None else bool(shuffle_shards)
        self.shuffle_buffer = int_arg(shuffle_buffer, "shuffle_buffer")
        self.seed: Optional[int] = None if seed is None else seed_arg(seed)
        self.shard = shard
        self.rank, self.world_size = shard_of(shard)
        self.drop_last = bool(drop_last)
        self.raise_errors = on_error_arg(on_error)
        self.on_error = on_error
        self.prefetch_bytes = int_arg(prefetch_bytes, "prefetch_bytes")
        self.num_threads = num_threads
        self.storage_options = storage_options
        self.names = [shard_name(u) for u in self.urls]
        self.resampled = bool(resampled)
        self._check_present()
        index = read_index(self.urls, storage_options)
        self.shard_counts = index.counts if index is not None else None
        self.shard_sizes = index.sizes if index is not None else None
        self.length = None if length is None else int_arg(length, "length", minimum=1)
        self.epoch_samples = None if epoch_samples is None else int_arg(epoch_samples, "epoch_samples", minimum=1)
        if self.resampled and self.epoch_samples is None:
            self.epoch_samples = self.total_samples
            if self.epoch_samples is None:
                raise ValueError("resampled=True needs epoch_samples= (or an index.json to take the total from)")
        self.offsets = Offsets(self.urls, storage_options)
        self._id = uuid.uuid4().hex
        # In shared memory, so set_epoch and load_state_dict reach DataLoader workers, persistent ones too.
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self._resume = torch.full((3,), -1, dtype=torch.int64).share_memory_()  # epoch, batches, cursor
        self._position = {"epoch": 0, "batches": 0, "cursor": 0}
        self._stats: list[ReaderStats] = []
        self._warn_unindexed()

    def _check_present(self) -> None:
        if self.raise_errors:
            missing = [u for u in self.urls if not is_remote(u) and not os.path.isfile(local_path(u))]
            if missing:
                raise FileNotFoundError(2, f"shard not found ({len(missing)} of {len(self.urls)} missing)", missing[0])

    def _warn_unindexed(self) -> None:
        if self.shard_counts is None:
            logger.warning(
                "no %s beside %s lists every shard: epochs are split by whole shards (not exactly "
                "per sample); index them with `%s <urls>`",
                INDEX_NAME,
                self.urls[0],
                INDEX_COMMAND,
            )
            return
        try:
            missing = self.offsets.get(0) is None and not is_gzip(self.urls[0])  # gzip streams cannot seek
        except (OSError, ValueError):
            missing = False  # reported as damage when read
        if missing:
            logger.warning(
                "%s has no sample offsets (%s.idx): readers stream past the samples before their "
                "share instead of seeking; add them with `%s <urls>`",
                self.urls[0],
                self.names[0],
                INDEX_COMMAND,
            )

    @property
    def total_samples(self) -> Optional[int]:
        """Samples per epoch over all ranks: ``epoch_samples`` when resampled, else from index.json, else
        ``length``, else None (unknown)."""
        if self.resampled and getattr(self, "epoch_samples", None) is not None:
            return self.epoch_samples
        return sum(self.shard_counts) if self.shard_counts is not None else self.length

    def __len__(self) -> int:
        """Batches per epoch on this rank (the same on every rank). Raises TypeError when the sample count
        is unknown: index the shards (``python -m fastimg shards index``) or pass ``length=``."""
        total = self.total_samples
        if total is None:
            raise TypeError(
                f"len() of a ShardDataset needs its sample count: no {INDEX_NAME} beside {self.urls[0]!r} lists "
                f"every shard; index them with `{INDEX_COMMAND}` or pass ShardDataset(length=N)"
            )
        return -(-rank_samples(total, self.world_size, self.batch_size, self.drop_last) // self.batch_size)

    @property
    def epoch(self) -> int:
        """The epoch set by ``set_epoch`` or ``load_state_dict`` (0 until then)."""
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        """The epoch that keys the shard order, shuffle and augmentations; reaches every DataLoader
        worker. Setting an epoch other than a pending resume's cancels the resume."""
        e = epoch_arg(epoch)
        self._epoch[0] = e
        if int(self._resume[0]) not in (-1, e):
            self._resume.fill_(-1)
        if self.resume_epoch != e:
            self._position = {"epoch": e, "batches": 0, "cursor": 0}

    @property
    def resume_epoch(self) -> Optional[int]:
        """The epoch a loaded state resumes within (None when no resume is pending)."""
        epoch = int(self._resume[0])
        return None if epoch < 0 else epoch

    @property
    def errors(self) -> list[ItemError]:
        """Skipped samples and shard damage that reached this process (from workers too, with batches)."""
        return RECORDS.setdefault(self._id, [])

    @property
    def stats(self) -> dict[str, int]:
        """Peak bytes held by a shuffle buffer and a read-ahead queue of this process's readers."""
        return {
            "prefetch_peak_bytes": max((s.prefetch_peak_bytes for s in self._stats), default=0),
            "shuffle_peak_bytes": max((s.shuffle_peak_bytes for s in self._stats), default=0),
        }

    def state_dict(self, batches: Optional[int] = None) -> dict[str, Any]:
        """Where the epoch stands: the next sample to deliver, for ``load_state_dict``; a state taken after
        the epoch's last batch names the start of the next epoch. Iterated in this process, the position
        is exact (even under skip). Through ``DataLoader(num_workers>0)``, pass ``batches``: the number of
        batches the training loop took from the DataLoader this epoch (the workers' own positions are
        not visible here)."""
        if batches is None:
            return {"seed": self.seed, **self._position}
        taken = int_arg(batches, "batches")
        try:
            finished = taken >= len(self)
        except TypeError:
            finished = False
        if finished:
            return {"seed": self.seed, "epoch": self.epoch + 1, "batches": 0, "cursor": 0}
        return {"seed": self.seed, "epoch": self.epoch, "batches": taken, "cursor": -1}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resumes at the state's position: the batch after the last one taken (its readers skip what was
        delivered without reading it where shards have offsets), or the start of the next epoch. Raises
        ValueError for a state made with another seed."""
        if state.get("seed") != self.seed:
            raise ValueError(f"state_dict was made with seed {state.get('seed')}, this dataset has seed {self.seed}")
        epoch = epoch_arg(state["epoch"])
        batches, cursor = int(state["batches"]), int(state["cursor"])
        self._epoch[0] = epoch
        if batches == 0 and cursor <= 0:
            self._resume.fill_(-1)
        else:
            self._resume[0], self._resume[1], self._resume[2] = epoch, batches, cursor
        self._position = {"epoch": epoch, "batches": batches, "cursor": max(cursor, 0)}

    def __iter__(self) -> Iterator[ShardBatch]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return self.iterate(self.epoch, worker, workers)

    def iterate(
        self,
        epoch: int,
        worker: int = 0,
        workers: int = 1,
        allocate: Optional[Callable[[int], torch.Tensor]] = None,
    ) -> Iterator[ShardBatch]:
        """The batches of one reader (``worker`` of ``workers`` on this rank) for ``epoch``, resuming when
        a state for that epoch was loaded. ``allocate(count)`` may supply each batch's tensor (pinned)."""
        for batch, position in self.positioned(epoch, worker, workers, allocate):
            self._position = position
            yield batch

    def settings(self) -> ReaderSettings:
        """What a reader needs of this dataset, frozen for a pass."""
        stream = StreamSettings(
            urls=tuple(self.urls),
            names=tuple(self.names),
            counts=tuple(self.shard_counts) if self.shard_counts is not None else None,
            sizes=tuple(self.shard_sizes) if self.shard_sizes is not None else None,
            offsets=self.offsets,
            label=self.label,
            image_extensions=self.image_extensions,
            keep=self.keep,
            shuffle_buffer=self.shuffle_buffer if self.shuffle else 0,
            prefetch_bytes=self.prefetch_bytes,
            storage_options=self.storage_options,
        )
        total = self.epoch_samples if self.resampled else (None if self.shard_counts is not None else self.length)
        return ReaderSettings(
            stream=stream,
            transform=self.transform,
            batch_size=self.batch_size,
            drop_last=self.drop_last,
            seed=self.seed,
            shuffle_shards=self.shuffle_shards,
            rank=self.rank,
            world=self.world_size,
            raise_errors=self.raise_errors,
            num_threads=self.num_threads,
            owner=self._id,
            total=total,
            resampled=self.resampled,
        )

    def positioned(
        self,
        epoch: int,
        worker: int = 0,
        workers: int = 1,
        allocate: Optional[Callable[[int], torch.Tensor]] = None,
    ) -> Iterator[tuple[ShardBatch, dict[str, int]]]:
        """``iterate``'s batches for ``epoch`` (reader ``worker`` of ``workers``; ``allocate`` as there),
        each with the position after it ({"epoch", "batches", "cursor"}): the next epoch's start after the
        reader's last batch."""
        state = ReaderState(epoch=epoch, worker=worker, workers=workers)
        if int(self._resume[0]) == epoch:
            state.resume_batches, state.resume_cursor = int(self._resume[1]), int(self._resume[2])
            if workers == 1:
                self._resume.fill_(-1)  # consumed: a later pass of this epoch starts from its beginning
        if self.seed is None:
            info = get_worker_info()
            # Workers of one DataLoader pass share base_seed (their seed minus their id): they agree on the
            # split; it is fresh each pass and reproducible under torch.manual_seed.
            state.stream_seed = info.seed - info.id if info is not None else torch_seed()
        reader = Reader(self.settings(), state, allocate or self._allocate)
        self._stats.append(reader.stats)
        del self._stats[:-16]
        for batch, position in reader:
            if position["last"]:
                yield batch, {"epoch": epoch + 1, "batches": 0, "cursor": 0}
            else:
                yield batch, {"epoch": epoch, "batches": position["batches"], "cursor": position["cursor"]}

    def _allocate(self, count: int) -> torch.Tensor:
        return batch_tensor(self.transform, count, pinned=False)[0]

    def with_options(self, **changes: Any) -> ShardDataset:
        """A copy with some constructor options in ``changes`` replaced (batch_size, seed, shard, on_error,
        transform, num_threads), sharing the index; used by ``fastimg.Loader``."""
        new = object.__new__(ShardDataset)
        new.__dict__.update(self.__dict__)
        for key, value in changes.items():
            if key == "shard":
                new.shard, (new.rank, new.world_size) = value, shard_of(value)
            elif key == "on_error":
                new.on_error, new.raise_errors = value, on_error_arg(value)
            elif key in ("batch_size", "seed", "transform", "num_threads"):
                setattr(new, key, value)
            else:
                raise TypeError(f"with_options() got an unexpected option {key!r}")
        return new


def _extensions(values: Any, name: str) -> tuple[str, ...]:
    if isinstance(values, str):
        raise TypeError(f"{name} must be a sequence of extensions, not a string: got {values!r}")
    return tuple(str(e).lower().lstrip(".") for e in values)
