#!/bin/sh
# Container entrypoint: bring the schema up to date before serving, then hand over to the command.
# Other commands (`sitcen user create …`, a shell) run as given, without migrating.
set -eu

if [ "${1:-}" = "sitcen" ] && [ "${2:-}" = "serve" ]; then
    sitcen db upgrade
fi
exec "$@"
