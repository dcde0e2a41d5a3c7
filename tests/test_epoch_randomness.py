"""Augmentations through torch's DataLoader (README ways 1 and 2): fresh every epoch and every run without a
seed, reproducible under torch.manual_seed, and keyed on (seed, epoch, index) with an explicit seed, with
set_epoch reaching persistent and spawned workers. Compared per sample index (label = index)."""

import pytest
import torch
from torch.utils.data import DataLoader

import fastimg
from fastimg import ImageDataset, Transform

T = Transform(24, crop="random_resized", hflip=0.5, color_jitter=0.3)

ROUTES = {
    "no_workers": {},
    "no_workers_collate": {"collate_fn": fastimg.collate},
    "fork_workers": {"num_workers": 2, "multiprocessing_context": "fork"},
    "fork_persistent_collate": {
        "num_workers": 2,
        "multiprocessing_context": "fork",
        "persistent_workers": True,
        "collate_fn": fastimg.collate,
    },
}


@pytest.fixture(scope="module")
def paths(folder_paths):
    return folder_paths[:12]


def _epochs(loader, epochs=2, dataset=None):
    """{index: pixels} per epoch."""
    seen = []
    for e in range(epochs):
        if dataset is not None:
            dataset.set_epoch(e)
        per_index = {}
        for images, labels in loader:
            for x, i in zip(images, labels.tolist()):
                per_index[i] = x.clone()
        seen.append(per_index)
    return seen


@pytest.mark.timeout(120)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_no_seed_is_fresh_every_epoch_and_reproducible_under_manual_seed(paths, route):
    def run():
        torch.manual_seed(1234)
        ds = ImageDataset(paths, list(range(len(paths))), T)
        return _epochs(DataLoader(ds, batch_size=5, shuffle=True, **ROUTES[route]))

    first, again = run(), run()
    assert sorted(first[0]) == sorted(first[1]) == list(range(len(paths)))
    for i in range(len(paths)):
        assert not torch.equal(first[0][i], first[1][i]), f"sample {i} got the same augmentation twice"
        for e in range(2):
            assert torch.equal(first[e][i], again[e][i]), f"sample {i}, epoch {e}: not reproducible"
    torch.manual_seed(99)
    other = _epochs(DataLoader(ImageDataset(paths, list(range(len(paths))), T), batch_size=5, **ROUTES[route]), 1)
    assert any(not torch.equal(other[0][i], first[0][i]) for i in range(len(paths)))


def _counter_based(paths, seed, epoch):
    return {
        i: torch.from_numpy(fastimg.load_batch([p], T, seed=seed, epoch=epoch, indices=[i]).images[0])
        for i, p in enumerate(paths)
    }


@pytest.mark.timeout(180)
@pytest.mark.parametrize(
    "options",
    [
        {"num_workers": 2, "multiprocessing_context": "fork", "persistent_workers": True},
        {
            "num_workers": 1,
            "multiprocessing_context": "spawn",
            "persistent_workers": True,
            "collate_fn": fastimg.collate,
        },
        {},
    ],
    ids=["fork_persistent", "spawn_persistent", "no_workers"],
)
def test_explicit_seed_and_set_epoch_reach_every_worker(paths, options):
    ds = ImageDataset(paths, list(range(len(paths))), T, seed=7)
    seen = _epochs(DataLoader(ds, batch_size=4, shuffle=True, **options), epochs=2, dataset=ds)
    for e in range(2):
        expected = _counter_based(paths, 7, e)
        for i in range(len(paths)):
            assert torch.equal(seen[e][i], expected[i]), f"sample {i}, epoch {e}"


def test_loader_seed_comes_from_the_dataset_when_it_has_one(paths):
    ds = ImageDataset(paths, list(range(len(paths))), T, seed=11)
    assert fastimg.Loader(ds, 4).seed == 11
    assert fastimg.Loader(ds, 4, seed=3).seed == 3
    torch.manual_seed(5)
    assert fastimg.Loader(ImageDataset(paths, transform=T), 4).seed == torch.initial_seed()


def test_seed_and_epoch_arguments_are_checked(paths):
    with pytest.raises(ValueError, match="seed"):
        ImageDataset(paths, transform=T, seed=-1)
    with pytest.raises(ValueError, match="epoch"):
        ImageDataset(paths, transform=T).set_epoch(-2)
