"""The public API as an IDE and help() see it: real types that mypy --strict can check a user's script
against (correct code passes, the usual mistakes are reported), and a docstring on every public name
that names each of its parameters."""

import inspect
import subprocess
import sys
import textwrap

import pytest

import fastimg

GOOD = """
import numpy as np
import fastimg

paths = ["a.jpg"]
print(fastimg.decode_images(paths)[0].shape)
maybe = fastimg.decode_images(paths, on_error="skip")[0]
if maybe is not None:
    print(maybe.shape)
print(fastimg.batch_resize_images([np.zeros((8, 8, 3), np.uint8)], (4, 4))[0].shape)
print(fastimg.batch_resize_images(np.zeros((2, 8, 8, 3), np.uint8), (4, 4), stack=True).shape)
print(fastimg.batch_calculate_luminance([np.zeros((8, 8), np.uint8)]).mean())
t = fastimg.Transform.imagenet_train(224)
ds = fastimg.ImageFolder("data/train", t, on_error="skip")
loader = fastimg.Loader(ds, batch_size=16, prefetch=2)
for x, y in loader:
    print(x.shape, y.shape)
print(fastimg.load_batch(paths, t).images.shape, ds.errors, loader.errors_by_epoch)
"""

# (line, the mistake) -> the error mypy must report
BAD = {
    'fastimg.Loader(fastimg.ImageFolder("d"), batch_size="16")': 'Argument "batch_size" to "Loader"',
    "fastimg.ImageFolde": 'Module has no attribute "ImageFolde"',
    'print(fastimg.decode_images(["a"], on_error="skip")[0].shape)': 'Item "None"',
    "fastimg.Transform(224, hflip=0.5).sizes": 'has no attribute "sizes"',
    "fastimg.batch_resize_images([], (4, 4)).shape": 'has no attribute "shape"',
    'fastimg.Transform(224, crop="centre")': '"crop" to "Transform" has incompatible type "Literal[\'centre\']"',
    'fastimg.Transform(224, layout="nchw")': 'Argument "layout" to "Transform"',
    'fastimg.Transform(224, interpolation="bilinar")': 'Argument "interpolation" to "Transform"',
    'fastimg.batch_resize_images([], (4, 4), "bilinar")': 'No overload variant of "batch_resize_images"',
    'fastimg.load_batch([], fastimg.Transform(224), on_error="skp")': 'Argument "on_error" to "load_batch"',
}

REVEAL_SETUP = """
from typing import Literal, Optional

import numpy as np
import numpy.typing as npt
import torch
import fastimg

paths = ["a.jpg"]
image = np.zeros((8, 8, 3), np.uint8)
transform = fastimg.Transform(224, crop="random_resized")
batch = fastimg.LabeledBatch(torch.zeros(2, 3, 8, 8), torch.zeros(2))
"""

# expression -> the type mypy must reveal for it, written as an annotation: the snippet reveals both, and
# the two must read the same (so the test does not spell out numpy's internal names for uint8)
REVEALED = {
    "fastimg.batch_resize_images([image], (4, 4))[0]": "npt.NDArray[np.uint8]",
    "fastimg.batch_resize_images([image], (4, 4), stack=True)": "npt.NDArray[np.uint8]",
    "fastimg.decode_images(paths)[0]": "npt.NDArray[np.uint8]",
    'fastimg.decode_images(paths, on_error="skip")[0]': "Optional[npt.NDArray[np.uint8]]",
    "fastimg.batch_calculate_luminance([image])": "npt.NDArray[np.float64]",
    "transform.params(640, 480, 0)": "fastimg.transforms.TransformParams",
    "transform.crop": 'Optional[Literal["center", "random_resized", "random"]]',
    "fastimg.collate(batch)": "fastimg.LabeledBatch",
}

# what mypy prints for Transform.params's TypedDict: the keys params() returns (mypy sorts them) and their types
PARAMS_TYPE = (
    "TypedDict(fastimg.transforms.TransformParams, {'augment': tuple[tuple[str, float], ...], "
    "'box': tuple[float, float, float, float], 'brightness': float, "
    "'contrast': float, 'erase': tuple[int, int, int, int] | None, 'flip': bool, 'grayscale': bool, "
    "'hue': float, 'jitter_order': list[int], 'padding': tuple[int, int, int, int] | None, "
    "'saturation': float, 'vflip': bool})"
)

CONFIG = """
[mypy]
strict = True
cache_dir = {cache}
[mypy-torch.*]
follow_imports = skip
"""


@pytest.fixture(scope="module")
def mypy_dir(tmp_path_factory):
    """One folder (and mypy cache) for the module's mypy runs: the second run reuses the first's analysis."""
    return tmp_path_factory.mktemp("mypy")


def _mypy(tmp_path, name, code):
    (tmp_path / "mypy.ini").write_text(CONFIG.format(cache=tmp_path / "cache"))
    script = tmp_path / name
    script.write_text(textwrap.dedent(code))
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(tmp_path / "mypy.ini"), str(script)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)


@pytest.mark.timeout(600)
def test_mypy_strict_accepts_correct_code_and_reports_the_mistakes(mypy_dir):
    good = _mypy(mypy_dir, "good.py", GOOD)
    assert good.returncode == 0, good.stdout + good.stderr
    bad = _mypy(mypy_dir, "bad.py", "import fastimg\n" + "\n".join(BAD) + "\n")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    errors = [row for row in bad.stdout.splitlines() if row.startswith("bad.py:") and ": error: " in row]
    reported = {int(row.split(":")[1]): row for row in errors}  # errors only: an overload's notes follow it
    for line, (_, message) in enumerate(BAD.items(), start=2):
        assert message in reported.get(line, ""), bad.stdout


@pytest.mark.timeout(600)
def test_mypy_reveals_the_precise_types(mypy_dir):
    lines = [textwrap.dedent(REVEAL_SETUP).strip()]
    for i, (expression, annotation) in enumerate(REVEALED.items()):
        lines += [f"reveal_type({expression})", f"def _reference{i}(value: {annotation}) -> None:"]
        lines += ["    reveal_type(value)"]
    result = _mypy(mypy_dir, "reveal.py", "\n".join(lines) + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    revealed = [row.split("Revealed type is ", 1)[1] for row in result.stdout.splitlines() if "Revealed type is" in row]
    assert len(revealed) == 2 * len(REVEALED), result.stdout
    for i, expression in enumerate(REVEALED):
        actual, expected = revealed[2 * i], revealed[2 * i + 1]
        assert actual == expected, (expression, actual, expected)
    assert revealed[2 * list(REVEALED).index("transform.params(640, 480, 0)")] == f'"{PARAMS_TYPE}"'
    assert revealed[2 * list(REVEALED).index("fastimg.collate(batch)")] == '"fastimg.dataset.LabeledBatch"'


def test_params_returns_the_keys_its_typeddict_declares():
    from fastimg.transforms import TransformParams

    params = fastimg.Transform(32, crop="random_resized", hflip=0.5, color_jitter=0.2).params(64, 48, 3)
    assert list(params) == list(TransformParams.__annotations__)
    assert len(params["box"]) == 4 and all(type(v) is float for v in params["box"])
    assert type(params["flip"]) is bool and all(type(v) is int for v in params["jitter_order"])
    assert all(type(params[k]) is float for k in ("brightness", "contrast", "saturation"))


def _public_callables():
    for name in fastimg.__all__:
        obj = getattr(fastimg, name)
        if name.startswith("INTER_") or name == "__version__":
            continue
        yield name, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    yield f"{name}.{attr}", member.fget
                elif inspect.isfunction(member):
                    yield f"{name}.{attr}", member


def _documented_parameters(name, obj):
    if inspect.isclass(obj) and issubclass(obj, tuple):  # NamedTuples: fields are documented
        return obj.__doc__, list(getattr(obj, "_fields", ()))
    target = obj.__init__ if inspect.isclass(obj) else obj
    doc = obj.__doc__ if inspect.isclass(obj) else target.__doc__
    if name.endswith(".__init__"):
        return None, []
    try:
        params = [p for p in inspect.signature(target).parameters if p not in ("self", "cls", "args", "kwargs")]
    except (TypeError, ValueError):
        params = []
    params = [p for p in params if not p.startswith("_")]
    return doc, params


@pytest.mark.parametrize(("name", "obj"), list(_public_callables()), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_name_documents_its_parameters(name, obj):
    doc, params = _documented_parameters(name, obj)
    if name.endswith(".__init__"):
        return
    assert doc and len(doc.strip()) > 20, f"{name} has no docstring"
    missing = [p for p in params if p not in doc]
    assert not missing, f"{name}'s docstring does not name {missing}"


def test_dir_lists_the_public_names_only():
    names = dir(fastimg)
    assert {"Loader", "ShardDataset", "ImageFolder", "collate", "load_batch"} <= set(names)
    assert not {"TYPE_CHECKING", "Any", "annotations", "PackageNotFoundError"} & set(names)
