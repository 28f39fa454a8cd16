"""The `sitcen` command: serve, migrate, reference layers, users and keys, demo, watch,
backup and restore."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import app.models  # noqa: F401  (every table, so that each foreign key finds its target)
from app.settings import PROJECT_ROOT

DEFAULT_REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "data" / "brussels"


def _local_mode() -> bool:
    """Without SITCEN_DATABASE_URL, start a project-local PostGIS cluster and use it."""
    if os.environ.get("SITCEN_DATABASE_URL"):
        return False
    from app import localdb

    local_dir = Path(os.environ.get("SITCEN_LOCAL_DIR", PROJECT_ROOT / ".local"))
    port = int(os.environ.get("SITCEN_LOCAL_PG_PORT", "54329"))
    base = localdb.ensure_cluster(local_dir, port)
    os.environ["SITCEN_DATABASE_URL"] = localdb.ensure_database(base, "sitcen")
    os.environ["SITCEN_LOCAL_MODE"] = "1"
    os.environ.setdefault("SITCEN_SECRET_KEY", localdb.secret_key(local_dir))
    os.environ.setdefault("SITCEN_VAPID_PRIVATE_KEY", localdb.vapid_private_key(local_dir))
    if DEFAULT_REFERENCE_DIR.is_dir():
        os.environ.setdefault("SITCEN_REFERENCE_DIR", str(DEFAULT_REFERENCE_DIR))
    print(
        f"local mode: PostGIS cluster in {local_dir}, database {os.environ['SITCEN_DATABASE_URL']}"
    )
    return True


def _run(work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run `work(sessions)` in one event loop with an engine from the settings."""
    from app.db import make_engine, make_sessionmaker
    from app.settings import get_settings

    async def main() -> Any:
        engine = make_engine(get_settings())
        try:
            return await work(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from app.db import upgrade_database
    from app.settings import get_settings

    upgrade_database(get_settings().database_url or "", args.revision)
    print(f"database at {args.revision}")


async def load_reference(
    sessions: Any, sources: list[str], layer: str | None = None
) -> dict[str, int]:
    from app.db import transaction
    from app.geo import reference

    loaded: dict[str, int] = {}
    async with transaction(sessions) as session:
        for source in reference.expand_sources(sources):
            rows = reference.rows_from_geojson(await reference.read_source(source), layer)
            loaded[rows[0].layer] = await reference.replace_layer(session, rows[0].layer, rows)
    return loaded


def cmd_reference_load(args: argparse.Namespace) -> None:
    loaded = _run(lambda s: load_reference(s, args.paths, args.layer))
    for layer, n in loaded.items():
        print(f"{layer}: {n} {'places' if layer == 'landmark' else 'areas'}")


def _password() -> str:
    value = os.environ.get("SITCEN_PASSWORD")
    if value:
        return value
    if not sys.stdin.isatty():
        raise ValueError("no password: set SITCEN_PASSWORD or run from a terminal")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        sys.exit("passwords differ")
    return first


def cmd_user_create(args: argparse.Namespace) -> None:
    from app.auth.roles import Role
    from app.auth.service import create_user
    from app.db import transaction

    password = _password()

    async def work(sessions: Any) -> None:
        async with transaction(sessions) as session:
            await create_user(
                session,
                args.username,
                password,
                Role(args.role),
                actor="cli",
                full_name=args.full_name,
                organisation=args.organisation,
                language=args.language,
            )

    _run(work)
    print(f"user {args.username} ({args.role}) created")


def cmd_user_change(args: argparse.Namespace) -> None:
    from app.auth.roles import Role
    from app.auth.service import change_user
    from app.db import transaction

    changes: dict[str, Any] = {}
    if args.user_command == "disable":
        changes["disabled"] = True
    elif args.user_command == "enable":
        changes["disabled"] = False
    elif args.user_command == "reset-password":
        changes["password"] = _password()
    elif args.user_command == "set-role":
        changes["role"] = Role(args.role)
        if args.organisation:
            changes["organisation"] = args.organisation

    async def work(sessions: Any) -> None:
        async with transaction(sessions) as session:
            await change_user(session, args.username, actor="cli", **changes)

    _run(work)
    print(f"user {args.username}: {args.user_command} done")


def cmd_apikey_create(args: argparse.Namespace) -> None:
    from app.auth.roles import Role
    from app.auth.service import create_api_key
    from app.db import transaction

    expires = datetime.fromisoformat(args.expires) if args.expires else None

    async def work(sessions: Any) -> str:
        async with transaction(sessions) as session:
            _, key = await create_api_key(
                session,
                args.name,
                Role(args.role),
                actor="cli",
                expires_at=expires,
                entities=args.entity,
                source=args.source,
                read_only=args.read_only,
                organisation=args.organisation,
            )
            return key

    key = _run(work)
    read_only = "read-only" if args.read_only else None
    about = ", ".join(x for x in (args.role, args.organisation, read_only) if x)
    print(f"API key {args.name} ({about}); shown once, store it now:\n{key}")


def cmd_apikey_revoke(args: argparse.Namespace) -> None:
    from app.auth.service import revoke_api_key
    from app.db import transaction

    async def work(sessions: Any) -> None:
        async with transaction(sessions) as session:
            await revoke_api_key(session, args.name)

    _run(work)
    print(f"API key {args.name} revoked")


def cmd_feed_prune(args: argparse.Namespace) -> None:
    from datetime import UTC, timedelta

    from app.alerts.settings import get_alert_settings
    from app.domain.retention import prune
    from app.settings import get_settings

    settings = get_settings()
    days = args.days if args.days is not None else settings.feed_retention_days
    if days is None:
        raise ValueError("no retention: set SITCEN_FEED_RETENTION_DAYS or give --days")

    async def work(sessions: Any) -> Any:
        return await prune(
            sessions,
            keep=timedelta(days=days),
            now=datetime.now(UTC),
            keep_unevaluated=get_alert_settings().enabled,
            actor="cli",
            batch=settings.feed_prune_batch,
        )

    pruned = _run(work)
    if pruned is None:
        sys.exit("sitcen: another instance is pruning the feed now; try again later")
    since = pruned.oldest_at.isoformat() if pruned.oldest_at else "the beginning"
    print(
        f"feed: {pruned.deleted} changes pruned; every change from seq {pruned.oldest} is kept, "
        f"and the picture is exact from {since} on"
    )


def cmd_backup(args: argparse.Namespace) -> None:
    from app import backup
    from app.documents.settings import get_document_settings
    from app.settings import get_settings

    manifest = backup.backup(get_settings().database_url or "", args.path, get_document_settings())
    print(
        f"backup {args.path}: schema {manifest['revision']}, feed head {manifest['feed_head']}, "
        f"{manifest['dump']['bytes']} bytes dumped"
    )
    if manifest["document_store"] == "s3":
        print(f"{manifest['documents']} documents copied from the S3 bucket")
        for key in manifest["documents_missing"]:
            print(f"document {key}: deleted from the bucket while the backup ran")


def cmd_restore(args: argparse.Namespace) -> None:
    from app import backup
    from app.documents.settings import get_document_settings
    from app.settings import get_settings

    restored = backup.restore(get_settings().database_url or "", args.path, get_document_settings())
    print(
        f"restored {args.path} (taken {restored.manifest['created_at']}): schema "
        f"{restored.revision}, feed head {restored.head}, {restored.relations} tables and "
        "sequences; run `sitcen db upgrade` if this version of sitcen is newer"
    )


def cmd_privacy(args: argparse.Namespace) -> None:
    from datetime import UTC

    from app.privacy import purge
    from app.settings import get_settings

    if args.privacy_command == "erase":
        erased = _run(lambda s: purge.erase(s, args.refs, actor="cli"))
        for p in erased:
            print(f"{p.entity}: {', '.join(p.refs) or 'nothing left to blank'}")
        return
    settings = get_settings()
    retention = purge.retention_of(
        settings.personal_data_incident_days, settings.personal_data_logbook_entry_days
    )
    if not retention:
        raise ValueError(
            "no retention: set SITCEN_PERSONAL_DATA_INCIDENT_DAYS or "
            "SITCEN_PERSONAL_DATA_LOGBOOK_ENTRY_DAYS"
        )

    async def work(sessions: Any) -> int:
        total = 0
        while True:
            done = await purge.purge(sessions, retention, datetime.now(UTC))
            if done is None:
                sys.exit("sitcen: another instance is purging now; try again later")
            total += sum(len(p.refs) for p in done)
            if not any(len(p.refs) >= purge.BATCH for p in done):
                return total

    print(f"personal data: {_run(work)} object(s) blanked")


def cmd_verify_decisions(args: argparse.Namespace) -> None:
    import uuid

    from app.domain import decision_chain

    async def work(sessions: Any) -> list[decision_chain.Verdict]:
        async with sessions() as session:
            if args.activation is not None:
                ids = [uuid.UUID(args.activation)]
            else:
                ids = await decision_chain.activations_with_decisions(session)
            return [await decision_chain.verify(session, i) for i in ids]

    verdicts = _run(work)
    broken = [v for v in verdicts if v.broken is not None]
    for v in verdicts:
        if v.broken is None:
            print(
                f"activation {v.activation_id}: {v.decisions} "
                f"decision{'' if v.decisions == 1 else 's'}, chain intact, "
                f"head {v.head}"
            )
        else:
            b = v.broken
            print(
                f"activation {v.activation_id}: chain BROKEN at {b.ref} (number {b.chain_seq}, "
                f"id {b.id}), check {b.check} failed: {b.detail}"
            )
    if not verdicts:
        print("no decisions recorded")
    if broken:
        sys.exit(f"sitcen: {len(broken)} decision chain(s) broken")


def cmd_demo(args: argparse.Namespace) -> None:
    from app.demo import load_scenario
    from app.demo_year import load_year

    if args.year is None:
        counts = _run(load_scenario)
        print("demo scenario: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return
    counts = _run(lambda sessions: load_year(sessions, args.year))
    created = ", ".join(f"{k} {v}" for k, v in counts.items() if v) or "nothing (already loaded)"
    print(f"demo year {args.year}: created {created}")


def cmd_stats(args: argparse.Namespace) -> None:
    import orjson

    from app.clock import utcnow
    from app.errors import ProblemError
    from app.reports import stats, stats_formats

    async def work(sessions: Any) -> dict[str, Any]:
        async with sessions() as session:
            return await stats.annual_figures(session, args.year, now=utcnow())

    try:
        table = _run(work)
    except ProblemError as e:  # the API's words (query.year) are not the command's
        if e.errors and e.errors[0]["loc"] == ["query", "year"]:
            sys.exit(f"sitcen: --year {args.year}: {e.errors[0]['msg']}")
        raise
    if args.format == "json":
        sys.stdout.write(orjson.dumps(table, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif args.format == "csv":
        sys.stdout.write(stats_formats.as_csv(table))
    else:
        sys.stdout.write(stats_formats.as_text(table))


def cmd_exercise(args: argparse.Namespace) -> None:
    """Keep an exercise scenario: a shipped example by name, or a file (YAML or JSON)."""
    from app.clock import utcnow
    from app.domain.actor import Actor
    from app.errors import ProblemError
    from app.exercises import scenario as fmt
    from app.exercises import service

    actor = Actor("system:cli", "system")
    path = Path(args.file) if args.exercise_command == "load" else None
    body = path.read_bytes() if path is not None else b""

    async def work(sessions: Any) -> Any:
        async with sessions() as session, session.begin():
            if args.exercise_command == "example":
                return await service.load_example(session, args.name, actor, utcnow())
            assert path is not None
            kind = "application/json" if path.suffix == ".json" else "application/yaml"
            checked = await fmt.load(session, body, kind)
            return await service.store(session, checked, actor, utcnow())

    try:
        row = _run(work)
    except ProblemError as e:
        where = "; ".join(f"{x['path']}: {x['msg']}" for x in e.errors or [] if "path" in x)
        sys.exit(f"sitcen: {where or e.detail}")
    print(f"scenario {row.key} ({row.injects} injects): {row.id}")


def _prepare_local(reference_dir: str | None) -> None:
    """Local mode's first start: migrate, load reference layers, demo accounts and scenario."""
    from app.db import upgrade_database
    from app.demo import ensure_demo_accounts, load_scenario
    from app.settings import get_settings

    settings = get_settings()
    upgrade_database(settings.database_url or "")

    async def work(sessions: Any) -> None:
        from app.db import transaction
        from app.geo.reference import LAYERS, layer_counts

        async with transaction(sessions) as session:
            have_layers = await layer_counts(session)
        # A layer added since the last start (landmarks) loads the directory again (idempotent).
        if reference_dir and set(have_layers) < set(LAYERS):
            print("loaded reference layers:", await load_reference(sessions, [reference_dir]))
        created = await ensure_demo_accounts(sessions)
        if created:
            counts = await load_scenario(sessions)
            print("first start: demo accounts and scenario loaded:", counts)

    _run(work)


def cmd_serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.logs import logging_config
    from app.server import Drain, GracefulServer, bounded_head

    local = _local_mode()
    from app.settings import get_settings

    settings = get_settings()
    if local:
        _prepare_local(str(settings.reference_dir) if settings.reference_dir else None)
    from app.main import create_app

    app = create_app(settings)

    def drain() -> Drain | None:
        runtime = getattr(app.state, "runtime", None)  # None: not started yet
        return runtime.drain if runtime is not None else None

    config = uvicorn.Config(
        app,
        host=args.host or settings.host,
        port=args.port or settings.port,
        # The maintained implementation (the legacy one is deprecated); in bench/ws_fanout.py
        # it also cut the fan-out latency at 500 clients by about a third.
        ws="websockets-sansio",
        log_level=args.log_level,
        log_config=logging_config(settings.logs_as, args.log_level),
        # The app writes the one line per request, with its route, principal and id
        # (app.middleware.RequestLog): uvicorn's own would double it.
        access_log=False,
        proxy_headers=True,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        http=bounded_head(settings.max_header_bytes),
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
    )
    GracefulServer(config, drain, settings.shutdown_timeout_seconds).run()


def cmd_watch(args: argparse.Namespace) -> None:
    from app.realtime.watch import watch

    asyncio.run(watch(args.url, args.username, args.state_file, args.entity))


def _days(value: str) -> int:
    if not value.isdigit() or int(value) > 100_000:
        raise argparse.ArgumentTypeError("days must be a whole number from 0 to 100000")
    return int(value)


def _year(value: str) -> int:
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a year (e.g. 2024)")
    return int(value)


def _format(value: str) -> str:
    from app.reports.stats_formats import FORMATS

    if value not in FORMATS:
        known = ", ".join(FORMATS)
        raise argparse.ArgumentTypeError(f"unknown format {value!r}: use one of {known}")
    return value


def _uuid(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id") from None


def parser() -> argparse.ArgumentParser:
    from app.auth.roles import Role

    roles = [r.value for r in Role]
    p = argparse.ArgumentParser(prog="sitcen", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "serve", help="run the API and dashboard (local PostGIS if no SITCEN_DATABASE_URL)"
    )
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--log-level", default="info")
    s.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="run migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)

    ref = sub.add_parser("reference", help="reference layers").add_subparsers(
        dest="ref_command", required=True
    )
    load = ref.add_parser(
        "load",
        help="load region / municipalities / police zones / landmarks GeoJSON (files, dirs, URLs)",
    )
    load.add_argument("paths", nargs="+")
    load.add_argument("--layer", choices=["region", "municipality", "police_zone", "landmark"])
    load.set_defaults(func=cmd_reference_load)

    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    uc = user.add_parser("create", help="create a user (password from SITCEN_PASSWORD or prompted)")
    uc.add_argument("username")
    uc.add_argument("--role", required=True, choices=roles)
    uc.add_argument("--full-name")
    uc.add_argument("--organisation")
    uc.add_argument("--language", choices=["fr", "nl", "en"])
    uc.set_defaults(func=cmd_user_create)
    for name, text in (
        ("disable", "disable a user (closes their sessions)"),
        ("enable", "enable a user again"),
        ("reset-password", "set a new password (SITCEN_PASSWORD or prompted)"),
    ):
        cmd = user.add_parser(name, help=text)
        cmd.add_argument("username")
        cmd.set_defaults(func=cmd_user_change)
    sr = user.add_parser("set-role", help="change a user's role")
    sr.add_argument("username")
    sr.add_argument("role", choices=roles)
    sr.add_argument("--organisation", help="the partner's organisation code")
    sr.set_defaults(func=cmd_user_change)

    key = sub.add_parser("apikey", help="API keys of machine clients").add_subparsers(
        dest="key_command", required=True
    )
    kc = key.add_parser("create", help="create a key; printed once, only its hash is stored")
    kc.add_argument("name")
    kc.add_argument("--role", default="dispatch", choices=roles)
    kc.add_argument("--expires", help="ISO 8601 time with timezone")
    kc.add_argument(
        "--entity", action="append", help="object type it may write (repeatable; default incident)"
    )
    kc.add_argument("--source", help="the source its objects carry (default: the key's name)")
    kc.add_argument(
        "--organisation",
        help="the organisation a partner key acts for (required with --role partner)",
    )
    kc.add_argument(
        "--read-only",
        action="store_true",
        help="reads what its role reads and writes nothing (a GIS client, a metrics scraper)",
    )
    kc.set_defaults(func=cmd_apikey_create)
    kr = key.add_parser("revoke", help="revoke a key")
    kr.add_argument("name")
    kr.set_defaults(func=cmd_apikey_revoke)

    feed = sub.add_parser("feed", help="the change feed").add_subparsers(
        dest="feed_command", required=True
    )
    fp = feed.add_parser(
        "prune",
        help="prune changes older than the retention, keeping each object's last state "
        "(also done every SITCEN_FEED_PRUNE_INTERVAL_SECONDS by the service)",
    )
    fp.add_argument(
        "--days",
        type=_days,
        help="keep this many days (default: SITCEN_FEED_RETENTION_DAYS); 0 keeps only each "
        "object's last state",
    )
    fp.set_defaults(func=cmd_feed_prune)

    pv = sub.add_parser("privacy", help="personal data (docs/privacy.md)").add_subparsers(
        dest="privacy_command", required=True
    )
    pp = pv.add_parser(
        "purge",
        help="blank now the personal fields past their retention (also done every "
        "SITCEN_PERSONAL_DATA_PURGE_INTERVAL_SECONDS by the service)",
    )
    pp.set_defaults(func=cmd_privacy)
    pe = pv.add_parser(
        "erase",
        help="blank now the personal fields of these incidents or logbook entries (an erasure "
        "the DPO ordered); audited",
    )
    pe.add_argument("refs", nargs="+", metavar="REF", help="e.g. INC-2026-000042")
    pe.set_defaults(func=cmd_privacy)

    bk = sub.add_parser(
        "backup",
        help="write a backup (pg_dump, custom format, with the documents) to a tar file",
    )
    bk.add_argument("path", type=Path)
    bk.set_defaults(func=cmd_backup)
    rs = sub.add_parser(
        "restore",
        help="restore a backup into the empty database of SITCEN_DATABASE_URL, in one transaction",
    )
    rs.add_argument("path", type=Path)
    rs.set_defaults(func=cmd_restore)

    vd = sub.add_parser(
        "verify-decisions",
        help="recompute the hash chain of each activation's decisions; exit 1 naming the first "
        "broken entry of each broken chain",
    )
    vd.add_argument("--activation", type=_uuid, help="only this activation (its id)")
    vd.set_defaults(func=cmd_verify_decisions)

    demo = sub.add_parser("demo", help="load the demo scenario (idempotent)")
    demo.add_argument(
        "--year",
        type=_year,
        help="also load a whole plausible year whose annual figures are the published ones (2024)",
    )
    demo.set_defaults(func=cmd_demo)

    st = sub.add_parser(
        "stats",
        help="the annual figures of a year (calendar year in Europe/Brussels; objects flagged "
        "exercise left out)",
    )
    st.add_argument("--year", type=_year, required=True)
    st.add_argument("--format", type=_format, default="table", help="table (default), json or csv")
    st.set_defaults(func=cmd_stats)

    w = sub.add_parser("watch", help="follow the live change feed, one line per change")
    w.add_argument("--url", default="ws://127.0.0.1:8000/ws")
    w.add_argument(
        "--username", help="log in as this user (password from SITCEN_PASSWORD or prompted)"
    )
    w.add_argument(
        "--state-file", default=".sitcen-watch-seq", help="keeps the last seq seen, to resume"
    )
    w.add_argument("--entity", action="append", help="only these entities (repeatable)")
    w.set_defaults(func=cmd_watch)

    ex = sub.add_parser("exercise", help="exercise scenarios").add_subparsers(
        dest="exercise_command", required=True
    )
    exe = ex.add_parser("example", help="keep a shipped example scenario (e.g. gas-shortage)")
    exe.add_argument("name")
    exe.set_defaults(func=cmd_exercise)
    exl = ex.add_parser("load", help="keep a scenario file (YAML, or JSON by its .json suffix)")
    exl.add_argument("file")
    exl.set_defaults(func=cmd_exercise)
    return p


def main(argv: list[str] | None = None) -> None:
    from pydantic import ValidationError

    from app.errors import ProblemError

    args = parser().parse_args(argv)
    try:
        if args.command not in ("serve", "watch"):
            _local_mode()
        args.func(args)
    except ProblemError as e:
        sys.exit(f"sitcen: {e.detail}")
    except (ValueError, RuntimeError, OSError, ValidationError) as e:
        sys.exit(f"sitcen: {e}")


if __name__ == "__main__":
    main()
