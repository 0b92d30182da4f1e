"""``python -m palyra_tui`` and the ``palyra-tui`` console script."""

from __future__ import annotations

import sys

from palyra_tui.cli.main import main as _main


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())


if __name__ == "__main__":
    main()
