"""audit-mockserver: faithful mocks of vendors' audit-log APIs, and a contract suite for their clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.settings import Settings

__all__ = ["Settings", "__version__", "create_app"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Lazy, so that importing one engine module does not pay for Starlette.
    if name == "create_app":
        from mockserver.app import create_app

        return create_app
    if name == "Settings":
        from mockserver.settings import Settings

        return Settings
    raise AttributeError(name)
