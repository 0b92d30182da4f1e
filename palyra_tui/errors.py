"""Errors that cross layer boundaries, each with a sentence an operator can act on.

PalyraError
├── ConfigError          a config file or value is wrong (names the file and the key)
├── BinaryNotFound       a daemon binary could not be resolved
├── InstanceLocked       another supervisor owns the state root
├── StateRootUnusable    the state root is a file, not writable, or its disk is full
└── SupervisorError      an operation on the supervisor failed (unknown service, stopped)
"""

from __future__ import annotations


class PalyraError(Exception):
    """Base of every error palyra-tui reports to a person."""


class ConfigError(PalyraError):
    """The configuration cannot be used; the message names the file and the key."""


class BinaryNotFound(PalyraError):
    """A service binary could not be located."""


class InstanceLocked(PalyraError):
    """Another palyra-tui supervisor already runs for the same state root."""


class StateRootUnusable(PalyraError):
    """The state root cannot hold palyra-tui's directory (a file, read-only, full)."""


class SupervisorError(PalyraError):
    """An operation asked of the supervisor cannot be carried out."""
