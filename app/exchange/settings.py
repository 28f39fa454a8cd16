"""Settings of the exports and imports, read once at start from the environment (prefix
``SITCEN_``); docs/reports.md (## Exports and imports) has the table."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ExchangeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SITCEN_", frozen=True, extra="ignore")

    # An import is parsed, checked and written in one transaction: its size bounds the memory
    # it takes and how long its row locks are held.
    import_max_bytes: int = Field(
        default=10_000_000, ge=1, description="Largest import file accepted, in bytes."
    )
    import_max_rows: int = Field(
        default=5_000, ge=1, description="Most objects one import file may hold."
    )
    # What an export holds in memory at a time: this many objects, read, encoded and sent.
    export_chunk_rows: int = Field(default=500, ge=1, le=10_000)


@lru_cache(maxsize=1)
def get_exchange_settings() -> ExchangeSettings:
    return ExchangeSettings()
