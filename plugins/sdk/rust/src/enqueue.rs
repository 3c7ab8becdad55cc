//! `call.enqueue("sales")`: placing the caller in a queue, with a priority and the skills an
//! agent needs. Queue names resolve inside the tenant only.

use crate::bindings::wit_call::{self, EnqueueOptions, QueueTicket};
use crate::call::Call;
use crate::Result;

/// An `enqueue` being configured; [`Enqueue::run`] places the caller.
#[must_use = "an Enqueue does nothing until .run()"]
pub struct Enqueue<'c> {
    _call: &'c mut Call,
    queue: String,
    options: EnqueueOptions,
}

impl<'c> Enqueue<'c> {
    pub(crate) fn new(call: &'c mut Call, queue: &str) -> Self {
        Self {
            _call: call,
            queue: queue.to_string(),
            options: EnqueueOptions {
                priority: 0,
                required_skills: Vec::new(),
            },
        }
    }

    /// 0 (normal) to 9 (first served).
    pub fn priority(mut self, priority: u8) -> Self {
        self.options.priority = priority;
        self
    }

    /// An agent must have this skill to be offered the call (call again for more).
    pub fn skill(mut self, skill: &str) -> Self {
        self.options.required_skills.push(skill.to_string());
        self
    }

    /// Place the caller. On success the call belongs to the queue: return `Outcome::Operator`.
    pub fn run(self) -> Result<QueueTicket> {
        Ok(wit_call::enqueue(&self.queue, &self.options)?)
    }
}
