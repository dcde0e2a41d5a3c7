import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# The benchmarks' own helpers (test_training_loops.py) import as the benchmark scripts do. Appended, so none
# of their module names can shadow an installed package or a module here.
sys.path.append(str(Path(__file__).resolve().parent.parent / "benchmarks"))

import fastimg


@pytest.fixture(autouse=True)
def _restore_thread_count():
    yield
    fastimg.set_num_threads(None)


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory):
    """root/class/xxx.jpg with 3 classes of 7 small JPEGs each (plus files ImageFolder must ignore)."""
    from imaging import encode, photo_like

    root = tmp_path_factory.mktemp("folder")
    k = 0
    for name in ["cat", "dog", "emu"]:
        (root / name).mkdir()
        for i in range(7):
            h, w = 60 + 7 * (k % 5), 80 - 5 * (k % 4)
            (root / name / f"{i:02d}.jpg").write_bytes(encode(photo_like(h, w, seed=k), quality=90))
            k += 1
        (root / name / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="session")
def folder_paths(image_folder):
    return sorted(str(p) for p in image_folder.rglob("*.jpg"))


TORCHVISION_REF = Path(__file__).resolve().parent.parent / ".venv" / "torchvision-ref"


@pytest.fixture(scope="session")
def torchvision_ref():
    """torchvision 0.28's pure-Python transforms (requirements/reference.txt), the reference of the
    from_torchvision tests. `make test` installs it; without it those tests fail rather than pass unchecked."""
    if not (TORCHVISION_REF / ".ok").exists():
        pytest.fail(f"torchvision reference not installed in {TORCHVISION_REF}: run `make test` (scripts/bootstrap.sh)")
    if str(TORCHVISION_REF) not in sys.path:
        sys.path.append(str(TORCHVISION_REF))
    import torchvision

    return torchvision
