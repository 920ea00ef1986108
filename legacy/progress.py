"""Progress of a long copy on stderr: a bar per table on a terminal, plain lines elsewhere."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 30


class ProgressPrinter:
    """Called by the engine after each unit of work as ``(table, rows done, rows to do)``.

    On a terminal it redraws one bar per table (rows, rate, time left); otherwise (CI,
    a log file) it writes a line at most every ``interval`` seconds once a table has taken
    that long, and when such a table is done, so logs stay readable. It writes to
    stderr, never into a --json report.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        is_terminal: bool | None = None,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.is_terminal = stream.isatty() if is_terminal is None else is_terminal
        self.interval = interval
        self.clock = clock
        self.started: dict[str, float] = {}
        self.last_line = float("-inf")

    def __call__(self, table: str, done: int, total: int) -> None:
        now = self.clock()
        started = self.started.setdefault(table, now)
        elapsed = now - started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f"{(total - done) / rate:,.0f} s left" if rate else "time left unknown"
        figures = f"{done:,}/{total:,} rows  {rate:,.0f} rows/s  {left}"
        if self.is_terminal:
            filled = BAR_WIDTH * done // max(total, 1)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{table:<22} [{bar}] {figures}{end}")
            self.stream.flush()
        elif elapsed >= self.interval and (
            done >= total or now - self.last_line >= self.interval
        ):
            # Only tables that take a while get lines: a short copy stays quiet.
            self.stream.write(f"{table}: {figures}\n")
            self.last_line = now
