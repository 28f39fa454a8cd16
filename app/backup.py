"""Backups and restores (`sitcen backup PATH`, `sitcen restore PATH`) with PostgreSQL's own
pg_dump and pg_restore. docs/deploy.md (## Backups, restore and the second site's recovery)
gives the procedure, point-in-time recovery and the quarterly drill.

A backup is one tar file holding

- `manifest.json`: what it is (format, time, schema revision, server and pg_dump versions,
  where the documents are kept, the feed's head, the dump's SHA-256);
- `database.dump`: pg_dump's custom format (compressed; pg_restore can pick from it). Everything
  the service holds is in it: the picture, the change feed, users, API keys (their hashes),
  partners, alerts, audit trail, and the documents' bytes (`document_chunks`) with the default
  store, PostgreSQL (app.documents.store);
- `documents/<key>`: with `SITCEN_DOCUMENT_STORE=s3`, the bytes of every document version the
  database names, copied from the bucket after the dump (so every key the dump holds is there,
  but for one deleted in between: the manifest lists those). A restore puts them back into the
  configured bucket before it restores the database.

The options, and why:

- `--format=custom`: compressed, restorable selectively, checked by `pg_restore --list`;
- `--no-owner --no-privileges` at restore: the second site's role names differ; everything
  restored belongs to the role restoring it, which is the role the service connects as;
- `--lock-wait-timeout`: a dump waiting behind a migration's exclusive lock gives up rather
  than queueing every writer behind its own lock;
- `--single-transaction --exit-on-error` at restore: all or nothing, never a half-restored
  database the service could start on;
- extensions (PostGIS) are created before the restore, as the restoring role may, and their
  entries (and comments, which only their owner may set) left out of the dump's list: a
  restore as the service's non-superuser role works on a server where PostGIS is installed.

The restore goes into an empty database only (its extensions' own tables aside): restoring
over data would mix two states of the feed.

pg_dump must be of the server's major version or newer, and pg_restore of the dump's: the
binaries are taken from Debian's /usr/lib/postgresql/<server major>/bin (postgresql-client-15,
scripts/setup.sh), else from PATH if of that major.

These functions block (subprocesses): call them from the CLI, not from the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from app.documents.settings import DocumentSettings
from app.documents.store import S3Store
from app.domain import changes
from app.settings import plain_url

FORMAT = "sitcen-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
DOCUMENTS = "documents"
# A document's key as the library makes them; anything else is refused as a tar member name.
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LOCK_WAIT = "60s"
DEBIAN_BINDIR = "/usr/lib/postgresql/{major}/bin"
CLIENT_HINT = "apt-get install -y --no-install-recommends postgresql-client-{major}"

# Relations of the target that make it not empty: any table, view or sequence outside the
# system schemas that no extension owns (PostGIS's spatial_ref_sys is one it owns).
_USER_RELATIONS = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
  AND n.nspname NOT LIKE 'pg_temp%'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
"""


class BackupError(RuntimeError):
    """What went wrong, in words an operator acts on."""


@dataclass(frozen=True)
class Connection:
    """A libpq URL without its password (which would show in the process list) and the
    environment that carries it."""

    url: str
    env: dict[str, str]

    @classmethod
    def of(cls, database_url: str) -> Connection:
        parts = urlsplit(plain_url(database_url))
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        netloc = parts.netloc
        if parts.password is not None:
            env["PGPASSWORD"] = unquote(parts.password)
            userinfo, _, host = netloc.rpartition("@")
            netloc = f"{userinfo.partition(':')[0]}@{host}"
        return cls(urlunsplit(parts._replace(netloc=netloc)), env)


@dataclass(frozen=True)
class Restored:
    revision: str | None
    head: int
    relations: int  # tables, views and sequences restored
    manifest: dict[str, Any]


def _query(database_url: str, sql: str) -> list[Any]:
    async def run() -> list[Any]:
        conn = await asyncpg.connect(plain_url(database_url), timeout=30)
        try:
            return list(await conn.fetch(sql))
        finally:
            await conn.close()

    return asyncio.run(run())


def server_major(database_url: str) -> int:
    return int(_query(database_url, "SHOW server_version_num")[0][0]) // 10_000


def client(tool: str, major: int) -> Path:
    """pg_dump or pg_restore of this major version."""
    debian = Path(DEBIAN_BINDIR.format(major=major)) / tool
    if debian.exists():
        return debian
    found = shutil.which(tool)
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
        version = out.stdout.rsplit(" ", 1)[-1].strip()
        if version.split(".")[0] == str(major):
            return Path(found)
    raise BackupError(
        f"{tool} of PostgreSQL {major} (the server's version) is not installed: "
        + CLIENT_HINT.format(major=major)
    )


def _run(args: list[str], conn: Connection) -> str:
    result = subprocess.run(args, env=conn.env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()}")
    return result.stdout


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _facts(database_url: str) -> dict[str, Any]:
    """What the manifest says of the database, read before the dump (the dump is a snapshot
    taken a moment later: the head it holds is this or later)."""
    revision = _query(database_url, "SELECT string_agg(version_num, ',') FROM alembic_version")[0][
        0
    ]
    head = _query(database_url, changes.HEAD_SQL)[0][0]
    version = _query(database_url, "SHOW server_version")[0][0]
    return {"revision": revision, "feed_head": head, "server_version": version}


def _copy_out(database_url: str, settings: DocumentSettings, into: Path) -> dict[str, Any]:
    """Copy the bytes of every document version from the bucket into `into`, a file per key."""
    keys = [
        r[0]
        for r in _query(database_url, "SELECT blob_key FROM document_contents ORDER BY blob_key")
    ]
    store = S3Store(settings)
    missing: list[str] = []

    async def run() -> None:
        for key in keys:
            if not _KEY.fullmatch(key):
                raise BackupError(f"unexpected document key {key!r}")
            # Blocking writes on the command's own event loop: nothing else runs on it.
            with (into / key).open("wb") as f:
                try:
                    async for chunk in store.get(key):
                        f.write(chunk)
                except KeyError:
                    missing.append(key)
        for key in missing:
            (into / key).unlink()

    into.mkdir()
    asyncio.run(run())
    return {"documents": len(keys) - len(missing), "documents_missing": missing}


def _copy_in(settings: DocumentSettings, documents: Path) -> int:
    """Put the backup's documents into the configured bucket (the same key, the same bytes:
    putting one again changes nothing)."""
    store = S3Store(settings)
    files = sorted(documents.iterdir())

    async def chunks(path: Path) -> AsyncIterator[bytes]:
        with path.open("rb") as f:
            while chunk := f.read(settings.s3_part_bytes):
                yield chunk

    async def run() -> None:
        for path in files:
            # The S3 store takes no part in the database's transaction: no session.
            await store.put(cast(Any, None), path.name, chunks(path))

    asyncio.run(run())
    return len(files)


def backup(
    database_url: str, path: Path, documents: DocumentSettings | None = None
) -> dict[str, Any]:
    """Write a backup of the database (and, with the S3 store, of the documents' bytes) to
    `path` (a tar file; written beside it, then renamed, so that `path` is either the old file
    or the complete new one). Returns its manifest."""
    documents = documents or DocumentSettings()
    conn = Connection.of(database_url)
    major = server_major(database_url)
    pg_dump = client("pg_dump", major)
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".sitcen-backup-") as tmp:
        dump = Path(tmp) / DUMP
        facts = _facts(database_url)
        _run(
            [
                str(pg_dump),
                "--format=custom",
                f"--lock-wait-timeout={LOCK_WAIT}",
                f"--file={dump}",
                f"--dbname={conn.url}",
            ],
            conn,
        )
        copied = (
            _copy_out(database_url, documents, Path(tmp) / DOCUMENTS)
            if documents.store == "s3"
            else {}
        )
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            **facts,
            "pg_dump": _run([str(pg_dump), "--version"], conn).strip(),
            "document_store": documents.store,
            **copied,
            "dump": {"name": DUMP, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        }
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial = Path(tmp) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(Path(tmp) / MANIFEST, arcname=MANIFEST)
            tar.add(dump, arcname=DUMP)
            if copied:
                tar.add(Path(tmp) / DOCUMENTS, arcname=DOCUMENTS)
        os.replace(partial, path)
    return manifest


def _wanted(member: tarfile.TarInfo) -> bool:
    """The backup's files, and nothing else a tampered file might add (links, other paths)."""
    if member.name in (MANIFEST, DUMP):
        return member.isfile()
    folder, _, key = member.name.partition("/")
    return member.isfile() and folder == DOCUMENTS and bool(_KEY.fullmatch(key))


def _extract(path: Path, into: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r") as tar:
            names = set(tar.getnames())
            if not {MANIFEST, DUMP} <= names:
                raise BackupError(f"{path} is not a sitcen backup: no {MANIFEST} and {DUMP}")
            members = [m for m in tar.getmembers() if _wanted(m)]
            tar.extractall(into, members=members, filter="data")
    except tarfile.TarError as e:
        raise BackupError(f"{path} is not a sitcen backup: {e}") from e
    manifest: dict[str, Any] = json.loads((into / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}")
    if _sha256(into / DUMP) != manifest["dump"]["sha256"]:
        raise BackupError(f"{path}: the dump does not match its checksum; the file is damaged")
    return manifest


def _restore_list(listing: str) -> tuple[str, list[str]]:
    """The dump's table of contents without its extensions and their comments (created
    beforehand, see the module's docstring), and the extensions' names. PostGIS's own
    coordinate systems (`spatial_ref_sys`) are left as the target's extension made them: sitcen
    adds none (Lambert 72 and 2008 are in PostGIS's list), and only the extension's owner may
    write them."""
    kept, extensions = [], []
    for line in listing.splitlines():
        fields = line.split()
        if fields[3:7] == ["TABLE", "DATA", "public", "spatial_ref_sys"]:
            continue
        if not line.startswith(";") and " EXTENSION " in f" {line} ":
            # "<id>; <oid> <oid> EXTENSION - postgis <owner>" or "COMMENT - EXTENSION postgis"
            if "COMMENT" not in fields:
                extensions.append(fields[fields.index("EXTENSION") + 2])
            continue
        kept.append(line)
    return "\n".join(kept) + "\n", extensions


def restore(database_url: str, path: Path, documents: DocumentSettings | None = None) -> Restored:
    """Restore a backup into the (empty) database of `database_url`, in one transaction; with
    the S3 store, its documents into the configured bucket first."""
    documents = documents or DocumentSettings()
    conn = Connection.of(database_url)
    if _query(database_url, _USER_RELATIONS)[0][0]:
        raise BackupError(
            "the target database is not empty: restore into a new database "
            "(createdb, then point SITCEN_DATABASE_URL at it)"
        )
    major = server_major(database_url)
    pg_restore = client("pg_restore", major)
    with tempfile.TemporaryDirectory(prefix="sitcen-restore-") as tmp:
        manifest = _extract(path, Path(tmp))
        if manifest["document_store"] == "s3":
            if documents.store != "s3":
                raise BackupError(
                    f"{path} holds the documents of an S3 store: restore with "
                    "SITCEN_DOCUMENT_STORE=s3 and the bucket the service will use"
                )
            folder = Path(tmp) / DOCUMENTS
            found = len(list(folder.iterdir())) if folder.is_dir() else 0
            if found != manifest["documents"]:
                raise BackupError(
                    f"{path}: {found} documents, the manifest says {manifest['documents']}"
                )
            if found:
                _copy_in(documents, folder)
        dump = Path(tmp) / DUMP
        toc, extensions = _restore_list(_run([str(pg_restore), "--list", str(dump)], conn))
        (Path(tmp) / "toc").write_text(toc)
        for name in extensions:
            _query(database_url, f'CREATE EXTENSION IF NOT EXISTS "{name}"')
        _run(
            [
                str(pg_restore),
                "--single-transaction",
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--use-list={Path(tmp) / 'toc'}",
                f"--dbname={conn.url}",
                str(dump),
            ],
            conn,
        )
    # pg_restore brings no planner statistics: without them the first queries plan blind.
    _query(database_url, "ANALYZE")
    revision = _query(database_url, "SELECT string_agg(version_num, ',') FROM alembic_version")
    head = _query(database_url, changes.HEAD_SQL)[0][0]
    relations = _query(database_url, _USER_RELATIONS)[0][0]
    return Restored(revision[0][0], head, relations, manifest)
