"""``exchange-sandbox serve``: start the tenant, print one JSON line, serve until stopped."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from .tenant import Settings, Tenant
from .throttle import GRAPH_OUTLOOK, Limit
from .web import SandboxHTTPServer, is_loopback

_SEED = re.compile(r"demo|none|bulk:[1-9][0-9]*:[0-9]+")


def _seed(value: str) -> str:
    if not _SEED.fullmatch(value):
        raise argparse.ArgumentTypeError("seed is demo, none or bulk:MAILBOXES:MESSAGES")
    return value


def _non_negative(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _limit(value: str) -> Limit:
    try:
        return Limit.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    """The ``exchange-sandbox`` command line."""
    parser = argparse.ArgumentParser(
        prog="exchange-sandbox",
        description="A local Microsoft 365 tenant look-alike (identity, Graph mail, EWS) over TLS.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the tenant; prints one JSON line with its endpoints when ready"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="listen address (default 127.0.0.1; loopback only)"
    )
    serve.add_argument(
        "--port", type=_non_negative, default=0, help="listen port (default 0: a free port)"
    )
    serve.add_argument(
        "--state",
        type=Path,
        default=Path(".sandbox-state"),
        help="folder for the tenant's store, CA and certificates (default .sandbox-state)",
    )
    serve.add_argument(
        "--seed",
        type=_seed,
        default="demo",
        help="tenant content: demo (phishing campaign, attachments, contacts; default), none, "
        "or bulk:MAILBOXES:MESSAGES for benchmarks",
    )
    serve.add_argument(
        "--latency-ms",
        type=_non_negative,
        default=0,
        help="delay added to every request, to rehearse a real tenant's latency (default 0)",
    )
    serve.add_argument(
        "--throttle",
        choices=("microsoft", "off"),
        default="off",
        help="microsoft: enforce Microsoft's documented Graph and EWS throttling limits "
        "(429 + Retry-After, ErrorServerBusy); off (default): no throttling",
    )
    serve.add_argument(
        "--graph-mailbox-limit",
        type=_limit,
        default=GRAPH_OUTLOOK,
        metavar="CONCURRENT:REQUESTS:SECONDS",
        help="with --throttle microsoft: Graph's budget per app and mailbox "
        "(default Outlook's 4:10000:600; lower it to rehearse throttling)",
    )
    serve.add_argument(
        "--token-lifetime",
        type=_positive,
        default=3599,
        metavar="SECONDS",
        help="lifetime of the access tokens it issues (default 3599, as Entra ID)",
    )
    serve.add_argument(
        "--schema-dir",
        type=Path,
        default=None,
        help="folder of the EWS XSD files (messages.xsd, types.xsd): EWS requests are then "
        "validated and a bad one answered ErrorSchemaValidation, as Exchange does",
    )
    serve.add_argument(
        "--ews-blocked",
        action="store_true",
        help="EWS answers 403, as Exchange Online does since 2026-10-01",
    )
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the admin API still answers loopback only)",
    )
    serve.add_argument(
        "--env-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="also write the connection of the app 'full' as EXCHANGE_* shell variables to "
        "FILE (then `set -a; . FILE; set +a` and run `exchange-pack run ...`)",
    )
    return parser


def env_lines(info: dict, app: str = "full", mailbox: str | None = None) -> list[str]:
    """``EXCHANGE_<KEY>=value`` lines: the pack's connection to this tenant as ``app``."""
    registration = next(a for a in info["apps"] if a["name"] == app)
    values = {
        "tenant_id": info["tenant_id"],
        "client_id": registration["client_id"],
        "client_secret": registration["client_secret"],
        "authority_host": info["authority_host"],
        "graph_url": info["graph_url"],
        "ews_url": info["ews_url"],
        "ca_bundle": info["ca_bundle"],
        "default_mailbox": mailbox or f"soc@{info['domain']}",
    }
    return [f"EXCHANGE_{key.upper()}={shlex.quote(value)}" for key, value in values.items()]


def write_env_file(path: Path, info: dict) -> None:
    """Writes :func:`env_lines` to ``path`` (mode 0600: it holds the app's secret)."""
    text = "# exchange-sandbox: the pack's connection to this tenant (app 'full')\n"
    text += "\n".join(env_lines(info)) + "\n"
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")


def serve(args: argparse.Namespace) -> int:
    """Starts the tenant and its HTTPS server; returns the exit code once stopped."""
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"exchange-sandbox: refusing to listen on {args.host}: not a loopback address "
            "(pass --allow-remote to do it anyway)",
            file=sys.stderr,
        )
        return 64
    settings = Settings(
        host=args.host,
        port=args.port,
        state_dir=args.state.resolve(),
        seed=args.seed,
        latency_ms=args.latency_ms,
        throttle=args.throttle,
        token_lifetime=args.token_lifetime,
        schema_dir=args.schema_dir.resolve() if args.schema_dir else None,
        ews_blocked=args.ews_blocked,
        graph_limit=args.graph_mailbox_limit,
    )
    tenant = Tenant(settings)
    server = SandboxHTTPServer(
        (args.host, args.port), tenant, tenant.tls.ssl_context(), on_complete=tenant.complete
    )
    port = server.server_address[1]
    host = f"[{args.host}]" if ":" in args.host else args.host
    tenant.base_url = f"https://{host}:{port}"
    settings.port = port

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run on this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    info = tenant.info()
    if args.env_file is not None:
        write_env_file(args.env_file, info)
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        tenant.store.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``exchange-sandbox`` command."""
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return 64


if __name__ == "__main__":
    sys.exit(main())
