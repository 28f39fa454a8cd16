#!/usr/bin/env bash
# Run the app: setup, then `sitcen serve` (which starts the local PostGIS cluster under .local/
# when SITCEN_DATABASE_URL is unset). Extra args go to `sitcen serve`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
exec .venv/bin/sitcen serve "$@"
