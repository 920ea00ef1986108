"""A source of people rows, declared: its shared steps copy, verify, sync and reverse it.

The auth service, the shared models and fastapi-users each declare their people table's
mapping onto users and the tables its rows own; every step below is the same for each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from legacy import catalog
from legacy.engine.context import Context
from legacy.engine.owned import OwnedRows, copy_owned, verify_owned
from legacy.engine.people import PersonColumns, copy_people, password_census
from legacy.engine.report import Verification
from legacy.engine.reverse import delete_copied, forget
from legacy.engine.schema import LegacyTable
from legacy.engine.sync import sync_owned, sync_people
from legacy.engine.trust import forget_holds, let_go_of_users
from legacy.engine.verify import verify_people


@dataclass(frozen=True)
class PeopleSource:
    """A source of people: ``columns`` maps its people table onto users, ``owned`` maps each
    table its rows own (in copy order) onto a consolidated model. The tables are the
    catalogue's; ``roles``: its rows carry roles, whose groups the reverse removes."""

    name: str
    description: str
    columns: Callable[[LegacyTable], PersonColumns]
    owned: dict[str, Callable[[LegacyTable], OwnedRows]]
    roles: bool = False

    def __post_init__(self) -> None:
        declared = (self.people, *self.owned)
        if declared != catalog.tables_of(self.name):
            raise ValueError(f"source {self.name}: {declared} are not the catalogue's tables")

    @property
    def people(self) -> str:
        return next(
            t.key for t in catalog.TABLES if t.source == self.name and t.kind == catalog.PEOPLE
        )

    @property
    def tables(self) -> tuple[str, ...]:
        return catalog.tables_of(self.name)

    def _owned_tables(self, ctx: Context) -> list[tuple[LegacyTable, OwnedRows]]:
        """The owned tables that exist, with their mapping."""
        found = ((ctx.legacy(key), rows) for key, rows in self.owned.items())
        return [(table, rows(table)) for table, rows in found if table is not None]

    def copy(self, ctx: Context) -> None:
        users = ctx.legacy(self.people)
        if users is None:
            ctx.report.notes.append(f"{self.name}: no {self.people!r} table, nothing to copy")
            return
        cols = self.columns(users)
        if cols.password == "NULL":
            ctx.report.notes.append(
                f"{self.name}: {users.name!r} has no password column; every account gets an "
                "unusable password"
            )
        copy_people(ctx, users, cols)
        for table, rows in self._owned_tables(ctx):
            copy_owned(ctx, table, rows)

    def census(self, ctx: Context) -> dict[str, dict[str, int]]:
        """How many people rows hold each password-hash format."""
        users = ctx.legacy(self.people)
        if users is None:
            return {}
        return {self.people: password_census(ctx, users, self.columns(users))}

    def verify(self, ctx: Context, v: Verification) -> None:
        """Every table that exists, owned ones too: rows nobody copied are not accounted for."""
        users = ctx.legacy(self.people)
        if users is not None:
            verify_people(ctx, users, self.columns(users), v)
        for table, rows in self._owned_tables(ctx):
            verify_owned(ctx, table, rows, v)

    def sync(self, ctx: Context) -> None:
        users = ctx.legacy(self.people)
        if users is not None:
            sync_people(ctx, users, self.columns(users))
        for table, rows in self._owned_tables(ctx):
            sync_owned(ctx, table, rows)

    def reverse(self, ctx: Context) -> None:
        """Remove the rows, users, origins and records this source's copy created."""
        if self.owned:
            forget_holds(ctx, *self.owned)
        forget(ctx, "legacy.RowIssue", source__in=list(self.tables))
        forget(ctx, "legacy.Conflict", source=self.people)
        for key in reversed(self.owned):
            delete_copied(ctx, catalog.BY_KEY[key].becomes, key)
        let_go_of_users(ctx, self.people)
        delete_copied(ctx, "accounts.User", self.people)
        forget(ctx, "accounts.UserOrigin", source=self.people)
        if self.roles:
            _forget_role_groups(ctx)


def _forget_role_groups(ctx: Context) -> None:
    """Remove the groups the copy made for legacy roles (those that existed stay)."""
    group_ids = (
        ctx.model("accounts.RoleGroup")
        ._base_manager.db_manager(ctx.connection.alias)
        .filter(created_by_copy=True)
        .values_list("group_id", flat=True)
    )
    forget(ctx, "auth.Group", pk__in=list(group_ids))
    forget(ctx, "accounts.RoleGroup")
