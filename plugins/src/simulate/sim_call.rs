//! The simulator's [`CallControl`]: the caller's keys as the scene scripts them, prompts with
//! durations, queues and agents in the states the scene gives, and a call clock that moves only
//! by what happens on the call. Writes every event to the transcript.

use std::collections::VecDeque;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use super::scenario::{Keys, Scene};
use crate::call_control::*;
use crate::transcript::{seconds, Transcript};

pub struct SimCall {
    now: DateTime<Utc>,
    start: DateTime<Utc>,
    in_order: VecDeque<Option<char>>,
    timed: VecDeque<(u64, char)>,
    hangup_at: Option<DateTime<Utc>>,
    scene: Scene,
    transcript: Transcript,
    answered: bool,
    voicemails: u32,
    callbacks: u32,
}

/// What the caller did while the IVR listened.
enum Heard {
    Key(char),
    Silence,
    HungUp,
}

impl SimCall {
    pub fn new(scene: Scene, transcript: Transcript) -> Self {
        let (in_order, timed) = match &scene.keys {
            Keys::InOrder(keys) => (keys.iter().copied().collect(), VecDeque::new()),
            Keys::Timed(keys) => (VecDeque::new(), keys.iter().copied().collect()),
        };
        Self {
            now: scene.start,
            start: scene.start,
            in_order,
            timed,
            hangup_at: scene
                .hangup_at_ms
                .map(|ms| scene.start + Duration::milliseconds(ms as i64)),
            scene,
            transcript,
            answered: false,
            voicemails: 0,
            callbacks: 0,
        }
    }

    fn note(&self, event: &str, details: impl AsRef<str>) {
        self.transcript.line(self.now, event, details);
    }

    fn elapsed_ms(&self) -> u64 {
        (self.now - self.start).num_milliseconds().max(0) as u64
    }

    /// Wait up to `window_ms` for a key. `silent_attempt` is set once a `.` was consumed for
    /// this attempt: the rest of it is silence.
    fn listen(&mut self, window_ms: u64, silent_attempt: &mut bool) -> Heard {
        let window_end = self.now + Duration::milliseconds(window_ms as i64);
        let mut key_at: Option<(DateTime<Utc>, char)> = None;
        if !*silent_attempt {
            if !self.timed.is_empty() {
                let now_ms = self.elapsed_ms();
                while self.timed.front().is_some_and(|(at, _)| *at < now_ms) {
                    self.timed.pop_front(); // pressed while nobody listened: lost
                }
                if let Some((at, key)) = self.timed.front().copied() {
                    let at = self.start + Duration::milliseconds(at as i64);
                    if at <= window_end {
                        key_at = Some((at, key));
                    }
                }
            } else {
                match self.in_order.front().copied() {
                    Some(None) => {
                        self.in_order.pop_front();
                        *silent_attempt = true;
                    }
                    Some(Some(key)) if self.scene.key_delay_ms <= window_ms => {
                        key_at = Some((
                            self.now + Duration::milliseconds(self.scene.key_delay_ms as i64),
                            key,
                        ));
                    }
                    _ => {}
                }
            }
        }
        let until = key_at.map(|(at, _)| at).unwrap_or(window_end);
        if let Some(hangup) = self.hangup_at {
            if hangup <= until {
                self.now = hangup.max(self.now);
                self.note("caller", "hangs up");
                self.hangup_at = None;
                return Heard::HungUp;
            }
        }
        self.now = until;
        match key_at {
            Some((_, key)) => {
                if !self.timed.is_empty() {
                    self.timed.pop_front();
                } else {
                    self.in_order.pop_front();
                }
                self.note("caller", format!("presses {key}"));
                Heard::Key(key)
            }
            None => Heard::Silence,
        }
    }

    fn gone(&self) -> Result<(), CallError> {
        if self.hangup_at.is_none()
            && self.scene.hangup_at_ms.is_some()
            && self.now
                >= self.start
                    + Duration::milliseconds(self.scene.hangup_at_ms.unwrap_or_default() as i64)
        {
            return Err(CallError::HungUp);
        }
        Ok(())
    }

    fn prompt_ms(&self, prompt: &Prompt) -> Result<(String, u64), CallError> {
        match prompt {
            Prompt::Silence(ms) => Ok(("silence".into(), u64::from(*ms))),
            Prompt::Named(name) => match self.scene.prompts.get(name) {
                Some(ms) => Ok((name.clone(), *ms)),
                None if self.scene.strict_prompts => Err(CallError::UnknownPrompt(name.clone())),
                None => Ok((name.clone(), self.scene.prompt_ms)),
            },
        }
    }

    /// Play a prompt; with `barge_in` the first key (among `digits`, any when empty) stops it.
    fn play_inner(
        &mut self,
        prompt: &Prompt,
        barge_in: Option<&str>,
        silent: &mut bool,
    ) -> Result<Option<char>, CallError> {
        self.gone()?;
        let (name, ms) = match self.prompt_ms(prompt) {
            Ok(p) => p,
            Err(e) => {
                self.note("error", format!("play -> {e:?}"));
                return Err(e);
            }
        };
        let suffix = if barge_in.is_some() { ", barge-in" } else { "" };
        self.note("play", format!("{name} ({}){suffix}", seconds(ms)));
        match barge_in {
            Some(digits) => match self.listen(ms, silent) {
                Heard::Key(k) if digits.is_empty() || digits.contains(k) => Ok(Some(k)),
                Heard::Key(_) => {
                    // A key that may not stop the prompt: the prompt plays on to its end.
                    let end = self.now.max(self.now);
                    self.now = end;
                    Ok(None)
                }
                Heard::Silence => Ok(None),
                Heard::HungUp => Err(CallError::HungUp),
            },
            None => {
                let mut silent_here = true;
                match self.listen(ms, &mut silent_here) {
                    Heard::HungUp => Err(CallError::HungUp),
                    _ => Ok(None),
                }
            }
        }
    }

    fn queue(&self, name: &str) -> Option<&super::scenario::SimQueue> {
        self.scene.queues.iter().find(|q| q.name == name)
    }
}

#[async_trait]
impl CallControl for SimCall {
    async fn answer(&mut self) -> Result<(), CallError> {
        self.gone()?;
        if !self.answered {
            self.answered = true;
            self.note("answer", "");
        }
        Ok(())
    }

    async fn play(
        &mut self,
        prompt: &Prompt,
        options: &PlayOptions,
    ) -> Result<Option<char>, CallError> {
        let mut silent = false;
        let barge = options.barge_in.then_some(options.barge_in_digits.as_str());
        let key = self.play_inner(prompt, barge, &mut silent)?;
        if let Some(k) = key {
            self.note("play", format!("-> {k}"));
        }
        Ok(key)
    }

    async fn collect(&mut self, o: &CollectOptions) -> Result<Collected, CallError> {
        self.gone()?;
        let mut shown = format!("max {}", o.max_digits);
        if o.min_digits > 1 {
            shown.push_str(&format!(", min {}", o.min_digits));
        }
        if !o.terminators.is_empty() {
            shown.push_str(&format!(", terminators {:?}", o.terminators));
        }
        if let Some(Prompt::Named(name)) = &o.prompt {
            shown.push_str(&format!(", prompt {name}"));
        }
        if o.retries > 0 {
            shown.push_str(&format!(", retries {}", o.retries));
        }
        self.note("collect", shown);
        for attempt in 1..=(o.retries + 1) {
            let mut silent = false;
            let attempt_start = self.now;
            let total_end = (o.total_timeout_ms > 0)
                .then(|| attempt_start + Duration::milliseconds(i64::from(o.total_timeout_ms)));
            if attempt > 1 {
                if let Some(p) = &o.retry_prompt {
                    self.play_inner(p, None, &mut silent)?;
                }
            }
            let mut digits = String::new();
            let mut end = None;
            let mut terminator = None;
            if let Some(p) = &o.prompt {
                if let Some(k) = self.play_inner(p, Some(""), &mut silent)? {
                    if o.terminators.contains(k) {
                        terminator = Some(k);
                        end = Some(CollectEnd::Terminator);
                    } else {
                        digits.push(k);
                    }
                }
            }
            while end.is_none() {
                if digits.len() >= o.max_digits as usize {
                    end = Some(CollectEnd::MaxDigits);
                    break;
                }
                let mut wait = u64::from(if digits.is_empty() {
                    o.first_digit_timeout_ms
                } else {
                    o.inter_digit_timeout_ms
                });
                if let Some(total_end) = total_end {
                    let left = (total_end - self.now).num_milliseconds().max(0) as u64;
                    if left == 0 {
                        end = Some(CollectEnd::TotalTimeout);
                        break;
                    }
                    wait = wait.min(left);
                }
                match self.listen(wait, &mut silent) {
                    Heard::HungUp => return Err(CallError::HungUp),
                    Heard::Key(k) if o.terminators.contains(k) => {
                        terminator = Some(k);
                        end = Some(CollectEnd::Terminator);
                    }
                    Heard::Key(k) => digits.push(k),
                    Heard::Silence => {
                        end = Some(if total_end.is_some_and(|t| self.now >= t) {
                            CollectEnd::TotalTimeout
                        } else if digits.is_empty() {
                            CollectEnd::NoInput
                        } else {
                            CollectEnd::InterDigitTimeout
                        });
                    }
                }
            }
            let end = end.unwrap_or(CollectEnd::NoInput);
            if !digits.is_empty() && digits.len() >= o.min_digits as usize {
                let name = end_name(end);
                self.note(
                    "collect",
                    format!("-> {digits:?} ({name}, attempt {attempt})"),
                );
                return Ok(Collected {
                    digits,
                    terminator,
                    end,
                    attempts: attempt,
                });
            }
        }
        self.note(
            "collect",
            format!("-> \"\" (no-input, attempt {})", o.retries + 1),
        );
        Ok(Collected {
            digits: String::new(),
            terminator: None,
            end: CollectEnd::NoInput,
            attempts: o.retries + 1,
        })
    }

    async fn say_digits(&mut self, digits: &str) -> Result<(), CallError> {
        self.gone()?;
        self.note("say", format!("digits {digits}"));
        let mut silent = true;
        match self.listen(500 * digits.len() as u64, &mut silent) {
            Heard::HungUp => Err(CallError::HungUp),
            _ => Ok(()),
        }
    }

    async fn say_number(&mut self, number: i64) -> Result<(), CallError> {
        self.gone()?;
        self.note("say", format!("number {number}"));
        let words = number.unsigned_abs().to_string().len() as u64 + u64::from(number < 0);
        let mut silent = true;
        match self.listen(500 * words, &mut silent) {
            Heard::HungUp => Err(CallError::HungUp),
            _ => Ok(()),
        }
    }

    async fn record_voicemail(&mut self, o: &VoicemailOptions) -> Result<Voicemail, CallError> {
        self.gone()?;
        let mut silent = false;
        if let Some(p) = &o.prompt {
            self.play_inner(p, None, &mut silent)?;
        }
        self.note(
            "voicemail",
            format!("recording (max {} s)", o.max_duration_ms / 1_000),
        );
        let started = self.now;
        let length = self.scene.voicemail_ms.min(u64::from(o.max_duration_ms));
        if !o.terminators.is_empty() {
            if let Heard::HungUp = self.listen(length, &mut silent) {
                return Err(CallError::HungUp);
            }
        } else {
            let mut quiet = true;
            if let Heard::HungUp = self.listen(length, &mut quiet) {
                return Err(CallError::HungUp);
            }
        }
        self.voicemails += 1;
        let duration = (self.now - started).num_milliseconds().max(0) as u32;
        let id = format!("vm-{}", self.voicemails);
        self.note(
            "voicemail",
            format!("-> {id} ({})", seconds(u64::from(duration))),
        );
        Ok(Voicemail {
            recording_id: id,
            duration_ms: duration,
        })
    }

    async fn enqueue(&mut self, name: &str, o: &EnqueueOptions) -> Result<QueueTicket, CallError> {
        self.gone()?;
        let head = format!(
            "{name} priority {} skills [{}]",
            o.priority,
            o.required_skills.join(", ")
        );
        let Some(queue) = self.queue(name).cloned() else {
            self.note("enqueue", format!("{head} -> refused: unknown queue"));
            return Err(CallError::UnknownQueue(name.to_string()));
        };
        if queue.state != "open" {
            self.note("enqueue", format!("{head} -> refused: {}", queue.state));
            return Err(CallError::QueueRefused(queue.state.clone()));
        }
        let wait = queue
            .estimated_wait_seconds
            .map(|s| format!(", about {s} s"))
            .unwrap_or_default();
        self.note(
            "enqueue",
            format!("{head} -> position {}{wait}", queue.position),
        );
        Ok(QueueTicket {
            position: queue.position,
            estimated_wait_seconds: queue.estimated_wait_seconds,
        })
    }

    async fn transfer(&mut self, target: &TransferTarget) -> Result<(), CallError> {
        self.gone()?;
        let (shown, result) = match target {
            TransferTarget::Agent(name) => (
                format!("agent {name}"),
                match self.scene.agents.iter().find(|a| a.name == *name) {
                    None => Err(CallError::UnknownAgent(name.clone())),
                    Some(a) if a.state == "answers" => Ok(()),
                    Some(a) => Err(CallError::TransferFailed(a.state.clone())),
                },
            ),
            TransferTarget::Queue(name) => (
                format!("queue {name}"),
                match self.queue(name) {
                    None => Err(CallError::UnknownQueue(name.clone())),
                    Some(q) if q.state == "open" => Ok(()),
                    Some(q) => Err(CallError::QueueRefused(q.state.clone())),
                },
            ),
            TransferTarget::Number(number) => (
                format!("number {number}"),
                if self.scene.unreachable_numbers.contains(number) {
                    Err(CallError::TransferFailed("no answer".into()))
                } else {
                    Ok(())
                },
            ),
        };
        match &result {
            Ok(()) => self.note("transfer", format!("{shown} -> connected")),
            Err(e) => self.note("transfer", format!("{shown} -> failed: {e:?}")),
        }
        result
    }

    async fn offer_callback(&mut self, o: &CallbackOptions) -> Result<CallbackDecision, CallError> {
        self.gone()?;
        if self.queue(&o.queue).is_none() {
            self.note(
                "callback",
                format!("offer {} -> refused: unknown queue", o.queue),
            );
            return Err(CallError::UnknownQueue(o.queue.clone()));
        }
        self.note(
            "callback",
            format!("offer {}, accept {}", o.queue, o.accept_digit),
        );
        let mut silent = false;
        let mut key = None;
        if let Some(p) = &o.prompt {
            key = self.play_inner(p, Some(""), &mut silent)?;
        }
        if key.is_none() {
            match self.listen(u64::from(o.timeout_ms), &mut silent) {
                Heard::HungUp => return Err(CallError::HungUp),
                Heard::Key(k) => key = Some(k),
                Heard::Silence => {}
            }
        }
        if key == Some(o.accept_digit) {
            self.callbacks += 1;
            let id = format!("cb-{}", self.callbacks);
            self.note("callback", format!("-> scheduled {id}"));
            Ok(CallbackDecision::Scheduled(id))
        } else {
            self.note("callback", "-> declined");
            Ok(CallbackDecision::Declined)
        }
    }

    async fn hangup(&mut self, cause: HangupCause) -> Result<(), CallError> {
        self.gone()?;
        let cause = match cause {
            HangupCause::Normal => "normal",
            HangupCause::Busy => "busy",
            HangupCause::Rejected => "rejected",
            HangupCause::Unavailable => "unavailable",
        };
        self.note("hangup", cause);
        Ok(())
    }

    fn now(&self) -> DateTime<Utc> {
        self.now
    }

    fn advance(&mut self, millis: u64) {
        self.now += Duration::milliseconds(millis as i64);
    }
}

fn end_name(end: CollectEnd) -> &'static str {
    match end {
        CollectEnd::MaxDigits => "max-digits",
        CollectEnd::Terminator => "terminator",
        CollectEnd::InterDigitTimeout => "inter-digit-timeout",
        CollectEnd::TotalTimeout => "total-timeout",
        CollectEnd::NoInput => "no-input",
    }
}
