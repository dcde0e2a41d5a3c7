"""The core owns each item end to end: with a cache or direct I/O, a batch is still one native call that
reads, decodes and writes every item on its worker thread; Python sees file bytes only for cache hits and
receives each missed file's bytes once, for insertion. One mapping from core errors to Python exceptions
serves raising and the per-item records."""

import errno
import os

import pytest
import torch

import fastimg
from fastimg import ImageDataset, Transform, _core

T = Transform(32, crop="center")


def _no_python_reads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("files were read through Python before the pipeline")

    monkeypatch.setattr(_core, "read_files", refuse)


@pytest.mark.parametrize(
    "options", [dict(cache_bytes=1 << 22), dict(direct_io=True), dict(direct_io=True, cache_bytes=1 << 22)]
)
def test_misses_are_read_by_the_pipeline_and_cached_from_its_reads(folder_paths, monkeypatch, options):
    plain = ImageDataset(folder_paths, transform=T, seed=0).load(range(len(folder_paths)))
    ds = ImageDataset(folder_paths, transform=T, seed=0, **options)
    _no_python_reads(monkeypatch)
    first = ds.load(range(len(folder_paths)))
    assert torch.equal(torch.from_numpy(first.images), torch.from_numpy(plain.images))
    if ds.cache is not None:
        assert len(ds.cache) == len(folder_paths)
        assert ds.cache.size == sum(os.path.getsize(p) for p in folder_paths)
        for i, path in enumerate(folder_paths):
            with open(path, "rb") as f:
                assert ds.cache.get(i) == f.read()
        second = ds.load(range(len(folder_paths)))  # every item a hit, handed over as bytes
        assert ds.cache.hits >= len(folder_paths)
        assert torch.equal(torch.from_numpy(second.images), torch.from_numpy(plain.images))


def test_a_missing_file_is_not_cached_and_is_recorded_under_skip(folder_paths, tmp_path, monkeypatch):
    missing = str(tmp_path / "gone.jpg")
    ds = ImageDataset([folder_paths[0], missing, folder_paths[1]], transform=T, cache_bytes=1 << 22)
    _no_python_reads(monkeypatch)
    batch = ds.load([0, 1, 2], on_error="skip")
    assert batch.indices.tolist() == [0, 2] and len(ds.cache) == 2
    assert [e.index for e in batch.errors] == [1] and "No such file" in batch.errors[0].reason
    with pytest.raises(FileNotFoundError) as info:
        ds.load([0, 1, 2])
    assert info.value.errno == errno.ENOENT and info.value.filename == missing


def test_one_error_mapping_for_raising_and_records(folder_paths, tmp_path):
    corrupt = tmp_path / "corrupt.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    missing = str(tmp_path / "gone.jpg")
    sources = [folder_paths[0], str(corrupt), missing]
    skipped = fastimg.load_batch(sources, T, on_error="skip")
    records = {e.index: e.reason for e in skipped.errors}
    with pytest.raises(fastimg.DecodeError) as decode_info:
        fastimg.load_batch(sources[:2], T, indices=[10, 11])
    assert decode_info.value.index == 11 and decode_info.value.source == str(corrupt)
    assert str(decode_info.value).endswith(records[1])
    with pytest.raises(FileNotFoundError) as io_info:
        fastimg.load_batch([missing], T)
    assert io_info.value.filename == missing and "No such file" in records[2]
    # decode_images goes through the same mapping
    with pytest.raises(FileNotFoundError):
        fastimg.decode_images([missing])
    with pytest.raises(fastimg.DecodeError, match=r"corrupt\.jpg"):
        fastimg.decode_images([str(corrupt)])


def test_decoded_samples_without_transform_read_natively_too(folder_paths, monkeypatch):
    ds = ImageDataset(folder_paths[:4], cache_bytes=1 << 22, direct_io=True)
    _no_python_reads(monkeypatch)
    image, _ = ds[0]
    samples = ds.__getitems__([0, 1, 2, 3])
    assert len(samples) == 4 and len(ds.cache) == 4
    np_image = fastimg.decode_images([folder_paths[0]])[0]
    assert torch.equal(image, torch.from_numpy(np_image)) and torch.equal(samples[0][0], image)
