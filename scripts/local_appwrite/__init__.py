"""A local Appwrite for development and tests: Appwrite's REST API over SQLite, running our functions.

See ``app.py`` for how the pieces fit; ``python -m local_appwrite`` serves it.
"""

from .app import LocalAppwrite
from .stack_settings import StackSettings

__all__ = ["LocalAppwrite", "StackSettings"]
