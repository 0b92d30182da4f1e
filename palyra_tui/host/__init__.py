"""The runtime host's transport: a typed codec and gRPC over a private Unix socket.

Generic over the API it carries.  ``codec`` turns the frozen models into JSON
and back; ``paths`` says where the socket lives; ``transport`` serves and calls
typed methods over it.  Nothing here imports textual, rich or the UI, and no
grpc type leaves the package.
"""

from palyra_tui.host.protocol import PROTOCOL_VERSION

__all__ = ["PROTOCOL_VERSION"]
