"""Progress on stderr: a bar on a terminal, plain periodic lines elsewhere."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from legacy.progress import ProgressPrinter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_terminal_bar_redraws_and_ends_with_a_newline():
    out, clock = StringIO(), Clock()
    show = ProgressPrinter(out, is_terminal=True, clock=clock)
    show("users", 0, 100)
    clock.now = 2
    show("users", 50, 100)
    clock.now = 4
    show("users", 100, 100)
    text = out.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert "50/100 rows" in text and "25 rows/s" in text and "2 s left" in text
    assert "[" + "#" * 30 + "]" in text


def test_plain_lines_at_most_every_interval_and_at_the_end():
    out, clock = StringIO(), Clock()
    show = ProgressPrinter(out, is_terminal=False, interval=10, clock=clock)
    for step in range(1, 11):
        clock.now = step * 3
        show("users", step * 10, 100)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[-1].startswith("users: 100/100 rows")
    assert 3 <= len(lines) <= 5


def test_a_short_table_prints_nothing_off_a_terminal():
    out, clock = StringIO(), Clock()
    show = ProgressPrinter(out, is_terminal=False, interval=10, clock=clock)
    show("users", 0, 10)
    clock.now = 1
    show("users", 10, 10)
    assert out.getvalue() == ""


def test_command_json_stays_clean(legacy, settings):
    settings.LEGACY_COPY_CHUNK_ROWS = 2
    for n in range(5):
        legacy.user(f"p{n}@example.com", "pw")
    out, err = StringIO(), StringIO()
    call_command("migrate_legacy_users", "--json", stdout=out, stderr=err)
    assert json.loads(out.getvalue())["tables"]["users"]["copied"] == 5
