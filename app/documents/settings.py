"""Settings of the document library, read once at start from the environment (prefix
``SITCEN_DOCUMENT_``); docs/crisis-cell.md (## Documents) has the table."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class DocumentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SITCEN_DOCUMENT_", frozen=True)

    max_bytes: int = Field(
        default=250_000_000, ge=1, description="Largest file (each version) accepted, in bytes."
    )
    photo_max_bytes: int = Field(
        default=20_000_000,
        ge=1,
        description="Largest photo of a report from the field (POST /api/field-reports).",
    )
    store: Literal["postgres", "s3"] = Field(
        default="postgres",
        description="Where the bytes are kept: in the database (one backup holds everything), "
        "or in an S3-compatible bucket (needs the `s3` extra: aioboto3).",
    )
    # Bytes per stored chunk (PostgreSQL) or per part (S3: at least 5 MiB but for the last).
    # What an upload or a download holds in memory at a time is about one of them.
    chunk_bytes: int = Field(default=MIB, ge=64 * 1024, le=16 * MIB)
    s3_part_bytes: int = Field(default=8 * MIB, ge=5 * MIB, le=64 * MIB)
    # A preview reads the whole file: images and PDFs larger than this get none.
    preview_max_bytes: int = Field(default=50_000_000, ge=1)
    preview_pixels: int = Field(default=480, ge=32, le=2048, description="Longest preview side.")
    s3_bucket: str | None = None
    s3_prefix: str = "sitcen/documents/"
    s3_endpoint_url: str | None = Field(
        default=None, description="An S3-compatible service's URL (MinIO, Ceph…); unset: AWS."
    )
    s3_region: str | None = None
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> DocumentSettings:
        if self.store == "s3":
            if not self.s3_bucket:
                raise ValueError("SITCEN_DOCUMENT_STORE=s3 needs SITCEN_DOCUMENT_S3_BUCKET")
            if bool(self.s3_access_key_id) != bool(self.s3_secret_access_key):
                raise ValueError(
                    "SITCEN_DOCUMENT_S3_ACCESS_KEY_ID and SITCEN_DOCUMENT_S3_SECRET_ACCESS_KEY "
                    "go together (or neither: the environment's AWS credentials are used)"
                )
        return self


@lru_cache(maxsize=1)
def get_document_settings() -> DocumentSettings:
    return DocumentSettings()
