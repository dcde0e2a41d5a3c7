"""Seeds drawn from torch's random state: the one place fastimg takes randomness it was not given."""

from __future__ import annotations

from typing import Any, Optional

from ._validate import seed_arg


def loader_seed(seed: Any, dataset_seed: Optional[int]) -> int:
    """The seed a loader keys order and augmentations with: its own, else its dataset's, else
    ``torch.initial_seed()`` (so ``torch.manual_seed`` makes a run reproducible), as ``seed_arg`` reduces it.
    Raises ValueError for a negative or non-integer seed."""
    if seed is None:
        import torch

        seed = dataset_seed if dataset_seed is not None else torch.initial_seed()
    return seed_arg(seed)


def torch_seed() -> int:
    """A non-negative seed (an int64) drawn from torch's default generator: fresh per call, reproducible
    under ``torch.manual_seed``, and per worker and epoch inside a DataLoader (which seeds each worker's
    generator). Imports torch when called, so this module loads without it."""
    import torch

    return int(torch.empty((), dtype=torch.int64).random_().item())
