//! Agent scripts: what an operator's screen shows for a call (title, caller facts, the tenant's
//! talk script, a form) and what happens to the form. Implement [`AgentScript`] on a type and
//! mark the impl `#[hotline::agent_script]`. An agent script cannot control the call.

pub use crate::bindings::agent_script::hotline::plugin::agent_screen::{
    Accepted, Fact, Field, FieldError, FieldKind, FieldValue, Screen, Step, SubmitResult,
};
use crate::bindings::wit_types::{CallInfo, Var};
use crate::Result;

/// Form-level errors (not beside one field) carry this name, e.g. "the CRM is down, try again".
pub const FORM_ERROR: &str = "_form";

/// What an agent script knows of the call: its info and its variables now (the IVR's included).
#[derive(Debug)]
pub struct Context {
    info: CallInfo,
    vars: Vec<Var>,
}

impl Context {
    pub fn new(info: CallInfo, vars: Vec<Var>) -> Self {
        Self { info, vars }
    }

    pub fn info(&self) -> &CallInfo {
        &self.info
    }

    /// The caller's number in E.164, or `anonymous`.
    pub fn caller(&self) -> &str {
        &self.info.caller
    }

    pub fn hotline_name(&self) -> &str {
        &self.info.hotline_name
    }

    /// A variable of the call, if set.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.value.as_str())
    }

    pub fn vars(&self) -> &[Var] {
        &self.vars
    }
}

/// The form as the agent submitted it.
#[derive(Debug)]
pub struct Form {
    values: Vec<FieldValue>,
}

impl Form {
    pub fn new(values: Vec<FieldValue>) -> Self {
        Self { values }
    }

    /// A field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn values(&self) -> &[FieldValue] {
        &self.values
    }
}

/// An agent-script plugin.
pub trait AgentScript {
    /// The screen for a call.
    fn render(call: &Context) -> Screen;

    /// The agent submitted the form. An error that escapes with `?` rejects the submission
    /// with the error under [`FORM_ERROR`], so the agent can try again.
    fn submit(call: &Context, form: &Form) -> Result<SubmitResult>;
}

impl Screen {
    pub fn new(title: impl Into<String>) -> Self {
        Screen {
            title: title.into(),
            facts: Vec::new(),
            script: Vec::new(),
            form: Vec::new(),
        }
    }

    /// A labelled fact ("Customer", "Jana Novakova").
    pub fn fact(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.facts.push(Fact {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    /// The next step of the talk script.
    pub fn step(
        mut self,
        id: impl Into<String>,
        title: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        self.script.push(Step {
            id: id.into(),
            title: title.into(),
            text: text.into(),
        });
        self
    }

    /// A form field.
    pub fn field(mut self, field: Field) -> Self {
        self.form.push(field);
        self
    }
}

impl Field {
    fn of(name: &str, label: &str, kind: FieldKind) -> Self {
        Field {
            name: name.to_string(),
            label: label.to_string(),
            kind,
            required: false,
            default_value: None,
        }
    }

    /// One line of text.
    pub fn text(name: &str, label: &str) -> Self {
        Self::of(name, label, FieldKind::Text)
    }

    /// Several lines of text.
    pub fn multiline(name: &str, label: &str) -> Self {
        Self::of(name, label, FieldKind::Multiline)
    }

    /// An integer.
    pub fn number(name: &str, label: &str) -> Self {
        Self::of(name, label, FieldKind::Number)
    }

    /// One of `options`.
    pub fn choice(name: &str, label: &str, options: &[&str]) -> Self {
        Self::of(
            name,
            label,
            FieldKind::Choice(options.iter().map(|o| o.to_string()).collect()),
        )
    }

    /// Yes or no.
    pub fn checkbox(name: &str, label: &str) -> Self {
        Self::of(name, label, FieldKind::Checkbox)
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default_value = Some(value.into());
        self
    }
}

impl Accepted {
    /// An accepted submission with nothing set yet.
    pub fn new() -> Self {
        Accepted {
            vars: Vec::new(),
            disposition: None,
            message: None,
        }
    }

    /// Set a variable on the call.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.push(Var {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// The disposition to suggest (e.g. `resolved`).
    pub fn disposition(mut self, disposition: impl Into<String>) -> Self {
        self.disposition = Some(disposition.into());
        self
    }

    /// A note shown to the agent.
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }
}

impl Default for Accepted {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Accepted> for SubmitResult {
    fn from(accepted: Accepted) -> Self {
        SubmitResult::Accepted(accepted)
    }
}

/// Field errors collected while checking a form; empty means nothing is wrong.
#[derive(Debug, Default)]
pub struct Rejection {
    errors: Vec<FieldError>,
}

impl Rejection {
    pub fn new() -> Self {
        Self::default()
    }

    /// Note what is wrong with `field`.
    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            name: field.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Some(rejected)` when any error was noted.
    pub fn into_result(self) -> Option<SubmitResult> {
        (!self.errors.is_empty()).then_some(SubmitResult::Rejected(self.errors))
    }
}

#[doc(hidden)]
pub fn __submit_or_reject(result: Result<SubmitResult>) -> SubmitResult {
    result.unwrap_or_else(|e| {
        SubmitResult::Rejected(vec![FieldError {
            name: FORM_ERROR.to_string(),
            message: e.to_string(),
        }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_trim_values_and_treat_blank_as_absent() {
        let form = Form::new(vec![
            FieldValue {
                name: "order_number".into(),
                value: " 12345 ".into(),
            },
            FieldValue {
                name: "notes".into(),
                value: "  ".into(),
            },
        ]);
        assert_eq!(form.get("order_number"), Some("12345"));
        assert_eq!(form.get("notes"), None);
        assert_eq!(form.get("missing"), None);
    }

    #[test]
    fn rejections_only_reject_with_errors_and_escaping_errors_reject_the_form() {
        assert!(Rejection::new().into_result().is_none());
        let mut problems = Rejection::new();
        problems.error("order_number", "digits only");
        assert!(matches!(
            problems.into_result(),
            Some(SubmitResult::Rejected(errors)) if errors.len() == 1 && errors[0].name == "order_number"
        ));
        let rejected = __submit_or_reject(Err(crate::KvError::RateLimited.into()));
        assert!(matches!(
            rejected,
            SubmitResult::Rejected(errors) if errors[0].name == FORM_ERROR && errors[0].message == "kv: rate-limited"
        ));
    }

    #[test]
    fn screens_and_fields_build_in_order() {
        let screen = Screen::new("Orders")
            .fact("Caller", "+421900123456")
            .step("greet", "Greet", "Good day")
            .field(Field::choice("resolution", "Resolution", &["refund", "replacement"]).required())
            .field(Field::checkbox("callback", "Call back").default_value("false"));
        assert_eq!(screen.facts[0].value, "+421900123456");
        assert_eq!(screen.script[0].id, "greet");
        assert!(screen.form[0].required);
        assert!(matches!(&screen.form[0].kind, FieldKind::Choice(o) if o.len() == 2));
        assert_eq!(screen.form[1].default_value.as_deref(), Some("false"));
    }
}
