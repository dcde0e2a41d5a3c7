"""fastimg: images into numpy and PyTorch at native speed (C++ core, native threads, libjpeg-turbo, OpenCV)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ._core import DecodeError
from ._sources import DecodeWarning, ItemError
from ._threads import get_num_threads, set_num_threads
from .batch import Batch, load_batch
from .decode import decode_images
from .ops import (
    INTER_AREA,
    INTER_CUBIC,
    INTER_LANCZOS4,
    INTER_LINEAR,
    INTER_NEAREST,
    batch_calculate_luminance,
    batch_center_crop_images,
    batch_crop_images,
    batch_random_crop_images,
    batch_resize_images,
    batch_resize_videos,
    batch_rgb_to_rgba,
    batch_rgba_to_rgb,
    rgb_to_rgba,
    rgba_to_rgb,
)
from .prepare import PrepareReport, prepare_jpeg, prepare_tree
from .transforms import Transform

# The dataset and loader need torch; importing them lazily keeps `import fastimg` numpy-only. Type
# checkers see the real names (and no module __getattr__, so a misspelt name is an error).
if TYPE_CHECKING:
    from .dataset import ImageDataset, ImageFolder, LabeledBatch, collate
    from .loader import Loader, create_dataloader
    from .shards import ShardBatch, ShardDataset, ShardLoader
else:
    _TORCH_NAMES = {
        "ImageDataset": "dataset",
        "ImageFolder": "dataset",
        "LabeledBatch": "dataset",
        "collate": "dataset",
        "Loader": "loader",
        "create_dataloader": "loader",
        "ShardBatch": "shards",
        "ShardDataset": "shards",
        "ShardLoader": "shards",
    }

    def __getattr__(name: str) -> Any:
        if name in _TORCH_NAMES:
            import importlib

            module = importlib.import_module(f".{_TORCH_NAMES[name]}", __name__)
            return getattr(module, name)
        raise AttributeError(f"module 'fastimg' has no attribute {name!r}")


def __dir__() -> list[str]:
    # The public names (the lazy torch-backed ones included), not this module's own imports.
    return sorted(__all__)


try:
    __version__ = version("fastimg")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "INTER_AREA",
    "INTER_CUBIC",
    "INTER_LANCZOS4",
    "INTER_LINEAR",
    "INTER_NEAREST",
    "Batch",
    "DecodeError",
    "DecodeWarning",
    "ImageDataset",
    "ImageFolder",
    "ItemError",
    "LabeledBatch",
    "Loader",
    "PrepareReport",
    "ShardBatch",
    "ShardDataset",
    "ShardLoader",
    "Transform",
    "__version__",
    "batch_calculate_luminance",
    "batch_center_crop_images",
    "batch_crop_images",
    "batch_random_crop_images",
    "batch_resize_images",
    "batch_resize_videos",
    "batch_rgb_to_rgba",
    "batch_rgba_to_rgb",
    "collate",
    "create_dataloader",
    "decode_images",
    "get_num_threads",
    "load_batch",
    "prepare_jpeg",
    "prepare_tree",
    "rgb_to_rgba",
    "rgba_to_rgb",
    "set_num_threads",
]
