# syntax=docker/dockerfile:1

# --- frontend: the Vite build writes into app/static (skipped while there is no frontend) ---
FROM node:20-bookworm-slim AS frontend
WORKDIR /src
# The whole (dockerignored) context rather than frontend/ alone, so a checkout without a
# frontend still builds.
COPY . .
RUN --mount=type=cache,target=/root/.npm \
    mkdir -p app/static \
    && if [ -f frontend/package.json ]; then \
         cd frontend \
         && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
            else npm install --no-audit --no-fund; fi \
         && npm run build; \
       fi

# --- app ---
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 sitcen \
    && useradd --system --uid 10001 --gid sitcen --home-dir /srv/sitcen --no-create-home \
       --shell /usr/sbin/nologin sitcen

WORKDIR /srv/sitcen

# Dependencies first, in their own layer, so a code change does not reinstall them.
COPY pyproject.toml ./
RUN mkdir app && touch app/__init__.py \
    && pip install . \
    && pip uninstall -y sitcen \
    && rm -rf app build ./*.egg-info

COPY . .
COPY --from=frontend /src/app/static/ app/static/
# Editable: the app finds migrations/ and app/static next to its package (PROJECT_ROOT), as in
# the repository; a regular wheel would leave migrations/ behind.
RUN pip install --no-deps -e . \
    && install -m 0755 scripts/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh

USER sitcen
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/health', timeout=4)"]

ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["sitcen", "serve", "--host", "0.0.0.0", "--port", "8000"]
