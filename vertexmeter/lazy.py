"""Names a package loads on first use (PEP 562), so that importing it costs nothing until they are needed."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: the packages using this stay cheap to import
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def lazy_attributes(package: str, homes: dict[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that imports each name from its home module on first use."""

    def __getattr__(name: str) -> Any:
        import sys
        from importlib import import_module

        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(home), name)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    return __getattr__
