#!/usr/bin/env bash
# Bootstrap (idempotent) for a Debian 12 machine: system packages, .venv, frontend build.
# Run by scripts/run.sh and scripts/test.sh; a second run only checks stamps and returns.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Playwright drives the system Chromium (/usr/bin/chromium); never fetch a browser.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

PG_MAJOR=15
PYTHON=${PYTHON:-python3.11}

say() { printf 'setup: %s\n' "$*"; }

# True when $1 is missing or older than any of the other files.
stale() {
    local stamp=$1 f
    shift
    [[ -e $stamp ]] || return 0
    for f in "$@"; do
        [[ -e $f && $f -nt $stamp ]] && return 0
    done
    return 1
}

system_packages() {
    local -a missing=()
    [[ -f /usr/share/postgresql/$PG_MAJOR/extension/postgis.control ]] ||
        missing+=("postgresql-$PG_MAJOR" "postgresql-$PG_MAJOR-postgis-3")
    # `sitcen backup`/`restore`: pg_dump and pg_restore of the server's major version.
    [[ -x /usr/lib/postgresql/$PG_MAJOR/bin/pg_dump ]] || missing+=("postgresql-client-$PG_MAJOR")
    [[ -x /usr/bin/chromium ]] || missing+=(chromium)
    # GDAL's OAPIF driver: the GIS client the tests read the OGC API – Features with.
    command -v ogr2ogr >/dev/null || missing+=(gdal-bin)
    # WeasyPrint (the operational fiche's PDF) lays out text with Pango.
    ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 || missing+=(libpango-1.0-0 libpangoft2-1.0-0)
    # python-magic's libmagic: the type of an uploaded document, read from its bytes.
    compgen -G '/usr/lib/*/libmagic.so.1' >/dev/null || [[ -e /usr/lib/libmagic.so.1 ]] ||
        missing+=(libmagic1)
    # The reverse proxy of deploy/haproxy.cfg, run by tests/deploy/test_proxy.py.
    command -v haproxy >/dev/null || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
    if [[ ! -x .venv/bin/python ]] && ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        missing+=(python3.11 python3.11-venv)
    fi
    if [[ -f frontend/package.json ]] && ! command -v npm >/dev/null; then
        missing+=(nodejs npm)
    fi
    ((${#missing[@]})) || return 0

    local cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
    local -a as_root=()
    if ((EUID != 0)); then
        # A CI runner is often a user with password-less sudo.
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            as_root=(sudo -n)
        else
            say "missing system packages; run as root:  $cmd"
            exit 1
        fi
    fi
    say "installing ${missing[*]}"
    # Debian's postgresql package may create and start its own cluster on 5432; harmless,
    # the project only ever uses the cluster it starts under .local/.
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

python_env() {
    if [[ ! -x .venv/bin/python ]]; then
        say "creating .venv with $PYTHON"
        "$PYTHON" -m venv .venv
    fi
    if stale .venv/.installed pyproject.toml; then
        say "installing the package and dev tools into .venv"
        # pip's output goes to a log, shown only on failure: setuptools warns loudly on -e.
        if ! .venv/bin/pip install -e '.[dev]' >.venv/pip.log 2>&1; then
            cat .venv/pip.log
            exit 1
        fi
        touch .venv/.installed
    fi
}

frontend() {
    [[ -f frontend/package.json ]] || return 0
    local deps=frontend/node_modules/.installed built=frontend/node_modules/.built
    if stale "$deps" frontend/package.json frontend/package-lock.json; then
        say "installing frontend dependencies"
        if [[ -f frontend/package-lock.json ]]; then
            npm ci --prefix frontend --no-audit --no-fund
        else
            npm install --prefix frontend --no-audit --no-fund
        fi
        mkdir -p frontend/node_modules
        touch "$deps"
        rm -f "$built"
    fi
    # Rebuild only when a frontend source, or what the server shares with the dashboard (enum
    # labels, each kind's rules: app/vocabulary.py), changed since the last build. The build
    # first rewrites frontend/src/generated/vocabulary.json from them (npm's prebuild).
    local shared=(app/vocabulary.py app/vocabulary.json app/domain app/alerts/enums.py)
    if [[ ! -e $built ]] || [[ ! -d app/static ]] ||
        [[ -n $(find frontend "${shared[@]}" \( -path frontend/node_modules -o -name __pycache__ \) -prune \
            -o -type f -newer "$built" -print -quit) ]]; then
        say "building the frontend into app/static"
        npm run build --prefix frontend
        touch "$built"
    fi
}

system_packages
python_env
frontend
say "ready"
