"""Scanning torchvision's ``root/<class>/.../<file>`` layout: which files are images and which class each
belongs to. Torch-free, so the shard writer scans folders without importing torch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Callable, Optional

# The one list of image file extensions fastimg recognises: lower-case, without the dot (as WebDataset
# keys name a member's extension).
IMAGE_EXTENSIONS: tuple[str, ...] = ("jpg", "jpeg", "png", "ppm", "bmp", "pgm", "tif", "tiff", "webp")

# The same list as torchvision spells file suffixes (ImageFolder's ``extensions``).
IMG_EXTENSIONS: tuple[str, ...] = tuple(f".{ext}" for ext in IMAGE_EXTENSIONS)


def find_classes(root: str) -> tuple[list[str], dict[str, int]]:
    """torchvision's rule: every subdirectory of ``root`` is a class, sorted by name. Returns the class
    names and ``{name: index}``; raises FileNotFoundError when there is none."""
    classes = sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {root}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(
    root: str,
    class_to_idx: dict[str, int],
    extensions: Optional[Sequence[str]] = IMG_EXTENSIONS,
    is_valid_file: Optional[Callable[[str], bool]] = None,
    allow_empty: bool = False,
) -> list[tuple[str, int]]:
    """torchvision's make_dataset: ``(path, class_index)`` for the files under each class folder
    (recursively, symlinks followed, sorted), kept by a case-insensitive suffix match on ``extensions``
    or by ``is_valid_file`` (exactly one of the two). Raises FileNotFoundError when a class has no valid
    file, unless ``allow_empty``."""
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
    if empty and not allow_empty:
        msg = f"Found no valid file for the classes {', '.join(sorted(empty))}. "
        if extensions is not None:
            msg += f"Supported extensions are: {extensions if isinstance(extensions, str) else ', '.join(extensions)}"
        raise FileNotFoundError(msg)
    return instances
