#!/bin/sh
# Entry point of every Steward image: turn secret files into settings, then run the command.
#
# Secrets arrive as files (compose `secrets:`, Kubernetes secret volumes) so that they never
# sit in a compose file or an image. A file whose name is a setting's environment name, e.g.
# /run/secrets/STEWARD_GUARDRAIL_PII_KEY, becomes that variable for the service alone; a
# variable already set in the environment wins. Settings that name a file (a signing key, a
# JWKS) are given as paths instead and are not read here.
set -eu

secrets_dir="${STEWARD_SECRETS_DIR:-/run/secrets}"
if [ -d "$secrets_dir" ]; then
    for file in "$secrets_dir"/STEWARD_*; do
        [ -f "$file" ] || continue
        name="$(basename "$file")"
        # Only names a shell variable can carry; anything else is a mistake worth failing on.
        case "$name" in
            *[!A-Z0-9_]*) echo "entrypoint: secret file name $name is not a setting name" >&2
                          exit 64 ;;
        esac
        if [ -z "$(printenv "$name" || true)" ]; then
            # A trailing newline from `echo > file` is not part of the value.
            value="$(cat "$file")"
            export "$name=$value"
        fi
    done
fi

exec "$@"
