"""Clients of the Palyra gateway: gRPC (``palyra.v1``) and HTTP (admin and console).

Protobuf types never leave this package; callers get :mod:`palyra_tui.models`.
"""

from palyra_tui.client.errors import ClientError
from palyra_tui.client.identity import ClientIdentity

__all__ = ["ClientError", "ClientIdentity"]
