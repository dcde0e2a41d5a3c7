"""Loads the native core with OpenMP workers that sleep between batches.

libgomp's workers spin after each parallel region before they sleep (GOMP_SPINCOUNT; measured here: 8.6 ms
of CPU after every batch), taking a core from whoever consumes the batch: the training step, or the main
thread gathering the next batch. fastimg's regions are a batch long, so waking a sleeping worker (tens of
microseconds) costs nothing measurable. The core's libgomp is therefore loaded with
OMP_WAIT_POLICY=PASSIVE unless the user chose a policy; the variable is removed once libgomp has read it,
so a runtime loaded later (torch bundles its own libgomp) keeps its default."""

from __future__ import annotations

import os

if "OMP_WAIT_POLICY" in os.environ:
    from . import _core
else:
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    try:
        from . import _core  # noqa: F401
    finally:
        os.environ.pop("OMP_WAIT_POLICY", None)
