"""The connection config (``schemas/connection.json``) as a pydantic model.

Key names are binding. Secrets are ``SecretStr`` so they never reach a repr, a log or an error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from .clouds import CLOUDS, Cloud


def default_output_dir() -> Path:
    """``$XDG_DATA_HOME/exchange-pack/output`` (``~/.local/share/...`` when unset).

    Evidence files outlive the action process and the folder an engine happens to run it in,
    so they go to the user's data directory rather than ``./output``.
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "exchange-pack" / "output"


SECRET_KEYS = frozenset({"client_secret", "certificate_pem", "certificate_password", "password"})


class ConnectionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    certificate_path: Path | None = None
    certificate_pem: SecretStr | None = None
    certificate_password: SecretStr | None = None
    cloud: Literal["global", "usgov", "usgovhigh", "dod", "china"] = "global"
    backend: Literal["graph", "ews"] = "graph"
    ews_url: str | None = None
    ews_auth: Literal["oauth", "ntlm", "basic"] = "oauth"
    username: str | None = None
    password: SecretStr | None = None
    default_mailbox: str | None = None
    authority_host: str | None = None
    graph_url: str | None = None
    ca_bundle: Path | None = None
    verify_tls: bool = True
    proxy_url: str | None = None
    timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_retries: int = Field(default=4, ge=0, le=10)
    max_retry_wait_seconds: float = Field(default=60, ge=0, le=900)
    token_cache_path: str | None = None  # a path, "none" to disable, None for the default
    output_dir: Path = Field(default_factory=lambda: default_output_dir())

    @model_validator(mode="after")
    def _check_credentials(self) -> ConnectionConfig:
        if self.backend == "ews" and self.ews_auth in ("ntlm", "basic"):
            if not (self.username and self.password):
                raise ValueError(f"ews_auth {self.ews_auth} needs username and password")
            if not self.ews_url:
                raise ValueError(f"ews_auth {self.ews_auth} needs ews_url (the on-premises server)")
            return self
        missing = [k for k in ("tenant_id", "client_id") if not getattr(self, k)]
        if missing:
            raise ValueError(f"missing {' and '.join(missing)} (the app registration)")
        if not (self.client_secret or self.certificate_path or self.certificate_pem):
            raise ValueError("give client_secret, or certificate_path / certificate_pem")
        return self

    # -- derived endpoints -------------------------------------------------------------------
    @property
    def cloud_info(self) -> Cloud:
        return CLOUDS[self.cloud]

    @property
    def authority(self) -> str:
        host = (self.authority_host or self.cloud_info.authority_host).rstrip("/")
        return f"{host}/{self.tenant_id}"

    @property
    def graph_base(self) -> str:
        """Graph root without version, e.g. ``https://graph.microsoft.com``."""
        return (self.graph_url or self.cloud_info.graph_url).rstrip("/")

    @property
    def graph_scope(self) -> str:
        # A sandbox or proxy graph_url still issues tokens for the cloud's Graph resource.
        return self.cloud_info.graph_scope

    @property
    def ews_endpoint(self) -> str:
        return self.ews_url or self.cloud_info.ews_url

    @property
    def ews_scope(self) -> str:
        return self.cloud_info.ews_scope

    @property
    def tls_verify(self) -> bool | str:
        """What ``requests`` gets as ``verify``: the CA bundle path, or a bool."""
        if not self.verify_tls:
            return False
        return str(self.ca_bundle) if self.ca_bundle else True
