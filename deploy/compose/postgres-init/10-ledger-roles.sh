#!/bin/bash
# Runs once, on an empty data folder: the ledger's two login roles, with passwords from the
# secret files. The ledger service itself installs its schema, group roles and grants; the
# groups are created here first so that the login roles can join them.
set -euo pipefail

writer_password="$(cat /run/secrets/ledger_writer_password)"
maintainer_password="$(cat /run/secrets/ledger_maintainer_password)"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v writer_password="$writer_password" -v maintainer_password="$maintainer_password" <<'SQL'
CREATE ROLE steward_ledger_writer NOLOGIN;
CREATE ROLE steward_ledger_maintainer NOLOGIN;
CREATE ROLE ledger_app LOGIN PASSWORD :'writer_password' IN ROLE steward_ledger_writer;
CREATE ROLE ledger_retention LOGIN PASSWORD :'maintainer_password'
    IN ROLE steward_ledger_maintainer;
SQL
