#!/usr/bin/env bash
# Create the secret files docker-compose.yml mounts, under deploy/secrets/ (git-ignored).
# Existing files are kept, so running it again never rotates a key by accident.
#
# For a trial on one host only: the JWKS made here belongs to a throw-away token key
# (deploy/secrets/dev-token-key.pem, issuer steward-dev, audience steward). In production,
# put the identity provider's JWKS in deploy/secrets/jwks.json and set STEWARD_AUTH_ISSUER and
# STEWARD_AUTH_AUDIENCE before `docker compose up`.
set -euo pipefail
cd "$(dirname "$0")/../secrets"
umask 077

random() { python3 -c "import secrets; print(secrets.token_urlsafe($1))"; }

# Write a file once; the containers run as uid 10001, so the files are world-readable inside
# this owner-only folder.
keep() {
    local name="$1"
    if [[ ! -s "$name" ]]; then
        cat > "$name"
        echo "created deploy/secrets/$name"
    else
        cat > /dev/null
    fi
    chmod 0444 "$name"
}
chmod 0700 .

random 24 | keep postgres_password
random 24 | keep ledger_writer_password
random 24 | keep ledger_maintainer_password
random 24 | keep grafana_admin_password
random 48 | keep gateway_pseudonym_key
random 48 | keep review_pseudonym_secret
python3 -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())" \
    | keep guardrail_pii_key

# DSNs carry the passwords, so they are secrets too.
password="$(cat postgres_password)"
echo "postgresql://steward:${password}@postgres:5432/steward" | keep database_url
echo "postgresql://ledger_app:$(cat ledger_writer_password)@postgres:5432/steward" \
    | keep ledger_writer_url
echo "postgresql://ledger_retention:$(cat ledger_maintainer_password)@postgres:5432/steward" \
    | keep ledger_maintainer_url

# The ledger's checkpoint signing key: Ed25519, PKCS#8 PEM.
[[ -s ledger_signing_key.pem ]] || openssl genpkey -algorithm ed25519 | keep ledger_signing_key.pem

# A throw-away ES256 token key and its JWKS, unless a JWKS is already in place.
if [[ ! -s jwks.json ]]; then
    [[ -s dev-token-key.pem ]] || openssl genpkey -algorithm EC \
        -pkeyopt ec_paramgen_curve:P-256 > dev-token-key.pem
    openssl pkey -in dev-token-key.pem -pubout -outform DER | python3 -c '
import base64, hashlib, json, sys
point = sys.stdin.buffer.read()[-65:]  # uncompressed point: 0x04, X, Y
b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
key = {"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])}
key |= {"kid": b64(hashlib.sha256(point).digest())[:16], "alg": "ES256", "use": "sig"}
print(json.dumps({"keys": [key]}, indent=2))' | keep jwks.json
fi
