"""The errors of the ingest side, whose messages are safe to show a person.

``index`` depends on nothing in ``assistant``: the assistant's own errors
(``assistant.errors``) are these, under the name ``AssistantError`` for the base, plus the
ones only a shell raises (not found, forbidden).
"""


class UserFacingError(Exception):
    """Base error: the message is meant for the person using the assistant."""


class InputError(UserFacingError):
    """The question or request is not acceptable (empty, too long, malformed)."""


class ConfigError(UserFacingError):
    """A setting is wrong or an optional dependency is missing."""


class StoreError(UserFacingError):
    """The vector store cannot be reached or is inconsistent."""


class DocumentError(UserFacingError):
    """A document cannot be read or indexed; names the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason
