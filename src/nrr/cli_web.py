"""`nrr serve`: build the dashboard app and hand it to uvicorn. Heavy imports wait until it runs."""

from __future__ import annotations

import os
import secrets
import socket
from datetime import date, datetime

import click

from nrr.cli_options import workspace_option

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def allowed_hosts_for(host: str, extra: tuple[str, ...] = ()) -> list[str]:
    """The Host header values the app answers to: loopback names, plus the bound address."""
    from nrr.web.security import LOOPBACK_HOSTS

    names = [*LOOPBACK_HOSTS, *extra]
    if host not in ("0.0.0.0", "::", ""):
        names.append(host)
    else:  # listening on every interface: answer to this machine's own names
        names += [socket.gethostname(), socket.getfqdn()]
    return list(dict.fromkeys(n.lower() for n in names))


def token_for(host: str, token: str | None) -> str | None:
    """Beyond loopback a token is mandatory: the one given, else a fresh random one."""
    from nrr.web.security import is_loopback

    if token:
        return token
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def dashboard_url(host: str, port: int, token: str | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = socket.gethostname()
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def serve(
    workspace_path: str | os.PathLike[str],
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    token: str | None = None,
    allowed_hosts: tuple[str, ...] = (),
    as_of: date | None = None,
    portfolio: tuple[str, ...] = (),
) -> None:
    """Serve the dashboard until interrupted; prints the URL to open (with the token, if any)."""
    import uvicorn

    from nrr.web import create_app

    token = token_for(host, token)
    app = create_app(workspace_path, token=token, as_of=as_of, warm=True,
                     allowed_hosts=allowed_hosts_for(host, allowed_hosts), portfolio=portfolio)
    click.echo(f"nrr dashboard: {dashboard_url(host, port, token)}  (Ctrl-C to stop)")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


@click.command("serve")
@workspace_option
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Address to listen on. Anything but loopback requires a token.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token", default=None, envvar="NRR_TOKEN", show_envvar=True,
              help="Access token (generated and printed when listening beyond loopback).")
@click.option("--allowed-host", multiple=True,
              help="Another name the dashboard may be reached by (Host header); repeatable.")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Day the figures are read when a URL names none [default: today].")
@click.option("--portfolio", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Another company's workspace for the Portfolio page; repeatable.")
def serve_command(workspace: str, host: str, port: int, token: str | None,
                  allowed_host: tuple[str, ...], as_of: datetime | None,
                  portfolio: tuple[str, ...]) -> None:  # fmt: skip
    """Serve the dashboard and JSON API for a workspace (default http://127.0.0.1:8000/)."""
    serve(workspace, host=host, port=port, token=token, allowed_hosts=allowed_host,
          as_of=as_of.date() if as_of else None, portfolio=portfolio)
