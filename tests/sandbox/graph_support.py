"""Helpers for the Graph face tests: a real msal + requests client, and response validation
against the Graph OpenAPI subset in ../shared (never copied into the repository)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import msal
import requests
import yaml
from openapi_schema_validator import OAS30Validator

from exchange_sandbox.process import Sandbox

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PHISH_SUBJECT = "Action required: overdue invoice INV-20931"
PHISH_SENDER = "billing@contoso-payments.com"


def graph_token(sandbox: Sandbox, app: str | dict[str, Any] = "full", auth: str = "secret") -> str:
    """An app-only Graph access token from the sandbox, through the real msal; ``app`` is a
    seeded app's name or a registration the admin API returned."""
    registration = sandbox.app(app) if isinstance(app, str) else app
    http = requests.Session()
    http.trust_env = False
    http.verify = sandbox.ca_bundle
    credential: Any = registration["client_secret"]
    if auth == "certificate":
        pem = Path(registration["certificate_path"]).read_text()
        credential = {"private_key": pem, "public_certificate": pem}
    client = msal.ConfidentialClientApplication(
        registration["client_id"],
        client_credential=credential,
        authority=f"{sandbox.info['authority_host']}/{sandbox.tenant_id}",
        instance_discovery=False,
        http_client=http,
    )
    result = client.acquire_token_for_client([GRAPH_SCOPE])
    assert "access_token" in result, result.get("error_description")
    return result["access_token"]


def app_client(sandbox: Sandbox, roles: list[str], **registration: Any) -> GraphClient:
    """A client for a new app registered with ``roles`` (and e.g. a ``mailbox_scope``)."""
    app = sandbox.add_app(name="graph-test", roles=roles, **registration)
    return GraphClient(sandbox, graph_token(sandbox, app))


class GraphClient:
    """requests against ``<graph_url>/<version>`` with a bearer token (environment ignored)."""

    def __init__(self, sandbox: Sandbox, token: str | None, version: str = "v1.0") -> None:
        self.root = f"{sandbox.info['graph_url']}/{version}"
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = sandbox.ca_bundle
        if token is not None:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.root}{path}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.http.request(method, self.url(path), timeout=60, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        """The JSON body of a request that must answer ``status``."""
        response = self.request(method, path, **kw)
        assert response.status_code == status, (response.status_code, response.text[:500])
        return response.json() if response.content else None

    def messages(self, user: str, query: str = "") -> list[dict[str, Any]]:
        """Every message of a list request, following @odata.nextLink."""
        found: list[dict[str, Any]] = []
        url: str | None = f"/users/{user}/messages{query}"
        while url:
            page = self.ok("GET", url)
            found.extend(page["value"])
            url = page.get("@odata.nextLink")
        return found

    def phish(self, user: str = "alice@contoso.com") -> dict[str, Any]:
        """The seeded campaign message in ``user``'s Inbox."""
        found = self.ok(
            "GET",
            f"/users/{user}/mailFolders/inbox/messages",
            params={"$filter": f"subject eq '{PHISH_SUBJECT}'"},
        )["value"]
        assert found, f"no campaign message for {user}"
        return found[0]


def assert_graph_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    """The response is Graph's OData error with this status and code (and tracing ids)."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    inner = error["innerError"]
    assert inner["request-id"] == response.headers["request-id"]
    assert inner["client-request-id"] == response.headers["client-request-id"]
    assert inner["date"]
    return error


# -- OpenAPI validation --------------------------------------------------------------------------
_KEPT_ANNOTATIONS = {"@odata.type", "@odata.nextLink"}


def _strip_annotations(value: Any) -> Any:
    """OData control information (``@odata.context``, ``@odata.etag``, ``x@odata.context``) is
    not part of the entity properties the OpenAPI schemas describe."""
    if isinstance(value, dict):
        return {
            k: _strip_annotations(v)
            for k, v in value.items()
            if "@odata." not in k or k in _KEPT_ANNOTATIONS
        }
    if isinstance(value, list):
        return [_strip_annotations(v) for v in value]
    return value


def _open_composition(node: Any) -> Any:
    """Drops ``additionalProperties`` from every schema. Graph's OpenAPI composes types with
    ``allOf`` (entity -> outlookItem -> message) and gives each layer
    ``additionalProperties: {type: object}``; JSON Schema applies that per layer, so every
    property of a derived type would have to be an object. Property types, enums, formats
    and nullability are still checked."""
    if isinstance(node, dict):
        return {k: _open_composition(v) for k, v in node.items() if k != "additionalProperties"}
    if isinstance(node, list):
        return [_open_composition(v) for v in node]
    return node


class OpenApi:
    """The Graph mail OpenAPI subset; validates a body against an operation's 2XX schema."""

    def __init__(self, path: Path) -> None:
        self.spec = _open_composition(yaml.safe_load(path.read_text()))

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            found: Any = self.spec
            for part in node["$ref"].lstrip("#/").split("/"):
                found = found[part]
            node = found
        return node

    def schema(self, method: str, path: str) -> dict[str, Any]:
        operation = self.spec["paths"][path][method.lower()]
        responses = operation["responses"]
        success = next(self._resolve(v) for k, v in responses.items() if k.startswith("2"))
        return success["content"]["application/json"]["schema"]

    def validate(self, method: str, path: str, body: Any) -> None:
        """Raises jsonschema.ValidationError when ``body`` does not fit the operation."""
        schema = {**self.schema(method, path), "components": self.spec["components"]}
        OAS30Validator(schema).validate(_strip_annotations(body))


@functools.lru_cache(maxsize=1)
def openapi(shared_dir: Path) -> OpenApi:
    """The parsed OpenAPI subset (parsed once per session)."""
    return OpenApi(shared_dir / "graph" / "openapi-mail-subset.yaml")
