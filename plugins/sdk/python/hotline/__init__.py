"""Write Hotline plugins in Python: IVR scripts that talk to callers and agent scripts that
drive an operator's screen. A thin layer over the bindings componentize-py generates from the
`hotline:plugin@0.1.0` WIT (module `wit_world`, still importable for anything not covered).

An IVR plugin is one decorated function::

    import hotline
    from hotline import Call, Outcome

    @hotline.ivr
    def handle(call: Call):
        call.play("welcome")
        got = call.collect("menu", retry_prompt="sorry", retries=2)
        if got.digits == "1":
            call.enqueue("sales", priority=5, skills=["ru"])
            return Outcome.operator()
        return Outcome.fallback("no valid choice")

A `hotline.HotlineError` escaping the handler is not a crash: a hung-up caller ends as
`caller-hung-up`, a handed-off call as `operator`, anything else as `fallback` with the error as
the reason (the tenant's plugin log shows it). Other exceptions are bugs: the host stops the
plugin, the hotline's fallback takes the call and the traceback goes to the plugin log.

Never wait or spin in Python: CPU counts against the tenant's budget. Waiting for the caller
is free (host calls suspend the plugin).
"""

import sys
from typing import Callable

from wit_world.imports import types as _types

from . import clock, http, kv, log
from ._errors import CallError, GiveUp, HandedOff, HotlineError, HttpError, HungUp, KvError, LogError

__all__ = [
    "ivr", "agent_script", "Call", "Outcome", "silence", "clock", "http", "kv", "log",
    "HotlineError", "CallError", "HungUp", "HandedOff", "KvError", "HttpError", "LogError", "GiveUp",
]


class Outcome:
    """How an IVR handler ends its part of the call."""

    @staticmethod
    def self_served() -> "_types.Outcome":
        """The plugin answered the caller's question (the host hangs up if it did not)."""
        return _types.Outcome_SelfServed()

    @staticmethod
    def operator() -> "_types.Outcome":
        """The caller was handed to a person with `enqueue` or a transfer."""
        return _types.Outcome_Operator()

    @staticmethod
    def caller_hung_up() -> "_types.Outcome":
        return _types.Outcome_CallerHungUp()

    @staticmethod
    def fallback(reason: str) -> "_types.Outcome":
        """Give up: the hotline's fallback takes the call; `reason` goes to the plugin log."""
        return _types.Outcome_Fallback(reason)


def _outcome_of(err: HotlineError) -> "_types.Outcome":
    if isinstance(err, HungUp):
        return Outcome.caller_hung_up()
    if isinstance(err, HandedOff):
        return Outcome.operator()
    return Outcome.fallback(str(err))


def ivr(handler: Callable) -> Callable:
    """Mark `handler(call) -> Outcome` as the plugin's IVR (world `hotline:plugin/ivr`).

    componentize-py looks for a `WitWorld` class in the app module; this puts one there.
    """
    from ._call import Call

    class WitWorld:
        def handle_call(self, info: "_types.CallInfo") -> "_types.Outcome":
            try:
                return handler(Call(info))
            except HotlineError as err:
                return _outcome_of(err)

    sys.modules[handler.__module__].WitWorld = WitWorld
    return handler


def agent_script(script: type) -> type:
    """Mark a class with `render(call)` and `submit(call, form)` as the plugin's agent script
    (world `hotline:plugin/agent-script`); see `hotline.agent`."""
    from . import agent

    sys.modules[script.__module__].WitWorld = agent._world(script)
    return script


def __getattr__(name: str):
    # Call control exists only in the IVR world: import it when asked for, so an agent
    # script (whose bindings have no `call` interface) can still import this package.
    if name in ("Call", "silence"):
        from . import _call

        return getattr(_call, name)
    raise AttributeError(f"module 'hotline' has no attribute {name!r}")
