"""Map-style torch datasets over encoded images: ImageDataset (any list of sources) and ImageFolder
(torchvision's root/class_x/xxx.jpg layout). They own file reading: cache, preload, direct I/O."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union, overload

import numpy as np
import torch
from torch.utils.data import Dataset
from torch.utils.data._utils.collate import default_collate

from ._folders import IMG_EXTENSIONS, find_classes, make_dataset
from ._seeds import torch_seed
from ._skip import RECORDS, record
from ._sources import ItemError, normalize_sources, on_error_arg
from ._threads import threads_in_worker
from ._torchvision import refuse_torchvision
from ._validate import epoch_arg, seed_and_epoch, seed_arg
from .batch import Batch, run_batch
from .cache import ByteCache, preload_files
from .decode import OnError, decode_items, decode_options
from .transforms import Transform


class LabeledBatch(tuple):
    """``(images, labels)`` as ``fastimg.collate`` returns it, with ``errors``: the samples left out of
    this batch under ``on_error="skip"`` (ItemError records; empty when none failed). The records travel
    with the batch from DataLoader workers and are added to the dataset's ``errors`` in the main process."""

    errors: list[ItemError]
    owner_id: str  # the id of the dataset whose records these are

    def __new__(cls, images: Any, labels: Any, errors: Sequence[ItemError] = (), owner: str = "") -> LabeledBatch:
        self = super().__new__(cls, (images, labels))
        self.errors = list(errors)
        self.owner_id = owner
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_arrived, (self[0], self[1], self.errors, self.owner_id))

    @property
    def images(self) -> Any:
        """The batch's images tensor (``batch[0]``)."""
        return self[0]

    @property
    def labels(self) -> Any:
        """The batch's labels (``batch[1]``)."""
        return self[1]


def _arrived(images: Any, labels: Any, errors: list[ItemError], owner: str) -> LabeledBatch:
    """Unpickling a batch from another process (a DataLoader worker): its records join this process's."""
    if errors and owner:
        record(owner, errors, log=False)
    return LabeledBatch(images, labels, errors, owner)


class _BatchSamples(list):
    """The samples of one __getitems__ call, each a view into one batch buffer; fastimg.collate hands
    the buffer itself to the training loop instead of copying the samples into a new one."""

    images: Optional[torch.Tensor] = None
    labels: Optional[torch.Tensor] = None
    errors: Sequence[ItemError] = ()
    owner: str = ""


@overload
def collate(samples: LabeledBatch) -> LabeledBatch: ...
@overload
def collate(samples: _BatchSamples) -> LabeledBatch: ...
@overload
def collate(samples: Any) -> Any: ...
def collate(samples: Any) -> Any:
    """A ``collate_fn`` for ``torch.utils.data.DataLoader``: a batch from ``ImageDataset.__getitems__``
    comes back as a ``LabeledBatch`` ``(images, labels)`` without the copy ``default_collate`` makes
    (and, under ``on_error="skip"``, with the records of the samples left out in ``.errors``); anything
    else goes to ``default_collate``. A ``LabeledBatch`` (a whole batch, as ``ShardDataset`` yields with
    ``DataLoader(batch_size=None)``) passes through unchanged, records included."""
    if isinstance(samples, LabeledBatch):
        return samples
    if isinstance(samples, _BatchSamples):
        if samples.images is not None:
            return LabeledBatch(samples.images, samples.labels, samples.errors, samples.owner)
        images, labels = default_collate(list(samples)) if len(samples) else (torch.empty(0), torch.empty(0))
        return LabeledBatch(images, labels, samples.errors, samples.owner)
    return default_collate(samples)


_SKIP_HINT = (
    "fastimg: to leave bad files out instead, build the dataset with on_error='skip' and load batches "
    "through DataLoader (which calls __getitems__; collate_fn=fastimg.collate carries the records) or "
    "fastimg.Loader(..., on_error='skip')"
)
_SINGLE_SAMPLE_NOTE = (
    "fastimg: on_error='skip' leaves failed samples out of batches (DataLoader with a batch_size calls "
    "__getitems__), but a single sample cannot be skipped: ds[i] must return it"
)


class ImageDataset(Dataset):
    """A map-style torch dataset over encoded images: ``ds[i]`` -> ``(image_tensor, label)``.

    Parameters: ``sources`` (paths, bytes-like objects or 1-D uint8 arrays); ``labels`` (one int per
    source; -1 for all without); ``transform`` (a fastimg ``Transform``; None gives the decoded uint8
    (H, W, 3) image, a Transform its normalised tensor; a torchvision transform is refused with the fastimg
    equivalent); ``target_transform`` (applied to each integer label); ``num_threads`` (native threads
    per call; one inside a DataLoader worker).

    Randomness: ``seed=None`` (default) behaves like torchvision's transforms: every call draws its
    seed from torch's default generator, so augmentations are new every epoch and every run, and
    ``torch.manual_seed(s)`` before building the DataLoader makes a run reproducible (with or without
    workers). An explicit ``seed`` makes sample i's pixels depend on (seed, epoch, i) only; ``set_epoch``
    reaches every DataLoader worker, persistent ones included.

    ``on_error="skip"``: batches (``__getitems__``, which DataLoader calls) leave failed samples out,
    log each once and record it in ``errors`` (in the main process too, when batches are collated with
    ``fastimg.collate``); ``"raise"`` (default): the first failure raises.

    File reading: ``cache_bytes=N`` keeps up to N bytes of encoded files in a thread-safe LRU shared
    across epochs; ``preload=True`` reads every file into memory first; ``direct_io=True`` reads with
    O_DIRECT (bypassing the page cache; plain reads where the file system refuses it)."""

    def __init__(
        self,
        sources: Sequence[Any],
        labels: Optional[Sequence[int]] = None,
        transform: Optional[Transform] = None,
        *,
        target_transform: Optional[Callable[[int], Any]] = None,
        seed: Optional[int] = None,
        on_error: OnError = "raise",
        cache_bytes: int = 0,
        preload: bool = False,
        direct_io: bool = False,
        num_threads: Optional[int] = None,
    ) -> None:
        self.sources = normalize_sources(sources)
        if labels is not None and len(labels) != len(self.sources):
            raise ValueError(f"got {len(self.sources)} sources but {len(labels)} labels")
        self.labels = np.asarray(labels if labels is not None else [-1] * len(self.sources), dtype=np.int64)
        refuse_torchvision(transform, f"{type(self).__name__}(transform=...)")
        if transform is not None and not isinstance(transform, Transform):
            raise TypeError(f"transform must be a fastimg.Transform or None, got {type(transform).__name__}")
        if target_transform is not None and not callable(target_transform):
            raise TypeError(f"target_transform must be callable or None, got {type(target_transform).__name__}")
        self.transform = transform
        self.target_transform = target_transform
        self.seed: Optional[int] = None if seed is None else seed_arg(seed)
        self.on_error: OnError = "raise" if on_error_arg(on_error) else "skip"
        # In shared memory, so set_epoch in the main process reaches DataLoader workers (fork, spawn,
        # persistent): each holds a copy of the dataset but they all read this one counter.
        self._epoch = torch.zeros(1, dtype=torch.int64).share_memory_()
        self._id = uuid.uuid4().hex
        self.direct_io = bool(direct_io)
        self.num_threads = num_threads
        self.cache = ByteCache(cache_bytes) if cache_bytes else None
        self._preloaded: Optional[list[bytes]] = None
        if preload:
            paths = [s for s in self.sources if isinstance(s, str)]
            if len(paths) != len(self.sources):
                raise ValueError("preload=True needs every source to be a path")
            self._preloaded = preload_files(paths, direct_io=self.direct_io)

    def __len__(self) -> int:
        return len(self.sources)

    @property
    def epoch(self) -> int:
        """The epoch set by ``set_epoch`` (0 until then)."""
        return int(self._epoch[0]) % (1 << 64)  # kept as int64: epochs past 2**63 wrap to negatives there

    def set_epoch(self, epoch: int) -> None:
        """Sets the epoch (a non-negative integer below 2**64) that keys the augmentations when the dataset
        has an explicit ``seed``; seen by every DataLoader worker, persistent ones included. Without a seed,
        every epoch is fresh anyway. Raises ValueError for anything else."""
        value = epoch_arg(epoch)
        self._epoch[0] = value - (1 << 64) if value >= 1 << 63 else value

    @property
    def errors(self) -> list[ItemError]:
        """The samples left out under ``on_error="skip"`` that reached this process, oldest first: those
        decoded here, and those of batches that DataLoader workers collated with ``fastimg.collate``."""
        return RECORDS.setdefault(self._id, [])

    def encoded(self, indices: Sequence[int]) -> list[Any]:
        """What the native pipeline reads for these indices: bytes when preloaded or cached, paths
        otherwise (read by the native workers, with this dataset's read options)."""
        if self._preloaded is not None:
            return [self._preloaded[i] for i in indices]
        srcs = [self.sources[i] for i in indices]
        if self.cache is None:
            return srcs
        cache = self.cache
        return [
            hit if isinstance(src, str) and (hit := cache.get(i)) is not None else src for i, src in zip(indices, srcs)
        ]

    def _decode(
        self, indices: Sequence[int], raise_errors: bool, errors: Optional[list[ItemError]] = None
    ) -> list[Any]:
        """decode_images over these samples with the dataset's read options (transform=None)."""
        read_back: Optional[dict[int, bytes]] = {} if self.cache is not None else None
        threads = threads_in_worker(self.num_threads)
        images = decode_items(
            self.encoded(indices),
            decode_options(),
            threads,
            raise_errors,
            errors,
            direct_io=self.direct_io,
            read_back=read_back,
        )
        self._cache_read(indices, read_back)
        return images

    def _cache_read(self, indices: Sequence[int], read_back: Optional[dict[int, bytes]]) -> None:
        if self.cache is not None and read_back:
            for pos, data in read_back.items():
                self.cache.put(indices[pos], data)

    def load(
        self,
        indices: Union[Sequence[int], np.ndarray],
        *,
        transform: Optional[Transform] = None,
        epoch: Optional[int] = None,
        seed: Optional[int] = None,
        out: Any = None,
        on_error: OnError = "raise",
        num_threads: Optional[int] = None,
    ) -> Batch:
        """One native call for a batch of ``indices`` (the building block of __getitems__ and Loader):
        a ``Batch(images, indices, errors)``. ``transform`` defaults to the dataset's; ``epoch`` to the
        one set by ``set_epoch``; ``seed=None`` uses the dataset's seed, or draws one from torch's
        generator when it has none. ``out``, ``on_error`` and ``num_threads`` are ``load_batch``'s."""
        t = transform if transform is not None else self.transform
        if t is None:
            raise ValueError("a Transform is needed to batch images of different sizes")
        if not isinstance(t, Transform):
            raise TypeError(f"transform must be a fastimg.Transform, got {type(t).__name__}")
        idx = [int(i) for i in indices]
        seed_v = seed if seed is not None else self.seed if self.seed is not None else torch_seed()
        read_back: Optional[dict[int, bytes]] = {} if self.cache is not None else None
        batch = run_batch(
            self.encoded(idx),
            idx,
            t,
            *seed_and_epoch(seed_v, self.epoch if epoch is None else epoch),
            out,
            on_error_arg(on_error),
            threads_in_worker(num_threads if num_threads is not None else self.num_threads),
            direct_io=self.direct_io,
            read_back=read_back,
        )
        self._cache_read(idx, read_back)
        return batch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)}")
        try:
            if self.transform is None:
                image = self._decode([index], raise_errors=True)[0]
                assert image is not None
                return torch.from_numpy(image), int(self.labels[index])
            batch = self.load([index])
        except (OSError, ValueError) as exc:
            if hasattr(exc, "add_note"):
                exc.add_note(_SINGLE_SAMPLE_NOTE if self.on_error == "skip" else _SKIP_HINT)
            raise
        return torch.from_numpy(batch.images)[0], self.target(index)

    def target(self, index: int) -> Any:
        """The label of sample ``index``, through ``target_transform`` when the dataset has one."""
        label = int(self.labels[index])
        return label if self.target_transform is None else self.target_transform(label)

    def batch_targets(self, indices: Any) -> Any:
        """The labels of the samples ``indices``: one int64 tensor while targets are integers, else what
        torch's ``default_collate`` makes of the transformed targets."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.target_transform is None:
            return torch.from_numpy(self.labels[idx])
        targets = [self.target(int(i)) for i in idx]
        if all(isinstance(t, (int, np.integer)) and not isinstance(t, (bool, np.bool_)) for t in targets):
            return torch.tensor(targets, dtype=torch.int64)
        return default_collate(targets) if targets else torch.empty(0, dtype=torch.int64)

    def __getitems__(self, indices: Sequence[int]) -> list:
        idx = [int(i) for i in indices]
        if self.transform is None:
            samples = self._decoded_samples(idx)
        else:
            batch = self.load(idx, on_error=self.on_error)
            images = torch.from_numpy(batch.images)
            labels = self.batch_targets(batch.indices)
            samples = _BatchSamples((images[k], self.target(int(i))) for k, i in enumerate(batch.indices))
            samples.images, samples.labels, samples.errors = images, labels, batch.errors
        samples.owner = self._id
        if samples.errors:
            record(self._id, samples.errors, log=True)
        return samples

    def _decoded_samples(self, idx: list[int]) -> _BatchSamples:
        errors: list[ItemError] = []
        images = self._decode(idx, self.on_error == "raise", errors)
        samples = _BatchSamples(
            (torch.from_numpy(image), self.target(i)) for i, image in zip(idx, images) if image is not None
        )
        samples.errors = [err._replace(index=idx[err.index]) for err in errors]
        return samples


class ImageFolder(ImageDataset):
    """torchvision.datasets.ImageFolder over fastimg's native decoding: the same layout (``root/<class>/
    ...``, classes sorted by folder name, files found recursively and sorted) and attributes
    (``classes``, ``class_to_idx``, ``samples``, ``targets``, ``imgs``).

    Parameters, positional in torchvision's order (``root, transform, target_transform, loader,
    is_valid_file, allow_empty``): ``root`` (a path); ``transform`` (a fastimg ``Transform``, or None for decoded uint8
    (H, W, 3) images; a torchvision transform is refused with the fastimg equivalent);
    ``target_transform`` (applied to each integer label; labels stay one int64 tensor per batch while it
    returns integers); ``extensions`` (case-insensitive suffixes kept) or ``is_valid_file`` (a predicate
    on the path; it replaces ``extensions``); ``allow_empty`` (classes without a valid file are kept instead
    of raising FileNotFoundError); ``loader`` cannot apply (fastimg decodes natively) and is refused.
    The other keywords are ImageDataset's: ``seed``, ``on_error``, ``cache_bytes``, ``preload``,
    ``direct_io``, ``num_threads``.

    Raises FileNotFoundError when ``root`` has no class folder or a class has no valid file."""

    def __init__(
        self,
        root: Union[str, os.PathLike],
        transform: Optional[Transform] = None,
        target_transform: Optional[Callable[[int], Any]] = None,
        loader: Any = None,
        is_valid_file: Optional[Callable[[str], bool]] = None,
        allow_empty: bool = False,
        *,
        extensions: Optional[Sequence[str]] = IMG_EXTENSIONS,
        seed: Optional[int] = None,
        on_error: OnError = "raise",
        cache_bytes: int = 0,
        preload: bool = False,
        direct_io: bool = False,
        num_threads: Optional[int] = None,
    ) -> None:
        if loader is not None:
            raise TypeError(
                "ImageFolder(loader=...) cannot apply: fastimg reads and decodes files natively (JPEG, PNG, WebP, "
                "BMP, TIFF, PNM); drop loader= (a custom format needs torchvision's own ImageFolder)"
            )
        refuse_torchvision(transform, "ImageFolder(transform=...)")
        self.root = os.fspath(root)
        if is_valid_file is not None:
            extensions = None
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file, allow_empty)
        self.targets = [target for _, target in self.samples]
        self.imgs = self.samples
        super().__init__(
            [path for path, _ in self.samples],
            self.targets,
            transform,
            target_transform=target_transform,
            seed=seed,
            on_error=on_error,
            cache_bytes=cache_bytes,
            preload=preload,
            direct_io=direct_io,
            num_threads=num_threads,
        )
