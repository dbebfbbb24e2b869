"""National clouds: one entry gives the login, Graph and EWS hosts and scopes together."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Cloud(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    authority_host: str  # https://login.microsoftonline.com
    graph_url: str  # https://graph.microsoft.com
    ews_url: str  # https://outlook.office365.com/EWS/Exchange.asmx
    ews_resource: str  # https://outlook.office365.com (scope = resource + "/.default")
    supports_permanent_delete: bool  # Graph message permanentDelete exists in the global cloud only

    @property
    def graph_scope(self) -> str:
        return f"{self.graph_url}/.default"

    @property
    def ews_scope(self) -> str:
        return f"{self.ews_resource}/.default"


# Microsoft's national cloud deployments (learn.microsoft.com/graph/deployments and the EWS
# endpoints of Exchange Online in each).
CLOUDS: dict[str, Cloud] = {
    c.name: c
    for c in (
        Cloud(
            name="global",
            authority_host="https://login.microsoftonline.com",
            graph_url="https://graph.microsoft.com",
            ews_url="https://outlook.office365.com/EWS/Exchange.asmx",
            ews_resource="https://outlook.office365.com",
            supports_permanent_delete=True,
        ),
        Cloud(
            name="usgov",  # GCC: commercial endpoints for Graph and EWS
            authority_host="https://login.microsoftonline.com",
            graph_url="https://graph.microsoft.com",
            ews_url="https://outlook.office365.com/EWS/Exchange.asmx",
            ews_resource="https://outlook.office365.com",
            supports_permanent_delete=False,
        ),
        Cloud(
            name="usgovhigh",  # GCC High
            authority_host="https://login.microsoftonline.us",
            graph_url="https://graph.microsoft.us",
            ews_url="https://outlook.office365.us/EWS/Exchange.asmx",
            ews_resource="https://outlook.office365.us",
            supports_permanent_delete=False,
        ),
        Cloud(
            name="dod",
            authority_host="https://login.microsoftonline.us",
            graph_url="https://dod-graph.microsoft.us",
            ews_url="https://webmail.apps.mil/EWS/Exchange.asmx",
            ews_resource="https://webmail.apps.mil",
            supports_permanent_delete=False,
        ),
        Cloud(
            name="china",  # operated by 21Vianet
            authority_host="https://login.chinacloudapi.cn",
            graph_url="https://microsoftgraph.chinacloudapi.cn",
            ews_url="https://partner.outlook.cn/EWS/Exchange.asmx",
            ews_resource="https://partner.outlook.cn",
            supports_permanent_delete=False,
        ),
    )
}
