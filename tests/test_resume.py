"""Exact epochs across a checkpoint: Loader.state_dict names the next sample to deliver, so a run resumed
from it goes on sample for sample (labels and pixels) as the uninterrupted run does, whenever it was saved:
before the first batch, mid-epoch, after an epoch's last batch (the next epoch's start), after set_epoch."""

import shutil

import pytest
import torch

import fastimg
from fastimg import ImageFolder, Loader, Transform

T = Transform(32, crop="random_resized", hflip=0.5)  # pixels differ by epoch: a wrong epoch shows
BATCH = 4
EPOCHS = 7


@pytest.fixture(scope="module")
def roots(image_folder, tmp_path_factory):
    """The shared folder, and a copy with one corrupt JPEG for the skip policy."""
    damaged = tmp_path_factory.mktemp("damaged") / "root"
    shutil.copytree(image_folder, damaged)
    (damaged / "dog" / "03b.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a JPEG after all")
    return {"raise": image_folder, "skip": damaged}


def make(root, on_error, prefetch):
    return Loader(ImageFolder(root, T, on_error=on_error), BATCH, seed=11, prefetch=prefetch)


def run(loader):
    return [(x.clone(), y.clone()) for x, y in loader]


_reference: dict = {}


def reference(roots, on_error):
    """Epochs 0..EPOCHS-1 of one uninterrupted loader, each a list of batches."""
    if on_error not in _reference:
        loader = make(roots[on_error], on_error, 0)
        _reference[on_error] = [run(loader) for _ in range(EPOCHS)]
    return _reference[on_error]


def take(loader, batches):
    """Hands out ``batches`` batches of a new pass and keeps the iterator alive (not exhausted)."""
    it = iter(loader)
    for _ in range(batches):
        next(it)
    return it


# Each save point drives a loader and returns where the uninterrupted run goes on: (epoch, batches done).
def before_first_batch(loader):
    return 0, 0


def before_first_batch_of_a_pass(loader):
    it = take(loader, 0)  # the pass has begun, nothing handed out
    del it
    return 0, 0


def mid_epoch(loader):
    run(loader)
    it = take(loader, 2)
    del it
    return 1, 2


def after_last_batch(loader):
    it = take(loader, len(loader))  # every batch handed out, the iterator not yet exhausted
    del it
    return 1, 0


def after_pass_ended(loader):
    run(loader)
    return 1, 0


def after_several_epochs(loader):
    for _ in range(3):
        run(loader)
    return 3, 0


def after_set_epoch(loader):
    loader.set_epoch(4)
    return 4, 0


def after_set_epoch_once_a_pass_ran(loader):
    run(loader)
    it = take(loader, 3)  # abandoned mid-epoch: set_epoch decides the next pass
    del it
    loader.set_epoch(2)
    return 2, 0


SAVE_POINTS = [
    before_first_batch,
    before_first_batch_of_a_pass,
    mid_epoch,
    after_last_batch,
    after_pass_ended,
    after_several_epochs,
    after_set_epoch,
    after_set_epoch_once_a_pass_ran,
]


def assert_same(got, expected, what):
    assert len(got) == len(expected), f"{what}: {len(got)} batches, expected {len(expected)}"
    for k, ((x, lx), (y, ly)) in enumerate(zip(got, expected)):
        assert torch.equal(lx, ly), f"{what}, batch {k}: labels differ"
        assert torch.equal(x, y), f"{what}, batch {k}: pixels differ"


@pytest.mark.parametrize("save_point", SAVE_POINTS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("prefetch", [0, 2])
@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_a_resumed_run_goes_on_as_the_uninterrupted_one(roots, on_error, prefetch, save_point):
    ref = reference(roots, on_error)
    interrupted = make(roots[on_error], on_error, prefetch)
    epoch, done = save_point(interrupted)
    state = interrupted.state_dict()
    assert (state["epoch"], state["batches"]) == (epoch, done)  # the next sample to deliver
    resumed = make(roots[on_error], on_error, prefetch)
    resumed.load_state_dict(state)
    assert resumed.state_dict() == state
    assert_same(run(resumed), ref[epoch][done:], f"rest of epoch {epoch}")
    for e in (epoch + 1, epoch + 2):
        assert_same(run(resumed), ref[e], f"epoch {e}")


@pytest.mark.parametrize("prefetch", [0, 2])
def test_the_interrupted_loader_itself_goes_on_from_its_state(roots, prefetch):
    ref = reference(roots, "skip")
    loader = make(roots["skip"], "skip", prefetch)
    run(loader)
    assert loader.state_dict()["epoch"] == 1
    assert_same(run(loader), ref[1], "epoch 1")  # the epoch the state names is the one the next pass runs


def test_skipped_samples_are_left_out_of_the_resumed_run_too(roots):
    ref = reference(roots, "skip")
    loader = make(roots["skip"], "skip", 0)
    take(loader, 3)
    resumed = make(roots["skip"], "skip", 0)
    resumed.load_state_dict(loader.state_dict())
    assert_same(run(resumed), ref[0][3:], "rest of epoch 0")
    assert {e.source.rsplit("/", 1)[-1] for e in resumed.errors} <= {"03b.jpg"}


def test_an_end_of_epoch_state_from_an_earlier_version_resumes_at_the_next_epoch(roots):
    ref = reference(roots, "raise")
    loader = make(roots["raise"], "raise", 0)
    old = {"epoch": 2, "batch": len(loader), "cursor": len(loader.dataset), "seed": loader.seed}
    loader.load_state_dict(old)
    assert loader.state_dict() == {"epoch": 3, "batches": 0, "cursor": 0, "seed": loader.seed}
    assert_same(run(loader), ref[3], "epoch 3")


def test_set_epoch_keeps_a_loaded_position_in_its_own_epoch(roots):
    # The usual training script: load the checkpoint, then set_epoch(state["epoch"]) before each pass.
    ref = reference(roots, "raise")
    loader = make(roots["raise"], "raise", 0)
    run(loader)
    take(loader, 2)
    state = loader.state_dict()
    resumed = make(roots["raise"], "raise", 0)
    resumed.load_state_dict(state)
    resumed.set_epoch(state["epoch"])
    assert resumed.state_dict() == state
    assert_same(run(resumed), ref[1][2:], "rest of epoch 1")
    resumed.set_epoch(2)
    assert_same(run(resumed), ref[2], "epoch 2")


def test_a_seed_past_2_63_keys_the_same_pixels_through_every_route(folder_paths):
    seed = (1 << 63) + 5
    loader = Loader(fastimg.ImageDataset(folder_paths[:4], transform=T), 4, seed=seed, shuffle=False)
    assert loader.seed == seed
    (images, _), *_ = run(loader)
    direct = fastimg.load_batch(folder_paths[:4], T, seed=seed, epoch=0)
    assert torch.equal(images, torch.from_numpy(direct.images))
    ds = fastimg.ImageDataset(folder_paths[:4], transform=T, seed=seed + (1 << 64))  # reduced modulo 2**64
    assert ds.seed == seed and torch.equal(ds[1][0], images[1])
