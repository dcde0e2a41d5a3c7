"""The timed loops of the training benchmark: an epoch of steps with the data wait (time blocked in
next(iterator)) split out, and the search for the fastest simulated accelerator a loader keeps fed. Every run
starts at an epoch boundary with the loader idle and covers whole epochs (a trial with a long step may stop
early, abandoning the rest of its epoch); "steady" figures leave each epoch's first step out (a pipeline
starting empty), "incl. epoch starts" figures keep it (docs/benchmarks.md#training)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable

import torch
from adapters.train_loaders import TrainLoader
from contention import CpuMeter

WAIT_LIMIT = 0.05  # "sustained": under 5% of the time blocked on data


@dataclass
class EpochStats:
    steps: int = 0
    images: int = 0
    steady_steps: int = 0
    steady_images: int = 0
    steady_wait_s: float = 0.0
    steady_time_s: float = 0.0
    start_wait_s: float = 0.0  # iter() + first next() of each epoch, and the next() that ends it
    wall_s: float = 0.0
    step_times_s: list[float] = field(default_factory=list)  # steady steps, wait included

    def add(self, other: EpochStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def wait_fraction(self) -> float:
        return _per(self.steady_wait_s, self.steady_time_s)

    def summary(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("steady_images", "step_times_s")}
        waits = _per(self.steady_wait_s + self.start_wait_s, self.wall_s)
        out.update(wait_fraction=self.wait_fraction, wait_fraction_incl_epoch_start=waits)
        out.update(steps_per_s=_per(self.steady_steps, self.steady_time_s))
        out.update(images_per_s=_per(self.steady_images, self.steady_time_s))
        out.update(images_per_s_incl_epoch_start=_per(self.images, self.wall_s))
        return {**out, "mean_step_s": _per(self.steady_time_s, self.steady_steps)}


def _per(a: float, b: float) -> float:
    return a / b if b else math.nan


Step = Callable[[torch.Tensor, torch.Tensor], Any]


def run_epoch(loader: TrainLoader, step: Step, max_steps: int | None = None) -> EpochStats:
    """One epoch of `step(images, labels)` with the wait for each batch timed; with max_steps, the rest of
    the epoch is abandoned after that many steps (the next epoch_iter() starts a fresh epoch)."""
    stats = EpochStats()
    wall0 = t0 = time.perf_counter()
    it = loader.epoch_iter()
    first = True
    while max_steps is None or stats.steps < max_steps:
        try:
            images, labels = next(it)
        except StopIteration:
            stats.start_wait_s += time.perf_counter() - t0
            break
        t1 = time.perf_counter()
        step(images, labels)
        n = len(images)
        del images, labels  # released inside the step, as a for loop's rebinding would
        t2 = time.perf_counter()
        stats.steps += 1
        stats.images += n
        if first:
            stats.start_wait_s += t1 - t0
        else:
            stats.steady_steps += 1
            stats.steady_images += n
            stats.steady_wait_s += t1 - t0
            stats.steady_time_s += t2 - t0
            stats.step_times_s.append(t2 - t0)
        first = False
        t0 = t2
    getattr(it, "close", lambda: None)()  # fastimg.Loader's iterator: stop its prefetch thread now
    del it
    stats.wall_s = time.perf_counter() - wall0
    return stats


def sleep_step(seconds: float) -> Step:
    """The simulated accelerator: a fixed time per step in which the CPU is free (as it is while a GPU
    computes; the batch is not touched)."""
    return lambda images, labels: time.sleep(seconds)


@dataclass
class Trial:
    sleep_s: float
    epochs: int
    stats: EpochStats
    load: dict[str, Any]

    @property
    def passed(self) -> bool:
        return self.stats.wait_fraction < WAIT_LIMIT

    def summary(self) -> dict[str, Any]:
        out = {"sleep_s": self.sleep_s, "epochs": self.epochs, "passed": self.passed, "machine_load": self.load}
        return {**out, **self.stats.summary()}


class StepRateSearch:
    """Finds the shortest simulated step (sleep) a loader feeds with under WAIT_LIMIT data wait, by trials
    of about trial_target_s (whole epochs, or at least min_steps steady steps). The first trial sleeps for
    the loader's own batch time (loader alone): a loader that loads in the background keeps up with any
    slower step. A loader that loads in the training thread waits its load time w at every step whatever
    the sleep, so it starts at 19 w (5% wait). After a failed trial the next sleep is what the observed
    step period predicts (background: sleep + wait; in-thread: 19 x wait), after a passing one 15% less
    (in-thread: just under the prediction), and once the threshold is bracketed, the geometric midpoint,
    until the bracket is under `precision` wide, `max_trials` ran or `box_s` seconds are spent. Noise is
    resolved against the loader: a fail at or above a passing sleep discards that pass."""

    def __init__(
        self,
        loader: TrainLoader,
        batch_time_s: float,
        epoch_steps: int,
        *,
        max_trials: int,
        box_s: float,
        trial_target_s: float,
        max_epochs: int,
        min_steps: int,
        precision: float = 1.06,
    ) -> None:
        self.loader, self.epoch_steps = loader, epoch_steps
        self.max_trials, self.box_s, self.precision = max_trials, box_s, precision
        self.trial_target_s, self.max_epochs, self.min_steps = trial_target_s, max_epochs, min_steps
        self.trials: list[Trial] = []
        self.spent_s = 0.0
        self.next_sleep = batch_time_s if loader.background else batch_time_s / WAIT_LIMIT * (1 - WAIT_LIMIT)
        self.lo: Trial | None = None  # failing, longest sleep
        self.hi: Trial | None = None  # passing, shortest sleep

    @property
    def done(self) -> bool:
        if len(self.trials) >= self.max_trials or self.spent_s >= self.box_s:
            return True
        return self.lo is not None and self.hi is not None and self.hi.sleep_s / self.lo.sleep_s <= self.precision

    def _epochs(self, sleep_s: float) -> tuple[int, int | None]:
        """(epochs, steps in the last one or None for all): about trial_target_s of sleeping, whole epochs
        up to max_epochs, but at least min_steps steady steps (a long step stops within the first epoch)."""
        steady = self.epoch_steps - 1
        wanted = max(self.min_steps, round(self.trial_target_s / sleep_s))
        if wanted >= steady:
            return max(1, min(self.max_epochs, round(wanted / steady))), None
        return 1, wanted + 1

    def run_trial(self) -> Trial:
        sleep_s = self.next_sleep
        epochs, last_steps = self._epochs(sleep_s)
        meter = CpuMeter()
        stats = EpochStats()
        step = sleep_step(sleep_s)
        for e in range(epochs):
            stats.add(run_epoch(self.loader, step, last_steps if e == epochs - 1 else None))
        trial = Trial(sleep_s, epochs, stats, meter.stop())
        self.trials.append(trial)
        self.spent_s += stats.wall_s
        self._update(trial)
        return trial

    def _update(self, trial: Trial) -> None:
        s = trial.sleep_s
        consistent = self.lo is None or s > self.lo.sleep_s  # a pass at or under a failed sleep was luck
        if trial.passed:
            if consistent and (self.hi is None or s < self.hi.sleep_s):
                self.hi = trial
        else:
            if self.hi is not None and s >= self.hi.sleep_s:  # so was an earlier pass at this sleep or longer
                self.hi = None
            if self.lo is None or s > self.lo.sleep_s:
                self.lo = trial
        if self.lo is not None and self.hi is not None:
            self.next_sleep = math.sqrt(self.lo.sleep_s * self.hi.sleep_s)
            return
        basis = self.lo if self.hi is None else trial
        assert basis is not None
        b, stats = basis.sleep_s, basis.stats
        mean_wait = stats.steady_wait_s / max(1, stats.steady_steps)
        predicted = (b + mean_wait) if self.loader.background else mean_wait / WAIT_LIMIT * (1 - WAIT_LIMIT)
        if self.hi is None:  # nothing (kept) passed yet: aim slightly above the predicted threshold
            self.next_sleep = max(b * 1.05, predicted * 1.03)
        elif self.loader.background:  # everything passed: step down
            self.next_sleep = b * 0.85
        else:  # in-thread loading: its wait does not depend on the sleep, so just below the prediction fails
            self.next_sleep = min(b * 0.95, max(b * 0.7, predicted * 0.97))

    def result(self) -> dict[str, Any]:
        hi, lo = self.hi, self.lo
        out: dict[str, Any] = {"trials": [t.summary() for t in self.trials], "found": hi is not None}
        out.update(bracket_s=[lo.sleep_s if lo else None, hi.sleep_s if hi else None], search_wall_s=self.spent_s)
        if hi is not None:
            st = hi.stats.summary()
            keys = ("steps_per_s", "images_per_s", "wait_fraction", "wait_fraction_incl_epoch_start")
            out.update(sleep_s=hi.sleep_s, **{k: st[k] for k in keys}, machine_load=hi.load)
        return out
