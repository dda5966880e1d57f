"""sameday: from batch recommender output to a trustworthy online test, the same day.

``import sameday`` stays light: heavy parts (``sameday.analysis``, ``sameday.pipeline``) are
imported as subpackages when needed, and ``sameday.Client`` is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sameday._version import __version__
from sameday.errors import ConfigError, Problem, SamedayError

if TYPE_CHECKING:
    from sameday.serve.client import Client

__all__ = ["Client", "ConfigError", "Problem", "SamedayError", "__version__"]


def __getattr__(name: str) -> Any:
    # The client pulls in the serving stack; load it only for those who use it.
    if name == "Client":
        from sameday.serve.client import Client

        return Client
    raise AttributeError(f"module 'sameday' has no attribute {name!r}")
