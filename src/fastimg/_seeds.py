"""Seeds drawn from torch's random state: the one place fastimg takes randomness it was not given."""

from __future__ import annotations


def torch_seed() -> int:
    """A non-negative seed (an int64) drawn from torch's default generator: fresh per call, reproducible
    under ``torch.manual_seed``, and per worker and epoch inside a DataLoader (which seeds each worker's
    generator). Imports torch when called, so this module loads without it."""
    import torch

    return int(torch.empty((), dtype=torch.int64).random_().item())
