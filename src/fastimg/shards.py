"""ShardDataset: training batches streamed from WebDataset-style tar shards (local or any fsspec URL),
split across ranks and DataLoader workers, with a bounded shuffle buffer, read-ahead, skip records and
exact resume. The sample stream lives in _shard_stream.py, the plan in _shard_plan.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from typing import Any, Callable, Optional

import torch
from torch.utils.data import IterableDataset, get_worker_info

from ._background import is_remote, local_path, open_url
from ._buffers import batch_tensor
from ._order import shard_of
from ._shard_plan import INDEX_NAME, expand_urls, index_url, parse_index, rank_samples, shard_name
from ._shard_stream import IMAGE_EXTENSIONS, StreamState, reader_batches
from ._sources import ItemError, on_error_arg
from ._torchvision import refuse_torchvision
from ._validate import as_int
from .dataset import _RECORDS, LabeledBatch, _record
from .transforms import Transform


def _positive(value: Any, name: str, *, zero: bool = False) -> int:
    v = as_int(value)
    if v is None or v < (0 if zero else 1):
        raise ValueError(f"{name} must be a {'non-negative' if zero else 'positive'} integer, got {value!r}")
    return v


class ShardDataset(IterableDataset):
    """Batches ``(images, labels)`` streamed from WebDataset-style tar shards.

    Parameters:
    - ``urls``: a brace pattern (``"data/train-{000000..000127}.tar"``), a path or URL, or a list of them;
      local paths, ``file://`` or any fsspec URL (``s3://``, ``gs://``, ``https://``, ``hf://``, ``memory://``;
      needs ``pip install 'fastimg[shards]'`` and the protocol's backend). ``storage_options``: fsspec's.
    - ``transform``: a fastimg ``Transform`` (required: batches have one shape).
    - ``batch_size``: images per batch. ``drop_last``: drop the partial last batch of a rank.
    - ``label``: the member holding the integer label: an extension (``"cls"``, ``"txt"``), ``"json:<field>"``
      (a field of the ``.json`` member; dots reach into nested objects), or None (labels -1).
    - ``image_extensions``: the image member is the first of these extensions a sample has.
    - ``shuffle``: shard order from (seed, epoch) and a shuffle buffer of ``shuffle_buffer`` samples.
    - ``seed``: keys order and augmentations; a sample's pixels depend on (seed, epoch, shard name, key)
      only. None: torch's generator draws them (fresh every run, reproducible under torch.manual_seed).
    - ``shard``: ``"auto"`` (torch.distributed or RANK/WORLD_SIZE), None, or (rank, world_size).
    - ``length``: the total sample count when the shards have no ``index.json`` (written by
      ``python -m fastimg shards``); with neither, ``len()`` raises TypeError and more than one rank is refused.
    - ``on_error``: ``"raise"`` or ``"skip"`` (bad members and damaged shards are recorded in ``errors`` and
      replaced by the next samples of the stream). ``prefetch_bytes``: read-ahead bound per reader.
    - ``num_threads``: native decode threads (one inside a DataLoader worker).

    Use it directly (``for images, labels in ds``), in ``DataLoader(ds, batch_size=None, num_workers=k)``
    (workers split the shards), or through ``fastimg.Loader(ds, batch_size)`` for background prefetch,
    pinned memory and device copies. Every rank yields ``len(ds)`` batches per epoch; docs/shards.md says
    how (budgets, padding) and what determinism holds."""

    def __init__(
        self,
        urls: Any,
        transform: Optional[Transform] = None,
        *,
        batch_size: int = 64,
        label: Optional[str] = "cls",
        image_extensions: Sequence[str] = IMAGE_EXTENSIONS,
        shuffle: bool = True,
        shuffle_buffer: int = 1000,
        seed: Optional[int] = None,
        shard: Any = "auto",
        drop_last: bool = False,
        length: Optional[int] = None,
        on_error: str = "raise",
        prefetch_bytes: int = 64 << 20,
        num_threads: Optional[int] = None,
        storage_options: Optional[dict[str, Any]] = None,
    ) -> None:
        self.urls = expand_urls(urls)
        refuse_torchvision(transform, "ShardDataset(transform=...)")
        if not isinstance(transform, Transform):
            raise TypeError(f"ShardDataset needs a fastimg.Transform, got {type(transform).__name__}")
        self.transform = transform
        self.batch_size = _positive(batch_size, "batch_size")
        if label is not None and (not isinstance(label, str) or not label or label == "json:"):
            raise ValueError(f"label must be an extension such as 'cls', 'json:<field>' or None, got {label!r}")
        self.label = label.lower() if label is not None and not label.startswith("json:") else label
        self.image_extensions = tuple(e.lower().lstrip(".") for e in image_extensions)
        if not self.image_extensions:
            raise ValueError("image_extensions must name at least one extension")
        self.shuffle = bool(shuffle)
        self.shuffle_buffer = _positive(shuffle_buffer, "shuffle_buffer", zero=True)
        if seed is not None:
            seed = _positive(seed, "seed", zero=True)
        self.seed: Optional[int] = seed
        self.shard = shard
        self.rank, self.world_size = shard_of(shard)
        self.drop_last = bool(drop_last)
        self.raise_errors = on_error_arg(on_error)
        self.on_error = on_error
        self.prefetch_bytes = _positive(prefetch_bytes, "prefetch_bytes", zero=True)
        self.num_threads = num_threads
        self.storage_options = storage_options
        self.names = [shard_name(u) for u in self.urls]
        if self.raise_errors:
            missing = [u for u in self.urls if not is_remote(u) and not os.path.isfile(local_path(u))]
            if missing:
                raise FileNotFoundError(2, f"shard not found ({len(missing)} of {len(self.urls)} missing)", missing[0])
        self.shard_counts = self._read_index()
        if length is not None:
            length = _positive(length, "length")
        self.length = length
        self._id = uuid.uuid4().hex
        # In shared memory, so set_epoch and load_state_dict reach DataLoader workers, persistent ones too.
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self._resume = torch.full((3,), -1, dtype=torch.int64).share_memory_()  # epoch, batches, cursor
        self._position = {"epoch": 0, "batches": 0, "cursor": 0}
        self.stats: dict[str, int] = {"prefetch_peak_bytes": 0, "shuffle_peak_bytes": 0}

    def _read_index(self) -> Optional[list[int]]:
        """Per-shard sample counts from index.json beside the first shard, when it lists every shard."""
        where = index_url(self.urls[0])
        try:
            with open_url(where, self.storage_options) as f:
                counts = parse_index(f.read())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
        if not all(name in counts for name in self.names):
            return None
        return [counts[name] for name in self.names]

    def counts(self) -> Optional[Sequence[float]]:
        """Per-shard sample counts: exact from the index, estimated as equal from ``length``, else None."""
        if self.shard_counts is not None:
            return list(self.shard_counts)
        if self.length is not None:
            return [self.length / len(self.urls)] * len(self.urls)
        return None

    @property
    def total_samples(self) -> Optional[int]:
        """Samples per epoch over all ranks: from index.json, else ``length``, else None (unknown)."""
        return sum(self.shard_counts) if self.shard_counts is not None else self.length

    def __len__(self) -> int:
        """Batches per epoch on this rank (the same on every rank). Raises TypeError when the sample count
        is unknown: write the shards with ``python -m fastimg shards`` (index.json) or pass ``length=``."""
        total = self.total_samples
        if total is None:
            raise TypeError(
                f"len() of a ShardDataset needs its sample count: no {INDEX_NAME} beside {self.urls[0]!r} lists "
                "every shard; write the shards with `python -m fastimg shards` or pass ShardDataset(length=N)"
            )
        return -(-rank_samples(total, self.world_size, self.batch_size, self.drop_last) // self.batch_size)

    @property
    def epoch(self) -> int:
        """The epoch set by ``set_epoch`` or ``load_state_dict`` (0 until then)."""
        return int(self._epoch[0])

    def set_epoch(self, epoch: int) -> None:
        """The epoch that keys the shard order, shuffle and augmentations; reaches every DataLoader
        worker. Setting an epoch other than a pending resume's cancels the resume."""
        e = _positive(epoch, "epoch", zero=True)
        self._epoch[0] = e
        if int(self._resume[0]) not in (-1, e):
            self._resume.fill_(-1)

    @property
    def errors(self) -> list[ItemError]:
        """Skipped samples and shard damage that reached this process (from workers too, with batches)."""
        return _RECORDS.setdefault(self._id, [])

    def state_dict(self, batches: Optional[int] = None) -> dict[str, Any]:
        """Where the epoch stands, for ``load_state_dict``. Iterated in this process, the position is
        exact (even under skip). Through ``DataLoader(num_workers>0)``, pass ``batches``: the number of
        batches the training loop took from the DataLoader this epoch (the workers' own positions are
        not visible here)."""
        state: dict[str, Any] = {"seed": self.seed, **self._position}
        if batches is not None:
            state.update(epoch=self.epoch, batches=_positive(batches, "batches", zero=True), cursor=-1)
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Resumes the state's epoch from the batch after the last one taken (its readers replay their
        shards from the start to rebuild the shuffle buffer, without decoding). Raises ValueError for a
        state made with another seed."""
        if state.get("seed") != self.seed:
            raise ValueError(f"state_dict was made with seed {state.get('seed')}, this dataset has seed {self.seed}")
        self._resume[0], self._resume[1], self._resume[2] = state["epoch"], state["batches"], state["cursor"]
        self._epoch[0] = int(state["epoch"])

    def __iter__(self) -> Iterator[LabeledBatch]:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return self.iterate(self.epoch, worker, workers)

    def iterate(
        self,
        epoch: int,
        worker: int = 0,
        workers: int = 1,
        allocate: Optional[Callable[[int], torch.Tensor]] = None,
    ) -> Iterator[LabeledBatch]:
        """The batches of one reader (``worker`` of ``workers`` on this rank) for ``epoch``, resuming when
        a state for that epoch was loaded. ``allocate(count)`` may supply each batch's tensor (pinned)."""
        for batch, position in self.positioned(epoch, worker, workers, allocate):
            self._position = position
            yield batch

    def positioned(
        self,
        epoch: int,
        worker: int = 0,
        workers: int = 1,
        allocate: Optional[Callable[[int], torch.Tensor]] = None,
    ) -> Iterator[tuple[LabeledBatch, dict[str, int]]]:
        """``iterate``'s batches for ``epoch`` (reader ``worker`` of ``workers``; ``allocate`` as there),
        each with the position after it ({"epoch", "batches", "cursor"})."""
        state = StreamState(epoch=epoch, worker=worker, workers=workers)
        if int(self._resume[0]) == epoch:
            state.resume_batches, state.resume_cursor = int(self._resume[1]), int(self._resume[2])
        if self.seed is None:
            info = get_worker_info()
            # Workers of one DataLoader pass share base_seed (their seed minus their id): they agree on the
            # split; it is fresh each pass and reproducible under torch.manual_seed.
            state.stream_seed = (
                info.seed - info.id if info is not None else int(torch.empty((), dtype=torch.int64).random_())
            )
        for batch, position in reader_batches(self, state, allocate or self._allocate):
            if batch.errors:
                _record(self._id, batch.errors, log=True)
            yield batch, {"epoch": epoch, **position}
        if int(self._resume[0]) == epoch and workers == 1:
            self._resume.fill_(-1)

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
