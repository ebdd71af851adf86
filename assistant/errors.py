"""A small exception hierarchy whose messages are safe to show a person.

The base and the errors the ingest side raises live in ``index.errors`` (data flows one way:
``index`` never imports ``assistant``); ``AssistantError`` is that base under the name the
shells catch, so ``except AssistantError`` covers an ingest error too.
"""

from index.errors import ConfigError, DocumentError, InputError, StoreError
from index.errors import UserFacingError as AssistantError

__all__ = [
    "AssistantError",
    "ConfigError",
    "DocumentError",
    "ForbiddenError",
    "InputError",
    "NotFoundError",
    "StoreError",
]


class NotFoundError(AssistantError):
    """A requested document does not exist in the index."""


class ForbiddenError(AssistantError):
    """The request comes from a site that may not use what it asks for (see ``origins``)."""
