"""The control center's screens."""
