"""Stress (marker `stress`): long runs, concurrency, faults while an epoch runs. `make test` runs the short
version; `make stress` the long one (FASTIMG_STRESS_BATCHES=10000)."""

import gc
import io
import os
import signal
import struct
import threading
import time

import numpy as np
import pytest
import torch
from imaging import encode, photo_like
from PIL import Image
from torch.utils.data import DataLoader

from fastimg import ImageDataset, ImageFolder, Loader, Transform

pytestmark = pytest.mark.stress
BATCHES = int(os.environ.get("FASTIMG_STRESS_BATCHES", "1500"))
T = Transform(16, crop="random_resized", hflip=0.5, color_jitter=0.2)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.fixture(scope="module")
def small_jpegs(tmp_path_factory):
    root = tmp_path_factory.mktemp("stress")
    paths = []
    for i in range(24):
        p = root / f"{i:03d}.jpg"
        p.write_bytes(encode(photo_like(40 + i, 56 - i // 2, seed=i), quality=85))
        paths.append(str(p))
    return paths


@pytest.mark.timeout(900)
def test_many_batches_do_not_grow_memory(small_jpegs):
    """BATCHES batches through fastimg.Loader; RSS sampled: growth from batch BATCHES/10 to the end < 20 MiB."""
    ds = ImageDataset(small_jpegs, list(range(len(small_jpegs))), T, seed=0)
    loader = Loader(ds, 8, seed=0, prefetch=2)
    seen, samples, start = 0, [], None
    while seen < BATCHES:
        for images, _labels in loader:
            images.sum()
            seen += 1
            if seen == BATCHES // 10:
                gc.collect()
                start = rss_mib()
            if seen % max(1, BATCHES // 20) == 0:
                samples.append(rss_mib())
            if seen >= BATCHES:
                break
    gc.collect()
    end = rss_mib()
    print(
        f"\nstress: {seen} batches, RSS {start:.1f} MiB at batch {BATCHES // 10} -> {end:.1f} MiB at {seen}; "
        f"samples {[round(s, 1) for s in samples]}"
    )
    assert end - start < 20


@pytest.mark.timeout(300)
def test_two_threads_share_one_dataset(small_jpegs):
    ds = ImageDataset(small_jpegs, transform=T, seed=0, cache_bytes=1 << 20)
    expected = ds.load(range(len(ds))).images.copy()
    failures: list = []

    def work():
        try:
            for _ in range(40):
                order = np.random.default_rng().permutation(len(ds))
                got = ds.load(order).images
                np.testing.assert_array_equal(got, expected[order])
        except Exception as exc:  # reported to the main thread
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


@pytest.mark.timeout(300)
def test_many_loaders_created_and_abandoned(small_jpegs):
    ds = ImageDataset(small_jpegs, transform=T, seed=0)
    gc.collect()
    before_threads, before_rss = threading.active_count(), rss_mib()
    for k in range(200):
        it = iter(Loader(ds, 4, seed=k, prefetch=3))
        for _ in range(k % 3):
            next(it)
        del it
    gc.collect()
    deadline = time.monotonic() + 10
    while threading.active_count() > before_threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() == before_threads
    assert rss_mib() - before_rss < 20


class _Slow(torch.utils.data.Dataset):
    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return 10_000

    def __getitem__(self, i):
        time.sleep(0.01)
        return self.ds[i % len(self.ds)]


@pytest.mark.timeout(120)
def test_dataloader_worker_killed_mid_epoch_fails_fast(small_jpegs):
    loader = DataLoader(_Slow(ImageDataset(small_jpegs, transform=T)), batch_size=4, num_workers=2, timeout=60)
    it = iter(loader)
    next(it)
    os.kill(it._workers[0].pid, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="worker"):
        for _ in it:
            pass
    assert time.monotonic() - start < 60  # an error, not a hang


@pytest.mark.timeout(300)
def test_files_deleted_or_truncated_during_an_epoch(tmp_path, small_jpegs):
    paths = []
    for i, src in enumerate(small_jpegs):
        p = tmp_path / f"{i:03d}.jpg"
        with open(src, "rb") as f:
            p.write_bytes(f.read())
        paths.append(str(p))
    ds = ImageDataset(paths, list(range(len(paths))), T)
    loader = Loader(ds, 4, shuffle=False, seed=0, on_error="skip", prefetch=0)
    doomed = {13: "delete", 14: "truncate", 21: "truncate"}
    delivered = []
    for b, (_, labels) in enumerate(loader):
        delivered += labels.tolist()
        if b == 1:  # after 8 samples, damage files later in the epoch
            for i, how in doomed.items():
                if how == "delete":
                    os.remove(paths[i])
                else:
                    with open(paths[i], "r+b") as f:
                        f.truncate(os.path.getsize(paths[i]) // 2)
    good = [i for i in range(len(paths)) if i not in doomed]
    assert delivered[: len(good)] == good  # nothing else lost or reordered
    assert sorted({e.index for e in loader.errors}) == sorted(doomed)
    reasons = {e.index: e.reason for e in loader.errors}
    assert "No such file" in reasons[13] and ("truncated JPEG" in reasons[14] or "Premature end" in reasons[14])


def _corrupt_variants(good: bytes, rng) -> dict:
    cmyk = io.BytesIO()
    Image.fromarray(photo_like(40, 40, seed=7)).convert("CMYK").save(cmyk, format="JPEG")
    at = good.index(b"\xff\xc0")
    huge = good[: at + 5] + struct.pack(">HH", 50000, 50000) + good[at + 9 :]
    flipped = bytearray(good)
    for pos in rng.integers(200, len(good), size=20):
        flipped[pos] ^= 0xFF
    return {
        "empty": (b"", False),
        "truncated": (good[: len(good) // 2], False),
        "wrong_format": (b"GIF89a" + bytes(100), False),
        "text": (b"just text, not pixels", False),
        "huge_header": (huge, False),
        "cmyk": (cmyk.getvalue(), True),
        "garbage_after_eoi": (good + b"\x00\x01garbage" * 10, True),
        "bit_flipped": (bytes(flipped), None),  # may or may not decode; must not crash
    }


@pytest.mark.timeout(300)
def test_folder_with_ten_percent_corrupt_files_of_every_kind(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    (root / "a").mkdir(parents=True)
    (root / "b").mkdir()
    good_count = 72
    for i in range(good_count):
        (root / ("a" if i % 2 else "b") / f"good{i:03d}.jpg").write_bytes(
            encode(photo_like(48, 64, seed=i), quality=85)
        )
    variants = _corrupt_variants(encode(photo_like(48, 64, seed=99), quality=85), rng)
    for name, (data, _) in variants.items():
        (root / "a" / f"bad_{name}.jpg").write_bytes(data)
    ds = ImageFolder(root, T)
    loader = Loader(ds, 8, seed=1, on_error="skip")
    batches = [(x.clone(), y.clone()) for x, y in loader]
    assert all(len(y) == 8 for _, y in batches[:-1]) and len(batches) == len(loader)
    assert all(torch.isfinite(x).all() for x, _ in batches)
    failed = {os.path.basename(e.source) for e in loader.errors}
    for name, (_, decodes) in variants.items():
        if decodes is False:
            assert f"bad_{name}.jpg" in failed, name
        elif decodes is True:
            assert f"bad_{name}.jpg" not in failed, name
    print(f"\nstress: {len(ds)} files, {len(failed)} recorded errors: {sorted(failed)}")
