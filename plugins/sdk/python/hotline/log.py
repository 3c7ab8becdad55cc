"""The tenant's plugin log. `info()` and friends never fail the call: a line over the limit or
past the call's log budget is dropped (`write()` raises `hotline.LogError` instead)."""

from wit_world.imports import log as _log

from ._errors import LogError, host_call

_LEVELS = {
    "debug": _log.Level.DEBUG,
    "info": _log.Level.INFO,
    "warn": _log.Level.WARN,
    "error": _log.Level.ERROR,
}


def write(level: str, message: str) -> None:
    """Append a line at `level` (`debug`, `info`, `warn`, `error`); raises LogError if refused."""
    host_call(LogError, _log.write, _LEVELS[level], message)


def _quiet(level: str, message: str) -> None:
    try:
        write(level, message)
    except LogError:
        pass


def debug(message: str) -> None:
    _quiet("debug", message)


def info(message: str) -> None:
    _quiet("info", message)


def warn(message: str) -> None:
    _quiet("warn", message)


def error(message: str) -> None:
    _quiet("error", message)
