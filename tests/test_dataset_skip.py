"""on_error="skip" on the datasets (README ways 1 and 2): bad files are left out of batches, logged once
per file, and their records reach the main process with the batch, with and without workers."""

import logging

import numpy as np
import pytest
import torch
from imaging import encode, photo_like
from torch.utils.data import DataLoader

import fastimg
from fastimg import ImageDataset, Transform

T = Transform(16)
BAD = {2: b"\xff\xd8\xff\xe0 corrupt", 7: b""}


@pytest.fixture(scope="module")
def paths(tmp_path_factory):
    root = tmp_path_factory.mktemp("skip")
    out = []
    for i in range(10):
        p = root / f"{i}.jpg"
        p.write_bytes(BAD.get(i, encode(photo_like(20, 24, seed=i), quality=90)))
        out.append(str(p))
    return out


ROUTES = {
    "no_workers": {},
    "fork_workers": {"num_workers": 2, "multiprocessing_context": "fork"},
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("transform", [T, None], ids=["transform", "decoded"])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_skip_leaves_bad_files_out_and_records_reach_the_main_process(paths, route, transform, caplog):
    ds = ImageDataset(paths, list(range(len(paths))), transform, seed=0, on_error="skip")
    loader = DataLoader(ds, batch_size=4, collate_fn=fastimg.collate, **ROUTES[route])
    delivered, carried = [], []
    with caplog.at_level(logging.WARNING, logger="fastimg"):
        for batch in loader:
            images, labels = batch
            assert len(images) == len(labels)
            delivered += labels.tolist()
            carried += batch.errors
    assert delivered == [i for i in range(len(paths)) if i not in BAD]
    assert sorted(e.index for e in carried) == sorted(BAD)
    assert all(e.source == paths[e.index] and e.reason for e in carried)
    assert sorted(e.index for e in ds.errors) == sorted(BAD)  # in the main process, from the workers too
    if route == "no_workers":
        messages = [r.getMessage() for r in caplog.records if "skipping sample" in r.getMessage()]
        assert len(messages) == len(BAD)
        assert all(not m.startswith("fastimg:") for m in messages)  # the logger name is the prefix


def test_default_collate_builds_the_smaller_batch(paths):
    ds = ImageDataset(paths, list(range(len(paths))), T, on_error="skip")
    sizes = [len(y) for _, y in DataLoader(ds, batch_size=4)]
    assert sizes == [3, 3, 2]


def test_raise_is_the_default_and_getitem_says_how_to_skip(paths):
    ds = ImageDataset(paths, transform=T)
    with pytest.raises(fastimg.DecodeError, match=r"2\.jpg") as info:
        next(iter(DataLoader(ds, batch_size=4)))
    with pytest.raises(fastimg.DecodeError) as info:
        ds[2]
    assert "on_error='skip'" in "\n".join(getattr(info.value, "__notes__", []))
    skipping = ImageDataset(paths, transform=T, on_error="skip")
    with pytest.raises(fastimg.DecodeError, match="empty") as info:
        skipping[7]
    assert "single sample cannot be skipped" in "\n".join(getattr(info.value, "__notes__", []))
    with pytest.raises(ValueError, match="on_error"):
        ImageDataset(paths, transform=T, on_error="ignore")


def test_labeled_batch_survives_pickling_and_pin_memory_path(paths):
    import pickle

    ds = ImageDataset(paths, list(range(len(paths))), T, on_error="skip")
    batch = fastimg.collate(ds.__getitems__([0, 1, 2, 3]))
    again = pickle.loads(pickle.dumps(batch))
    images, labels = again
    assert torch.equal(images, batch[0]) and labels.tolist() == [0, 1, 3]
    assert [e.index for e in again.errors] == [2]
    assert np.array_equal(np.asarray(labels), [0, 1, 3])


def test_loader_errors_by_epoch(paths):
    loader = fastimg.Loader(ImageDataset(paths, list(range(len(paths))), T), 4, seed=0, on_error="skip")
    for _ in range(2):
        for _batch in loader:
            pass
    assert sorted(loader.errors_by_epoch) == [0, 1]
    for epoch in (0, 1):
        assert sorted(e.index for e in loader.errors_by_epoch[epoch]) == sorted(BAD)
    assert len(loader.errors) == 2 * len(BAD)


def test_loader_records_a_bad_sample_once_per_epoch_when_the_order_wraps(paths):
    # two good files and the two bad ones in batches of 3: filling them wraps the order past the bad ones
    subset = [paths[i] for i in (0, 1, *sorted(BAD))]
    loader = fastimg.Loader(ImageDataset(subset, list(range(4)), T), 3, seed=0, on_error="skip")
    for _batch in loader:
        pass
    assert sorted(e.index for e in loader.errors_by_epoch[0]) == [2, 3]
