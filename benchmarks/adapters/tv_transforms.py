"""The plain PyTorch pipeline (PlainTorchPipe, the decode pipeline's DataLoader competitor) and the
torchvision transforms it uses, written with Pillow + torch because torchvision is not installable here. Each
follows torchvision's PIL code path: pil_loader's open + convert("RGB"); Resize (skipped when the size already
matches) and the resize step of RandomResizedCrop call Image.resize with BILINEAR, which on PIL images is
Pillow's antialiased filter (torchvision's antialias=True); CenterCrop and RandomResizedCrop crop with
Image.crop; ToTensor copies to a CHW uint8 tensor and divides by 255; Normalize clones, then sub_/div_."""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset, default_collate

from .pipe_base import PipelineAdapter
from .pipe_geometry import IMAGENET_MEAN, IMAGENET_STD, PipeSpec, center_offsets, resized_size, rrc_params


def pil_loader(path: str) -> Image.Image:
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


@dataclass
class Compose:
    transforms: list[Callable[[Any], Any]]

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img


@dataclass
class Resize:
    """Resize(int): the shorter side to n; Resize((h, w)): exactly that size."""

    size: int | tuple[int, int]

    def __call__(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        ow, oh = resized_size(w, h, self.size) if isinstance(self.size, int) else (self.size[1], self.size[0])
        return img if (ow, oh) == (w, h) else img.resize((ow, oh), Image.Resampling.BILINEAR)


@dataclass
class CenterCrop:
    size: int

    def __call__(self, img: Image.Image) -> Image.Image:
        left, top = center_offsets(img.width, img.height, self.size)
        return img.crop((left, top, left + self.size, top + self.size))


@dataclass
class RandomResizedCrop:
    size: int
    scale: tuple[float, float]
    ratio: tuple[float, float]

    def __call__(self, img: Image.Image) -> Image.Image:
        top, left, h, w = rrc_params(img.width, img.height, self.scale, self.ratio, random)  # type: ignore[arg-type]
        return img.crop((left, top, left + w, top + h)).resize((self.size, self.size), Image.Resampling.BILINEAR)


@dataclass
class RandomHorizontalFlip:
    p: float

    def __call__(self, img: Image.Image) -> Image.Image:
        return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT) if random.random() < self.p else img


class ToTensor:
    def __call__(self, pic: Image.Image) -> torch.Tensor:
        img = torch.from_numpy(np.array(pic, np.uint8, copy=True))
        img = img.view(pic.size[1], pic.size[0], 3).permute((2, 0, 1)).contiguous()
        return img.to(dtype=torch.float32).div(255)


class Normalize:
    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.mean = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        return tensor.clone().sub_(self.mean).div_(self.std)


def build(spec: PipeSpec) -> Compose:
    """The Compose a torchvision user writes for spec."""
    if spec.crop == "stretch":
        geometry: list[Callable[[Any], Any]] = [Resize((spec.size, spec.size))]
    elif spec.crop == "center":
        assert spec.resize is not None
        geometry = [Resize(spec.resize), CenterCrop(spec.size)]
    else:
        geometry = [RandomResizedCrop(spec.size, spec.scale, spec.ratio)]
    flip = [RandomHorizontalFlip(spec.hflip)] if spec.hflip else []
    return Compose([*geometry, *flip, ToTensor(), Normalize(IMAGENET_MEAN, IMAGENET_STD)])


class FileDataset(Dataset):
    def __init__(self, paths: list[str], transform: Compose) -> None:
        self.paths, self.transform = paths, transform

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(pil_loader(self.paths[index]))


class PlainTorchPipe(PipelineAdapter):
    """The plain PyTorch pipeline: torch.utils.data.DataLoader(num_workers=N, batch_size=B) over a map-style
    Dataset of paths whose __getitem__ runs the torchvision-style Compose (above), default collate.
    One DataLoader per workload with persistent_workers=True; its worker start-up happens in the untimed
    warm-up epoch."""

    key = "torch"
    title = "PyTorch DataLoader ({workers} workers) + Pillow"
    how = (
        "DataLoader(num_workers={workers}, batch_size=B, persistent_workers=True), default collate; "
        "per image: open + convert('RGB'), torchvision-style Resize/CenterCrop or RandomResizedCrop "
        "(Pillow BILINEAR, antialiased, full-size decode), flip, ToTensor, Normalize."
    )
    _loader: DataLoader | None = None

    def start(self, paths: list[str], spec: PipeSpec, batch_size: int) -> None:
        dataset, workers = FileDataset(paths, build(spec)), self.workers
        self._loader = DataLoader(dataset, batch_size=batch_size, num_workers=workers, persistent_workers=True)

    def stop(self) -> None:
        self._loader = None  # the iterator's __del__ shuts the persistent workers down
        gc.collect()

    def run_epoch(self, paths: list[str], spec: PipeSpec, batch_size: int, epoch: int) -> int:
        assert self._loader is not None, "start() first"
        return sum(len(batch) for batch in self._loader)

    def load_batch(self, paths: list[str], spec: PipeSpec, epoch: int = 0, first_index: int = 0) -> Any:
        """The same per-image code in this process (for the output check, not timed)."""
        random.seed(epoch * 1_000_003 + first_index)
        dataset = FileDataset(paths, build(spec))
        return default_collate([dataset[i] for i in range(len(dataset))])
