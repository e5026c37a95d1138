"""`steward ask`: one question through the gateway, printed with its citations."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from steward_auth import AuthConfigError

from steward_cli.endpoints import gateway_url
from steward_cli.token import DEFAULT_AUTH_DIR, DEFAULT_TENANT, NotEmbedded, development_token

console = Console()


class GatewayRefused(Exception):
    """The gateway answered with an error status."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"gateway answered {status}: {detail}")
        self.status = status


def call(method: str, url: str, token: str, body: dict[str, Any] | None = None) -> Any:
    """Send one JSON request to the gateway and return the decoded answer."""
    request = urllib.request.Request(  # noqa: S310 - the URL's scheme is checked by the caller
        url,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            return {"status": response.status, **json.loads(response.read() or b"{}")}
    except urllib.error.HTTPError as error:
        payload = error.read().decode("utf-8", "replace")
        try:
            detail = json.loads(payload).get("detail", payload)
        except ValueError:
            detail = payload
        raise GatewayRefused(error.code, str(detail)) from None


def print_answer(answer: dict[str, Any]) -> None:
    """Show an answer, its citations, disposition and correlation id."""
    # What the pipeline wrote is printed as text, never read as rich markup.
    console.print(answer.get("answer") or "(no answer yet)", markup=False)
    for citation in answer.get("citations") or []:
        section = f" - {citation['section']}" if citation.get("section") else ""
        console.print(
            f"  [{citation['number']}] {citation.get('title') or citation['document_id']}"
            f"{section}  {citation.get('source_url') or ''}",
            markup=False,
            highlight=False,
        )
    if answer.get("ai_notice"):
        console.print(answer["ai_notice"], style="dim", markup=False)
    console.print(
        f"disposition [bold]{answer.get('disposition') or 'pending'}[/bold]  "
        f"correlation id {answer.get('correlation_id')}"
    )


def ask(
    question: Annotated[str, typer.Argument(help="The question, as a citizen would ask it.")],
    tenant: Annotated[str, typer.Option(help="The agency to ask.")] = DEFAULT_TENANT,
    conversation: Annotated[
        str | None, typer.Option(help="Continue this conversation id.")
    ] = None,
    locale: Annotated[str | None, typer.Option(help="The asker's language, e.g. 'es'.")] = None,
    human: Annotated[bool, typer.Option("--human", help="Ask for a person to answer.")] = False,
    wait: Annotated[
        float, typer.Option(help="Seconds to poll while the answer is pending or under review.")
    ] = 0.0,
    gateway: Annotated[
        str | None,
        typer.Option(
            help="The gateway's base URL; default $STEWARD_GATEWAY_URL, else the local gateway "
            "on $STEWARD_GATEWAY_PORT (8080)."
        ),
    ] = None,
    auth_dir: Annotated[Path, typer.Option(help="Folder of the development key.")] = (
        DEFAULT_AUTH_DIR
    ),
) -> None:
    """Ask the gateway a question with a development token and print the answer."""
    gateway = gateway or gateway_url()
    if not gateway.startswith(("http://", "https://")):
        console.print(f"[red]error:[/red] gateway URL {gateway!r} must start with http(s)://")
        raise typer.Exit(2)
    try:
        token = development_token(
            subject="steward-cli", tenant=tenant, roles=["citizen"], folder=auth_dir
        )
        answer = call(
            "POST",
            f"{gateway.rstrip('/')}/v1/ask",
            token,
            {
                "question": question,
                "conversation_id": conversation,
                "locale": locale,
                "human_requested": human,
            },
        )

        # A late or reviewed answer is fetched from the status URL until it is final.
        deadline = time.monotonic() + wait
        while answer.get("status") != "final" and time.monotonic() < deadline:
            time.sleep(1.0)
            kept = call("GET", answer["status_url"], token)
            turn = next(
                t for t in kept["turns"] if t["correlation_id"] == answer["correlation_id"]
            )
            answer = {**answer, **turn}
    except (NotEmbedded, AuthConfigError, GatewayRefused) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None
    except urllib.error.URLError as error:
        console.print(f"[red]error:[/red] cannot reach the gateway at {gateway}: {error.reason}")
        raise typer.Exit(1) from None
    print_answer(answer)
    if answer.get("status") == "pending":
        console.print(f"still under way; the answer will appear at {answer['status_url']}")
