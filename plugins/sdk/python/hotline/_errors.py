"""Errors of host calls, as exceptions a plugin can catch by area (call, kv, http, log).

The messages match the Rust and JavaScript SDKs word for word, so a plugin's fallback reason
and log lines read the same whichever language it is written in.
"""

from typing import Any, Optional

from componentize_py_types import Err


def _kebab(camel: str) -> str:
    out = []
    for i, ch in enumerate(camel):
        if ch.isupper() and i > 0:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


class HotlineError(Exception):
    """A host call refused, or a plugin's own reason to give up (see `GiveUp`).

    `kind` is the WIT case name (`"unknown-queue"`, `"timeout"`, ...); `detail` its payload.
    """

    area = "plugin"
    _texts: dict = {}

    def __init__(self, kind: str, detail: Any = None):
        self.kind = kind
        self.detail = detail
        super().__init__(str(self))

    def describe(self) -> str:
        text = self._texts.get(self.kind)
        if text is not None:
            return text(self.detail)
        return self.kind if self.detail is None else f"{self.kind}: {self.detail}"

    def __str__(self) -> str:
        return f"{self.area}: {self.describe()}"


_CALL = {
    "hung-up": lambda d: "the caller hung up",
    "handed-off": lambda d: "the call was already handed off",
    "unknown-prompt": lambda d: f"unknown prompt {d}",
    "unknown-queue": lambda d: f"unknown queue {d}",
    "unknown-agent": lambda d: f"unknown agent {d}",
    "invalid-number": lambda d: f"invalid number {d}",
    "invalid-argument": lambda d: f"invalid argument: {d}",
    "queue-refused": lambda d: f"queue refused the call: {d}",
    "transfer-failed": lambda d: f"transfer failed: {d}",
    "rate-limited": lambda d: "rate-limited",
    "quota-exceeded": lambda d: f"quota exceeded: {d}",
    "unavailable": lambda d: f"unavailable: {d}",
}

_KV = {
    "invalid-key": lambda d: f"invalid key: {d}",
    "value-too-large": lambda d: f"value larger than {d} bytes",
    "quota-exceeded": lambda d: f"quota exceeded: {d}",
    "rate-limited": lambda d: "rate-limited",
    "not-a-number": lambda d: "the stored value is not a number",
    "unavailable": lambda d: f"unavailable: {d}",
}

_HTTP = {
    "invalid-url": lambda d: f"invalid URL {d}",
    "host-not-allowed": lambda d: f"host {d} is not on the tenant's allowlist",
    "invalid-request": lambda d: f"invalid request: {d}",
    "request-too-large": lambda d: f"request body over {d} bytes",
    "response-too-large": lambda d: f"response body over {d} bytes",
    "not-text": lambda d: "the response is not UTF-8 text",
    "timeout": lambda d: "timeout",
    "connection-failed": lambda d: f"connection failed: {d}",
    "rate-limited": lambda d: "rate-limited",
}

_LOG = {
    "too-long": lambda d: f"line longer than {d} bytes",
    "budget-exhausted": lambda d: f"this call's {d} bytes of log are used up",
}



class CallError(HotlineError):
    """Call control refused: an unknown queue or prompt, a refused queue, a failed transfer..."""

    area = "call"
    _texts = _CALL


class HungUp(CallError):
    """The caller hung up. Escaping the handler, it ends the call as `caller-hung-up`."""


class HandedOff(CallError):
    """The call already belongs to a queue, an agent or a number: the outcome is `operator`."""


class KvError(HotlineError):
    area = "kv"
    _texts = _KV


class HttpError(HotlineError):
    """No HTTP response came back (a status like 404 or 500 is a response, not an error)."""

    area = "http"
    _texts = _HTTP


class LogError(HotlineError):
    area = "log"
    _texts = _LOG


class GiveUp(HotlineError):
    """Raise to end the call in the hotline's fallback with `reason` (plugin log, call record)."""

    def __init__(self, reason: str):
        super().__init__("give-up", reason)

    def __str__(self) -> str:
        return str(self.detail)


def _translate(err: Err, cls: type) -> HotlineError:
    value = err.value
    name = type(value).__name__
    kind = _kebab(name.split("_", 1)[1]) if "_" in name else _kebab(name)
    detail: Optional[Any] = getattr(value, "value", None)
    if cls is CallError and kind == "hung-up":
        return HungUp(kind)
    if cls is CallError and kind == "handed-off":
        return HandedOff(kind)
    return cls(kind, detail)


def host_call(cls: type, fn, *args):
    """Call a generated binding, turning its `Err` into the SDK's exception of class `cls`."""
    try:
        return fn(*args)
    except Err as err:
        raise _translate(err, cls) from None
