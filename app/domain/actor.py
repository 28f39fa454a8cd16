"""Who a domain service acts for: a plain value the auth layer gives (`Principal.as_actor`), so
that the domain never depends on how a caller was authenticated."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Actor:
    # How writes are attributed (created_by, updated_by, the change record's actor): the
    # username, `key:<name>` for an API key, or a system name such as `system:cap-in`.
    name: str
    kind: Literal["user", "apikey", "system"]
    organisation: str | None = None
    role: str | None = None
    # API keys only: the `source` the key's objects carry when the client sends none.
    source: str | None = None

    @property
    def default_source(self) -> str | None:
        """The `source` of an object this actor creates without one: an API key's own."""
        if self.kind != "apikey":
            return None
        return self.source or self.name.removeprefix("key:")
