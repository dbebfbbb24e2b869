"""``exchange-sandbox serve``: start the tenant, print one JSON line, serve until stopped."""

from __future__ import annotations

import argparse
import json
import re
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
    serve.add_argument("--host", default="127.0.0.1", help="listen address (loopback)")
    serve.add_argument("--port", type=_non_negative, default=0, help="0 picks a free port")
    serve.add_argument("--state", type=Path, default=Path(".sandbox-state"), help="state dir")
    serve.add_argument("--seed", type=_seed, default="demo", help="demo | none | bulk:M:N")
    serve.add_argument("--latency-ms", type=_non_negative, default=0)
    serve.add_argument("--throttle", choices=("microsoft", "off"), default="off")
    serve.add_argument(
        "--graph-mailbox-limit",
        type=_limit,
        default=GRAPH_OUTLOOK,
        metavar="CONCURRENT:REQUESTS:SECONDS",
        help="with --throttle microsoft: Graph's budget per app and mailbox "
        "(default Outlook's 4:10000:600; lower it to rehearse throttling)",
    )
    serve.add_argument("--token-lifetime", type=_positive, default=3599, metavar="SECONDS")
    serve.add_argument("--schema-dir", type=Path, default=None, help="EWS XSD dir to validate")
    serve.add_argument("--ews-blocked", action="store_true", help="EWS answers 403 (EXO 2026)")
    serve.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (the admin API still answers loopback only)",
    )
    return parser


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
    sys.stdout.write(json.dumps(tenant.info()) + "\n")
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
