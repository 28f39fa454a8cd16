"""The floor of bench/ingest.py: a minimal FastAPI endpoint doing one asyncpg
`INSERT … RETURNING` per request, under the same uvicorn settings as `sitcen serve`.

    SITCEN_DATABASE_URL=postgresql://… .venv/bin/python bench/floor_app.py --port 18001

It takes the same request (a GeoJSON Feature of an incident, the same X-API-Key header,
ignored) into the same `incidents` table; what it leaves out is what sitcen does besides the
insert: authentication, validation, area derivation, the change record, the feed. So the ratio
of sitcen's create rate to this one's says what all of that costs beside the bare HTTP + SQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from fastapi import Body, FastAPI
from starlette.responses import Response

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

INSERT = """
    INSERT INTO incidents (id, ref, version, title, visibility, exercise, source, external_id,
                           municipality_codes, police_zone_codes, areas, created_at, created_by,
                           updated_at, updated_by, geom, category, severity, status, reported_at)
    VALUES ($1, 'FLOOR-' || nextval('incident_ref_seq'), 1, $2, 'internal', false, 'floor', $3,
            ARRAY['21004'], ARRAY['5339'], '{}'::jsonb, now(), 'floor', now(), 'floor',
            ST_SetSRID(ST_MakePoint($4, $5), 4326), $6, $7, 'reported', now())
    RETURNING id, ref, created_at"""


def create_app() -> FastAPI:
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        url = os.environ["SITCEN_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
        pool = await asyncpg.create_pool(url, min_size=4, max_size=10)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/incidents", status_code=201)
    async def create(feature: dict[str, Any] = Body()) -> Response:
        assert pool is not None
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        async with pool.acquire() as conn:
            row = await conn.fetchrow(
                INSERT,
                uuid.uuid4(),
                props["title"],
                props.get("external_id"),
                lon,
                lat,
                props["category"],
                props["severity"],
            )
        body = {
            "type": "Feature",
            "id": str(row["id"]),
            "geometry": feature["geometry"],
            "properties": {**props, "ref": row["ref"], "created_at": row["created_at"].isoformat()},
        }
        return Response(orjson.dumps(body), status_code=201, media_type="application/geo+json")

    return app


def main() -> None:
    import uvicorn

    from app.server import bounded_head
    from app.settings import Settings

    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    defaults = Settings.model_fields
    uvicorn.run(
        "floor_app:create_app",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        ws="websockets-sansio",
        log_level="warning",
        proxy_headers=True,
        timeout_keep_alive=defaults["http_keep_alive_seconds"].default,
        http=bounded_head(defaults["max_header_bytes"].default),
        app_dir=str(Path(__file__).resolve().parent),
    )


if __name__ == "__main__":
    main()
