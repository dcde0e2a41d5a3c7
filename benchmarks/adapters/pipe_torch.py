"""The plain PyTorch pipeline: torch.utils.data.DataLoader(num_workers=N, batch_size=B) over a map-style
Dataset of paths whose __getitem__ runs the torchvision-style Compose (tv_transforms), default collate.
One DataLoader per workload with persistent_workers=True; its worker start-up happens in the untimed
warm-up epoch."""

from __future__ import annotations

import gc
import random
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from . import tv_transforms
from .pipe_base import PipelineAdapter
from .pipe_geometry import PipeSpec


class FileDataset(Dataset):
    def __init__(self, paths: list[str], transform: tv_transforms.Compose) -> None:
        self.paths, self.transform = paths, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(tv_transforms.pil_loader(self.paths[index]))


class PlainTorchPipe(PipelineAdapter):
    key = "torch"

    def __init__(self) -> None:
        self.workers = 1
        self._loader: DataLoader | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"PyTorch DataLoader ({self.workers} workers) + Pillow"

    @property
    def note(self) -> str:  # type: ignore[override]
        return (
            f"DataLoader(num_workers={self.workers}, batch_size=B, persistent_workers=True), default collate; "
            "per image: open + convert('RGB'), torchvision-style Resize/CenterCrop or RandomResizedCrop "
            "(Pillow BILINEAR, antialiased, full-size decode), flip, ToTensor, Normalize."
        )

    def setup(self, threads: int) -> None:
        self.workers = threads

    def start(self, paths: list[str], spec: PipeSpec, batch_size: int) -> None:
        dataset = FileDataset(paths, tv_transforms.build(spec))
        self._loader = DataLoader(
            dataset, batch_size=batch_size, shuffle=False, num_workers=self.workers, persistent_workers=True
        )

    def stop(self) -> None:
        self._loader = None  # the iterator's __del__ shuts the persistent workers down
        gc.collect()

    def run_epoch(self, paths: list[str], spec: PipeSpec, batch_size: int, epoch: int) -> int:
        assert self._loader is not None, "start() first"
        return sum(len(batch) for batch in self._loader)

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        """The same per-image code in this process (for the output check, not timed)."""
        random.seed(epoch * 1_000_003 + first_index)
        dataset = FileDataset(paths, tv_transforms.build(spec))
        return default_collate([dataset[i] for i in range(len(dataset))])
