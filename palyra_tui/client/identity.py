"""Who palyra-tui is when it talks to the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field

from palyra_tui.config import DEFAULT_DEVICE_ID, DEFAULT_PRINCIPAL


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """The admin token plus the (principal, device, channel) triple.

    One fixed triple everywhere: sessions created over gRPC are visible only to
    console sessions logged in with the same triple.
    """

    admin_token: str = field(repr=False)
    principal: str = DEFAULT_PRINCIPAL
    device_id: str = DEFAULT_DEVICE_ID
    channel: str | None = None

    def grpc_metadata(self) -> tuple[tuple[str, str], ...]:
        """Metadata for every RPC except ``GetHealth``."""
        pairs = [
            ("authorization", f"Bearer {self.admin_token}"),
            ("x-palyra-principal", self.principal),
            ("x-palyra-device-id", self.device_id),
        ]
        if self.channel:
            pairs.append(("x-palyra-channel", self.channel))
        return tuple(pairs)

    def admin_headers(self) -> dict[str, str]:
        """Headers for ``/admin/v1/*``."""
        return dict(self.grpc_metadata())
