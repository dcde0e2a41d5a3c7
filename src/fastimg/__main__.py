"""`python -m fastimg info`: versions and capabilities to paste into a bug report. `python -m fastimg
shards SRC_DIR OUT_PATTERN`: an ImageFolder tree to tar shards (see shards/writer.py); `python -m fastimg
shards index URLS...`: sample counts and offsets for shards written by other tools (shards/index.py).
`python -m fastimg prepare SRC DST`: a tree's JPEGs rewritten losslessly for crop decoding (prepare.py)."""

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
        "parallel runtime": str(build["parallel"]),
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


def index_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fastimg shards index",
        description="Write each shard's sample offsets (<shard>.idx) and index.json beside the first shard.",
    )
    parser.add_argument("urls", metavar="URL", nargs="+", help="shards: paths, fsspec URLs or brace patterns")
    parser.add_argument("--quiet", action="store_true", help="errors only")
    args = parser.parse_args(argv)
    from .shards.index import index_command

    return index_command(args.urls, quiet=args.quiet)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:2] == ["shards", "index"]:
        return index_main(argv[2:])
    parser = argparse.ArgumentParser(prog="python -m fastimg")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="versions, SIMD features, thread count")
    shards = commands.add_parser(
        "shards",
        help="write an ImageFolder tree as WebDataset-style tar shards with an index of sample counts and offsets "
        "(`shards index URLS...`: index shards written by other tools)",
        epilog="`python -m fastimg shards index URLS...` writes the index (counts, sizes, sample offsets) for "
        "shards written by other tools; index.json is per folder and merged, so train and val shards can share one.",
    )
    shards.add_argument("src", metavar="SRC_DIR", help="root/<class>/<image> tree")
    shards.add_argument("out_pattern", metavar="OUT_PATTERN", help="shard names, e.g. out/train-%%06d.tar")
    shards.add_argument("--max-size", default="1GB", help="bytes per shard at most (1GB, 500MB, 512MiB)")
    shards.add_argument("--max-count", type=int, default=None, help="samples per shard at most")
    shards.add_argument("--max-side", type=int, default=None, help="shrink larger images to this longer side")
    shards.add_argument("--quality", type=int, default=90, help="JPEG quality of re-encoded images (1..100)")
    shards.add_argument("--seed", type=int, default=0, help="seed of the sample order across shards")
    shards.add_argument("--no-shuffle", action="store_true", help="keep the folder order")
    shards.add_argument(
        "--no-restarts",
        action="store_true",
        help="copy JPEGs as they are (default: rewritten losslessly with "
        "restart markers, as `prepare` does, for cheaper crops)",
    )
    shards.add_argument("--quiet", action="store_true", help="no progress bar or summary: errors only")
    prepare = commands.add_parser(
        "prepare",
        help="copy a folder tree with every JPEG rewritten losslessly for fast crops (restart markers, baseline, "
        "optimised Huffman): same pixels, cheaper RandomResizedCrop",
        description="Mirror SRC into DST: JPEGs rewritten losslessly with restart markers so that crops decode only "
        "the intervals they need (same pixels), other and unreadable files copied unchanged and named. SRC is only "
        "read; files already in DST are kept, so an interrupted run can be repeated.",
    )
    prepare.add_argument("src", metavar="SRC", help="folder tree to read (an ImageFolder root or any tree)")
    prepare.add_argument("dst", metavar="DST", help="folder to write the mirror tree to (outside SRC)")
    prepare.add_argument(
        "--interval",
        type=int,
        default=None,
        help="MCUs per restart interval (default: the smallest divisor of a row whose intervals hold >= 128 bytes)",
    )
    prepare.add_argument("--workers", type=int, default=None, help="threads (default: fastimg's thread count)")
    prepare.add_argument("--quiet", action="store_true", help="no progress bar or summary: errors only")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        from .prepare import main as prepare_main

        return prepare_main(args)
    if args.command == "shards":
        from .shards.writer import main as write_main

        return write_main(args)
    rows = info()
    width = max(len(k) for k in rows)
    for key, value in rows.items():
        print(f"{key:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
