"""Whether the legacy credential table can be retired: the NATS copy verifies, every
credential passes its checks afresh, and none was rejected."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.apps.registry import Apps
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.utils import timezone

from legacy.catalog import REJECTED
from legacy.engine.context import Context
from legacy.engine.nats.checks import Audit
from legacy.engine.nats.common import CREDENTIALS
from legacy.engine.nats.verify import verify_and_audit
from legacy.engine.report import Report, Verification


@dataclass
class Readiness:
    """Whether the legacy credential table can be retired: the copy verifies, no flags,
    and no credential was rejected (a rejected row reached no user: dropping the table
    would leave it only in the backup)."""

    report: Report
    audit: Audit
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (legacy id, reason)

    @property
    def ok(self) -> bool:
        verification = self.report.verification
        # The table being retired is the credentials': account flags do not block it.
        flagged = self.audit.flagged.get(CREDENTIALS, 0)
        return verification is not None and verification.ok and not flagged and not self.rejected

    def problems(self) -> Iterator[str]:
        verification = self.report.verification
        if verification is not None:
            for key, count in verification.problem_counts.items():
                yield f"{key}: {count}"
            for p in verification.problems:
                yield f"{p.source}#{p.legacy_id}: {p.problem}" + (
                    f" ({p.detail})" if p.detail else ""
                )
        yield from (
            f"{CREDENTIALS}#{legacy_id}: rejected ({reason}), on no user"
            for legacy_id, reason in self.rejected
        )
        counts = self.audit.counts.items()
        yield from (f"flag {key}: {n}" for key, n in counts if key.startswith(CREDENTIALS))
        yield from (f"flag {line}" for line in self.audit.samples if line.startswith(CREDENTIALS))


def readiness(apps: Apps, *, using: str = DEFAULT_DB_ALIAS, sample_limit: int = 50) -> Readiness:
    """Verify the NATS copy and check every credential afresh (changes nothing)."""
    report = Report(sources=["nats"])
    with transaction.atomic(using=using):
        ctx = Context(apps=apps, connection=connections[using], report=report, now=timezone.now())
        report.verification = Verification(sample_limit=sample_limit)
        checks = verify_and_audit(ctx, report.verification)
        issues = apps.get_model("legacy", "RowIssue")._base_manager.using(using)
        rejected = list(
            issues.filter(source=CREDENTIALS, kind=REJECTED)
            .order_by("legacy_id")
            .values_list("legacy_id", "reason")[:sample_limit]
        )
    return Readiness(
        report=report, audit=checks or Audit(sample_limit=sample_limit), rejected=rejected
    )
