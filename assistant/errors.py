"""A small exception hierarchy whose messages are safe to show a person."""


class AssistantError(Exception):
    """Base error: the message is meant for the person using the assistant."""


class InputError(AssistantError):
    """The question or request is not acceptable (empty, too long, malformed)."""


class ConfigError(AssistantError):
    """A setting is wrong or an optional dependency is missing."""


class StoreError(AssistantError):
    """The vector store cannot be reached or is inconsistent."""


class DocumentError(AssistantError):
    """A document cannot be read or indexed; names the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class NotFoundError(AssistantError):
    """A requested document does not exist in the index."""


class ForbiddenError(AssistantError):
    """The request comes from a site that may not use what it asks for (see ``origins``)."""
