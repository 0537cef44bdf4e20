"""The `vertexmeter` command: `run()` is the entry point, `main` the click group (cli/app.py).

`run()` answers the plain form of the command people type most — `vertexmeter count -m MODEL TEXT...`
(quick.py) — without importing click, which alone is a third of that command's start; every other
command line, and every refusal, goes through the click group unchanged.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the quick path imports nothing it does not use
if TYPE_CHECKING:
    from typing import Any

    from vertexmeter.cli.app import main

__all__ = ["main", "run"]


def run() -> None:
    """The console script: the quick path when the command line is the plain count form, else click."""
    import sys

    from vertexmeter.cli.quick import answer

    if answer(sys.argv[1:]):
        return
    from vertexmeter.cli.app import main

    main(prog_name="vertexmeter")


def __getattr__(name: str) -> Any:
    if name == "main":
        from vertexmeter.cli.app import main

        return main
    raise AttributeError(f"module 'vertexmeter.cli' has no attribute {name!r}")
