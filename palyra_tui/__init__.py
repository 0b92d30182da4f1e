"""palyra-tui: a terminal control center for the Palyra agent gateway."""

__version__ = "0.1.0"
