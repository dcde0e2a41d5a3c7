"""ImageDataset / ImageFolder: torchvision layout rules, per-item vs batched access, file reading options,
and DataLoader workers (fork and spawn) after the parent already ran native batches."""

import multiprocessing as mp
import os

import numpy as np
import pytest
import torch
from imaging import encode, photo_like
from torch.utils.data import DataLoader

import fastimg
from fastimg import ImageDataset, ImageFolder, Transform

T = Transform(32, crop="random_resized", hflip=0.5)


def test_image_folder_follows_torchvision_rules(tmp_path):
    for cls in ["b_class", "a_class", "c_class"]:
        (tmp_path / cls / "nested").mkdir(parents=True)
    data = encode(photo_like(20, 20), quality=80)
    (tmp_path / "a_class" / "z.JPG").write_bytes(data)  # extension match is case-insensitive
    (tmp_path / "a_class" / "a.png").write_bytes(encode(photo_like(20, 20), "PNG"))
    (tmp_path / "a_class" / "readme.md").write_text("x")  # ignored
    (tmp_path / "b_class" / "nested" / "deep.jpeg").write_bytes(data)  # recursive
    (tmp_path / "c_class" / "x.webp").write_bytes(encode(photo_like(20, 20), "WEBP"))
    (tmp_path / "stray.jpg").write_bytes(data)  # files in root are not samples
    ds = ImageFolder(tmp_path, T)
    assert ds.classes == ["a_class", "b_class", "c_class"]
    assert ds.class_to_idx == {"a_class": 0, "b_class": 1, "c_class": 2}
    rel = [(os.path.relpath(p, tmp_path), t) for p, t in ds.samples]
    assert rel == [("a_class/a.png", 0), ("a_class/z.JPG", 0), ("b_class/nested/deep.jpeg", 1), ("c_class/x.webp", 2)]
    assert ds.targets == [0, 0, 1, 2] and ds.imgs == ds.samples
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes c_class"):
        ImageFolder(tmp_path, T, is_valid_file=lambda p: p.lower().endswith((".jpg", ".jpeg")))
    (tmp_path / "d_class").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes d_class"):
        ImageFolder(tmp_path, T)


def test_no_class_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        ImageFolder(tmp_path)


def test_item_access_and_getitems_agree(image_folder):
    ds = ImageFolder(image_folder, T, seed=3)
    x, y = ds[5]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and y == ds.targets[5]
    items = [ds[i] for i in [4, 9, 15]]
    batch = ds.__getitems__([4, 9, 15])
    for (a, la), (b, lb) in zip(items, batch):
        assert torch.equal(a, b) and la == lb
    images, labels = fastimg.collate(batch)
    assert images.shape == (3, 3, 32, 32) and labels.tolist() == [ds.targets[i] for i in [4, 9, 15]]
    assert images.data_ptr() == batch[0][0].data_ptr()  # the batch buffer itself: no copy
    assert ds[-1][1] == ds.targets[-1]
    with pytest.raises(IndexError):
        ds[len(ds)]


def test_set_epoch_changes_augmentation_only_through_epoch(image_folder):
    ds = ImageFolder(image_folder, T, seed=3)
    a = ds[2][0]
    ds.set_epoch(1)
    b = ds[2][0]
    ds.set_epoch(0)
    assert torch.equal(ds[2][0], a) and not torch.equal(a, b)


def test_no_transform_gives_decoded_pixels(folder_paths):
    ds = ImageDataset(folder_paths[:2])
    img, label = ds[0]
    assert img.dtype == torch.uint8 and img.ndim == 3 and img.shape[2] == 3 and label == -1
    np.testing.assert_array_equal(img.numpy(), fastimg.decode_images([folder_paths[0]])[0])


@pytest.mark.parametrize(
    "options",
    [dict(cache_bytes=1 << 20), dict(preload=True), dict(direct_io=True), dict(direct_io=True, cache_bytes=1 << 20)],
)
def test_reading_options_give_identical_batches(folder_paths, options):
    plain = ImageDataset(folder_paths, transform=T, seed=0).__getitems__(range(len(folder_paths)))
    ds = ImageDataset(folder_paths, transform=T, seed=0, **options)
    for _ in range(2):  # second pass hits the cache
        other = ds.__getitems__(range(len(folder_paths)))
        assert torch.equal(fastimg.collate(plain)[0], fastimg.collate(other)[0])
    if ds.cache is not None:
        assert ds.cache.hits >= len(folder_paths) and ds.cache.size <= 1 << 20


def test_cache_respects_its_byte_budget(folder_paths):
    sizes = [os.path.getsize(p) for p in folder_paths]
    budget = sum(sizes[:5])
    ds = ImageDataset(folder_paths, transform=T, cache_bytes=budget)
    ds.__getitems__(range(len(folder_paths)))
    assert 0 < ds.cache.size <= budget and len(ds.cache) < len(folder_paths)


def test_preload_refuses_what_does_not_fit(folder_paths, monkeypatch):
    from fastimg import cache

    monkeypatch.setattr(cache, "_available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match="preload=True needs"):
        ImageDataset(folder_paths, transform=T, preload=True)


def test_bad_file_in_dataset_raises_with_its_path(tmp_path, folder_paths):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff garbage")
    ds = ImageDataset([folder_paths[0], str(bad)], transform=T)
    with pytest.raises(fastimg.DecodeError, match=r"bad\.jpg"):
        ds[1]


def _collect(loader):
    return [(x.clone(), y.clone()) for x, y in loader]


def _worker_threads(_):
    from fastimg._threads import threads_in_worker

    assert threads_in_worker(None) == 1


@pytest.mark.timeout(180)
@pytest.mark.parametrize("context", ["fork", "spawn"])
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_dataloader_workers_after_parent_ran_native_batches(image_folder, context):
    ds = ImageFolder(image_folder, T, seed=5)
    reference = _collect(DataLoader(ds, batch_size=4, collate_fn=fastimg.collate))  # parent ran a region
    fastimg.load_batch(ds.sources, T, num_threads=2)
    workers = DataLoader(
        ds,
        batch_size=4,
        collate_fn=fastimg.collate,
        num_workers=2,
        multiprocessing_context=mp.get_context(context),
        worker_init_fn=_worker_threads,
        timeout=120,
    )
    got = _collect(workers)
    assert len(got) == len(reference)
    for (a, la), (b, lb) in zip(reference, got):
        assert torch.equal(a, b) and torch.equal(la, lb)
    per_item = _collect(
        DataLoader(ds, batch_size=4, num_workers=2, multiprocessing_context=mp.get_context(context), timeout=120)
    )  # default collate over __getitems__ samples
    for (a, _), (b, _) in zip(reference, per_item):
        assert torch.equal(a, b)
