"""Backups and restores (`sitcen backup PATH`, `sitcen restore PATH`) with PostgreSQL's own
pg_dump and pg_restore. docs/deploy.md (## Backups, restore and the second site's recovery)
gives the procedure, point-in-time recovery and the quarterly drill.

A backup is one tar file holding

- `manifest.json`: what it is (format, time, schema revision, server and pg_dump versions,
  where the documents are kept, the feed's head, the dump's SHA-256);
- `database.dump`: pg_dump's custom format (compressed; pg_restore can pick from it). Everything
  the service holds is in it: the picture, the change feed, users, API keys (their hashes),
  partners, alerts, audit trail, and the documents' bytes (`document_chunks`) with the default
  store, PostgreSQL (app.documents.store). With `SITCEN_DOCUMENT_STORE=s3` the bytes are in the
  bucket, not in the backup: the manifest says so and the bucket is backed up by its own
  versioning or replication (keys are never reused, so a restored database finds its bytes).

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
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

from app.domain import changes
from app.settings import plain_url

FORMAT = "sitcen-backup/1"
MANIFEST = "manifest.json"
DUMP = "database.dump"
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
_EXTENSIONS = "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY extname"


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


def backup(database_url: str, path: Path, *, document_store: str = "postgres") -> dict[str, Any]:
    """Write a backup of the database to `path` (a tar file; written beside it, then renamed,
    so that `path` is either the old file or the complete new one). Returns its manifest."""
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
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            **facts,
            "pg_dump": _run([str(pg_dump), "--version"], conn).strip(),
            "document_store": document_store,
            "documents_included": document_store == "postgres",
            "dump": {"name": DUMP, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        }
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial = Path(tmp) / "backup.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(Path(tmp) / MANIFEST, arcname=MANIFEST)
            tar.add(dump, arcname=DUMP)
        os.replace(partial, path)
    return manifest


def _extract(path: Path, into: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r") as tar:
            names = set(tar.getnames())
            if not {MANIFEST, DUMP} <= names:
                raise BackupError(f"{path} is not a sitcen backup: no {MANIFEST} and {DUMP}")
            tar.extractall(
                into, members=[tar.getmember(MANIFEST), tar.getmember(DUMP)], filter="data"
            )
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
    beforehand, see the module's docstring), and the extensions' names."""
    kept, extensions = [], []
    for line in listing.splitlines():
        fields = line.split()
        if not line.startswith(";") and " EXTENSION " in f" {line} ":
            # "<id>; <oid> <oid> EXTENSION - postgis <owner>" or "COMMENT - EXTENSION postgis"
            if "COMMENT" not in fields:
                extensions.append(fields[fields.index("EXTENSION") + 2])
            continue
        kept.append(line)
    return "\n".join(kept) + "\n", extensions


def restore(database_url: str, path: Path) -> Restored:
    """Restore a backup into the (empty) database of `database_url`, in one transaction."""
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
