"""Interpreter exit while a Loader prefetches (over files or shards, or a ShardDataset reads ahead), in
every way a training script ends: each script runs in a fresh process and must exit with the status Python
gives that script without fastimg, printing nothing like "terminate called" (a daemon thread re-taking the
GIL during finalization used to abort: exit 134)."""

import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from imaging import encode

# Large enough that a batch is still being decoded when the script reaches its end.
SETUP = """
import sys, threading, fastimg
ds = fastimg.ImageFolder(sys.argv[1], fastimg.Transform.imagenet_train(224))
loader = fastimg.Loader(ds, batch_size=8, prefetch={prefetch}, num_threads=2)
it = iter(loader)
images, labels = next(it)
"""

# The same over shards: the read-ahead thread opens (indexes natively) and reads shards meanwhile.
SHARD_SETUP = {
    "shard_dataset": """
import sys, threading, fastimg
ds = fastimg.ShardDataset(sys.argv[1] + "/s-{{0000..0011}}.tar", fastimg.Transform.imagenet_train(224), batch_size=8,
                          num_threads=2, shuffle_buffer=4)
loader = ds
it = iter(ds)
images, labels = next(it)
""",
    "shard_loader": """
import sys, threading, fastimg
T = fastimg.Transform.imagenet_train(224)
ds = fastimg.ShardDataset(sys.argv[1] + "/s-{{0000..0011}}.tar", T, shuffle_buffer=4)
loader = fastimg.Loader(ds, 8, prefetch={prefetch}, num_threads=2)
it = iter(loader)
images, labels = next(it)
""",
}

ENDINGS = {
    "plain_end": ("print('done')", 0),
    "queue_full": ("import time; time.sleep(1.0); print('done')", 0),
    "uncaught_exception": ("raise RuntimeError('boom in the training loop')", 1),
    "sys_exit": ("sys.exit(3)", 3),
    "keyboard_interrupt": ("import os, signal; os.kill(os.getpid(), signal.SIGINT); import time; time.sleep(5)", None),
    "daemon_thread_holds_iterator": (
        "t = threading.Thread(target=lambda: [b for b in it], daemon=True); t.start(); print('done')",
        0,
    ),
    "second_iterator_mid_batch": ("it2 = iter(loader); next(it2); print('done')", 0),
}


@pytest.fixture(scope="module")
def big_shards(big_folder, tmp_path_factory):
    from fastimg.shards.writer import write_shards

    out = tmp_path_factory.mktemp("exit_shards")
    write_shards(str(big_folder), str(out / "s-%04d.tar"), max_count=4, progress=False)
    return out


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("exit_folder")
    rng = np.random.default_rng(0)
    for c in range(2):
        (root / f"c{c}").mkdir()
        for i in range(24):
            img = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
            (root / f"c{c}" / f"{i}.jpg").write_bytes(encode(img, quality=90))
    return root


def _expected_status(code):
    """The status Python itself gives the ending (run without fastimg), to compare against."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return out.returncode


CASES = [(ending, 2) for ending in sorted(ENDINGS)] + [("daemon_thread_holds_iterator", 0), ("plain_end", 0)]


@pytest.mark.parametrize(("ending", "prefetch"), CASES)
def test_exit_status_is_pythons_own(big_folder, ending, prefetch):
    code, expected = ENDINGS[ending]
    if expected is None:
        expected = _expected_status(f"import sys, threading\n{code}")
        assert expected == -signal.SIGINT
    script = textwrap.dedent(SETUP.format(prefetch=prefetch)) + code + "\n"
    out = subprocess.run([sys.executable, "-c", script, str(big_folder)], capture_output=True, text=True, timeout=120)
    assert out.returncode == expected, out.stderr[-2000:]
    assert "terminate called" not in out.stderr and "Fatal Python error" not in out.stderr, out.stderr[-2000:]


SHARD_CASES = [
    (kind, ending) for kind in sorted(SHARD_SETUP) for ending in ("plain_end", "sys_exit", "uncaught_exception")
]


@pytest.mark.parametrize(("kind", "ending"), SHARD_CASES)
def test_exit_while_shards_are_read_ahead(big_shards, kind, ending):
    code, expected = ENDINGS[ending]
    script = textwrap.dedent(SHARD_SETUP[kind].format(prefetch=2)) + code + "\n"
    out = subprocess.run([sys.executable, "-c", script, str(big_shards)], capture_output=True, text=True, timeout=120)
    assert out.returncode == expected, out.stderr[-2000:]
    assert "terminate called" not in out.stderr and "Fatal Python error" not in out.stderr, out.stderr[-2000:]
