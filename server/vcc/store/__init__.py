"""Event store: an append-only log per consultation, embedded (SQLite) or on Redis.

Both backends pass the same contract suite (``tests/store``); see ``base``
for the contract and each backend module for its durability.
"""

from __future__ import annotations

import os

from .base import (
    ConcurrencyConflict,
    DuplicateCommand,
    EventStore,
    StoreError,
    StoreUnavailable,
    StreamHead,
    Subscription,
)

__all__ = [
    "ConcurrencyConflict",
    "DuplicateCommand",
    "EventStore",
    "StoreError",
    "StoreUnavailable",
    "StreamHead",
    "Subscription",
    "open_store",
]


def open_store(url_or_path: str | os.PathLike[str]) -> EventStore:
    """Make the store named by ``url_or_path``; it still has to be opened.

    - ``redis://...``, ``rediss://...`` or ``unix://...``: a ``RedisStore``
      on that server (use one with ``appendonly yes`` and
      ``appendfsync always`` for a durable log);
    - anything else is a path for a ``SqliteStore``: an existing directory,
      or a new path without a ``.sqlite``/``.sqlite3``/``.db`` suffix, is a
      directory that gets ``events.sqlite``; otherwise the path is the
      database file itself.

    Use it as ``async with open_store(where) as store: ...`` or call
    ``await store.open()`` and ``await store.close()``.
    """
    target = os.fspath(url_or_path)
    if target.startswith(("redis://", "rediss://", "unix://")):
        from .redis import RedisStore  # Redis support is imported only when used

        return RedisStore(target)
    from .sqlite import SqliteStore

    return SqliteStore(target)
