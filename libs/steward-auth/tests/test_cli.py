"""The development key and token command line."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from auth_samples import AUDIENCE, ISSUER
from steward_auth import AuthSettings, TokenVerifier
from steward_auth.__main__ import main


@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_new_key_then_mint_yields_a_token_the_verifier_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], algorithm: str
) -> None:
    private_key, jwks = tmp_path / "dev.pem", tmp_path / "jwks.json"

    main(
        [
            "new-key",
            "--algorithm",
            algorithm,
            "--private-key",
            str(private_key),
            "--jwks",
            str(jwks),
        ]
    )
    kid = json.loads(capsys.readouterr().out)["kid"]
    identity = ["--subject", "dev", "--tenant", "agency-a", "--role", "reviewer"]
    claims = ["--role", "supervisor", "--issuer", ISSUER, "--audience", AUDIENCE]
    main(["mint", "--private-key", str(private_key), "--kid", kid, *identity, *claims])
    token = capsys.readouterr().out.strip()

    principal = TokenVerifier(
        AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=jwks)
    ).verify(token)
    assert principal.roles == frozenset({"reviewer", "supervisor"})
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600


def test_mint_with_a_missing_key_file_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    claims = ["--subject", "s", "--tenant", "t", "--issuer", ISSUER, "--audience", AUDIENCE]

    with pytest.raises(SystemExit):
        main(["mint", "--private-key", str(tmp_path / "absent.pem"), "--kid", "k", *claims])

    assert "absent.pem" in capsys.readouterr().err
