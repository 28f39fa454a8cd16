"""The self-started local PostgreSQL+PostGIS cluster used when no SITCEN_DATABASE_URL is given.

Everything lives under one local directory (default ``<project>/.local``)::

    pg/data/         the cluster (PGDATA)
    pg/run/          its unix socket, so it never touches /var/run/postgresql
    pg/postgres.log  its server log
    pg.lock          serialises initdb/start between processes (pytest and a dev server)
    secret_key       the token-signing secret of local mode
    vapid_key        the Web Push (VAPID) private key of local mode

These functions block; call them before the event loop starts (CLI) or from test setup.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pwd
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

PG_MAJOR = "15"
FALLBACK_BINDIR = Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")
APT_HINT = (
    f"apt-get install -y --no-install-recommends postgresql-{PG_MAJOR} "
    f"postgresql-{PG_MAJOR}-postgis-3   (or run `bash scripts/setup.sh` as root)"
)
READY_TIMEOUT_SECONDS = 30
SERVER_SETTINGS = {"max_connections": "200", "shared_buffers": "256MB"}
DB_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}")
# The kernel limits a unix socket path to 107 bytes.
SOCKET_PATH_MAX = 107
RUN_AS = "postgres"


def ensure_cluster(local_dir: Path, port: int) -> str:
    """Create and start the local cluster if needed; return its base URL (no database part)."""
    bindir = _bindir()
    local_dir = local_dir.resolve()
    local_dir.mkdir(parents=True, exist_ok=True)
    with _locked(local_dir / "pg.lock"):
        _prepare_dirs(local_dir, port)
        if not (_data_dir(local_dir) / "PG_VERSION").exists():
            _initdb(bindir, local_dir)
        if not _is_running(bindir, local_dir):
            if _port_taken(port):
                # Another cluster (e.g. a second checkout's) has it: ours runs beside it.
                free = _free_port()
                log.warning("port %d is taken; the local cluster uses port %d", port, free)
                port = free
            _start(bindir, local_dir, port)
        elif (running_port := _running_port(local_dir)) is not None:
            port = running_port
        _wait_ready(bindir, local_dir, port)
    return f"postgresql://postgres@127.0.0.1:{port}"


def ensure_database(base_url: str, name: str) -> str:
    """Create database ``name`` with PostGIS if missing; return its URL."""
    _check_db_name(name)
    # The advisory lock (held until psql exits) makes concurrent callers (e.g. a dev server
    # and pytest) wait for each other instead of racing to create the same thing.
    lock = "SELECT pg_advisory_lock(hashtext('sitcen.localdb'));\n"
    _psql(
        f"{base_url}/postgres",
        lock + "SELECT format('CREATE DATABASE %I', :'name') "
        "WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name')\\gexec\n",
        name=name,
    )
    url = f"{base_url}/{name}"
    _psql(url, lock + "CREATE EXTENSION IF NOT EXISTS postgis;\n")
    return url


def drop_database(base_url: str, name: str) -> None:
    """Drop database ``name`` if it exists, terminating its connections first."""
    _check_db_name(name)
    _psql(f"{base_url}/postgres", 'DROP DATABASE IF EXISTS :"name" WITH (FORCE);\n', name=name)


def stop_cluster(local_dir: Path) -> None:
    """Stop the local cluster (fast shutdown); do nothing if it is not running."""
    data = _data_dir(local_dir.resolve())
    if not (data / "PG_VERSION").exists():
        return
    bindir = _bindir()
    if not _is_running(bindir, local_dir.resolve()):
        return
    _run_pg([str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast", "-w"], data.parent)


def secret_key(local_dir: Path) -> str:
    """The local-mode secret, generated once and kept in ``local_dir/secret_key`` (0600)."""
    return _kept(local_dir / "secret_key", lambda: secrets.token_urlsafe(48))


def vapid_private_key(local_dir: Path) -> str:
    """The local-mode VAPID key (a P-256 private key, base64url of its 32 bytes), generated
    once and kept in ``local_dir/vapid_key`` (0600) like the secret key: a browser's push
    subscription names the public key, so it must survive restarts."""
    return _kept(local_dir / "vapid_key", new_vapid_key)


def new_vapid_key() -> str:
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec

    value = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(value.to_bytes(32, "big")).decode().rstrip("=")


def _kept(path: Path, make: Callable[[], str]) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside (mkstemp makes it 0600) and linked into place: a concurrent reader never
        # sees a half-written key, and of two racing writers only the first wins.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(make() + "\n")
            with suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it and a new key is generated")
    return key


@cache
def _bindir() -> Path:
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    candidates.append(FALLBACK_BINDIR)
    servers = [c for c in candidates if (c / "initdb").exists()]
    if not servers:
        raise RuntimeError(f"PostgreSQL {PG_MAJOR} server is not installed: {APT_HINT}")
    # PostGIS must match the server's major version, taken from /usr/lib/postgresql/<major>/bin.
    for bindir in servers:
        if Path(f"/usr/share/postgresql/{bindir.parent.name}/extension/postgis.control").exists():
            return bindir
    raise RuntimeError(f"PostGIS is not installed for PostgreSQL: {APT_HINT}")


def _data_dir(local_dir: Path) -> Path:
    return local_dir / "pg" / "data"


def _socket_dir(local_dir: Path) -> Path:
    return local_dir / "pg" / "run"


def _log_file(local_dir: Path) -> Path:
    return local_dir / "pg" / "postgres.log"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare_dirs(local_dir: Path, port: int) -> None:
    sock_path = _socket_dir(local_dir) / f".s.PGSQL.{port}"
    if len(str(sock_path)) > SOCKET_PATH_MAX:
        raise RuntimeError(
            f"socket path too long for the kernel ({sock_path}): use a shorter local dir"
        )
    pg = local_dir / "pg"
    pg.mkdir(mode=0o700, exist_ok=True)
    _socket_dir(local_dir).mkdir(exist_ok=True)
    _log_file(local_dir).touch(exist_ok=True)
    if os.geteuid() == 0:
        user = _postgres_user()
        for path in (pg, _socket_dir(local_dir), _log_file(local_dir)):
            os.chown(path, user.pw_uid, user.pw_gid)
        _grant_traverse(local_dir, user.pw_uid)


def _postgres_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(RUN_AS)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                RUN_AS,
            ],
            check=True,
        )
        return pwd.getpwnam(RUN_AS)


def _grant_traverse(local_dir: Path, uid: int) -> None:
    """Let the postgres user reach local_dir when it sits under a root-only directory.

    A root CI may check out under /root or a mktemp dir (mode 0700); the server, running as
    ``postgres``, needs search (x) permission on every ancestor. Only search is added, not read.
    """
    for path in (local_dir, *local_dir.parents):
        st = path.stat()
        if st.st_uid != uid and not st.st_mode & 0o001:
            log.warning("adding o+x to %s so the postgres user can reach %s", path, local_dir)
            os.chmod(path, st.st_mode | 0o001)


def _initdb(bindir: Path, local_dir: Path) -> None:
    data = _data_dir(local_dir)
    log.info("initialising the local PostgreSQL cluster in %s", data)
    args = [str(bindir / "initdb"), "-D", str(data), "--auth=trust", "--username=postgres"]
    _run_pg([*args, "--encoding=UTF8", "--no-locale"], local_dir / "pg")


def _is_running(bindir: Path, local_dir: Path) -> bool:
    data = _data_dir(local_dir)
    status = _run_pg([str(bindir / "pg_ctl"), "status", "-D", str(data)], data.parent, check=False)
    return status.returncode == 0


def _running_port(local_dir: Path) -> int | None:
    # postmaster.pid's fourth line is the port (PostgreSQL docs, "Database File Layout").
    lines = (_data_dir(local_dir) / "postmaster.pid").read_text().splitlines()
    return int(lines[3]) if len(lines) > 3 and lines[3].strip().isdigit() else None


def _start(bindir: Path, local_dir: Path, port: int) -> None:
    data = _data_dir(local_dir)
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": str(_socket_dir(local_dir)),
        **SERVER_SETTINGS,
    }
    # pg_ctl hands -o to a shell, so each value is quoted.
    options = " ".join(f"-c {k}={shlex.quote(v)}" for k, v in settings.items())
    log.info("starting the local PostgreSQL cluster on 127.0.0.1:%d", port)
    args = [str(bindir / "pg_ctl"), "start", "-D", str(data), "-l", str(_log_file(local_dir))]
    result = _run_pg(
        [*args, "-o", options, "-w", "-t", str(READY_TIMEOUT_SECONDS)], data.parent, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"could not start PostgreSQL on port {port}: {result.stdout.strip()}\n"
            f"--- {_log_file(local_dir)} (tail) ---\n{_log_tail(local_dir)}"
        )


def _wait_ready(bindir: Path, local_dir: Path, port: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    args = [str(bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
    while subprocess.run(args, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"PostgreSQL on 127.0.0.1:{port} not ready after {READY_TIMEOUT_SECONDS} s\n"
                f"--- {_log_file(local_dir)} (tail) ---\n{_log_tail(local_dir)}"
            )
        time.sleep(0.1)


def _log_tail(local_dir: Path, lines: int = 30) -> str:
    try:
        return "\n".join(_log_file(local_dir).read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


def _run_pg(
    args: Sequence[str], cwd: Path, *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run a server tool; as root, via the postgres user, since initdb and postgres refuse root."""
    if os.geteuid() == 0:
        args = [shutil.which("runuser") or "/usr/sbin/runuser", "-u", RUN_AS, "--", *args]
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, check=False, env=_pg_env()
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"{Path(args[0]).name} failed ({result.returncode}): {shlex.join(args)}\n"
            f"{result.stdout}{result.stderr}"
        )
    return result


def _psql(url: str, sql: str, **variables: str) -> str:
    """Run SQL through psql (works with or without a running event loop); return its output."""
    args = [str(_bindir() / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url]
    for key, value in variables.items():
        args += ["-v", f"{key}={value}"]
    env = {**_pg_env(), "PGCONNECT_TIMEOUT": "10"}
    result = subprocess.run(args, input=sql, capture_output=True, text=True, check=False, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"psql on {url} failed: {result.stderr.strip()}")
    return result.stdout


def _pg_env() -> dict[str, str]:
    """The environment without libpq variables, so a user's PGHOST/PGDATABASE cannot redirect us."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}


def _check_db_name(name: str) -> None:
    if not DB_NAME.fullmatch(name):
        raise ValueError(f"invalid database name {name!r}: letters, digits, _ and - only")
