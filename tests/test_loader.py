"""fastimg.Loader: order, epochs, determinism, resume, sharding, skips, cleanup, memory, options."""

import gc
import logging
import os
import threading
import time

import pytest
import torch
from torch.utils.data import DataLoader

import fastimg
from fastimg import ImageDataset, Loader, Transform

T = Transform(32, crop="random_resized", hflip=0.5)


@pytest.fixture
def dataset(folder_paths):
    # label = index, so batches reveal which samples they hold
    return ImageDataset(folder_paths, list(range(len(folder_paths))), T)


def run(loader):
    return [(x.clone(), y.clone()) for x, y in loader]


def labels_of(batches):
    return [y.tolist() for _, y in batches]


def test_order_sizes_and_len(dataset):
    n = len(dataset)  # 21
    loader = Loader(dataset, 4, shuffle=False, seed=0)
    batches = run(loader)
    assert len(loader) == len(batches) == 6
    assert sum(labels_of(batches), []) == list(range(n))
    assert [len(y) for _, y in batches] == [4, 4, 4, 4, 4, 1]
    assert batches[0][0].shape == (4, 3, 32, 32) and batches[0][0].dtype == torch.float32
    dropped = Loader(dataset, 4, shuffle=False, drop_last=True, seed=0)
    assert len(dropped) == len(run(dropped)) == 5


def test_each_pass_advances_the_epoch_and_set_epoch_replays(dataset):
    loader = Loader(dataset, 5, seed=7)
    first, second = labels_of(run(loader)), labels_of(run(loader))
    assert first != second  # a forgotten set_epoch does not repeat the order
    assert sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(len(dataset)))
    loader.set_epoch(0)
    assert labels_of(run(loader)) == first
    assert labels_of(run(loader)) == second  # and continues from there


def test_seed_none_follows_torch_manual_seed(dataset):
    torch.manual_seed(123)
    a = run(Loader(dataset, 5))
    torch.manual_seed(123)
    b = run(Loader(dataset, 5))
    torch.manual_seed(124)
    c = run(Loader(dataset, 5))
    assert all(torch.equal(x, y) for (x, _), (y, _) in zip(a, b))
    assert labels_of(a) != labels_of(c)


def test_thread_count_and_prefetch_do_not_change_tensors(dataset):
    a = run(Loader(dataset, 6, seed=2, num_threads=1, prefetch=0))
    b = run(Loader(dataset, 6, seed=2, num_threads=2, prefetch=3))
    assert all(torch.equal(x, y) and torch.equal(lx, ly) for (x, lx), (y, ly) in zip(a, b))


@pytest.mark.parametrize("stop_after", [0, 1, 3, 5])
def test_resume_from_state_dict_reproduces_the_run(dataset, stop_after):
    full = Loader(dataset, 4, seed=9)
    run(full)  # epoch 0
    expected = run(full)  # epoch 1: the one we interrupt
    interrupted = Loader(dataset, 4, seed=9)
    run(interrupted)
    it = iter(interrupted)
    for _ in range(stop_after):
        next(it)
    state = interrupted.state_dict()
    del it
    resumed = Loader(dataset, 4, seed=9)
    resumed.load_state_dict(state)
    rest = run(resumed)
    assert len(rest) == len(expected) - stop_after
    for (x, lx), (y, ly) in zip(expected[stop_after:], rest):
        assert torch.equal(x, y) and torch.equal(lx, ly)
    assert labels_of(run(resumed)) == labels_of(_epoch(dataset, 2))  # and then on to the next epoch


def test_state_dict_keys_match_the_shard_loader_and_old_keys_still_load(dataset):
    loader = Loader(dataset, 4, seed=9)
    it = iter(loader)
    next(it)
    next(it)
    state = loader.state_dict()
    del it
    assert sorted(state) == ["batches", "cursor", "epoch", "seed"]  # as ShardLoader.state_dict names them
    assert state["batches"] == 2
    old = {("batch" if k == "batches" else k): v for k, v in state.items()}  # saved by earlier versions
    a, b = Loader(dataset, 4, seed=9), Loader(dataset, 4, seed=9)
    a.load_state_dict(state)
    b.load_state_dict(old)
    assert labels_of(run(a)) == labels_of(run(b))


@pytest.mark.parametrize("prefetch", [0, 3])
def test_len_of_an_iterator_counts_the_batches_not_yet_handed_out(dataset, prefetch):
    loader = Loader(dataset, 4, seed=9, prefetch=prefetch)
    it = iter(loader)
    assert len(it) == len(loader) == 6
    next(it)
    time.sleep(0.2)  # the prefetch thread runs ahead meanwhile
    assert len(it) == 5
    resumed = Loader(dataset, 4, seed=9, prefetch=prefetch)
    resumed.load_state_dict(loader.state_dict())
    assert len(iter(resumed)) == 5  # a resumed pass starts at its batch


def _epoch(dataset, epoch):
    loader = Loader(dataset, 4, seed=9)
    loader.set_epoch(epoch)
    return run(loader)


@pytest.mark.parametrize("world", [2, 3, 4])
def test_shards_are_equal_disjoint_and_cover_the_set(dataset, world):
    n = len(dataset)
    per_rank = [labels_of(run(Loader(dataset, 3, seed=4, shard=(r, world)))) for r in range(world)]
    counts = {len(b) for b in per_rank}
    assert len(counts) == 1  # equal batch counts
    flat = [sum(b, []) for b in per_rank]
    assert len({len(f) for f in flat}) == 1
    union = sum(flat, [])
    assert set(union) == set(range(n))
    padding = len(union) - n
    assert padding == -n % world  # only the wrap-around padding repeats


def test_env_rank_and_world_size(dataset, monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    loader = Loader(dataset, 4, seed=4)
    assert (loader.rank, loader.world_size) == (1, 2)
    assert sum(labels_of(run(loader)), []) == sum(labels_of(run(Loader(dataset, 4, seed=4, shard=(1, 2)))), [])


def test_skip_replaces_bad_samples_with_the_next_ones(folder_paths, tmp_path, caplog):
    paths = list(folder_paths)
    bad_at = [3, 4, 8, 20]  # a batch boundary (3|4 with batch 4), a middle, the very end
    for i in bad_at:
        p = tmp_path / f"bad{i}.jpg"
        p.write_bytes(b"\xff\xd8\xff\xe0 corrupt" if i != 8 else b"")
        paths[i] = str(p)
    ds = ImageDataset(paths, list(range(len(paths))), T)
    loader = Loader(ds, 4, shuffle=False, seed=0, on_error="skip")
    with caplog.at_level(logging.WARNING, logger="fastimg"):
        batches = run(loader)
        run(Loader(ds, 4, shuffle=False, seed=0, on_error="skip"))
    assert [len(y) for _, y in batches] == [4, 4, 4, 4, 4, 1]  # sizes kept
    delivered = sum(labels_of(batches), [])
    good = [i for i in range(len(paths)) if i not in bad_at]
    assert delivered[: len(good)] == good  # every good sample, in order
    assert delivered[len(good) :] == good[: len(delivered) - len(good)]  # filled by wrapping, like padding
    assert sorted({e.index for e in loader.errors}) == bad_at
    assert all(e.source == paths[e.index] for e in loader.errors)
    logged = [r for r in caplog.records if "skipping sample" in r.getMessage()]
    assert len(logged) == 2 * len(bad_at)  # once per loader and sample
    with pytest.raises(fastimg.DecodeError, match=r"bad3\.jpg"):
        run(Loader(ds, 4, shuffle=False, seed=0))


def test_the_loader_takes_the_datasets_on_error_unless_given_its_own(folder_paths, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 garbage")
    paths = [*list(folder_paths)[:5], str(bad)]
    skipping = ImageDataset(paths, list(range(len(paths))), T, on_error="skip")
    loader = Loader(skipping, 3, shuffle=False, seed=0)  # inherits skip
    assert [len(y) for _, y in run(loader)] == [3, 3]
    assert [e.index for e in loader.errors] == [5]
    with pytest.raises(fastimg.DecodeError, match=r"bad\.jpg"):
        run(Loader(skipping, 3, shuffle=False, seed=0, on_error="raise"))
    raising = ImageDataset(paths, list(range(len(paths))), T)
    with pytest.raises(fastimg.DecodeError, match=r"bad\.jpg"):
        run(Loader(raising, 3, shuffle=False, seed=0))
    assert [len(y) for _, y in run(Loader(raising, 3, shuffle=False, seed=0, on_error="skip"))] == [3, 3]


def test_every_sample_failing_is_an_error(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    loader = Loader(ImageDataset([str(bad)] * 3, transform=T), 2, on_error="skip", seed=0)
    with pytest.raises(RuntimeError, match="samples in a row failed to load, every sample within reach"):
        run(loader)


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "fastimg-prefetch"]


@pytest.mark.timeout(60)
def test_abandoned_iterators_leave_no_thread(dataset):
    for _ in range(5):
        for _batch in Loader(dataset, 2, seed=1, prefetch=3):
            break
    it = iter(Loader(dataset, 2, seed=1))
    next(it)
    del it
    with pytest.raises(ZeroDivisionError):
        for _ in Loader(dataset, 2, seed=1):
            raise ZeroDivisionError
    gc.collect()
    for _ in range(50):
        if not _prefetch_threads():
            break
        threading.Event().wait(0.05)
    assert _prefetch_threads() == []
    loader = Loader(dataset, 2, seed=1)
    next(iter(loader))
    assert len(run(loader)) == len(loader)  # restartable after an abandoned pass


def _rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.timeout(300)
def test_memory_does_not_grow_over_epochs(dataset):
    loader = Loader(dataset, 4, seed=3, prefetch=2)
    for _ in range(2):
        run(loader)
    gc.collect()
    start = _rss_mib()
    for _ in range(8):
        for x, _ in loader:
            x.sum()
    gc.collect()
    assert _rss_mib() - start < 20


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-accelerator fallback")
def test_pin_memory_and_device_warn_once_without_cuda(dataset):
    import fastimg.loader as loader_module

    loader_module._warned_no_accelerator = False
    with pytest.warns(RuntimeWarning, match="needs CUDA"):
        loader = Loader(dataset, 4, seed=0, pin_memory=True, device="cuda")
    x, _ = next(iter(loader))
    assert x.device.type == "cpu" and not x.is_pinned()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Loader(dataset, 4, seed=0, pin_memory=True)  # no second warning


def test_channels_last_and_batch_transform(dataset):
    plain = run(Loader(dataset, 4, seed=6))
    cl = run(Loader(dataset, 4, seed=6, memory_format=torch.channels_last))
    for (a, _), (b, _) in zip(plain, cl):
        assert b.shape == a.shape and b.is_contiguous(memory_format=torch.channels_last)
        assert torch.equal(a, b)
    doubled = run(Loader(dataset, 4, seed=6, batch_transform=lambda x: x * 2))
    assert all(torch.equal(a * 2, b) for (a, _), (b, _) in zip(plain, doubled))


def test_sampler_argument(dataset):
    sampler = [20, 0, 5, 5, 7]
    assert labels_of(run(Loader(dataset, 2, sampler=sampler, seed=0))) == [[20, 0], [5, 5], [7]]
    sub = torch.utils.data.SubsetRandomSampler([1, 2, 3], generator=torch.Generator().manual_seed(0))
    assert sorted(sum(labels_of(run(Loader(dataset, 2, sampler=sub, seed=0))), [])) == [1, 2, 3]


def test_as_iterable_dataset_in_a_dataloader(dataset):
    loader = Loader(dataset, 4, seed=8)
    direct = run(Loader(dataset, 4, seed=8))
    wrapped = run(DataLoader(loader, batch_size=None, num_workers=0))
    assert all(torch.equal(a, b) for (a, _), (b, _) in zip(direct, wrapped))
    with pytest.raises(RuntimeError, match="batch_size=None, num_workers=0"):
        run(DataLoader(Loader(dataset, 4, seed=8), batch_size=2))
    with pytest.raises(RuntimeError, match="batch_size=None, num_workers=0"):
        run(DataLoader(Loader(dataset, 4, seed=8), batch_size=None, num_workers=1, timeout=60))


def test_sources_and_labels_directly_and_create_dataloader(folder_paths):
    loader = Loader(folder_paths, 8, transform=T, labels=[1] * len(folder_paths), seed=0)
    x, y = next(iter(loader))
    assert x.shape == (8, 3, 32, 32) and y.tolist() == [1] * 8
    with pytest.raises(ValueError, match=r"needs a fastimg\.Transform"):
        Loader(folder_paths, 8)
    dl = fastimg.create_dataloader(
        folder_paths,
        list(range(len(folder_paths))),
        batch_size=5,
        img_size=48,
        augment=False,
        cache_bytes=1 << 20,
        seed=0,
    )
    batches = run(dl)
    assert batches[0][0].shape == (5, 3, 48, 48)
    assert sum(labels_of(batches), []) == list(range(len(folder_paths)))  # evaluation: no shuffle


def test_argument_errors(dataset):
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        Loader(dataset, 0)
    with pytest.raises(ValueError, match="shard: rank must be"):
        Loader(dataset, 2, shard=(2, 2))
    with pytest.raises(ValueError, match="on_error must be"):
        Loader(dataset, 2, on_error="ignore")
    with pytest.raises(ValueError, match="labels come from the dataset"):
        Loader(dataset, 2, labels=[0])
