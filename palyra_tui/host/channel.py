"""gRPC settings shared by the host's server and its clients.

* 16 MiB messages: a stream batch holds up to 256 KiB, a unary reply (a
  transcript, a snapshot) may be larger; anything bigger is a bug to report.
* Clients ping every 30 s while a call is open, so a host that hangs without
  closing the socket is noticed on an idle stream; the server accepts pings
  that often (its default answers the third ping within five minutes with
  GOAWAY).
* Reconnect backoff 100–400 ms: a restarted host is reachable again at once.
* Each channel has subchannels of its own: a client that attaches just after a
  probe failed to connect (a host still starting) must not inherit that failure.
* ``GRPC_ENABLE_FORK_SUPPORT=false``: the host forks daemons while streams are
  open; fork support only adds risk for a fork+exec supervisor.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import grpc

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 5.0

_SIZES = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
)
SERVER_OPTIONS = (*_SIZES, ("grpc.http2.max_ping_strikes", 0))
CHANNEL_OPTIONS = (
    *_SIZES,
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 400),
    ("grpc.enable_http_proxy", 0),
    ("grpc.use_local_subchannel_pool", 1),
)

__all__ = [
    "CHANNEL_OPTIONS",
    "DEFAULT_TIMEOUT",
    "HANDSHAKE_TIMEOUT",
    "MAX_MESSAGE_BYTES",
    "SERVER_OPTIONS",
    "grpc",
]
