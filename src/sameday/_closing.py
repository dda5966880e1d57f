"""``Closing``: context-manager support for anything that owns connections and has ``close()``.

Stores, sinks, writers and clients all follow one lifecycle (open in the constructor, release in
``close()``), so ``with`` support is written once here.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """Adds ``with obj: ...`` to a class that defines ``close()``."""

    def close(self) -> None:
        """Release what the object holds; subclasses with resources override it."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
