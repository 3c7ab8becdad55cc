"""The caller's call: what is known of it and every call-control verb as a method. Each verb
is a host call that suspends the plugin (no CPU budget is used while a prompt plays or keys are
awaited) and raises `hotline.CallError` (`HungUp`, `HandedOff`, ...) when refused."""

from dataclasses import dataclass
from typing import Dict, List, Optional, Union

from wit_world.imports import call as _call
from wit_world.imports import types as _types

from ._errors import CallError, host_call
from .clock import LocalTime

PromptLike = Union[str, "_call.Prompt"]


def silence(ms: int) -> "_call.Prompt_Silence":
    """A pause of `ms` milliseconds (at most 60,000) to pass where a prompt goes."""
    return _call.Prompt_Silence(ms)


def _prompt(prompt: Optional[PromptLike]):
    if prompt is None:
        return None
    if isinstance(prompt, str):
        return _call.Prompt_Named(prompt)
    return prompt


@dataclass(frozen=True)
class Collected:
    """What `collect` gathered. `end` is `max-digits`, `terminator`, `inter-digit-timeout`,
    `total-timeout` or `no-input`."""

    digits: str
    terminator: Optional[str]
    end: str
    attempts: int

    @property
    def no_input(self) -> bool:
        """Every attempt ended without enough keys."""
        return self.end == "no-input"


@dataclass(frozen=True)
class Voicemail:
    """A stored voicemail: its recording id (readable by the tenant through the API)."""

    recording_id: str
    duration_ms: int


@dataclass(frozen=True)
class QueueTicket:
    position: int
    estimated_wait_seconds: Optional[int]


_ENDS = {
    _call.CollectEnd.MAX_DIGITS: "max-digits",
    _call.CollectEnd.TERMINATOR: "terminator",
    _call.CollectEnd.INTER_DIGIT_TIMEOUT: "inter-digit-timeout",
    _call.CollectEnd.TOTAL_TIMEOUT: "total-timeout",
    _call.CollectEnd.NO_INPUT: "no-input",
}

_CAUSES = {
    "normal": _call.HangupCause.NORMAL,
    "busy": _call.HangupCause.BUSY,
    "rejected": _call.HangupCause.REJECTED,
    "unavailable": _call.HangupCause.UNAVAILABLE,
}


class Call:
    """The call an IVR plugin runs for (the `@hotline.ivr` handler's argument)."""

    def __init__(self, info: "_types.CallInfo"):
        self.info = info

    @property
    def caller(self) -> str:
        """The caller's number in E.164, or `anonymous`."""
        return self.info.caller

    @property
    def is_anonymous(self) -> bool:
        return self.info.caller == "anonymous"

    @property
    def dialed(self) -> str:
        return self.info.dialed

    @property
    def language(self) -> str:
        """The hotline's prompt language (BCP 47, e.g. `en`)."""
        return self.info.language

    @property
    def hotline_name(self) -> str:
        return self.info.hotline_name

    @property
    def call_id(self) -> str:
        return self.info.call_id

    @property
    def arrived_at(self) -> LocalTime:
        return LocalTime.from_wit(self.info.arrived_at)

    @property
    def is_open(self) -> bool:
        """The hotline's schedule says it is open."""
        return self.info.branch == _types.ScheduleBranch.OPEN

    def answer(self) -> None:
        host_call(CallError, _call.answer)

    def play(self, prompt: PromptLike, barge_in: bool = False, keys: str = "") -> Optional[str]:
        """Play a prompt. With `barge_in`, one of `keys` (empty: any) stops it and is returned."""
        options = _call.PlayOptions(barge_in=barge_in, barge_in_digits=keys)
        return host_call(CallError, _call.play, _prompt(prompt), options)

    def collect(self, prompt: Optional[PromptLike] = None, *, retry_prompt: Optional[PromptLike] = None,
                min_digits: int = 1, max_digits: int = 1, terminators: str = "",
                first_digit_timeout_ms: int = 5_000, inter_digit_timeout_ms: int = 3_000,
                total_timeout_ms: int = 0, retries: int = 0) -> Collected:
        """Gather the caller's keys. The defaults suit a one-key menu."""
        options = _call.CollectOptions(
            prompt=_prompt(prompt),
            retry_prompt=_prompt(retry_prompt),
            min_digits=min(min_digits, max_digits),
            max_digits=max_digits,
            terminators=terminators,
            first_digit_timeout_ms=first_digit_timeout_ms,
            inter_digit_timeout_ms=inter_digit_timeout_ms,
            total_timeout_ms=total_timeout_ms,
            retries=retries,
        )
        got = host_call(CallError, _call.collect, options)
        return Collected(got.digits, got.terminator, _ENDS[got.end], got.attempts)

    def say_digits(self, digits: str) -> None:
        host_call(CallError, _call.say_digits, digits)

    def say_number(self, number: int) -> None:
        host_call(CallError, _call.say_number, number)

    def enqueue(self, queue: str, *, priority: int = 0, skills: Optional[List[str]] = None) -> QueueTicket:
        """Put the caller in one of the tenant's queues; then return `Outcome.operator()`."""
        options = _call.EnqueueOptions(priority=priority, required_skills=list(skills or []))
        ticket = host_call(CallError, _call.enqueue, queue, options)
        return QueueTicket(ticket.position, ticket.estimated_wait_seconds)

    def transfer_to_agent(self, agent: str) -> None:
        host_call(CallError, _call.transfer, _call.TransferTarget_Agent(agent))

    def transfer_to_queue(self, queue: str) -> None:
        host_call(CallError, _call.transfer, _call.TransferTarget_Queue(queue))

    def transfer_to_number(self, number: str) -> None:
        host_call(CallError, _call.transfer, _call.TransferTarget_Number(number))

    def offer_callback(self, queue: str, *, prompt: Optional[PromptLike] = None, accept_digit: str = "1",
                       timeout_ms: int = 5_000, number: Optional[str] = None) -> Optional[str]:
        """Offer a call back from `queue`; the callback's id if the caller accepted, else None."""
        options = _call.CallbackOptions(
            queue=queue, prompt=_prompt(prompt), accept_digit=accept_digit,
            timeout_ms=timeout_ms, number=number,
        )
        decision = host_call(CallError, _call.offer_callback, options)
        return getattr(decision, "value", None)

    def record_voicemail(self, *, prompt: Optional[PromptLike] = None, max_duration_ms: int = 120_000,
                         silence_timeout_ms: int = 5_000, terminators: str = "#",
                         beep: bool = True) -> Voicemail:
        """Record a message into the tenant's voicemail."""
        options = _call.VoicemailOptions(
            prompt=_prompt(prompt), max_duration_ms=max_duration_ms,
            silence_timeout_ms=silence_timeout_ms, terminators=terminators, beep=beep,
        )
        stored = host_call(CallError, _call.record_voicemail, options)
        return Voicemail(stored.recording_id, stored.duration_ms)

    def set_var(self, name: str, value: str) -> None:
        """Set a variable: it goes into the call record and the agent's screen pop."""
        host_call(CallError, _call.set_var, name, str(value))

    def var(self, name: str) -> Optional[str]:
        return _call.get_var(name)

    def vars(self) -> Dict[str, str]:
        return {v.name: v.value for v in _call.vars()}

    def hangup(self, cause: str = "normal") -> None:
        """End the call (`normal`, `busy`, `rejected`, `unavailable`)."""
        host_call(CallError, _call.hangup, _CAUSES[cause])
