"""The batched-ops competitors, one adapter class each, behind one interface (OpsAdapter). Sizes are
(width, height); interpolation is "bilinear" or "area". An op a library cannot do like-for-like returns
NotImplemented and is left out."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import cv2
import numpy as np
from PIL import Image

import fastimg

Size = tuple[int, int]
Images = list[np.ndarray]
_CODES = {"bilinear": cv2.INTER_LINEAR, "area": cv2.INTER_AREA}
_FILTERS = {"bilinear": Image.Resampling.BILINEAR, "area": Image.Resampling.BOX}
_REC601 = np.array([0.299, 0.587, 0.114], dtype=np.float32)
TS_INTERPOLATION = "bilinear"  # trainingsample's only one


class OpsAdapter:
    key = "base"  # stable id, used in the JSON and for goals
    name = "base"  # shown in the table
    pool_size = 0  # > 0: map() spreads items over a thread pool of that size; 0: a plain loop
    _pool: ThreadPoolExecutor | None = None

    def setup(self) -> None:
        """Called once before any timing (thread settings, pools)."""
        if self.pool_size:
            self._pool = ThreadPoolExecutor(self.pool_size, initializer=self.init_thread)

    def teardown(self) -> None:
        """Called once after the section."""
        if self._pool is not None:
            self._pool.shutdown()

    def init_thread(self) -> None:
        """Runs once in each pool thread."""

    def map(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """fn over items: a loop, or with a pool in `pool_size` contiguous chunks (one task per worker keeps
        the pool's per-task overhead out of the comparison: the strongest simple way to use a pool for
        equal-cost items)."""
        if self._pool is None:
            return [fn(x) for x in items]
        bounds = np.linspace(0, len(items), self.pool_size + 1).astype(int)
        chunks = [items[a:b] for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        return [y for part in self._pool.map(lambda chunk: [fn(x) for x in chunk], chunks) for y in part]

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        return NotImplemented

    def luminance(self, images: Images) -> Any:
        return NotImplemented

    def center_crop(self, images: Images, size: Size) -> Any:
        return NotImplemented

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        return NotImplemented

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        return NotImplemented


class FastimgOps(OpsAdapter):
    """fastimg itself: the baseline of every ratio, at its default thread count or pinned to one thread."""

    def __init__(self, num_threads: int | None = None) -> None:
        self.num_threads = num_threads
        self.key = "fastimg" if num_threads is None else f"fastimg_{num_threads}t"
        self.name = "fastimg" if num_threads is None else f"fastimg, {num_threads} thread{'s' * (num_threads > 1)}"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        return fastimg.batch_resize_images(images, size, interpolation, num_threads=self.num_threads)

    def luminance(self, images: Images) -> Any:
        return fastimg.batch_calculate_luminance(images, num_threads=self.num_threads)

    def center_crop(self, images: Images, size: Size) -> Any:
        return fastimg.batch_center_crop_images(images, size, num_threads=self.num_threads)

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        return fastimg.batch_random_crop_images(images, size, seed, num_threads=self.num_threads)

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        return fastimg.batch_resize_videos(videos, size, interpolation, num_threads=self.num_threads)


class FastimgBilinearOnly(OpsAdapter):
    """A reference row on the resize workloads: fastimg's plain (aliased) bilinear whatever the workload asks,
    so the area rows show what the antialiased default costs over it."""

    key = "fastimg_bilinear"
    name = "ref: fastimg plain bilinear"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        if interpolation == "bilinear":
            return NotImplemented  # the workload's own fastimg row
        return fastimg.batch_resize_images(images, size, "bilinear")


class NumpyLoop(OpsAdapter):
    """Plain numpy: crops by slicing + copy, luminance by a float dot product."""

    key = "numpy"
    name = "numpy loop"

    def luminance(self, images: Images) -> Any:
        # float32 dot then mean: ~5x faster here than mean over axis 0 then dot (numpy's strided reduce).
        return [float((img.reshape(-1, 3) @ _REC601).mean(dtype=np.float64)) for img in images]

    def center_crop(self, images: Images, size: Size) -> Any:
        return [_crop(img, (img.shape[1] - size[0]) // 2, (img.shape[0] - size[1]) // 2, size) for img in images]

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        w, h = size
        rng = np.random.default_rng(seed)
        origins = [
            (int(rng.integers(0, img.shape[1] - w + 1)), int(rng.integers(0, img.shape[0] - h + 1))) for img in images
        ]
        return [_crop(img, x, y, size) for img, (x, y) in zip(images, origins)]


def _crop(img: np.ndarray, x: int, y: int, size: Size) -> np.ndarray:
    return img[y : y + size[1], x : x + size[0]].copy()


def _sum_u64_view(img: np.ndarray) -> int:
    return int(img.reshape(-1).view(np.uint64).sum())


def _sum_u8_widened(img: np.ndarray) -> int:
    return int(np.add.reduce(img.reshape(-1), dtype=np.uint64))


_READERS = {_sum_u64_view: "np.sum of uint64 view", _sum_u8_widened: "np.add.reduce to uint64"}


class MemoryRead(OpsAdapter):
    """Not a competitor: reads every byte once and does nothing else, the floor for luminance."""

    def __init__(self, workers: int = 1) -> None:
        self.workers, self.pool_size = workers, workers if workers > 1 else 0
        self.key = f"memory_read_{workers}t"
        self.reader: Callable[[np.ndarray], int] | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        how = "1 thread" if self.workers == 1 else f"pool x{self.workers}"
        return f"memory read ({_READERS.get(self.reader, 'fastest sum')}), {how}"

    def _pick_reader(self, img: np.ndarray) -> Callable[[np.ndarray], int]:
        """The faster of the two plain reads on this machine (the uint64 view needs 8-byte multiples)."""
        if img.nbytes % 8 or not img.flags.c_contiguous:
            return _sum_u8_widened
        best = {}
        for fn in (_sum_u64_view, _sum_u8_widened):
            fn(img)
            t0 = time.perf_counter()
            fn(img)
            best[fn] = time.perf_counter() - t0
        return min(best, key=best.__getitem__)

    def luminance(self, images: Images) -> Any:
        if self.reader is None:
            self.reader = self._pick_reader(images[0])
        return self.map(self.reader, images)


class Cv2Ops(OpsAdapter):
    """OpenCV: a plain single-threaded loop, or the same calls spread over a thread pool of `pool` workers (cv2
    releases the GIL)."""

    def __init__(self, pool: int = 0) -> None:
        self.pool_size = pool
        self.key, self.name = ("cv2_pool", f"cv2, pool x{pool}") if pool else ("cv2", "cv2, 1 thread")

    def setup(self) -> None:
        # One OpenCV thread per worker: OpenCV's own pool on top of ours would oversubscribe the cores.
        cv2.setNumThreads(1)
        super().setup()

    def init_thread(self) -> None:
        cv2.setNumThreads(1)

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        code = _CODES[interpolation]
        return self.map(lambda img: cv2.resize(img, size, interpolation=code), images)

    def luminance(self, images: Images) -> Any:
        return self.map(lambda img: cv2.mean(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))[0], images)

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        code = _CODES[interpolation]
        outs = [np.empty((v.shape[0], size[1], size[0], v.shape[3]), np.uint8) for v in videos]
        pairs = [(frame, dst) for v, out in zip(videos, outs) for frame, dst in zip(v, out)]
        self.map(lambda p: cv2.resize(p[0], size, dst=p[1], interpolation=code), pairs)
        return outs


class PillowOps(OpsAdapter):
    """Pillow from numpy arrays: Image.fromarray, the matching filter, back to numpy. BILINEAR is Pillow's
    antialiased triangle filter (it reads the whole footprint when shrinking, unlike cv2.INTER_LINEAR's 2x2
    taps); BOX equals INTER_AREA at integer factors up to rounding. Crops are left out: Pillow would convert
    the whole image to crop a corner, which measures the conversion, not the crop."""

    key = "pillow"
    name = "Pillow"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        f = _FILTERS[interpolation]
        return [np.asarray(Image.fromarray(img).resize(size, f)) for img in images]

    def luminance(self, images: Images) -> Any:
        # convert("L") uses the same Rec.601 weights (rounded to a byte per pixel).
        return [float(np.asarray(Image.fromarray(img).convert("L")).mean()) for img in images]

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        f = _FILTERS[interpolation]
        outs = [np.empty((v.shape[0], size[1], size[0], v.shape[3]), np.uint8) for v in videos]
        for video, out in zip(videos, outs):
            for t, frame in enumerate(video):
                out[t] = np.asarray(Image.fromarray(frame).resize(size, f))
        return outs


def trainingsample_module() -> Any:
    import trainingsample  # requirements/bench.txt: imported when used, so the other adapters work without it

    return trainingsample


class TrainingSampleOps(OpsAdapter):
    """trainingsample (Rust). Its batch_resize_images / batch_resize_videos take no interpolation argument
    and are bilinear: byte-identical to cv2.INTER_LINEAR (checked on 300x400 -> 100x80, 2048 -> 512 and
    upscaling; the table's diff column re-checks it against fastimg every run). So it only enters bilinear
    workloads. Random crops take no seed, so their positions differ from everyone else's."""

    key = "trainingsample"
    name = "trainingsample"

    def resize(self, images: Images, size: Size, interpolation: str) -> Any:
        if interpolation != TS_INTERPOLATION:
            return NotImplemented
        return trainingsample_module().batch_resize_images(images, [size] * len(images))

    def luminance(self, images: Images) -> Any:
        return trainingsample_module().batch_calculate_luminance(images)

    def center_crop(self, images: Images, size: Size) -> Any:
        return trainingsample_module().batch_center_crop_images(images, [size] * len(images))

    def random_crop(self, images: Images, size: Size, seed: int) -> Any:
        return trainingsample_module().batch_random_crop_images(images, [size] * len(images))

    def resize_videos(self, videos: list[np.ndarray], size: Size, interpolation: str) -> Any:
        if interpolation != TS_INTERPOLATION:
            return NotImplemented
        return trainingsample_module().batch_resize_videos(videos, [size] * len(videos))
