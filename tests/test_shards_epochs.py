"""Exact epochs over shards (docs/shards.md, "What an epoch delivers"): every sample once per epoch for
any worker count, resume at every save point, damage measured against the index, and the webdataset
features (keys and raw members, resampling, gzip, separate shard and sample shuffling)."""

import gzip
import io
import json
import subprocess
import sys
import tarfile
from collections import Counter

import pytest
import torch
from test_shards import T, add, jpeg, labels_of

import fastimg
from fastimg.shards.writer import write_shards

LAYOUTS = {"even": [60, 60, 60, 60], "uneven": [50, 50, 50, 50, 40], "fewer_shards": [7, 5]}


def shards_of(root, sizes, *, index="offsets", name="s", gz=False):
    """Shards of ``sizes`` samples (label = global sample number) made by Python's tarfile, as another
    tool would; then indexed by ``python -m fastimg shards index`` ("offsets"), given an index.json of
    counts only ("counts", the first index format), or none."""
    urls, k = [], 0
    for s, n in enumerate(sizes):
        path = root / f"{name}-{s:04d}.tar{'.gz' if gz else ''}"
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tf:
            for _ in range(n):
                add(tf, f"{k:05d}.jpg", jpeg(k))
                add(tf, f"{k:05d}.cls", str(k).encode())
                add(tf, f"{k:05d}.json", json.dumps({"n": k}).encode())
                k += 1
        path.write_bytes(gzip.compress(buf.getvalue()) if gz else buf.getvalue())
        urls.append(str(path))
    if index == "offsets":
        run = subprocess.run(
            [sys.executable, "-m", "fastimg", "shards", "index", *urls, "--quiet"], capture_output=True
        )
        assert run.returncode == 0, run.stderr
    elif index == "counts":
        counts = {f"{name}-{s:04d}.tar": n for s, n in enumerate(sizes)}
        (root / "index.json").write_text(json.dumps({"format": "fastimg-shards/1", "shards": counts}))
    return urls


@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")  # 3 workers on 2 cores
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("index", ["offsets", "counts"])
def test_one_rank_delivers_every_sample_once_for_any_worker_count(tmp_path, layout, index):
    sizes = LAYOUTS[layout]
    urls = shards_of(tmp_path, sizes, index=index)
    total = sum(sizes)
    for workers in (0, 1, 3):
        ds = fastimg.ShardDataset(urls, T, batch_size=16, seed=3, shuffle_buffer=50)
        for epoch in range(3):
            ds.set_epoch(epoch)
            dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=workers)
            got = labels_of(dl)
            assert sorted(got) == list(range(total)), (workers, epoch)
    assert len(ds) == -(-total // 16)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_ranks_cover_the_epoch_with_at_most_world_minus_one_repeats(tmp_path, layout):
    sizes = LAYOUTS[layout]
    urls = shards_of(tmp_path, sizes)
    total = sum(sizes)
    for world, drop_last in ((2, False), (3, False), (2, True)):
        for epoch in range(3):
            runs = []
            for rank in range(world):
                ds = fastimg.ShardDataset(urls, T, batch_size=8, seed=1, shard=(rank, world), drop_last=drop_last)
                ds.set_epoch(epoch)
                runs.append(list(ds))
                assert len(runs[-1]) == len(ds)
            assert len({len(r) for r in runs}) == 1  # equal batch counts
            seen = Counter(v for r in runs for v in labels_of(r))
            if drop_last:
                assert max(seen.values(), default=1) == 1
            else:
                assert set(seen) == set(range(total)) and sum(seen.values()) - total <= world - 1


def test_third_party_shards_indexed_read_by_seeking(tmp_path):
    urls = shards_of(tmp_path, [30, 30])
    sidecar = json.loads((tmp_path / "s-0000.tar.idx").read_text())
    assert sidecar["samples"] == 30 and len(sidecar["offsets"]) == 31
    index = json.loads((tmp_path / "index.json").read_text())
    assert index["shards"] == {"s-0000.tar": 30, "s-0001.tar": 30}
    assert index["bytes"]["s-0000.tar"] == (tmp_path / "s-0000.tar").stat().st_size
    # The offsets are where the samples are: a reader given the second half of a shard reads only it.
    from fastimg.shards.samples import read_samples

    start = sidecar["offsets"][15]
    got = list(read_samples(0, urls[0], byte_range=(start, sidecar["offsets"][30]), first=15))
    assert [s.key for s in got] == [f"{k:05d}" for k in range(15, 30)]


def _batches(make, epochs, stop=None):
    """Batches (labels, pixels) of ``epochs`` passes of a fresh loader or dataset; with ``stop=(e, b)``
    also the state_dict after batch b of pass e (b=None: after the pass ended; b=-1: before it)."""
    ld = make()
    out, state = [], None
    for e in range(epochs):
        if stop == (e, -1):
            state = ld.state_dict()
        for b, batch in enumerate(ld):
            out.append((batch[1].tolist(), batch[0].clone()))
            if stop == (e, b):
                state = ld.state_dict()
        if stop == (e, None):
            state = ld.state_dict()
    return out, state


def _same(a, b):
    assert [x[0] for x in a] == [x[0] for x in b]
    assert all(torch.equal(x[1], y[1]) for x, y in zip(a, b))


@pytest.mark.parametrize("on_error", ["raise", "skip"])
def test_loader_resumes_exactly_from_every_save_point(tmp_path, on_error):
    urls = shards_of(tmp_path, [20, 14])
    train = fastimg.Transform(16, crop="random_resized", hflip=0.5)

    def make():
        ds = fastimg.ShardDataset(urls, train, batch_size=8, seed=4, shuffle_buffer=10, on_error=on_error)
        return fastimg.Loader(ds, 8, seed=4)

    whole, _ = _batches(make, 5)
    per_epoch = 5  # ceil(34 / 8)
    for stop in [(0, -1), (0, 2), (0, per_epoch - 1), (0, None), (1, None), (1, 3)]:
        _, state = _batches(make, stop[0] + 1, stop)
        done = {-1: 0, None: per_epoch}.get(stop[1], (stop[1] or 0) + 1) + stop[0] * per_epoch
        resumed = make()
        resumed.load_state_dict(state)
        rest = [(b[1].tolist(), b[0].clone()) for _ in range(3) for b in resumed]
        # the rest of the saved epoch (none when it had ended), then whole epochs
        assert len(rest) == 3 * per_epoch - done % per_epoch, stop
        _same(rest, whole[done : done + len(rest)])


def test_dataset_state_after_the_last_batch_names_the_next_epoch(tmp_path):
    urls = shards_of(tmp_path, [12, 12])
    ds = fastimg.ShardDataset(urls, T, batch_size=5, seed=2)
    ds.set_epoch(3)
    batches = list(ds)
    assert ds.state_dict() == {"seed": 2, "epoch": 4, "batches": 0, "cursor": 0}
    assert ds.state_dict(batches=len(batches))["epoch"] == 4
    ds.set_epoch(7)
    assert ds.state_dict()["epoch"] == 7
    fresh = fastimg.ShardDataset(urls, T, batch_size=5, seed=2)
    fresh.load_state_dict({"seed": 2, "epoch": 4, "batches": 0, "cursor": 0})
    assert sorted(labels_of(fresh)) == list(range(24)) and fresh.epoch == 4


def test_zero_byte_shard_is_damage_never_silent(tmp_path):
    urls = shards_of(tmp_path, [16, 16, 16])
    (tmp_path / "s-0001.tar").write_bytes(b"")
    with pytest.raises(fastimg.DecodeError, match=r"s-0001\.tar.*0 bytes"):
        list(fastimg.ShardDataset(urls, T, batch_size=8, seed=0))
    ds = fastimg.ShardDataset(urls, T, batch_size=8, seed=0, on_error="skip")
    got = labels_of(ds)
    assert len(ds.errors) == 1 and ds.errors[0].source.endswith("s-0001.tar") and ds.errors[0].index == -1
    assert not set(got) & set(range(16, 32))  # its samples are missing, and the record says so
    assert set(got) == set(range(16)) | set(range(32, 48))


@pytest.mark.parametrize("index", ["offsets", "counts"])
def test_shard_shorter_than_its_index_is_damage(tmp_path, index):
    urls = shards_of(tmp_path, [20, 20], index=index)
    path = tmp_path / "s-0000.tar"
    data = path.read_bytes()
    with tarfile.open(path) as tf:
        cut = next(m.offset for m in tf.getmembers() if m.name == "00014.jpg")
    path.write_bytes(data[:cut] + b"\0" * 1024)  # cut at a member boundary: a valid, shorter archive
    with pytest.raises(fastimg.DecodeError, match=r"s-0000\.tar"):
        list(fastimg.ShardDataset(urls, T, batch_size=8, seed=0, shuffle=False))
    ds = fastimg.ShardDataset(urls, T, batch_size=8, seed=0, on_error="skip", shuffle=False)
    got = labels_of(ds)
    assert [e.source for e in ds.errors] == [urls[0]]
    # Samples 14-19 are missing; with byte sizes in the index (offsets) the whole shard is distrusted.
    assert set(got) == (set(range(14)) if index == "counts" else set()) | set(range(20, 40))


def test_tar_without_end_of_archive_blocks_is_damage(tmp_path):
    urls = shards_of(tmp_path, [6], index=None)
    path = tmp_path / "s-0000.tar"
    data = path.read_bytes().rstrip(b"\0")
    path.write_bytes(data + b"\0" * (-len(data) % 512))
    with pytest.raises(fastimg.DecodeError, match="end-of-archive"):
        list(fastimg.ShardDataset(urls, T, batch_size=8, shuffle=False))


def test_keys_and_named_members_travel_with_batches(tmp_path):
    urls = shards_of(tmp_path, [5, 5])
    ds = fastimg.ShardDataset(urls, T, batch_size=4, seed=0, keep=["json", ".cls"])
    for batch in fastimg.Loader(ds, 4):
        assert isinstance(batch, fastimg.ShardBatch)
        for label, key, members in zip(batch[1].tolist(), batch.keys, batch.members):
            assert key == f"{label:05d}" and json.loads(members["json"]) == {"n": label}
            assert members["cls"] == str(label).encode()
    assert isinstance(fastimg.Loader(ds, 4), fastimg.Loader)


def test_resampled_stream_has_epochs_of_the_given_length(tmp_path):
    urls = shards_of(tmp_path, [10, 10, 10])
    ds = fastimg.ShardDataset(urls, T, batch_size=8, seed=5, resampled=True, epoch_samples=50)
    assert len(ds) == 7
    a = labels_of(ds)
    assert len(a) == 50 and set(a) <= set(range(30))
    ds.set_epoch(1)
    assert labels_of(ds) != a


def test_gzip_shards_are_streamed(tmp_path):
    urls = shards_of(tmp_path, [6, 6], gz=True)
    ds = fastimg.ShardDataset(urls, T, batch_size=4, seed=0)
    assert sorted(labels_of(ds)) == list(range(12)) and len(ds) == 3


def test_shard_order_and_sample_shuffle_are_separate(tmp_path):
    urls = shards_of(tmp_path, [10, 10, 10])
    in_order = labels_of(fastimg.ShardDataset(urls, T, batch_size=30, seed=1, shuffle_shards=False, shuffle_buffer=0))
    assert in_order == list(range(30))
    shards_only = labels_of(fastimg.ShardDataset(urls, T, batch_size=30, seed=1, shuffle_buffer=0))
    assert shards_only != in_order and all(b - a == 1 for a, b in zip(shards_only, shards_only[1:]) if b % 10)
    samples_only = labels_of(fastimg.ShardDataset(urls, T, batch_size=30, seed=1, shuffle_shards=False))
    assert samples_only != in_order and sorted(samples_only) == in_order


def test_writer_fills_shards_evenly_and_writes_offsets(tmp_path):
    src = tmp_path / "src"
    for k in range(23):
        (src / f"c{k % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"c{k % 3}" / f"{k}.jpg").write_bytes(jpeg(k))
    counts = write_shards(str(src), str(tmp_path / "out" / "w-%03d.tar"), max_count=8, progress=False)
    assert sorted(counts.values()) == [7, 8, 8]
    for name, n in counts.items():
        assert json.loads((tmp_path / "out" / f"{name}.idx").read_text())["samples"] == n
    ds = fastimg.ShardDataset(str(tmp_path / "out" / "w-{000..002}.tar"), T, batch_size=5, seed=0)
    dl = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    assert len(labels_of(dl)) == 23 and len(dl) == 5


def test_shards_from_webdataset_and_gnu_tar_are_indexed_and_read_exactly(tmp_path):
    """Shards written by the webdataset package and by GNU tar (with its ./ directory entry): indexed by
    `shards index`, read exactly once per epoch through DataLoader workers, the same keys and labels as
    webdataset's own reader gives."""
    import gc
    import os
    import warnings

    import webdataset as wds

    (tmp_path / "wds").mkdir()
    with wds.ShardWriter(str(tmp_path / "wds" / "w-%04d.tar"), maxcount=7, verbose=0) as sink:
        for k in range(20):
            sink.write({"__key__": f"{k:05d}", "jpg": jpeg(k), "cls": k})
    gnu = tmp_path / "gnu"
    for s in range(2):
        src = tmp_path / f"files{s}"
        src.mkdir()
        for k in range(100 + 9 * s, 109 + 9 * s):
            (src / f"{k:05d}.jpg").write_bytes(jpeg(k))
            (src / f"{k:05d}.cls").write_text(str(k))
        gnu.mkdir(exist_ok=True)
        subprocess.run(["tar", "cf", str(gnu / f"g-{s}.tar"), "--sort=name", "-C", str(src), "."], check=True)
    for folder, pattern, expected in (
        ("wds", "w-{0000..0002}.tar", set(range(20))),
        ("gnu", "g-{0..1}.tar", set(range(100, 118))),
    ):
        urls = str(tmp_path / folder / pattern)
        run = subprocess.run([sys.executable, "-m", "fastimg", "shards", "index", urls], capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        ds = fastimg.ShardDataset(urls, T, batch_size=4, seed=0, shuffle_buffer=5)
        for epoch in range(2):
            ds.set_epoch(epoch)
            got = labels_of(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2))
            assert sorted(got) == sorted(expected)
        ours = {(k.lstrip("./"), int(y)) for b in ds for k, y in zip(b.keys, b[1].tolist())}
        with warnings.catch_warnings():  # webdataset leaves its shard files to the garbage collector
            warnings.simplefilter("ignore", ResourceWarning)
            reference = wds.WebDataset(urls, shardshuffle=False, empty_check=False).to_tuple("__key__", "cls")
            theirs = {(os.path.basename(str(k)), int(y)) for k, y in reference}
            del reference
            gc.collect()
        assert ours == theirs


def test_truncated_gzip_shard_is_damage_named_and_recorded(tmp_path):
    urls = shards_of(tmp_path, [6, 6], gz=True, index=None)
    path = tmp_path / "s-0001.tar.gz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(fastimg.DecodeError, match=r"s-0001\.tar\.gz"):
        list(fastimg.ShardDataset(urls, T, batch_size=4, shuffle=False))
    ds = fastimg.ShardDataset(urls, T, batch_size=4, shuffle=False, on_error="skip")
    assert set(range(6)) <= set(labels_of(ds)) and [e.source for e in ds.errors] == [urls[1]]


def test_train_and_val_shards_share_a_folder_and_its_index(tmp_path):
    src = tmp_path / "src"
    for k in range(10):
        (src / f"c{k % 2}").mkdir(parents=True, exist_ok=True)
        (src / f"c{k % 2}" / f"{k}.jpg").write_bytes(jpeg(k))
    write_shards(str(src), str(tmp_path / "out" / "train-%03d.tar"), max_count=4, progress=False)
    write_shards(str(src), str(tmp_path / "out" / "val-%03d.tar"), max_count=5, progress=False)
    train = fastimg.ShardDataset(str(tmp_path / "out" / "train-{000..002}.tar"), T, batch_size=4, shard=(0, 2))
    val = fastimg.ShardDataset(str(tmp_path / "out" / "val-{000..001}.tar"), T, batch_size=4)
    assert len(train) == 2 and len(val) == 3
    batch = next(iter(val))
    assert batch.images is batch[0] and batch.labels is batch[1]
