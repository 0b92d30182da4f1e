"""The admin and browser tokens of a state root: created once, kept in the keyring or a
private file, never in argv, the state file, logs or exports.

No textual, no UI: the supervisor, the runtime host and the commands use it.  Its calls
block (file I/O, keyring calls with a timeout): from async code, run them in a thread.
"""

from palyra_tui.secrets.store import (
    BACKEND_ENV,
    Backend,
    BackendKind,
    SecretStore,
    StoredSecrets,
    StoreReport,
)
from palyra_tui.secrets.values import MAX_SECRET_BYTES, RuntimeSecrets, SecretName

__all__ = [
    "BACKEND_ENV",
    "MAX_SECRET_BYTES",
    "Backend",
    "BackendKind",
    "RuntimeSecrets",
    "SecretName",
    "SecretStore",
    "StoreReport",
    "StoredSecrets",
]
