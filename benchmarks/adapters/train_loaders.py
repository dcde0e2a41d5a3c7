"""The training loaders compared by bench_training: each yields (images float32 (32, 3, 224, 224)
ImageNet-normalised, labels int64) with torchvision's training chain, RandomResizedCrop(224) +
RandomHorizontalFlip() + Normalize, from the same ImageFolder.

- torch: the usual DataLoader(ImageFolder, batch_size=32, shuffle=True, num_workers=2, persistent_workers=True)
  over the Pillow reimplementation of torchvision's transforms (tv_transforms) and pil_loader, default collate.
- fastimg: fastimg.Loader(fastimg.ImageFolder(root, Transform.imagenet_train(224)), 32, prefetch=2).
- fastimg_dl: DataLoader(fastimg.ImageFolder(...), batch_size=32, shuffle=True, collate_fn=fastimg.collate),
  no workers: one native call per batch through __getitems__, in the training loop's thread.

One object per loader lives through the whole section (the DataLoader's workers start once); epoch_iter()
starts the next epoch."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader

import fastimg

from . import tv_transforms
from .pipe_geometry import PipeSpec
from .pipe_torch import FileDataset

BATCH = 32
SIZE = 224
TRAIN_SPEC = PipeSpec(SIZE, "random_resized", hflip=0.5)  # RandomResizedCrop(224) scale/ratio defaults + flip
WORKERS = 2


class TorchImageFolder(FileDataset):
    """torchvision.datasets.ImageFolder's behaviour for this benchmark: samples from fastimg's copy of
    torchvision's find_classes/make_dataset rule, ds[i] = (transform(pil_loader(path)), target)."""

    def __init__(self, root: str, transform: tv_transforms.Compose) -> None:
        from fastimg.dataset import find_classes, make_dataset

        self.classes, self.class_to_idx = find_classes(root)
        self.samples = make_dataset(root, self.class_to_idx)
        self.targets = [t for _, t in self.samples]
        super().__init__([p for p, _ in self.samples], transform)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:  # type: ignore[override]
        return super().__getitem__(index), self.targets[index]


class TrainLoader:
    key = "base"
    name = "base"
    code = ""  # the construction, as a user writes it
    background = True  # loads while the training step runs (workers or a prefetch thread)

    def __init__(self, root: str) -> None:
        self.root = root
        self.epoch = 0

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        raise NotImplementedError

    def worker_pids(self) -> list[int]:
        """Processes of this loader besides the training process (for memory)."""
        return []

    def close(self) -> None:
        pass


class TorchLoader(TrainLoader):
    key = "torch"
    name = f"PyTorch DataLoader ({WORKERS} workers) + Pillow"
    code = (
        f"DataLoader(ImageFolder(root, Compose([RandomResizedCrop(224), RandomHorizontalFlip(), ToTensor(), "
        f"Normalize(...)])), batch_size={BATCH}, shuffle=True, num_workers={WORKERS}, persistent_workers=True)"
    )

    def __init__(self, root: str) -> None:
        super().__init__(root)
        dataset = TorchImageFolder(root, tv_transforms.build(TRAIN_SPEC))
        self.loader: DataLoader | None = DataLoader(
            dataset, batch_size=BATCH, shuffle=True, num_workers=WORKERS, persistent_workers=True
        )

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        assert self.loader is not None
        self.epoch += 1
        return iter(self.loader)

    def worker_pids(self) -> list[int]:
        it = getattr(self.loader, "_iterator", None)  # the persistent workers live in the loader's iterator
        return [w.pid for w in getattr(it, "_workers", []) if w.pid is not None]

    def close(self) -> None:
        self.loader = None  # the iterator's __del__ shuts the persistent workers down
        gc.collect()


class FastimgLoader(TrainLoader):
    key = "fastimg"
    name = "fastimg.Loader (prefetch=2)"
    code = f"fastimg.Loader(fastimg.ImageFolder(root, fastimg.Transform.imagenet_train(224)), {BATCH}, prefetch=2)"

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.loader = fastimg.Loader(
            fastimg.ImageFolder(root, fastimg.Transform.imagenet_train(SIZE)), BATCH, prefetch=2
        )

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.epoch += 1
        return iter(self.loader)  # each pass advances the loader's epoch


class FastimgDataLoader(TrainLoader):
    key = "fastimg_dl"
    name = "DataLoader(fastimg.ImageFolder, collate_fn=fastimg.collate), no workers"
    code = (
        f"DataLoader(fastimg.ImageFolder(root, fastimg.Transform.imagenet_train(224)), batch_size={BATCH}, "
        "shuffle=True, collate_fn=fastimg.collate)"
    )
    background = False

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.dataset = fastimg.ImageFolder(root, fastimg.Transform.imagenet_train(SIZE))
        self.loader = DataLoader(self.dataset, batch_size=BATCH, shuffle=True, collate_fn=fastimg.collate)

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.dataset.set_epoch(self.epoch)  # fresh augmentations each epoch, as a training script would
        self.epoch += 1
        return iter(self.loader)


LOADERS = (TorchLoader, FastimgLoader, FastimgDataLoader)


def make_loaders(root: str) -> list[TrainLoader]:
    return [cls(root) for cls in LOADERS]


def describe_threads() -> dict[str, Any]:
    return {
        "fastimg_threads": fastimg.get_num_threads(),
        "torch_threads": torch.get_num_threads(),
        "dataloader_workers": WORKERS,
        "cpus": len(os.sched_getaffinity(0)),
    }
