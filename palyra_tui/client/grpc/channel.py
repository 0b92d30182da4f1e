"""The gRPC channel to a local gateway: options tuned for a daemon that restarts.

* Reconnect backoff starts at 100 ms and stops growing at 400 ms (±20 % jitter),
  so a restarted gateway is reachable again within half a second; the default
  (1 s × 1.6, up to 120 s) would leave the UI offline for minutes.
* Keepalive pings every 60 s (servers refuse more frequent pings), so a gateway
  that vanishes without a RST is noticed on idle streams.
* 4 MiB messages each way, as palyrad is configured.
* Each channel has subchannels of its own (``grpc.use_local_subchannel_pool``).
  grpc otherwise shares them between channels to one address, so a new channel
  made just after another failed to connect inherits that failure and its
  backoff: its first call fails at once with the old error.
* Fork support is off (the package sets ``GRPC_ENABLE_FORK_SUPPORT=false``).
"""

from __future__ import annotations

import grpc

MAX_MESSAGE_BYTES = 4 * 1024 * 1024

CHANNEL_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 400),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.enable_http_proxy", 0),
    ("grpc.use_local_subchannel_pool", 1),
)


def open_channel(target: str, *, tls: bool = False) -> grpc.aio.Channel:
    """A channel to ``host:port``: over TLS with the system's roots for a remote gateway
    reached by ``https``, else in the clear (the local gateway's loopback); create it on
    the loop that will use it."""
    if tls:
        credentials = grpc.ssl_channel_credentials()
        return grpc.aio.secure_channel(target, credentials, options=list(CHANNEL_OPTIONS))
    return grpc.aio.insecure_channel(target, options=list(CHANNEL_OPTIONS))
