"""The training loaders compared by bench_training, each as a user writes it (`code`): each yields (images
float32 (32, 3, 224, 224) ImageNet-normalised, labels int64) with torchvision's training chain,
RandomResizedCrop(224) + RandomHorizontalFlip() + Normalize, from the same ImageFolder. One object per loader
lives through the whole section (the DataLoader's workers start once); epoch_iter() starts the next epoch."""

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

BATCH = 32
SIZE = 224
TRAIN_SPEC = PipeSpec(SIZE, "random_resized", hflip=0.5)  # RandomResizedCrop(224) scale/ratio defaults + flip
WORKERS = 2


class TorchImageFolder(tv_transforms.FileDataset):
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
    loader: Any = None  # what epoch_iter() iterates

    def __init__(self, root: str) -> None:
        self.root = root
        self.epoch = 0

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        self.epoch += 1
        return iter(self.loader)  # fastimg.Loader: each pass advances its epoch

    def worker_pids(self) -> list[int]:
        """Processes of this loader besides the training process (for memory)."""
        it = getattr(self.loader, "_iterator", None)  # a DataLoader's persistent workers live in its iterator
        return [w.pid for w in getattr(it, "_workers", []) if w.pid is not None]

    def close(self) -> None:
        self.loader = None  # a DataLoader iterator's __del__ shuts the persistent workers down
        gc.collect()


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
        self.loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=WORKERS, persistent_workers=True)


class FastimgLoader(TrainLoader):
    key = "fastimg"
    name = "fastimg.Loader (prefetch=2)"
    code = f"fastimg.Loader(fastimg.ImageFolder(root, fastimg.Transform.imagenet_train(224)), {BATCH}, prefetch=2)"

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.loader = fastimg.Loader(
            fastimg.ImageFolder(root, fastimg.Transform.imagenet_train(SIZE)), BATCH, prefetch=2
        )


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
        return super().epoch_iter()


def make_loaders(root: str) -> list[TrainLoader]:
    return [cls(root) for cls in (TorchLoader, FastimgLoader, FastimgDataLoader)]


def describe_threads() -> dict[str, Any]:
    out = {"fastimg_threads": fastimg.get_num_threads(), "torch_threads": torch.get_num_threads()}
    return {**out, "dataloader_workers": WORKERS, "cpus": len(os.sched_getaffinity(0))}
