"""The tenant's key-value store: small durable text shared by all of the tenant's plugins and
invisible to other tenants. Every function raises `hotline.KvError` when the store refuses."""

from typing import List, Optional

from wit_world.imports import kv as _kv

from ._errors import KvError, host_call


def get(key: str) -> Optional[str]:
    """The value under `key`, or None."""
    return host_call(KvError, _kv.get, key)


def set(key: str, value: str) -> None:  # noqa: A001 - the store's own verb
    """Store `value` under `key`, replacing what was there."""
    host_call(KvError, _kv.set, key, value)


def delete(key: str) -> bool:
    """Remove `key`; True if it existed."""
    return host_call(KvError, _kv.delete, key)


def increment(key: str, by: int = 1) -> int:
    """Add `by` to the integer under `key` (missing counts as 0), atomically; the new value."""
    return host_call(KvError, _kv.increment, key, by)


def list_keys(prefix: str, limit: int = 100) -> List[str]:
    """Keys starting with `prefix`, in byte order, at most `limit` (1 to 1,000)."""
    return host_call(KvError, _kv.list_keys, prefix, limit)
