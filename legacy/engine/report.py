"""What a copy or a verification did, as numbers a person (or a script) can read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TableResult:
    """Outcome for one legacy table in one run.

    copied: consolidated rows created from it; merged: rows attached to a person who
    already had a consolidated row; rejected / warnings: rows reported with a reason
    (see RowIssue); already_done: rows a previous run had done; synced: values --sync
    brought up to date with the legacy row; held: rows of merged people rows that
    proved nothing, held for review (legacy/engine/trust.py); released: held rows this
    run let through (released in the review queue, or their source declared verified).
    """

    rows: int = 0
    copied: int = 0
    merged: int = 0
    rejected: int = 0
    warnings: int = 0
    already_done: int = 0
    synced: int = 0
    held: int = 0
    released: int = 0


@dataclass
class Problem:
    """One thing --verify found wrong, naming the row and the reason."""

    source: str
    legacy_id: str
    problem: str
    detail: str = ""


@dataclass
class Verification:
    """The result of comparing every legacy row with what it became."""

    checked: dict[str, int] = field(default_factory=dict)
    problem_counts: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)  # the first ``sample_limit`` only
    sample_limit: int = 50
    # Rows held for review: accounted for, not a failure (legacy/engine/trust.py).
    held_counts: dict[str, int] = field(default_factory=dict)
    held: list[Problem] = field(default_factory=list)  # the first ``sample_limit`` only

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    def add(self, problem: Problem) -> None:
        key = f"{problem.source}: {problem.problem}"
        self.problem_counts[key] = self.problem_counts.get(key, 0) + 1
        if len(self.problems) < self.sample_limit:
            self.problems.append(problem)

    def add_held(self, item: Problem) -> None:
        self.held_counts[item.source] = self.held_counts.get(item.source, 0) + 1
        if len(self.held) < self.sample_limit:
            self.held.append(item)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "problem_counts": self.problem_counts,
            "problems": [asdict(p) for p in self.problems],
            "held_counts": self.held_counts,
            "held": [asdict(p) for p in self.held],
        }


@dataclass
class Report:
    """Everything one run of the engine has to say."""

    sources: list[str]
    dry_run: bool = False
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)
    tables_found: list[str] = field(default_factory=list)
    counts_before: dict[str, int] = field(default_factory=dict)
    counts_after: dict[str, int] = field(default_factory=dict)
    tables: dict[str, TableResult] = field(default_factory=dict)
    hash_census: dict[str, dict[str, int]] = field(default_factory=dict)
    conflicts: int = 0
    # Merged people rows whose items are held for review, per source (trust.py).
    held_merged_rows: dict[str, int] = field(default_factory=dict)
    duration_seconds: float = 0.0
    verification: Verification | None = None

    def table(self, key: str) -> TableResult:
        return self.tables.setdefault(key, TableResult())

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verification"] = self.verification.as_dict() if self.verification else None
        return data
