"""A plain-text progress line on stderr for the command-line tools: rewritten in place on a terminal (at
most five times a second), one line per call otherwise, so logs stay short."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    def __init__(self, label: str, total: int, unit: str, stream: Optional[TextIO] = None) -> None:
        self.label, self.total, self.unit, self.last, self.line = label, total, unit, 0.0, ""
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()

    def update(self, done: int, detail: str = "", *, force: bool = False) -> None:
        """Shows ``done`` of the total and ``detail``; off a terminal only when ``force`` (a natural
        checkpoint such as a finished shard) or at the end."""
        now = time.monotonic()
        if not force and done < self.total and (not self.tty or now - self.last < 0.2):
            return
        pct = 100.0 * done / self.total if self.total else 100.0
        line = f"{self.label}: {done}/{self.total} {self.unit} ({pct:5.1f}%)" + (f", {detail}" if detail else "")
        if line == self.line:
            return
        self.last, self.line = now, line
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
