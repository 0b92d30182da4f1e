"""The HTTP client of palyrad's health, admin and console routes."""

from palyra_tui.client.http.gateway_http import GatewayHttp, parse_approval

__all__ = ["GatewayHttp", "parse_approval"]
