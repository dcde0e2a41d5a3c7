"""The torchvision transforms a plain PyTorch pipeline would use, written with Pillow + torch because
torchvision is not installable here. Each follows torchvision's PIL code path: pil_loader's open +
convert("RGB"); Resize (skipped when the size already matches) and the resize step of RandomResizedCrop
call Image.resize with BILINEAR, which on PIL images is Pillow's antialiased filter (torchvision's
antialias=True); CenterCrop and RandomResizedCrop crop with Image.crop; ToTensor copies to a CHW uint8
tensor and divides by 255; Normalize clones and normalises with sub_/div_."""

from __future__ import annotations

import random
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image

from .pipe_geometry import IMAGENET_MEAN, IMAGENET_STD, PipeSpec, center_offsets, resized_size, rrc_params


def pil_loader(path: str) -> Image.Image:
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


class Compose:
    def __init__(self, transforms: list[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img


class Resize:
    """Resize(int): the shorter side to n; Resize((h, w)): exactly that size."""

    def __init__(self, size: int | tuple[int, int]) -> None:
        self.size = size

    def __call__(self, img: Image.Image) -> Image.Image:
        w, h = img.size
        ow, oh = resized_size(w, h, self.size) if isinstance(self.size, int) else (self.size[1], self.size[0])
        if (ow, oh) == (w, h):
            return img
        return img.resize((ow, oh), Image.Resampling.BILINEAR)


class CenterCrop:
    def __init__(self, size: int) -> None:
        self.size = size

    def __call__(self, img: Image.Image) -> Image.Image:
        left, top = center_offsets(img.width, img.height, self.size)
        return img.crop((left, top, left + self.size, top + self.size))


class RandomResizedCrop:
    def __init__(self, size: int, scale: tuple[float, float], ratio: tuple[float, float]) -> None:
        self.size, self.scale, self.ratio = size, scale, ratio

    def __call__(self, img: Image.Image) -> Image.Image:
        top, left, h, w = rrc_params(img.width, img.height, self.scale, self.ratio, random)  # type: ignore[arg-type]
        img = img.crop((left, top, left + w, top + h))
        return img.resize((self.size, self.size), Image.Resampling.BILINEAR)


class RandomHorizontalFlip:
    def __init__(self, p: float) -> None:
        self.p = p

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
