"""The one renderer of benchmark reports: machine facts, number and ratio formatting, goal verdicts, markdown
tables, and writing results/<section>.{md,json}. Reports hold this run's numbers only; what they mean and how
they were measured is written once, in docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_NOTE = " (--quick: a smoke test, not for quoting)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_versions(names: list[str]) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_info(packages: list[str]) -> dict[str, Any]:
    import fastimg

    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "fastimg_threads": fastimg.get_num_threads(),
        "versions": package_versions(packages),
    }


def finish_machine_info(info: dict[str, Any], started: float | None = None) -> None:
    """Adds the load average at the end (and the section's wall time since `started`, a perf_counter)."""
    if hasattr(os, "getloadavg"):
        info["load_average_end"] = list(os.getloadavg())
    if started is not None:
        info["wall_s"] = time.perf_counter() - started


def header(title: str, info: dict[str, Any], quick: bool, section: str) -> list[str]:
    """Title, machine facts and versions, and where the method is written."""
    facts = [info["date"], f"{info['cpu']}, {info['usable_cpus']} usable CPUs"]
    if info.get("load_average"):
        end = info.get("load_average_end")
        facts.append(f"1-min load average {info['load_average'][0]:.2f}" + (f" -> {end[0]:.2f}" if end else ""))
    facts.append(f"Python {info['python']}")
    if "wall_s" in info:
        facts.append(f"section wall time {info['wall_s']:.0f} s")
    versions = [f"{name} {v}" for name, v in info["versions"].items()]
    versions.append(f"fastimg threads {info['fastimg_threads']}")
    return [
        f"# {title}" + (QUICK_NOTE if quick else ""),
        "",
        " · ".join(facts),
        "",
        " · ".join(versions),
        "",
        f"Method and column meanings: [docs/benchmarks.md#{section}](../../docs/benchmarks.md#{section}).",
        "",
    ]


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 100 else f"{ms:.0f}"


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.0f}" if per_s >= 100 else f"{per_s:.3g}"


def fmt_pct(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{100 * x:.1f}%"


def fmt_mb(n: Any) -> str:
    return f"{n / 2**20:,.0f}" if isinstance(n, (int, float)) and n else "n/a"


def ratio(a: float, b: float) -> float:
    """a / b, NaN when either is missing (NaN) or b is 0."""
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def ratio_text(x: float, *, at_most: bool = False) -> str:
    """A ratio cut to 2-3 significant digits towards the side that keeps the printed value in agreement with
    its goal's verdict: down for a floor (1.798 against >= 1.8 must not read 1.80), up for a ceiling
    (`at_most`: 1.1503 against <= 1.15 must not read 1.15). "n/a" for NaN."""
    if math.isnan(x):
        return "n/a"
    digits = 3 if x < 1 else 2 if x < 10 else 1 if x < 100 else 0
    cut = math.ceil if at_most else math.floor
    return f"{cut(round(x * 10**digits, 9)) / 10**digits:.{digits}f}"


def goal_status(value: float, goal: float, *, at_most: bool = False) -> str:
    """PASS or MISS of a ratio against its goal, a floor unless `at_most`; "n/a" when not measured."""
    if math.isnan(value):
        return "n/a"
    return "PASS" if (value <= goal if at_most else value >= goal) else "MISS"


def goal_text(goal: float, status: str, *, at_most: bool = False) -> str:
    """The goal cell of a table row: ">=1.8 PASS", "<=1.15 MISS"."""
    return f"{'<=' if at_most else '>='}{goal:g} {status}"


def goals_section(goals: list[dict[str, Any]], *, list_all: bool = False) -> list[str]:
    """ "## Goals: k/n PASS" and a table of the goals that did not pass (every goal with `list_all`). Each goal
    is a dict with what, ratio, goal, status, and optionally at_most (a ceiling) and note."""
    judged = [g for g in goals if g["status"] in ("PASS", "MISS")]
    passed = sum(g["status"] == "PASS" for g in judged)
    lines = [f"## Goals: {passed}/{len(judged)} PASS", ""]
    shown = goals if list_all else [g for g in goals if g["status"] != "PASS"]
    if shown:
        rows = []
        for g in shown:
            at_most = g.get("at_most", False)
            measured = "not measured" if math.isnan(g["ratio"]) else f"{ratio_text(g['ratio'], at_most=at_most)}x"
            rows.append(
                [g["status"], g["what"], measured, f"{'<=' if at_most else '>='} {g['goal']:g}x", g.get("note", "")]
            )
        lines += [markdown_table(["status", "goal", "ratio", "target", "note"], rows), ""]
    return lines


def load_table(loads: list[tuple[str, dict[str, Any]]]) -> str:
    """Other processes' CPU and steal while each labelled stretch was timed (contention.CpuMeter results)."""
    rows = []
    for label, load in loads:
        if "other_cores" not in load:
            rows.append([label, f"{load['wall_s']:.1f}", f"{load['own_cpu_s']:.1f}", "", "", "not measured", ""])
            continue
        rows.append(
            [
                label,
                f"{load['wall_s']:.1f}",
                f"{load['own_cpu_s']:.1f}",
                f"{load['other_cpu_s']:.1f}",
                f"{load['steal_s']:.1f}",
                f"{load['other_cores']:.2f}",
                "**SUSPECT: rerun**" if load["suspect"] else "",
            ]
        )
    columns = ["timed stretch", "wall s", "this benchmark CPU s", "other CPU s", "steal s", "other cores", ""]
    return markdown_table(columns, rows)


def markdown_table(columns: list[str], rows: list[list[str]]) -> str:
    """The one table renderer: a GitHub markdown table, "|" inside a cell escaped."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    return "\n".join([line(columns), "|" + "|".join("---" for _ in columns) + "|", *[line(row) for row in rows]])


def write_results(section: str, markdown: str, data: dict[str, Any]) -> list[Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    md, js = RESULTS_DIR / f"{section}.md", RESULTS_DIR / f"{section}.json"
    md.write_text(markdown + "\n")
    js.write_text(json.dumps(data, indent=1) + "\n")
    return [md, js]
