"""``python -m palyra_tui`` and the ``palyra-tui`` console script.

Without a command (or with ``demo``) this opens the Textual control center;
every other command is headless and never imports Textual.  ``--config`` is
accepted before or after the command.
"""

from __future__ import annotations

import os
import sys

# Not typing.TYPE_CHECKING: importing typing takes long enough for Ctrl-C to land in it.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path
    from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point.

    Whatever stops start-up (Ctrl-C while modules load, a state root nobody
    can write to even for the error screen) ends in one sentence on stderr
    and an exit code from ``cli/exits.py``.  ``python -X dev`` shows the
    traceback of an unexpected error instead.
    """
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _main(args, leave=argv is None)
    except KeyboardInterrupt as interrupt:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)
        code = _report(interrupt)
    except Exception as error:
        if sys.flags.dev_mode:
            raise
        code = _report(error)
    sys.exit(code)


def _main(args: list[str], *, leave: bool = False) -> int:
    """Run the command; ``leave``: a scripting command ends the process when done."""
    opening = _opens_the_control_center(args)
    if opening is not None:
        return _tui(False, opening[0])
    from palyra_tui.cli.main import build_parser
    from palyra_tui.cli.parsing import parse

    parsed = parse(build_parser(), args)
    if parsed.command in (None, "demo"):
        return _tui(parsed.command == "demo", parsed.config)
    from palyra_tui.cli.commands import NAMES, run_command

    if parsed.command in NAMES:
        code = run_command(parsed)
        if leave:
            _leave(code)
        return code
    from palyra_tui.cli.main import main as cli_main

    return cli_main(args)


def _opens_the_control_center(args: list[str]) -> tuple[Path | None] | None:
    """``(config path or None,)`` when the arguments are nothing but an optional
    ``--config PATH``: the most common start skips building the parser of every
    command, about 20 ms on the way to the first frame."""
    from pathlib import Path

    if not args:
        return (None,)
    if len(args) == 2 and args[0] == "--config" and args[1] and not args[1].startswith("-"):
        return (Path(args[1]),)
    if len(args) == 1 and args[0].startswith("--config=") and len(args[0]) > len("--config="):
        return (Path(args[0].removeprefix("--config=")),)
    return None


def _leave(code: int) -> NoReturn:
    """End a scripting command at once: its output is flushed and its connections are
    closed, and tearing the interpreter down with grpc loaded costs 25 to 40 ms (a
    sixth of ``status``) for nothing."""
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _report(error: BaseException) -> int:
    from palyra_tui.cli.exits import report

    return report(error)


def _tui(demo: bool, config_path: object) -> int:
    """The control center; ``demo`` runs it over the reference daemons in a throw-away
    state root, removed when it quits.

    Attaching imports neither the supervisor nor the gateway clients: they live
    in the host, and loading them would only delay the first frame.
    """
    from pathlib import Path

    from palyra_tui.config import load_config
    from palyra_tui.errors import ConfigError

    path = config_path if isinstance(config_path, Path) else None
    try:
        config = load_config(path) if path is not None or not demo else None
    except ConfigError as error:
        from palyra_tui.ui.launch import run_tui, startup_reason

        return run_tui(None, startup_error=startup_reason(error))
    if demo:
        return _demo(config)
    assert config is not None
    from palyra_tui.ui.attach import run_attached

    return run_attached(config, path)


def _demo(base: object) -> int:
    import shutil
    import tempfile
    from pathlib import Path

    from palyra_tui.cli.demo import demo_config, demo_environ
    from palyra_tui.config import Config
    from palyra_tui.secrets import RuntimeSecrets
    from palyra_tui.ui.launch import run_tui

    root = Path(tempfile.mkdtemp(prefix="palyra-demo-"))
    try:
        config = base if isinstance(base, Config) else None
        # The state root goes when the demo ends: its tokens need not outlive it anywhere.
        return run_tui(
            demo_config(root, base=config),
            environ=demo_environ(),
            tokens=RuntimeSecrets.generate(),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
