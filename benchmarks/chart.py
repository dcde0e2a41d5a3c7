"""Bar chart of fastimg's speed-up over each competitor, from a results JSON written by run.py.

.venv/bin/python benchmarks/chart.py [benchmarks/results/ops.json]   # writes ops.png next to it
.venv/bin/python benchmarks/chart.py benchmarks/results/pipeline.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt
from report import RESULTS_DIR


def main(path: Path) -> Path:
    data = json.loads(path.read_text())
    rows = [
        r
        for r in data["rows"]
        if r["adapter"] != "fastimg"
        and not r["adapter"].startswith("memory_read")
        and not r.get("reference")
        and "fastimg_speedup" in r
    ]  # pipeline.json: ceilings and n/a rows
    labels = [f"{r['workload']} · {r['name']}" for r in rows]
    ratios = [r["fastimg_speedup"] for r in rows]
    colours = [
        "tab:green" if r["status"] == "PASS" else "tab:red" if r["status"] == "MISS" else "tab:gray" for r in rows
    ]
    fig, ax = plt.subplots(figsize=(10, 0.22 * len(rows) + 1.5))
    y = range(len(rows))
    ax.barh(y, ratios, color=colours)
    goals = [(i, r["goal"]) for i, r in enumerate(rows) if r["goal"] is not None]
    ax.scatter([g for _, g in goals], [i for i, _ in goals], marker="|", s=80, color="black", label="goal")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yticks(list(y), labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("competitor time / fastimg time (>1: fastimg faster; green PASS, red MISS)")
    ax.set_title(
        f"fastimg {data['machine']['versions']['fastimg']} · {data['machine']['cpu']}, "
        f"{data['machine']['usable_cpus']} CPUs"
    )
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = path.with_suffix(".png")
    fig.savefig(out, dpi=120)
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS_DIR / "ops.json"))
