"""The gRPC client of palyrad (``grpc.aio``)."""

from palyra_tui.client.grpc.gateway import GatewayClient
from palyra_tui.client.grpc.run_stream import RunConversation

__all__ = ["GatewayClient", "RunConversation"]
