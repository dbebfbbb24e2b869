"""``exchange-sandbox serve --env-file``: the pack's connection as shell variables."""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

from exchange_pack.inputs import config_from_environ
from exchange_sandbox.cli import build_parser, write_env_file

INFO = {
    "tenant_id": "t-1",
    "domain": "contoso.com",
    "authority_host": "https://127.0.0.1:4443",
    "graph_url": "https://127.0.0.1:4443",
    "ews_url": "https://127.0.0.1:4443/EWS/Exchange.asmx",
    "ca_bundle": "/tmp/state dir/ca.pem",
    "apps": [{"name": "full", "client_id": "c-1", "client_secret": "s~e'c r\"et"}],
}


def test_env_file_holds_the_connection_and_only_its_owner_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.env"
    write_env_file(path, INFO)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    environ = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            environ[name] = shlex.split(value)[0]
    found = {k: v for _, values in config_from_environ(environ) for k, v in values.items()}
    assert found["client_secret"] == "s~e'c r\"et"
    assert found["ca_bundle"] == "/tmp/state dir/ca.pem"
    assert found["default_mailbox"] == "soc@contoso.com"


def test_every_serve_option_is_described() -> None:
    parser = build_parser()
    serve = parser._subparsers._group_actions[0].choices["serve"]  # argparse keeps them here
    undocumented = [a.dest for a in serve._actions if not a.help]
    assert undocumented == []
