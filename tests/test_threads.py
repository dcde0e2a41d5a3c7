"""The GIL is released, threads never multiply or spin when idle, forked children keep working, thread
control works."""

import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from imaging import textured

import fastimg


def native_thread_count() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.timeout(120)
def test_gil_is_released_during_a_batch():
    imgs = [textured(1024, 1024, seed=i) for i in range(12)]
    counter = 0
    stop = threading.Event()

    def spin():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    worker = threading.Thread(target=spin)
    worker.start()
    try:
        time.sleep(0.05)
        start_count = counter
        t0 = time.perf_counter()
        fastimg.batch_resize_images(imgs, (900, 700), "lanczos4", num_threads=1)
        elapsed = time.perf_counter() - t0
        progress = counter - start_count
    finally:
        stop.set()
        worker.join()
    assert elapsed > 0.05, "the batch should be long enough to observe"
    # With the GIL held for the whole call the other thread could not run at all.
    assert progress > 1000, f"other Python thread made {progress} steps in {elapsed:.3f}s"


@pytest.mark.timeout(120)
def test_threads_do_not_multiply_across_calls():
    big = [textured(2048, 2048)]  # one large image: OpenCV splits it by rows on our threads
    many = [textured(256, 256, seed=i) for i in range(16)]
    baseline = native_thread_count()
    fastimg.batch_resize_images(big, (1024, 1024), "bilinear")
    fastimg.batch_resize_images(many, (128, 128), "bilinear")
    after_warmup = native_thread_count()
    for _ in range(20):
        fastimg.batch_resize_images(big, (700, 700), "bicubic")
        fastimg.batch_calculate_luminance(big + many)
        fastimg.batch_rgb_to_rgba(big)
    assert native_thread_count() == after_warmup
    # One team for one calling thread: the caller plus num_threads - 1 workers, no OpenCV pool on top.
    assert after_warmup <= baseline + fastimg.get_num_threads() - 1


def _child_resize(queue):
    try:
        imgs = [textured(512, 512, seed=i) for i in range(4)]
        out = fastimg.batch_resize_images(imgs, (100, 100), "area", stack=True)
        luma = fastimg.batch_calculate_luminance(imgs)
        queue.put((fastimg.get_num_threads(), out, luma))
    except Exception as exc:  # pragma: no cover - reported to the parent
        queue.put(exc)


@pytest.mark.timeout(60)
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_forked_child_after_parallel_work_does_not_hang():
    imgs = [textured(512, 512, seed=i) for i in range(4)]
    expected = fastimg.batch_resize_images(imgs, (100, 100), "area", stack=True, num_threads=2)
    expected_luma = fastimg.batch_calculate_luminance(imgs, num_threads=2)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_resize, args=(queue,))
    child.start()
    result = queue.get(timeout=30)  # a hang on the parent's (absent) workers would stop here, not at the end of CI
    child.join(timeout=30)
    assert child.exitcode == 0
    assert not isinstance(result, Exception), result
    threads, out, luma = result
    assert threads == 1
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(luma, expected_luma)


def test_set_and_get_num_threads():
    default = fastimg.get_num_threads()
    assert default >= 1
    fastimg.set_num_threads(3)
    assert fastimg.get_num_threads() == 3
    fastimg.set_num_threads(None)
    assert fastimg.get_num_threads() == default
    with pytest.raises(ValueError, match="non-negative integer"):
        fastimg.set_num_threads(-2)


@pytest.mark.timeout(120)
def test_environment_variable_sets_the_default():
    code = "import fastimg; print(fastimg.get_num_threads())"
    env = dict(os.environ, FASTIMG_NUM_THREADS="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"


@pytest.mark.timeout(120)
def test_concurrent_callers_get_correct_results():
    imgs = [textured(300, 400, seed=i) for i in range(6)]
    expected = fastimg.batch_resize_images(imgs, (123, 77), "bilinear", stack=True)
    results: list = [None] * 4

    def run(k):
        results[k] = fastimg.batch_resize_images(imgs, (123, 77), "bilinear", stack=True)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, expected)


@pytest.mark.timeout(120)
def test_torch_thread_setting_does_not_change_fastimg_default():
    # torch's thread setting (its OpenMP's) must not leak into ours.
    code = (
        "import torch, fastimg\n"
        "before = fastimg.get_num_threads()\n"
        "torch.set_num_threads(1)\n"
        "print(before, fastimg.get_num_threads(), fastimg._core._testing.default_num_threads())\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "FASTIMG_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    before, after, default = (int(v) for v in out.stdout.split())
    assert before == after == default == len(os.sched_getaffinity(0))


@pytest.mark.timeout(120)
def test_workers_sleep_between_batches():
    # GNU OpenMP's workers spun for 8-11 ms of CPU after every batch, on the core that then consumed it
    # (the training step, the next batch's Python side). Ours poll for at most 50 us, then sleep.
    imgs = [textured(640, 480, seed=i) for i in range(16)]
    idle_ms = []
    for _ in range(5):
        fastimg.batch_resize_images(imgs, (224, 224), "bilinear", num_threads=2)
        before = time.process_time()
        time.sleep(0.1)
        idle_ms.append(1e3 * (time.process_time() - before))
    assert sorted(idle_ms)[2] < 3.0, f"CPU ms burnt in 100 ms of idling after a batch: {idle_ms}"


@pytest.mark.timeout(120)
def test_core_does_not_load_an_openmp_runtime():
    # torch's wheel ships libgomp.so.1 under the same soname as the system's: a core that loaded one would
    # share (and tune) torch's runtime, or run on torch's copy of it.
    code = (
        "import fastimg, numpy as np\n"
        "fastimg.batch_resize_images([np.zeros((512, 512, 3), np.uint8)] * 4, (64, 64), num_threads=2)\n"
        "maps = open('/proc/self/maps').read()\n"
        "print(any(lib in maps for lib in ('libgomp', 'libomp', 'libiomp')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
