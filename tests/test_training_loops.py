"""The training benchmark's timing loops (benchmarks/training_loops.py) against fake loaders with known
speeds. Tolerances are loose: the machine is shared and the loops measure wall time."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import torch
from adapters.train_loaders import TrainLoader
from training_loops import WAIT_LIMIT, StepRateSearch, run_epoch, sleep_step

BATCHES = 10


class FakeBackground(TrainLoader):
    """A producer thread makes one batch every `period` seconds, at most 2 ahead (like prefetch=2)."""

    key = "fake_bg"

    def __init__(self, period: float) -> None:
        super().__init__("")
        self.period = period

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        q: queue.Queue = queue.Queue(maxsize=2)
        batch = (torch.zeros(4, 1), torch.zeros(4, dtype=torch.int64))

        def produce() -> None:
            for _ in range(BATCHES):
                time.sleep(self.period)
                q.put(batch)
            q.put(None)

        threading.Thread(target=produce, daemon=True).start()
        return iter(q.get, None)


class FakeInThread(FakeBackground):
    key = "fake_sync"
    background = False

    def epoch_iter(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        batch = (torch.zeros(4, 1), torch.zeros(4, dtype=torch.int64))
        for _ in range(BATCHES):
            time.sleep(self.period)
            yield batch


def test_run_epoch_splits_the_epoch_start() -> None:
    stats = run_epoch(FakeInThread(0.01), sleep_step(0.0))
    assert (stats.steps, stats.steady_steps, stats.images, stats.steady_images) == (10, 9, 40, 36)
    assert 0.6 < stats.wait_fraction <= 1.0  # every step waits its whole load time
    assert stats.start_wait_s >= 0.01
    assert run_epoch(FakeInThread(0.0), sleep_step(0.0), max_steps=3).steps == 3


def test_background_loader_keeps_up_with_a_slower_step() -> None:
    stats = run_epoch(FakeBackground(0.01), sleep_step(0.02))
    assert stats.wait_fraction < WAIT_LIMIT
    stats = run_epoch(FakeBackground(0.02), sleep_step(0.005))
    assert stats.wait_fraction > 0.5  # loader-bound: ~(20 - 5) / 20


def test_search_finds_the_production_period() -> None:
    period = 0.02
    search = StepRateSearch(
        FakeBackground(period),
        period * 0.7,
        BATCHES,
        max_trials=7,
        box_s=10.0,
        trial_target_s=0.3,
        max_epochs=2,
        min_steps=6,
    )
    while not search.done:
        search.run_trial()
    result = search.result()
    assert result["found"]
    assert 0.8 * period < result["sleep_s"] < 1.4 * period, result["bracket_s"]


def test_search_in_thread_loader_lands_near_19x_its_load_time() -> None:
    load = 0.002
    search = StepRateSearch(
        FakeInThread(load), load, BATCHES, max_trials=5, box_s=10.0, trial_target_s=0.3, max_epochs=1, min_steps=6
    )
    while not search.done:
        search.run_trial()
    result = search.result()
    assert result["found"]
    assert 12 * load < result["sleep_s"] < 30 * load, result["bracket_s"]
