"""ShardDataset and the shard writer: WebDataset conventions, fsspec, determinism, equal batches, resume,
skip records and clear errors (docs/shards.md)."""

import io
import json
import subprocess
import sys
import tarfile
from collections import Counter

import pytest
import torch
from imaging import encode, photo_like

import fastimg
from fastimg.shards.urls import brace_expand
from fastimg.shards.writer import parse_size, write_shards

T = fastimg.Transform(16)


def jpeg(k):
    return encode(photo_like(30 + k % 5, 40, seed=k), quality=90)


def add(tf, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def make_shards(root, shards=4, per_shard=5, index=True, fmt=tarfile.USTAR_FORMAT):
    """Hand-built shards in WebDataset's layout: <key>.jpg + <key>.cls, label = global sample number."""
    counts, k = {}, 0
    for s in range(shards):
        name = f"train-{s:06d}.tar"
        with tarfile.open(root / name, "w", format=fmt) as tf:
            for _ in range(per_shard):
                add(tf, f"{k:04d}.jpg", jpeg(k))
                add(tf, f"{k:04d}.cls", str(k).encode())
                k += 1
        counts[name] = per_shard
    if index:
        (root / "index.json").write_text(json.dumps({"format": "fastimg-shards/1", "shards": counts}))
    return str(root / f"train-{{000000..{shards - 1:06d}}}.tar")


def labels_of(batches):
    return [int(v) for _, y in batches for v in y]


def test_brace_expansion():
    assert brace_expand("a-{08..10}.tar") == ["a-08.tar", "a-09.tar", "a-10.tar"]
    assert brace_expand("s{0..1}-{x,y}") == ["s0-x", "s0-y", "s1-x", "s1-y"]
    assert brace_expand("plain.tar") == ["plain.tar"]
    with pytest.raises(ValueError, match="unbalanced"):
        brace_expand("a{0..1.tar")
    assert parse_size("1GB") == 10**9 and parse_size("2MiB") == 2 << 20 and parse_size("1000") == 1000


def test_every_sample_once_and_seeded_runs_identical(tmp_path):
    urls = make_shards(tmp_path)
    ds = fastimg.ShardDataset(urls, T, batch_size=3, seed=5, shuffle_buffer=4)
    assert len(ds) == 7
    first = list(ds)
    assert len(first) == 7 and sorted(labels_of(first)) == list(range(20))
    again = list(fastimg.ShardDataset(urls, T, batch_size=3, seed=5, shuffle_buffer=4))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again))
    ds.set_epoch(1)
    assert labels_of(ds) != labels_of(first)  # shard order and buffer reshuffle each epoch


def test_pixels_depend_on_seed_epoch_shard_key_not_layout(tmp_path):
    urls = make_shards(tmp_path)
    train = fastimg.Transform(16, crop="random_resized", hflip=0.5)

    def by_label(**kw):
        ds = fastimg.ShardDataset(urls, train, seed=3, **kw)
        return {int(y): x[i] for x, ys in ds for i, y in enumerate(ys)}

    a = by_label(batch_size=3, shuffle_buffer=4)
    b = by_label(batch_size=7, shuffle_buffer=50)
    c = by_label(batch_size=4, shuffle=False)
    assert a.keys() == b.keys() == c.keys()
    assert all(torch.equal(a[k], b[k]) and torch.equal(a[k], c[k]) for k in a)


def test_unseeded_follows_torch_generator(tmp_path):
    urls = make_shards(tmp_path)
    train = fastimg.Transform(16, crop="random_resized", hflip=0.5)
    ds = fastimg.ShardDataset(urls, train, batch_size=20)
    torch.manual_seed(1)
    x1 = next(iter(ds))
    torch.manual_seed(1)
    x2 = next(iter(ds))
    x3 = next(iter(ds))
    assert torch.equal(x1[0], x2[0]) and torch.equal(x1[1], x2[1])
    assert not torch.equal(x2[0], x3[0])  # fresh draws without reseeding


def test_webdataset_conventions(tmp_path):
    """Keys up to the first dot of the basename, lower-cased extensions, directories in names, GNU long
    names and pax headers, .txt labels and JSON fields."""
    long_dir = "d" * 120
    for fmt, name in ((tarfile.GNU_FORMAT, "gnu.tar"), (tarfile.PAX_FORMAT, "pax.tar")):
        with tarfile.open(tmp_path / name, "w", format=fmt) as tf:
            add(tf, f"{long_dir}/s0.JPG", jpeg(0))
            add(tf, f"{long_dir}/s0.txt", b" 7\n")
            add(tf, f"{long_dir}/s0.json", b'{"meta": {"y": 70}}')
            add(tf, "sub/s1.seg.png", b"ignored: not an image extension we look for")
            add(tf, "sub/s1.jpeg", jpeg(1))
            add(tf, "sub/s1.txt", b"8")
            add(tf, "sub/s1.json", b'{"meta": {"y": 80}}')
            add(tf, "__index__.txt", b"metadata members starting with __ are left out")
    urls = [str(tmp_path / "gnu.tar"), str(tmp_path / "pax.tar")]
    by_txt = fastimg.ShardDataset(urls, T, batch_size=8, label="txt", shuffle=False)
    assert labels_of(by_txt) == [7, 8, 7, 8]
    by_json = fastimg.ShardDataset(urls, T, batch_size=8, label="json:meta.y", shuffle=False)
    assert labels_of(by_json) == [70, 80, 70, 80]
    assert labels_of(fastimg.ShardDataset(urls, T, batch_size=8, label=None)) == [-1] * 4


def test_writer_round_trip(image_folder, tmp_path):
    counts = write_shards(str(image_folder), str(tmp_path / "out" / "w-%04d.tar"), max_size=12_000, progress=False)
    assert len(counts) > 2 and sum(counts.values()) == 21
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    assert index["shards"] == counts and index["classes"] == ["cat", "dog", "emu"]
    ds = fastimg.ShardDataset(str(tmp_path / "out" / f"w-{{0000..{len(counts) - 1:04d}}}.tar"), T, batch_size=4, seed=0)
    assert len(ds) == 6
    assert Counter(labels_of(ds)) == {0: 7, 1: 7, 2: 7}
    assert ds.label == "cls"
    # Unchanged bytes without --max-side: the images decode as the originals do.
    folder = fastimg.ImageFolder(str(image_folder), T)
    assert sorted(folder.targets) == sorted(labels_of(ds))


def test_rewriting_shards_leaves_a_running_reader_its_old_files(image_folder, tmp_path):
    """Shards are renamed into place when complete, so a reader holding mapped members of the previous
    shards keeps their bytes (an in-place rewrite would truncate the mapped file under it)."""
    from fastimg.shards.samples import read_samples

    pattern = str(tmp_path / "w-%04d.tar")
    write_shards(str(image_folder), pattern, max_size=12_000, progress=False, seed=0)
    held = next(s for s in read_samples(0, str(tmp_path / "w-0000.tar")) if hasattr(s, "members"))
    before = bytes(held.members["jpg"])
    write_shards(str(image_folder), pattern, max_size=12_000, progress=False, seed=1, max_side=16)
    assert bytes(held.members["jpg"]) == before
    assert not list(tmp_path.glob("*.partial"))


def _writer(*args):
    return subprocess.run(
        [sys.executable, "-m", "fastimg", "shards", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_writer_cli_reencodes_and_reports_progress(image_folder, tmp_path):
    out = tmp_path / "cli"
    run = _writer(image_folder, out / "s-%03d.tar", "--max-side", "32")
    assert run.returncode == 0, run.stderr
    assert "21/21 images" in run.stderr and "wrote 21 samples in 1 shards" in run.stderr
    with tarfile.open(out / "s-000.tar") as tf:
        images = [m for m in tf.getmembers() if m.name.endswith(".jpg")]
        decoded = fastimg.decode_images([tf.extractfile(m).read() for m in images])
    assert len(images) == 21 and all(max(a.shape[:2]) <= 32 for a in decoded)
    quiet = _writer(image_folder, tmp_path / "q-%03d.tar", "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == quiet.stderr == ""  # errors only
    assert (tmp_path / "q-000.tar").exists()


def test_writer_cli_reports_mistakes_in_one_line_and_names_undecodable_files(tmp_path):
    missing = _writer(tmp_path / "nope", tmp_path / "x-%06d.tar")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("python -m fastimg shards: error:") and "nope" in missing.stderr
    (tmp_path / "src" / "cat").mkdir(parents=True)
    (tmp_path / "src" / "cat" / "good.jpg").write_bytes(jpeg(1))
    (tmp_path / "src" / "cat" / "bad.jpg").write_bytes(b"not a jpeg at all")
    no_number = _writer(tmp_path / "src", tmp_path / "out.tar")
    assert no_number.returncode == 2 and "Traceback" not in no_number.stderr and "%d" in no_number.stderr
    shrunk = _writer(tmp_path / "src", tmp_path / "s-%06d.tar", "--max-side", "16", "--quiet")
    assert shrunk.returncode == 0
    assert shrunk.stderr.strip().endswith(
        "bad.jpg: cannot decode (not an image: unrecognised format): copied unchanged"
    )
    ds = fastimg.ShardDataset(str(tmp_path / "s-000000.tar"), T, batch_size=2, on_error="skip")
    assert len(labels_of(ds)) == 2 and len(ds.errors) == 1  # the reader records it (padding keeps the count)


def test_fsspec_memory_filesystem(tmp_path):
    import fsspec  # a test requirement (requirements/test.txt)

    make_shards(tmp_path, shards=2, per_shard=4)
    fs = fsspec.filesystem("memory")
    for name in ("train-000000.tar", "train-000001.tar", "index.json"):
        fs.pipe(f"/bucket/{name}", (tmp_path / name).read_bytes())
    ds = fastimg.ShardDataset("memory://bucket/train-{000000..000001}.tar", T, batch_size=3, seed=1)
    assert len(ds) == 3
    assert sorted(labels_of(ds)) == list(range(8))


def test_ranks_get_equal_batches_and_disjoint_samples(tmp_path):
    urls = make_shards(tmp_path, shards=5, per_shard=5)
    runs = [list(fastimg.ShardDataset(urls, T, batch_size=4, seed=2, shard=(r, 2))) for r in range(2)]
    lens = [len(fastimg.ShardDataset(urls, T, batch_size=4, seed=2, shard=(r, 2))) for r in range(2)]
    assert len(runs[0]) == len(runs[1]) == lens[0] == lens[1] == 4  # ceil(ceil(25 / 2) / 4)
    seen = [labels_of(r) for r in runs]
    assert len(seen[0]) == len(seen[1]) == 13
    assert set(seen[0] + seen[1]) == set(range(25))  # every sample, and one repeat to pad rank 1 (world - 1)
    assert sum(c - 1 for c in Counter(seen[0] + seen[1]).values()) == 1


def test_dataloader_workers_split_shards(tmp_path):
    urls = make_shards(tmp_path, shards=4, per_shard=6)
    ds = fastimg.ShardDataset(urls, T, batch_size=4, seed=4)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2)
    batches = list(loader)
    assert len(batches) == len(loader) == 6
    assert sorted(labels_of(batches)) == list(range(24))


def test_resume_mid_epoch_in_process_and_through_loader(tmp_path):
    urls = make_shards(tmp_path, shards=3, per_shard=7)
    ds = fastimg.ShardDataset(urls, T, batch_size=4, seed=9, shuffle_buffer=5)
    ds.set_epoch(2)
    full = list(ds)
    it = iter(ds)
    for _ in range(2):
        next(it)
    state = ds.state_dict()
    resumed = fastimg.ShardDataset(urls, T, batch_size=4, seed=9, shuffle_buffer=5)
    resumed.load_state_dict(state)
    rest = list(resumed)
    assert len(rest) == len(full) - 2
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(full[2:], rest))

    loader = fastimg.Loader(ds, 4, seed=9)
    loader.set_epoch(1)
    whole = [y.tolist() for _, y in loader]
    loader.set_epoch(1)
    it2 = iter(loader)
    head = [next(it2)[1].tolist() for _ in range(3)]
    state = loader.state_dict()
    again = fastimg.Loader(fastimg.ShardDataset(urls, T, batch_size=4, shuffle_buffer=5), 4, seed=9)
    again.load_state_dict(state)
    assert head + [y.tolist() for _, y in again] == whole


def test_resume_through_dataloader_workers(tmp_path):
    urls = make_shards(tmp_path, shards=4, per_shard=5)
    ds = fastimg.ShardDataset(urls, T, batch_size=3, seed=1)
    full = labels_of(torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2))
    state = ds.state_dict(batches=3)
    ds2 = fastimg.ShardDataset(urls, T, batch_size=3, seed=1)
    ds2.load_state_dict(state)
    rest = labels_of(torch.utils.data.DataLoader(ds2, batch_size=None, num_workers=2))
    assert rest == full[9:]


def test_bad_members_and_truncated_shard_are_recorded_under_skip(tmp_path):
    with tarfile.open(tmp_path / "a.tar", "w") as tf:
        for k in range(4):
            add(tf, f"{k}.jpg", jpeg(k) if k != 1 else b"not a jpeg")
            if k != 2:
                add(tf, f"{k}.cls", str(k).encode())
        add(tf, "9.cls", b"9")  # a sample without an image
    good = tmp_path / "b.tar"
    with tarfile.open(good, "w") as tf:
        for k in range(10, 16):
            add(tf, f"{k}.jpg", jpeg(k))
            add(tf, f"{k}.cls", str(k).encode())
    data = good.read_bytes()
    (tmp_path / "b.tar").write_bytes(data[: len(data) // 2])  # cut in the middle of a member
    urls = [str(tmp_path / "a.tar"), str(tmp_path / "b.tar")]
    ds = fastimg.ShardDataset(urls, T, batch_size=4, on_error="skip", shuffle=False)
    got = labels_of(ds)
    assert 0 in got and 3 in got and not {1, 2, 9} & set(got)
    reasons = " | ".join(f"{e.source}: {e.reason}" for e in ds.errors)
    assert "a.tar:1.jpg" in reasons and "a.tar:2" in reasons and "no 'cls' member" in reasons
    assert "a.tar:9" in reasons and "no image member" in reasons
    assert "b.tar" in reasons and "truncated tar" in reasons
    with pytest.raises(fastimg.DecodeError, match=r"a\.tar:1\.jpg"):
        list(fastimg.ShardDataset(urls, T, batch_size=4, shuffle=False, label=None))


@pytest.mark.parametrize(
    "damage, reason",
    [
        ((148, b"zz\0\0\0\0\0\0"), "(checksum mismatch)"),  # checksum field not a number
        ((124, b"12x4\0"), "(bad size field)"),  # size field not a number (checksum made to match)
        ((0, b"\0" * 512), None),  # an end block in the middle: the shard ends there, silently, as tarfile does
    ],
)
def test_damaged_headers_end_the_shard_with_a_record(tmp_path, damage, reason):
    """A damaged header ends its shard: the samples completed before it are read (sample 1, whose members
    might continue past the damage, is not), the damage is recorded with its byte offset, and mapped
    shards (local files) report exactly what streamed ones do."""
    with tarfile.open(tmp_path / "a.tar", "w") as tf:
        for k in range(3):
            add(tf, f"{k}.jpg", jpeg(k))
            add(tf, f"{k}.cls", str(k).encode())
    data = bytearray((tmp_path / "a.tar").read_bytes())
    header = next(i for i in range(0, len(data), 512) if data[i : i + 5] == b"2.jpg")
    field, value = damage
    data[header + field : header + field + len(value)] = value
    if field == 124:  # keep the checksum right, so only the size field is wrong
        data[header + 148 : header + 156] = b"        "
        data[header + 148 : header + 155] = b"%06o\0" % sum(data[header : header + 512])
    (tmp_path / "a.tar").write_bytes(bytes(data))
    from fastimg.shards.tar import MappedFile, iter_tar

    with open(tmp_path / "a.tar", "rb") as f, MappedFile(str(tmp_path / "a.tar")) as m:
        streamed, mapped = ([x if len(x) == 1 else (x[0], bytes(x[1])) for x in iter_tar(g)] for g in (f, m))
        assert streamed == mapped
    ds = fastimg.ShardDataset(str(tmp_path / "a.tar"), T, batch_size=4, on_error="skip", shuffle=False)
    if reason is None:  # a clean end: sample 1 is whole
        assert labels_of(ds) == [0, 1] and ds.errors == []
    else:
        assert labels_of(ds) == [0]
        assert len(ds.errors) == 1 and ds.errors[0].reason == f"corrupt tar header at byte {header} {reason}"


def test_skip_records_reach_the_main_process_through_dataloader_workers(tmp_path):
    with tarfile.open(tmp_path / "a.tar", "w") as tf:
        for k in range(6):
            add(tf, f"{k}.jpg", jpeg(k) if k != 1 else b"not a jpeg")
            add(tf, f"{k}.cls", str(k).encode())
    ds = fastimg.ShardDataset([str(tmp_path / "a.tar")], T, batch_size=2, on_error="skip", shuffle=False, length=6)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2, collate_fn=fastimg.collate)
    batches = list(loader)
    assert all(isinstance(b, fastimg.LabeledBatch) for b in batches)
    assert any("a.tar:1.jpg" in e.source for e in ds.errors)


def test_clear_errors(tmp_path):
    urls = make_shards(tmp_path, shards=2, index=False)
    ds = fastimg.ShardDataset(urls, T, batch_size=4)
    with pytest.raises(TypeError, match=r"index\.json"):
        len(ds)
    assert len(fastimg.ShardDataset(urls, T, batch_size=4, length=10)) == 3
    with pytest.raises(ValueError, match="2 ranks need the sample count"):
        list(fastimg.ShardDataset(urls, T, batch_size=4, shard=(0, 2)))
    with pytest.raises(FileNotFoundError, match=r"missing\.tar"):
        fastimg.ShardDataset(str(tmp_path / "missing.tar"), T)
    with pytest.raises(TypeError, match="Transform"):
        fastimg.ShardDataset(urls, None)
    with pytest.raises(TypeError, match="cannot apply to a stream"):
        fastimg.Loader(ds, 4, shuffle=False)


@pytest.mark.parametrize("cut", [None, 0, 300, 700, 1100])  # whole, empty, in a header, in members
def test_mapped_local_shards_read_as_files_do(tmp_path, cut):
    """Local shards are mapped and their members handed out as views (no copy per member); the members
    and the damage reported are those of reading the same bytes as a file."""
    import mmap

    from fastimg.shards.samples import read_samples
    from fastimg.shards.tar import MappedFile, iter_tar

    make_shards(tmp_path, shards=1, per_shard=3, index=False)
    path = tmp_path / "train-000000.tar"
    if cut is not None:
        path.write_bytes(path.read_bytes()[:cut])

    def members(f):
        return [m if type(m).__name__ == "TarDamage" else (m.name, bytes(m.data)) for m in iter_tar(f)]

    with open(path, "rb") as f:
        as_file = members(f)
    with MappedFile(str(path)) as f:
        assert members(f) == as_file
    samples = [s for s in read_samples(0, str(path)) if hasattr(s, "members")]
    for s in samples:
        assert isinstance(s.members["jpg"], memoryview) and isinstance(s.members["jpg"].obj, mmap.mmap)
    del samples  # the mapping goes with its last view


def test_damaged_archives_never_raise_and_read_the_same_mapped_or_streamed(tmp_path):
    """Random damage (flipped bytes in headers and payloads, cuts, inserted garbage) to tar files of every
    flavour: the reader reports it as a TarDamage record or stops, never raises, and a mapped file gives
    exactly what a stream of the same bytes gives."""
    import random

    from fastimg.shards.tar import MappedFile, TarDamage, iter_tar

    blobs = []
    for fmt in (tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
            add(tf, "d" * 120 + "/0.jpg", jpeg(0))
            add(tf, "0.cls", b"1")
            add(tf, "1.jpg", b"x" * 700)
        blobs.append(buf.getvalue())
    rng = random.Random(5)
    path = tmp_path / "t.tar"
    for trial in range(300):
        data = bytearray(rng.choice(blobs))
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.5 and len(data) >= 512:  # a byte of a header block
                block = rng.randrange(len(data) // 512) * 512
                data[block + rng.randrange(512)] = rng.randrange(256)
            elif kind < 0.8 and data:
                del data[rng.randrange(len(data)) :]
            else:
                at = rng.randrange(len(data) + 1)
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 600)))
        path.write_bytes(bytes(data))

        def listing(f):
            return [m if isinstance(m, TarDamage) else (m.name, bytes(m.data)) for m in iter_tar(f)]

        streamed = listing(io.BytesIO(bytes(data)))
        with MappedFile(str(path)) as f:
            assert listing(f) == streamed, f"trial {trial}"


def test_padding_passes_record_each_bad_sample_once_per_epoch(tmp_path):
    """A reader pads its budget by streaming its shards again and so meets its bad samples again: they are
    recorded once per epoch (as the Loader does for files), not once per meeting."""
    with tarfile.open(tmp_path / "a.tar", "w") as tf:
        for k in range(6):
            add(tf, f"{k}.jpg", jpeg(k) if k not in (1, 4) else b"not a jpeg")
            add(tf, f"{k}.cls", str(k).encode())
    (tmp_path / "index.json").write_text(json.dumps({"format": "fastimg-shards/1", "shards": {"a.tar": 6}}))
    ds = fastimg.ShardDataset(str(tmp_path / "a.tar"), T, batch_size=4, on_error="skip", shuffle=False)
    got = labels_of(ds)
    assert len(got) == 6 and set(got) == {0, 2, 3, 5}  # the budget is kept by padding with good samples
    assert sorted(e.source.rsplit(":", 1)[1] for e in ds.errors) == ["1.jpg", "4.jpg"]


def test_a_shard_from_a_named_pipe_is_streamed(tmp_path):
    """Only regular files are mapped: a pipe (tar produced on the fly) is read as the stream it is."""
    import os
    import threading

    from fastimg.shards.samples import read_samples

    make_shards(tmp_path, shards=1, per_shard=3, index=False)
    data = (tmp_path / "train-000000.tar").read_bytes()
    fifo = tmp_path / "pipe.tar"
    os.mkfifo(fifo)

    def feed():
        # A reader that opened the pipe twice (to look, then to read) lost what a quick writer wrote in between
        # and waited forever for another writer: it must open it once.
        with open(fifo, "wb") as f:
            f.write(data)

    samples = []
    writer = threading.Thread(target=feed, daemon=True)
    reader = threading.Thread(target=lambda: samples.extend(read_samples(0, str(fifo))), daemon=True)
    writer.start()
    reader.start()
    reader.join(timeout=30)
    assert not reader.is_alive(), "reading a named pipe hung"
    writer.join(timeout=10)
    assert [s.key for s in samples] == ["0000", "0001", "0002"]
    assert all(bytes(s.members["cls"]) == str(k).encode() for k, s in enumerate(samples))
