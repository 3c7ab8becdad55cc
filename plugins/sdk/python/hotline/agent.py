"""Agent scripts: what an operator's screen shows for a call (title, caller facts, the tenant's
talk script, a form) and what happens to the submitted form. Decorate a class having
`render(self, call) -> Screen` and `submit(self, call, form) -> Accepted | Rejection` with
`@hotline.agent_script`. An agent script cannot control the call.

A `hotline.HotlineError` escaping `submit` rejects the submission with the error under the
name `FORM_ERROR`, so the agent can try again."""

from typing import Dict, List, Optional, Sequence

from wit_world.imports import agent_screen as _screen
from wit_world.imports import types as _types

from ._errors import HotlineError

FORM_ERROR = "_form"


class Context:
    """The call as an agent script sees it: its info and its variables now."""

    def __init__(self, info: "_types.CallInfo", vars: List["_types.Var"]):
        self.info = info
        self.vars: Dict[str, str] = {v.name: v.value for v in vars}

    @property
    def caller(self) -> str:
        return self.info.caller

    @property
    def hotline_name(self) -> str:
        return self.info.hotline_name

    def var(self, name: str) -> Optional[str]:
        return self.vars.get(name)


class Form:
    """The submitted form."""

    def __init__(self, values: List["_screen.FieldValue"]):
        self.values: Dict[str, str] = {}
        for value in values:
            self.values.setdefault(value.name, value.value)

    def get(self, name: str) -> Optional[str]:
        """A field's value, trimmed; None when absent or blank."""
        value = self.values.get(name, "").strip()
        return value or None


class Field:
    """A form field; build with `Field.text(...)`, `Field.number(...)`, ..."""

    def __init__(self, name: str, label: str, kind, required: bool = False,
                 default_value: Optional[str] = None):
        self.name, self.label, self.kind = name, label, kind
        self.required, self.default_value = required, default_value

    @classmethod
    def text(cls, name: str, label: str, **kw) -> "Field":
        return cls(name, label, _screen.FieldKind_Text(), **kw)

    @classmethod
    def multiline(cls, name: str, label: str, **kw) -> "Field":
        return cls(name, label, _screen.FieldKind_Multiline(), **kw)

    @classmethod
    def number(cls, name: str, label: str, **kw) -> "Field":
        return cls(name, label, _screen.FieldKind_Number(), **kw)

    @classmethod
    def choice(cls, name: str, label: str, options: Sequence[str], **kw) -> "Field":
        return cls(name, label, _screen.FieldKind_Choice(list(options)), **kw)

    @classmethod
    def checkbox(cls, name: str, label: str, **kw) -> "Field":
        return cls(name, label, _screen.FieldKind_Checkbox(), **kw)

    def _wit(self) -> "_screen.Field":
        return _screen.Field(self.name, self.label, self.kind, self.required, self.default_value)


class Screen:
    """The agent's screen, built step by step: `Screen(title).fact(..).step(..).field(..)`."""

    def __init__(self, title: str):
        self.title = title
        self.facts: List[_screen.Fact] = []
        self.script: List[_screen.Step] = []
        self.form: List[Field] = []

    def fact(self, label: str, value: str) -> "Screen":
        self.facts.append(_screen.Fact(label, value))
        return self

    def step(self, id: str, title: str, text: str) -> "Screen":
        self.script.append(_screen.Step(id, title, text))
        return self

    def field(self, field: Field) -> "Screen":
        self.form.append(field)
        return self

    def _wit(self) -> "_screen.Screen":
        return _screen.Screen(self.title, self.facts, self.script, [f._wit() for f in self.form])


class Accepted:
    """An accepted submission: variables to set, a disposition to suggest, a note."""

    def __init__(self):
        self.vars: List[_types.Var] = []
        self._disposition: Optional[str] = None
        self._message: Optional[str] = None

    def var(self, name: str, value: str) -> "Accepted":
        self.vars.append(_types.Var(name, value))
        return self

    def disposition(self, disposition: str) -> "Accepted":
        self._disposition = disposition
        return self

    def message(self, message: str) -> "Accepted":
        self._message = message
        return self

    def _wit(self):
        return _screen.SubmitResult_Accepted(
            _screen.Accepted(self.vars, self._disposition, self._message))


class Rejection:
    """Field errors collected while checking a form; truthy when any was noted."""

    def __init__(self):
        self.errors: List[_screen.FieldError] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append(_screen.FieldError(field, message))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def _wit(self):
        return _screen.SubmitResult_Rejected(self.errors)


def _world(script_class: type):
    script = script_class()

    class WitWorld:
        def render(self, info, vars):
            return script.render(Context(info, vars))._wit()

        def submit(self, info, vars, form):
            try:
                return script.submit(Context(info, vars), Form(form))._wit()
            except HotlineError as err:
                rejected = Rejection()
                rejected.error(FORM_ERROR, str(err))
                return rejected._wit()

    return WitWorld
