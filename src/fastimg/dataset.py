"""Map-style torch datasets over encoded images: ImageDataset (any list of sources) and ImageFolder
(torchvision's root/class_x/xxx.jpg layout). They own file reading: cache, preload, direct I/O."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info
from torch.utils.data._utils.collate import default_collate

from ._sources import normalize_sources
from .batch import Batch, load_batch
from .cache import ByteCache, preload_files
from .decode import decode_images
from .transforms import Transform

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class _BatchSamples(list):
    """The samples of one __getitems__ call, each a view into one batch buffer; fastimg.collate hands
    the buffer itself to the training loop instead of copying the samples into a new one."""

    images: torch.Tensor
    labels: torch.Tensor


def collate(samples: Any) -> Any:
    """A collate_fn for DataLoader: batches from ImageDataset.__getitems__ come back as (images, labels)
    without the copy default_collate makes; anything else goes to default_collate."""
    if isinstance(samples, _BatchSamples):
        return samples.images, samples.labels
    return default_collate(samples)


def _in_worker_threads(num_threads: Optional[int]) -> Optional[int]:
    # Inside a DataLoader worker the workers already use the cores: one native thread each.
    return 1 if num_threads is None and get_worker_info() is not None else num_threads


class ImageDataset(Dataset):
    """``ds[i]`` -> ``(image_tensor, label)`` (label -1 without labels). ``transform=None`` gives the
    decoded uint8 (H, W, 3) image; a Transform gives its normalised tensor. Randomness depends on
    (seed, epoch, index) only; call ``set_epoch`` each epoch for fresh augmentations.

    File reading: ``cache_bytes=N`` keeps up to N bytes of encoded files in a thread-safe LRU shared
    across epochs; ``preload=True`` reads every file into memory first; ``direct_io=True`` reads with
    O_DIRECT (bypassing the page cache; plain reads where the file system refuses it)."""

    def __init__(
        self,
        sources: Sequence[Any],
        labels: Optional[Sequence[int]] = None,
        transform: Optional[Transform] = None,
        *,
        seed: int = 0,
        cache_bytes: int = 0,
        preload: bool = False,
        direct_io: bool = False,
        num_threads: Optional[int] = None,
    ) -> None:
        self.sources = normalize_sources(sources)
        if labels is not None and len(labels) != len(self.sources):
            raise ValueError(f"got {len(self.sources)} sources but {len(labels)} labels")
        self.labels = np.asarray(labels if labels is not None else [-1] * len(self.sources), dtype=np.int64)
        if transform is not None and not isinstance(transform, Transform):
            raise TypeError(f"transform must be a fastimg.Transform or None, got {type(transform).__name__}")
        self.transform = transform
        self.seed = int(seed)
        self.epoch = 0
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

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def source_name(self, index: int) -> str:
        src = self.sources[index]
        return src if isinstance(src, str) else f"<bytes at index {index}>"

    def encoded(self, indices: Sequence[int]) -> list[Any]:
        """What the native pipeline reads for these indices: bytes when preloaded or cached (misses are
        read natively in parallel and cached), paths otherwise (read by the native workers)."""
        if self._preloaded is not None:
            return [self._preloaded[i] for i in indices]
        srcs = [self.sources[i] for i in indices]
        if self.cache is None and not self.direct_io:
            return srcs
        out: list[Any] = list(srcs)
        missing = []
        for pos, (i, src) in enumerate(zip(indices, srcs)):
            if not isinstance(src, str):
                continue
            hit = self.cache.get(i) if self.cache is not None else None
            if hit is not None:
                out[pos] = hit
            else:
                missing.append(pos)
        if missing:
            contents, errors = _read_allowing_errors([srcs[p] for p in missing], self.direct_io)
            for pos, data, failed in zip(missing, contents, errors):
                if failed:
                    continue  # leave the path: the pipeline reports the error for this item
                out[pos] = data
                if self.cache is not None:
                    self.cache.put(indices[pos], data)
        return out

    def load(
        self,
        indices: Union[Sequence[int], np.ndarray],
        *,
        transform: Optional[Transform] = None,
        epoch: Optional[int] = None,
        seed: Optional[int] = None,
        out: Any = None,
        on_error: str = "raise",
        num_threads: Optional[int] = None,
    ) -> Batch:
        """One native call for a batch of indices (the building block of __getitems__ and Loader)."""
        t = transform if transform is not None else self.transform
        if t is None:
            raise ValueError("a Transform is needed to batch images of different sizes")
        idx = [int(i) for i in indices]
        return load_batch(
            self.encoded(idx),
            t,
            seed=self.seed if seed is None else seed,
            epoch=self.epoch if epoch is None else epoch,
            indices=idx,
            out=out,
            on_error=on_error,
            num_threads=_in_worker_threads(num_threads if num_threads is not None else self.num_threads),
        )

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        index = int(index)
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)}")
        if self.transform is None:
            image = decode_images(self.encoded([index]), num_threads=_in_worker_threads(self.num_threads))[0]
            return torch.from_numpy(image), int(self.labels[index])
        batch = self.load([index])
        return torch.from_numpy(batch.images)[0], int(self.labels[index])

    def __getitems__(self, indices: Sequence[int]) -> list:
        if self.transform is None:
            return [self[i] for i in indices]
        batch = self.load(indices)
        images = torch.from_numpy(batch.images)
        labels = torch.from_numpy(self.labels[np.asarray(indices, dtype=np.int64)])
        samples = _BatchSamples((images[k], int(labels[k])) for k in range(len(indices)))
        samples.images, samples.labels = images, labels
        return samples


def _read_allowing_errors(paths: list[str], direct_io: bool) -> tuple[list[bytes], list[bool]]:
    from . import _core

    contents, errors = _core.read_files(paths, direct_io, 0)
    failed = [False] * len(paths)
    for pos, *_ in errors:
        failed[pos] = True
    return contents, failed


def find_classes(root: str) -> tuple[list[str], dict[str, int]]:
    """torchvision's rule: every subdirectory of root is a class, sorted by name."""
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {root}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(
    root: str,
    class_to_idx: dict[str, int],
    extensions: Optional[Sequence[str]] = IMG_EXTENSIONS,
    is_valid_file: Optional[Callable[[str], bool]] = None,
) -> list[tuple[str, int]]:
    """torchvision's make_dataset: files under each class folder (recursively, symlinks followed, sorted),
    kept by a case-insensitive extension match or by is_valid_file."""
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the same time")
    if is_valid_file is None:
        exts = tuple(e.lower() for e in extensions)  # type: ignore[union-attr]

        def is_valid_file(path: str) -> bool:
            return path.lower().endswith(exts)

    instances = []
    available = set()
    for target_class in sorted(class_to_idx):
        class_index = class_to_idx[target_class]
        target_dir = os.path.join(root, target_class)
        for dirpath, _, filenames in sorted(os.walk(target_dir, followlinks=True)):
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                if is_valid_file(path):
                    instances.append((path, class_index))
                    available.add(target_class)
    empty = set(class_to_idx) - available
    if empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances


class ImageFolder(ImageDataset):
    """torchvision.datasets.ImageFolder's layout and attributes (``classes``, ``class_to_idx``,
    ``samples``, ``targets``, ``imgs``) over fastimg's native decoding."""

    def __init__(
        self,
        root: Any,
        transform: Optional[Transform] = None,
        *,
        extensions: Optional[Sequence[str]] = IMG_EXTENSIONS,
        is_valid_file: Optional[Callable[[str], bool]] = None,
        **kwargs: Any,
    ) -> None:
        self.root = os.fspath(root)
        if is_valid_file is not None:
            extensions = None
        self.classes, self.class_to_idx = find_classes(self.root)
        self.samples = make_dataset(self.root, self.class_to_idx, extensions, is_valid_file)
        self.targets = [target for _, target in self.samples]
        self.imgs = self.samples
        super().__init__([path for path, _ in self.samples], self.targets, transform, **kwargs)
