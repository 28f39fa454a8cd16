"""Which operational objects a caller sees beyond its permissions: one condition asked of rows
(SQL), of stored Features (time travel, SQL over JSON) and of change records (Python) alike.

The auth layer decides a caller's scope from its role (`app.auth.permissions.scope_of`); the
domain, the feed, the stream and alerting only apply it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, literal, or_

from app.domain.base import OperationalObject


@dataclass(frozen=True)
class Scope:
    """What one caller may see of the objects its permissions let it read."""

    created_by: str | None = None  # only what this actor created (a dispatch system)
    # partner: only what is shared with all partners, or with this organisation
    organisation: str | None = None
    partner: bool = False
    # Entity types the caller may read at all; None: every type. Change records carry every type,
    # so the feed and the stream need this beside the per-object test.
    entities: frozenset[str] | None = None

    @property
    def everything(self) -> bool:
        return self.created_by is None and not self.partner and self.entities is None

    def sees(self, props: Mapping[str, Any]) -> bool:
        if self.entities is not None and props.get("entity") not in self.entities:
            return False
        if self.created_by is not None and props.get("created_by") != self.created_by:
            return False
        if self.partner:
            return props.get("visibility") == "shared" or (
                self.organisation is not None
                and self.organisation in (props.get("shared_with") or [])
            )
        return True

    def clause(self, model: type[OperationalObject]) -> ColumnElement[bool] | None:
        parts: list[ColumnElement[bool]] = []
        if self.created_by is not None:
            parts.append(model.created_by == self.created_by)
        if self.partner:
            shared = model.visibility == "shared"
            if self.organisation is not None:
                shared = or_(shared, model.shared_with.any(self.organisation))  # type: ignore[arg-type]
            parts.append(shared)
        return and_(*parts) if parts else None

    def json_clause(self, props: Any) -> ColumnElement[bool] | None:
        """The same condition over a JSONB `properties` expression (stored Features)."""
        parts: list[ColumnElement[bool]] = []
        if self.created_by is not None:
            parts.append(props["created_by"].astext == self.created_by)
        if self.partner:
            shared = props["visibility"].astext == "shared"
            if self.organisation is not None:
                shared = or_(shared, props["shared_with"].has_key(literal(self.organisation)))
            parts.append(shared)
        return and_(*parts) if parts else None
