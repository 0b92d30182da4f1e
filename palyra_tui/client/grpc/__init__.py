"""The gRPC client of palyrad (``grpc.aio``).

``GRPC_ENABLE_FORK_SUPPORT=false`` is set before anything here imports grpc:
palyra-tui forks daemons while streams are open, and with fork support grpc
starts a poller in the forked child that aborts it (SIGABRT, "epoll_wait
error: Bad file descriptor") once ``close_fds`` closes its epoll descriptor,
before the daemon's program runs.
"""

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

from palyra_tui.client.grpc.gateway import GatewayClient
from palyra_tui.client.grpc.run_stream import RunConversation

__all__ = ["GatewayClient", "RunConversation"]
