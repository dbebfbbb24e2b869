"""NTLM over HTTP for the on-premises style service account (the server side, with pyspnego).

The handshake is Exchange's: ``Authorization: NTLM <negotiate>`` is answered 401 with
``WWW-Authenticate: NTLM <challenge>``, and the ``NTLM <authenticate>`` that follows on the
same connection is verified against the account's password. The verified user goes into
``request.extra["ntlm_user"]``, where ``Tenant.authenticate`` picks it up.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from collections import OrderedDict
from pathlib import Path

import spnego
from spnego.exceptions import SpnegoError

from ..tenant import Tenant
from ..web import Request, Response

_SCHEMES = ("ntlm", "negotiate")
_NTLMSSP = b"NTLMSSP\x00"
_PENDING_LIMIT = 64


def _message_type(token: bytes) -> int:
    """1 = NEGOTIATE, 3 = AUTHENTICATE (MS-NLMP); 0 when it is not a raw NTLM message."""
    if not token.startswith(_NTLMSSP) or len(token) < 12:
        return 0
    return int.from_bytes(token[8:12], "little")


class NtlmAcceptor:
    """Runs NTLM handshakes for the tenant's service account."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self._pending: OrderedDict[int, spnego.ContextProxy] = OrderedDict()
        self._lock = threading.Lock()
        self._counter = 0
        self._ready = False

    def _credential_file(self) -> None:
        """pyspnego's acceptor reads passwords from the file ``NTLM_USER_FILE`` names."""
        if self._ready:
            return
        account = self.tenant.service_account
        username, password = account["username"], account["password"]
        user, _, domain = username.partition("@")
        netbios = domain.split(".", 1)[0].upper()
        lines = [f":{username}:{password}", f"{netbios}:{user}:{password}", f":{user}:{password}"]
        path = Path(self.tenant.settings.state_dir) / "ntlm-users"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        os.environ["NTLM_USER_FILE"] = str(path)
        self._ready = True

    def step(self, request: Request) -> Response | None:
        """A 401 challenge for an NTLM negotiate; None to go on (verified, or not NTLM)."""
        scheme, _, data = (request.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() not in _SCHEMES:
            return None
        try:
            token = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        kind = _message_type(token)
        if kind == 1:
            return self._challenge(scheme, token)
        if kind == 3:
            user = self._verify(token)
            if user is not None:
                request.extra["ntlm_user"] = user
        return None

    def _challenge(self, scheme: str, token: bytes) -> Response:
        with self._lock:
            self._credential_file()
            context = spnego.server(protocol="ntlm")
            challenge = context.step(token) or b""
            self._counter += 1
            self._pending[self._counter] = context
            while len(self._pending) > _PENDING_LIMIT:
                self._pending.popitem(last=False)
        header = f"{scheme} {base64.b64encode(challenge).decode('ascii')}"
        return Response(401, {"WWW-Authenticate": header, "Content-Length": "0"}, b"")

    def _verify(self, token: bytes) -> str | None:
        """The service account's name when a pending handshake accepts ``token``."""
        with self._lock:
            # The AUTHENTICATE message does not name its challenge: try the pending handshakes,
            # newest first (a client answers its challenge at once). A mismatch leaves a
            # handshake pending for its own client (pyspnego keeps its state on failure).
            for key in reversed(list(self._pending)):
                context = self._pending[key]
                try:
                    context.step(token)
                except SpnegoError:
                    continue
                del self._pending[key]
                if context.complete:
                    return self.tenant.service_account["username"]
        return None
