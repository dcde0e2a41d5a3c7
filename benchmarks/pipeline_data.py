"""JPEG sets for the decode-pipeline benchmark, generated once into benchmarks/data/pipeline/ (git-ignored)
and regenerated when absent or when STAMP changes. Smooth synthetic images decode several times faster than
photographs and would flatter every figure, so the content aims at a camera's entropy (about 4 bits per pixel
at quality 90-95; the `cheap` set about 1): a coarse colour field, anti-aliased shapes, multi-scale
band-limited texture whose strength varies over the image, and sensor-like grain, from a fixed seed. The fine
texture and grain are pre-generated tiles laid at random offsets (a 1031-px period is invisible to an 8x8 DCT),
which keeps the 4096-px images cheap to make."""

from __future__ import annotations

import io
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

DATA_DIR = Path(__file__).resolve().parent / "data" / "pipeline"
SEED = 20240611
# Bump when anything below changes the files; a stale set is then regenerated.
STAMP = {"version": 2, "seed": SEED}
# Camera-like: fine texture and grain strength, texture floor, JPEG quality range (about 4 bits/pixel).
CAMERA = ((24.0, 2.5, 0.25), (90, 95))
# Cheaper files, about 1 bit/pixel (web photos, smoother scenes): less fine texture and grain, lower quality.
CHEAP = ((6.0, 0.8, 0.05), (70, 80))

TILE = 1031  # prime, so texture tiles never line up with 8x8 blocks
# ImageNet-like (width, height) with rough frequencies; shorter sides 300-500.
IMAGENET_SIZES = [((500, 375), 35), ((375, 500), 15), ((500, 333), 15), ((333, 500), 5), ((400, 400), 5)]
IMAGENET_SIZES += [((500, 500), 5), ((640, 480), 5), ((450, 300), 5), ((480, 360), 5), ((500, 400), 5)]
LARGE_LONG_SIDES = [2048, 2560, 3000, 3264, 4000, 4096]
LARGE_RATIOS = [4 / 3, 3 / 2, 16 / 9, 1.0]


@dataclass
class SetSpec:
    name: str
    count: int
    subsampling: str  # Pillow: "4:2:0" or "4:4:4"
    progressive_every: int  # every n-th file progressive; 0: none
    sizes: str = ""  # which size list: "tiny", "imagenet" or "large" (default: the set's name)
    content: tuple = CAMERA

    def progressive(self, i: int) -> bool:
        """Whether the i-th file is progressive."""
        return bool(self.progressive_every and i % self.progressive_every == self.progressive_every - 1)


_SPECS = [SetSpec("tiny", 256, "4:2:0", 0), SetSpec("imagenet", 128, "4:2:0", 8), SetSpec("large", 16, "4:2:0", 0)]
SETS = {s.name: s for s in [*_SPECS, SetSpec("cheap", 128, "4:2:0", 8, sizes="imagenet", content=CHEAP)]}


@dataclass
class ImageSet:
    name: str
    paths: list[str]
    sizes: list[tuple[int, int]]  # (width, height)
    file_bytes: list[int]
    progressive: list[bool]

    @property
    def bits_per_pixel(self) -> float:
        return 8 * sum(self.file_bytes) / sum(w * h for w, h in self.sizes)

    def describe(self) -> str:
        ws, hs = [w for w, _ in self.sizes], [h for _, h in self.sizes]
        per_file = [8 * b / (w * h) for b, (w, h) in zip(self.file_bytes, self.sizes)]
        return (
            f"{self.name}: {len(self.paths)} JPEGs, {min(ws)}-{max(ws)} x {min(hs)}-{max(hs)} px, "
            f"mean {np.mean(self.file_bytes) / 1e3:.1f} KB, {self.bits_per_pixel:.2f} bits/pixel "
            f"(per file {min(per_file):.2f}-{max(per_file):.2f}), {sum(self.progressive)} progressive"
        )

    def subset(self, count: int) -> ImageSet:
        return ImageSet(self.name, *(v[:count] for v in (self.paths, self.sizes, self.file_bytes, self.progressive)))

    @classmethod
    def from_manifest(cls, name: str, paths: list[str], files: list[dict], **extra: Any) -> Any:
        """The set of the manifest's file entries (width, height, bytes, progressive)."""
        sizes = [(f["width"], f["height"]) for f in files]
        return cls(name, paths, sizes, [f["bytes"] for f in files], [f["progressive"] for f in files], **extra)


def _up(a: np.ndarray, w: int, h: int, interp: int = cv2.INTER_CUBIC) -> np.ndarray:
    return cv2.resize(a, (w, h), interpolation=interp)


def _periodic_field(rng: np.random.Generator, cell: float) -> np.ndarray:
    """Band-limited noise of period TILE: a random grid, wrapped, upsampled by `cell` px."""
    g = max(2, int(TILE / cell))
    f = rng.standard_normal((g, g, 1), np.float32) + 0.35 * rng.standard_normal((g, g, 3), np.float32)  # luma+chroma
    f = np.concatenate([f, f[:1]], 0)
    f = np.concatenate([f, f[:, :1]], 1)
    side = round((g + 1) * TILE / g)
    return _up(f, side, side)[:TILE, :TILE]


def make_tiles(rng: np.random.Generator, texture: tuple = CAMERA[0]) -> tuple[np.ndarray, np.ndarray]:
    fine_amp, grain, _ = texture
    texture = sum(_periodic_field(rng, cell) * (amp * fine_amp) for cell, amp in ((5.0, 1.0), (2.5, 1.0), (1.4, 0.8)))
    luma = rng.standard_normal((TILE, TILE, 1), np.float32) * grain
    grain_tile = luma + rng.standard_normal((TILE, TILE, 3), np.float32) * (grain * 0.4)
    return texture.astype(np.float32), grain_tile


def _tiled(tile: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    oy, ox = (int(v) for v in rng.integers(0, TILE, 2))
    reps = (-(-(h + oy) // TILE), -(-(w + ox) // TILE), 1)
    return np.tile(tile, reps)[oy : oy + h, ox : ox + w]


def _shapes(img: np.ndarray, rng: np.random.Generator) -> None:
    h, w = img.shape[:2]
    for _ in range(int(rng.integers(6, 16))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(0.05, 0.35) * min(w, h)
        if rng.random() < 0.5:
            k = int(rng.integers(3, 8))
            angles = np.sort(rng.uniform(0, 2 * np.pi, k))
            radii = r * rng.uniform(0.5, 1.0, k)
            pts = np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1).astype(np.int32)
            cv2.fillPoly(img, [pts], colour, lineType=cv2.LINE_AA)
        else:
            axes = (max(1, int(r)), max(1, int(r * rng.uniform(0.3, 1))))
            cv2.ellipse(
                img, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, lineType=cv2.LINE_AA
            )


def synth_image(
    rng: np.random.Generator, tiles: tuple[np.ndarray, np.ndarray], w: int, h: int, floor: float = CAMERA[0][2]
) -> np.ndarray:
    """One (h, w, 3) uint8 photo-like image; `floor`: the least texture strength anywhere."""
    texture, grain = tiles
    img = _up(rng.uniform(20, 235, (3, 4, 3)).astype(np.float32), w, h)  # large-scale colour gradients
    _shapes(img, rng)
    # Coarse texture (cells of 10-64 px) and the texture-strength mask, built at 1/4 resolution.
    qh, qw = max(2, h // 4), max(2, w // 4)
    coarse = np.zeros((qh, qw, 4), np.float32)
    for cell in (64, 24, 10):
        gh, gw = max(2, int(qh * 4 / cell)), max(2, int(qw * 4 / cell))
        f = rng.standard_normal((gh, gw, 1), np.float32) + 0.35 * rng.standard_normal((gh, gw, 3), np.float32)
        coarse[..., :3] += _up(f, qw, qh) * 9.0
    mask = np.clip(_up(rng.uniform(-0.2, 1.4, (4, 5)).astype(np.float32), qw, qh), floor, 1.0)
    coarse[..., :3] *= mask[..., None]
    coarse[..., 3] = mask * rng.uniform(0.6, 1.4)  # busy and calm images
    big = _up(coarse, w, h, cv2.INTER_LINEAR)
    img += big[..., :3]
    img += _tiled(texture, rng, h, w) * big[..., 3:]
    img += _tiled(grain, rng, h, w)
    return np.clip(img, 0, 255).astype(np.uint8)


def image_sizes(name: str, count: int, rng: np.random.Generator) -> list[tuple[int, int]]:
    if name == "tiny":
        return [(32, 32)] * count
    if name == "imagenet":
        choices, weights = zip(*IMAGENET_SIZES)
        picks = rng.choice(len(choices), size=count, p=np.array(weights) / sum(weights))
        return [choices[i] for i in picks]
    out = []
    for i in range(count):
        long_side = int(LARGE_LONG_SIDES[i % len(LARGE_LONG_SIDES)])
        short = round(long_side / LARGE_RATIOS[int(rng.integers(len(LARGE_RATIOS)))])
        out.append((long_side, short) if i % 3 else (short, long_side))  # every third one portrait
    return out


def write_jpeg(path: Path, img: np.ndarray, quality: int, subsampling: str, progressive: bool) -> int:
    """Encodes img with Pillow into path; returns the file's size in bytes."""
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality, subsampling=subsampling, progressive=progressive)
    path.write_bytes(buf.getvalue())
    return buf.tell()


def load_manifest(folder: Path, **expected: Any) -> tuple[list[str], list[dict]] | None:
    """(paths, file entries) of folder/manifest.json, or None when it is missing, its keys differ from
    `expected` (stamp, spec) or a file is missing or of another size: the set must be generated again."""
    try:
        meta = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if any(meta.get(key) != value for key, value in expected.items()):
        return None
    files = meta["files"]
    paths = [str(folder / f["file"]) for f in files]
    if any(not Path(p).is_file() or Path(p).stat().st_size != f["bytes"] for p, f in zip(paths, files)):
        return None
    return paths, files


def _generate(spec: SetSpec, rng: np.random.Generator, tiles: tuple[np.ndarray, np.ndarray]) -> None:
    texture, (q_lo, q_hi) = spec.content
    folder = DATA_DIR / spec.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    manifest = []
    for i, (w, h) in enumerate(image_sizes(spec.sizes or spec.name, spec.count, rng)):
        quality, name, progressive = int(rng.integers(q_lo, q_hi + 1)), f"{i:04d}.jpg", spec.progressive(i)
        img = synth_image(rng, tiles, w, h, texture[2])
        entry = {"file": name, "width": w, "height": h}
        entry["bytes"] = write_jpeg(folder / name, img, quality, spec.subsampling, progressive)
        manifest.append({**entry, "quality": quality, "progressive": progressive})
    (folder / "manifest.json").write_text(json.dumps({"stamp": STAMP, "spec": asdict(spec), "files": manifest}))


def _load(spec: SetSpec) -> ImageSet | None:
    found = load_manifest(DATA_DIR / spec.name, stamp=STAMP, spec=json.loads(json.dumps(asdict(spec))))
    return None if found is None else ImageSet.from_manifest(spec.name, *found)


def image_sets() -> dict[str, ImageSet]:
    """Every set, generating the missing or stale ones first."""
    out: dict[str, ImageSet] = {}
    tiles: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
    for index, spec in enumerate(SETS.values()):
        loaded = _load(spec)
        if loaded is None:
            t0 = time.perf_counter()
            texture = spec.content[0]
            if texture not in tiles:
                tiles[texture] = make_tiles(np.random.default_rng(SEED), texture)
            _generate(spec, np.random.default_rng([SEED, index]), tiles[texture])
            loaded = _load(spec)
            assert loaded is not None, f"generated set {spec.name} does not load back"
            print(f"  generated {spec.name} in {time.perf_counter() - t0:.1f} s", flush=True)
        out[spec.name] = loaded
    return out
