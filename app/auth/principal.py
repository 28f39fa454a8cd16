"""Who is making a request: a user or a machine client, with a role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

from app.auth.roles import Role
from app.domain.actor import Actor


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "apikey", "system"]
    id: uuid.UUID | None
    name: str
    role: Role
    organisation: str | None = None
    # API keys only: the object types the key may write and the `source` its objects carry.
    entities: frozenset[str] | None = None
    source: str | None = None
    # API keys only: reads, whatever the role would allow besides.
    read_only: bool = False

    @property
    def actor(self) -> str:
        """How writes are attributed: the username, or `key:<name>` for an API key."""
        return f"key:{self.name}" if self.kind == "apikey" else self.name

    @property
    def as_actor(self) -> Actor:
        """What the domain services are told of this principal."""
        return Actor(self.actor, self.kind, self.organisation, self.role.value, self.source)


SYSTEM = Principal(kind="system", id=None, name="system", role=Role.admin)
