"""The small CNN trained on the CPU by bench_training: a stride-4 patchify stem, three 3x3 convolutions
(one strided, one followed by max pooling), global average pooling and a linear classifier; SGD with
momentum and cross-entropy. About 28 M multiply-adds per 224x224 image forward, ~120 ms per step of 32 on one thread
of the benchmark machine: sized between the two loaders' per-batch CPU costs, the regime where the loader
decides the training speed (a ResNet-50 on a CPU would hide any loader)."""

from __future__ import annotations

import copy

import torch
from torch import nn

CLASSES = 10


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 16, 4, stride=4),
        nn.ReLU(inplace=True),  # 224 -> 56
        nn.Conv2d(16, 32, 3, padding=1, stride=2),
        nn.ReLU(inplace=True),  # -> 28
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),  # -> 14
        nn.Conv2d(64, 64, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(64, CLASSES),
    )


class Trainer:
    """One model + optimiser; step() is a whole training step on a batch."""

    def __init__(self, model: nn.Module) -> None:
        self.model = copy.deepcopy(model)
        self.model.train()
        self.opt = torch.optim.SGD(self.model.parameters(), lr=0.01, momentum=0.9)
        self.last_loss = torch.tensor(float("nan"))

    def step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        self.opt.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(self.model(images), labels)
        loss.backward()
        self.opt.step()
        self.last_loss = loss.detach()
        return self.last_loss
