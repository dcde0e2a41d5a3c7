"""`python -m fastimg info`: versions and capabilities to paste into a bug report."""

from __future__ import annotations

import argparse
import platform
import sys


def cpu_features() -> list[str]:
    wanted = ("sse2", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "neon", "asimd")
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    have = set(line.split(":", 1)[1].split())
                    return [w for w in wanted if w in have]
    except OSError:
        pass
    return []


def info() -> dict[str, str]:
    import numpy

    import fastimg
    from fastimg import _core

    build = _core.build_info()
    rows = {
        "fastimg": fastimg.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "opencv (linked)": str(build["opencv"]),
        "libjpeg-turbo (linked)": str(build["libjpeg_turbo"]),
        "libpng / libwebp / giflib (linked)": f"{build['libpng']} / {build['libwebp']} / {build['giflib']}",
        "libtiff (linked)": str(build["libtiff"]),
        "openmp": str(build["openmp"]),
        "cpu": platform.processor() or platform.machine(),
        "cpu features": " ".join(cpu_features()) or "unknown",
        "default threads": str(fastimg.get_num_threads()),
    }
    try:
        import torch

        rows["torch"] = torch.__version__
        rows["cuda available"] = str(torch.cuda.is_available())
    except ImportError:
        rows["torch"] = "not installed"
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fastimg")
    parser.add_argument("command", choices=["info"], help="info: versions, SIMD features, thread count")
    parser.parse_args(argv)
    rows = info()
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
