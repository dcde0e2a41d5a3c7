"""The skip policy (``on_error="skip"``), once for every reader: where records of failed samples go,
when they are logged, how an epoch counts a sample met twice, and when skipping gives up."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ._sources import ItemError

logger = logging.getLogger("fastimg")

# Records of the samples left out, per owner (a dataset's or loader's id) that reached this process:
# recorded by the process that decoded, and by the main process when a batch arrives from a DataLoader
# worker (unpickled).
RECORDS: dict[str, list[ItemError]] = {}
_LOGGED: set[tuple[str, int, str]] = set()


def record(owner: str, errors: Sequence[ItemError], *, log: bool) -> None:
    """Appends ``errors`` to ``RECORDS[owner]``; with ``log``, logs each sample once per owner (a warning
    on the "fastimg" logger), however many epochs meet it."""
    RECORDS.setdefault(owner, []).extend(errors)
    if not log:
        return
    for err in errors:
        key = (owner, err.index, err.source)
        if key not in _LOGGED:
            _LOGGED.add(key)
            if err.index < 0:  # damage to a whole source (a shard), not one sample
                logger.warning("skipping the rest of %s: %s", err.source, err.reason)
            else:
                logger.warning("skipping sample %d (%s): %s", err.index, err.source, err.reason)


class EpochRecords:
    """The samples an epoch has recorded: a sample met again in the same epoch (the order wraps to fill
    the last batches, or padding repeats it) is recorded once. A sample is its (index, source)."""

    def __init__(self) -> None:
        self._seen: set[tuple[int, str]] = set()

    def add(self, errors: Iterable[ItemError]) -> list[ItemError]:
        """The records among ``errors`` this epoch has not seen yet, in order; they count as seen."""
        new = []
        for err in errors:
            key = (err.index, err.source)
            if key not in self._seen:
                self._seen.add(key)
                new.append(err)
        return new


class FailureStreak:
    """When skipping gives up: after ``limit`` failures in a row, with no sample delivered in between.
    Callers pass the number of samples they can reach (for the Loader, the epoch's order, which it wraps
    around), so reaching the limit means every one of them failed: skipping further would never end."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.streak = 0

    def update(self, good: int, failed: int, last_error: Any) -> None:
        """Counts one read of ``good`` delivered and ``failed`` failed samples (a read with any good
        sample ends the streak). Raises RuntimeError naming ``last_error`` once the streak reaches the
        limit."""
        self.streak = 0 if good else self.streak + failed
        if failed and self.streak >= self.limit:
            raise RuntimeError(
                f"{self.streak} samples in a row failed to load, every sample within reach (last error: {last_error})"
            )
