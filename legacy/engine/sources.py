"""The legacy sources the engine knows, in the order they are copied (their priority)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from legacy.engine import auth_service, fastapi_users, nats, shared_models, tenants
from legacy.engine.context import Context
from legacy.engine.report import Verification


@dataclass(frozen=True)
class Source:
    """One legacy system: the tables it reads and how to copy, verify, sync and reverse them.

    Each source is a module of legacy/engine that defines NAME, DESCRIPTION, TABLES,
    copy, verify and reverse, and optionally census and sync.
    """

    name: str
    description: str
    tables: tuple[str, ...]
    copy: Callable[[Context], None]
    verify: Callable[[Context, Verification], None]
    reverse: Callable[[Context], None]
    census: Callable[[Context], dict[str, dict[str, int]]] | None = None
    sync: Callable[[Context], None] | None = None

    @classmethod
    def of(cls, module: ModuleType) -> Source:
        return cls(
            name=module.NAME,
            description=module.DESCRIPTION,
            tables=module.TABLES,
            copy=module.copy,
            verify=module.verify,
            reverse=module.reverse,
            census=getattr(module, "census", None),
            sync=getattr(module, "sync", None),
        )


# Copy order is merge priority: users > "user" > fu_users; tenants and NATS need the
# auth service's people first.
SOURCES: dict[str, Source] = {
    source.name: source
    for source in map(Source.of, (auth_service, tenants, shared_models, fastapi_users, nats))
}


class UnknownSource(ValueError):
    """A source name that the engine does not know."""


def select(names: list[str] | None) -> list[Source]:
    """The named sources in priority order (all of them when ``names`` is empty)."""
    if not names:
        return list(SOURCES.values())
    unknown = sorted(set(names) - set(SOURCES))
    if unknown:
        raise UnknownSource(f"unknown source {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    return [source for name, source in SOURCES.items() if name in names]
