"""The error hierarchy shared by every part of hybrid-memory.

Every error the library raises on purpose is a :class:`HybridMemoryError`. Misuse (bad ids,
bad message shapes, malformed filters, bad configuration) raises a subclass of
:class:`UserInputError` whose message says what to change. Backend failures raise
:class:`StoreError`; failures of a model-backed extractor raise :class:`ExtractionError`, never an
empty result that would look like "nothing to remember".
"""

from __future__ import annotations


class HybridMemoryError(Exception):
    """Base class of every error raised by hybrid-memory."""


class UserInputError(HybridMemoryError, ValueError):
    """The caller passed something the library cannot accept; the message says what to change."""


class ScopeError(UserInputError):
    """Missing, empty or malformed user_id / agent_id / run_id."""


class MessageFormatError(UserInputError):
    """A message does not have the OpenAI chat shape (role, string content, ...)."""


class FilterError(UserInputError):
    """A metadata filter is malformed (unknown operator, wrong operand type, ...)."""


class ConfigError(UserInputError):
    """A configuration value is invalid or inconsistent."""


class InputTooLargeError(UserInputError):
    """A message, batch or memory text exceeds the configured size limits."""


class MemoryNotFoundError(HybridMemoryError, KeyError):
    """No memory with the given id exists (in the caller's scope)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else "memory not found"


class AmbiguousIdError(UserInputError):
    """A shortened memory id matches more than one memory; the message lists them.

    Attributes:
        prefix: the id as given.
        candidates: the full ids it matches (the first few).
    """

    def __init__(self, message: str, *, prefix: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.prefix = prefix
        self.candidates = candidates


class StoreError(HybridMemoryError):
    """A storage backend failed (I/O error, corrupt data, unavailable server)."""


class EmbedderMismatchError(StoreError):
    """A store was built with another embedder (name or dimension) than the one configured."""


class StoreLockedError(StoreError):
    """Another process (or another memory of this process) has the embedded store open.

    Embedded stores (SQLite and chroma under one data dir) have a single writer. To share a
    store between processes, let one process own it and serve the others, or use server
    backends. The message names the holder.

    Attributes:
        path: the lock file.
        holder: what the holder recorded (``pid``, ``host``, ``since``, ``program``), as far as
            it could be read.
    """

    def __init__(self, message: str, *, path: str, holder: dict[str, object]) -> None:
        super().__init__(message)
        self.path = path
        self.holder = holder


class ProcessingError(HybridMemoryError):
    """Messages were stored, but turning them into memories failed in a way a retry would
    repeat; they are quarantined (``HybridMemory.quarantined()`` lists them,
    ``HybridMemory.repair()`` retries them) and nothing else of the add was written.

    Attributes:
        message_ids: the quarantined messages.
    """

    def __init__(self, message: str, *, message_ids: list[str]) -> None:
        super().__init__(message)
        self.message_ids = message_ids


class QuarantineWarning(UserWarning):
    """Something stored could not be processed and was set aside (see ``quarantined()``)."""


class ExtractionError(HybridMemoryError):
    """A model-backed extractor or summarizer failed and could not recover."""


class TokenBudgetError(UserInputError):
    """A token budget is invalid or cannot be met (e.g. the system prompt alone is larger)."""


class SessionNotFoundError(HybridMemoryError, KeyError):
    """No session with the given id exists (it was never saved, was deleted, or expired)."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else "session not found"


class SessionConflictError(HybridMemoryError):
    """A session was saved by someone else since it was loaded (optimistic version check).

    Nothing was written. Reload the session, apply the change again, and save; or let
    ``SessionManager.update(session_id, change)`` do that loop.

    Attributes:
        session_id: The session that was saved concurrently.
        expected_version: The version the failed save was based on.
        actual_version: The version stored now (``None`` when the session no longer exists).
    """

    def __init__(
        self, message: str, *, session_id: str, expected_version: int, actual_version: int | None
    ) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.expected_version = expected_version
        self.actual_version = actual_version


class SessionCorruptError(StoreError):
    """A stored session (a JSON file, a row) cannot be read back; the message names it."""
