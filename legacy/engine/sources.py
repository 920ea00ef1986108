"""The legacy sources the engine knows, in the order they are copied (their priority)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from legacy.engine import auth_service, fastapi_users, nats, shared_models, tenants
from legacy.engine.context import Context
from legacy.engine.report import Verification


@dataclass(frozen=True)
class Source:
    """One legacy system: the tables it reads and how to copy, verify and reverse them."""

    name: str
    description: str
    tables: tuple[str, ...]
    copy: Callable[[Context], None]
    verify: Callable[[Context, Verification], None]
    reverse: Callable[[Context], None]
    census: Callable[[Context], dict[str, dict[str, int]]] | None = None


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source(
            name="auth_service",
            description="the auth service's users and user_api_keys",
            tables=(auth_service.USERS, auth_service.KEYS),
            copy=auth_service.copy,
            verify=auth_service.verify,
            reverse=auth_service.reverse,
            census=auth_service.census,
        ),
        Source(
            name="tenants",
            description="the auth service's clients, and users.client_id as memberships",
            tables=(tenants.CLIENTS,),
            copy=tenants.copy,
            verify=tenants.verify,
            reverse=tenants.reverse,
        ),
        Source(
            name="shared_models",
            description='the shared models: "user", user_api_key, user_profile, user_session',
            tables=shared_models.TABLES,
            copy=shared_models.copy,
            verify=shared_models.verify,
            reverse=shared_models.reverse,
            census=shared_models.census,
        ),
        Source(
            name="fastapi_users",
            description="fastapi-users' fu_users",
            tables=(fastapi_users.FU_USERS,),
            copy=fastapi_users.copy,
            verify=fastapi_users.verify,
            reverse=fastapi_users.reverse,
            census=fastapi_users.census,
        ),
        Source(
            name="nats",
            description="NATS: nats_account, nats_user_credential (onto the user, verified),"
            " nats_auth_session",
            tables=nats.TABLES,
            copy=nats.copy,
            verify=nats.verify,
            reverse=nats.reverse,
            census=nats.census,
        ),
    )
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
