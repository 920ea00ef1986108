"""The legacy sources the engine knows, in the order they are copied (their priority).

A source of people (the auth service, the shared models, fastapi-users) is a declaration:
its people table, how a row maps onto a user, and the tables its rows own. Copy, verify,
sync, census and reverse are the same shared steps for each, so the sources cannot drift
apart. Tenants and NATS have steps of their own (legacy/engine/tenants.py, nats/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

from legacy import catalog
from legacy.engine import auth_service, fastapi_users, nats, shared_models, tenants
from legacy.engine.context import Context
from legacy.engine.people_source import PeopleSource
from legacy.engine.report import Verification


@dataclass(frozen=True)
class Source:
    """One legacy system: the tables it reads and how to copy, verify, sync and reverse them."""

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
        """A source with steps of its own: a module defining NAME, DESCRIPTION, copy, verify
        and reverse, and optionally census and sync; its tables come from the catalogue."""
        return cls(
            name=module.NAME,
            description=module.DESCRIPTION,
            tables=catalog.tables_of(module.NAME),
            copy=module.copy,
            verify=module.verify,
            reverse=module.reverse,
            census=getattr(module, "census", None),
            sync=getattr(module, "sync", None),
        )

    @classmethod
    def of_people(cls, people: PeopleSource) -> Source:
        """A source of people: its steps are the shared ones (legacy/engine/people_source.py)."""
        return cls(
            name=people.name,
            description=people.description,
            tables=people.tables,
            copy=people.copy,
            verify=people.verify,
            reverse=people.reverse,
            census=people.census,
            sync=people.sync,
        )


_DECLARED = {
    "auth_service": Source.of_people(auth_service.SOURCE),
    "tenants": Source.of(tenants),
    "shared_models": Source.of_people(shared_models.SOURCE),
    "fastapi_users": Source.of_people(fastapi_users.SOURCE),
    "nats": Source.of(nats),
}
SOURCES: dict[str, Source] = {name: _DECLARED[name] for name in catalog.SOURCE_ORDER}


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
