//! A hotline's IVR plugin on a live call. The plugin host drives the call through
//! [`LiveCall`], this module's [`CallControl`] over the caller's SIP leg and anchored media:
//! prompts from the tenant's store, digits from RFC 4733, SIP INFO or in-band detection, agents
//! and queues looked up inside the tenant. When the run ends the engine carries out what it left
//! behind — a bridged transfer, a queue, a hang-up, or the hotline's fallback — and the record
//! gets the IVR segment, its outcome and the call's variables.
//!
//! What a live call does that the simulator only pretends:
//! - `transfer` rings the agent or number while the plugin waits, the caller hearing ringback;
//!   it returns once someone answered (the plugin then returns `operator`) or with
//!   `transfer-failed`.
//! - `enqueue` checks the queue can take the caller (it exists, someone with the skills serves
//!   it and has a phone registered) and hands the call to it when the plugin returns; the queue
//!   then rings its members (see `queue.rs`).
//! - `say-number` speaks English-style: `number-0` … `number-19`, `number-20` … `number-90`,
//!   `number-hundred`, `number-thousand`, `number-million`, `number-billion` and `minus`.
//! - `record-voicemail` and `offer-callback` answer `unavailable` until voicemail storage and
//!   the callback queue exist; the plugin decides what to do instead.
//!
//! The state the control works on is the call task's own, lent for the run and taken back after
//! it: this module must never let a plugin reach anything but its own call.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hotline_core::call::{CallEventKind, EndCause, IvrOutcome, Party};
use hotline_media::dtmf::{BargeIn, Digit};
use hotline_media::leg::{LegEvent as MediaEvent, PlayOutcome};
use hotline_media::prompt::{PlayItem, Playlist, ToneRegion, ToneSpec};
use hotline_plugins::call_control::{
    CallError, CallbackDecision, CallbackOptions, CollectOptions, Collected, EnqueueOptions,
    HangupCause, PlayOptions, Prompt, QueueTicket, TransferTarget, Voicemail, VoicemailOptions,
};
use hotline_sip::LegEvent;
use tokio::sync::Mutex;
use tokio::time::{Duration, Instant};
use tracing::{debug, info, warn};

use super::anchor;
use super::collect::{self, Attempt};
use super::context::CallContext;
use super::queue;
use super::ring::{self, Answered, CallSetup, Caller, Rang, Target};
use super::Engine;
use crate::directory::{Directory, HotlineAction, PluginPin, QueueRef, QueueRoute};
use crate::ivr::{CallInfo, IvrRun, PluginBranch, Var};
use crate::prompts::PromptLookupError;
use crate::sink::CallRecordSink;

/// How long a transfer rings before it is `transfer-failed`.
const TRANSFER_RING: Duration = Duration::from_secs(30);

/// What the run left the call with.
enum Handoff {
    /// A transfer was answered: bridge it.
    Connected(Answered),
    /// `enqueue` (or `transfer` to a queue) accepted the caller.
    Queue(queue::Entry),
}

/// The call task's state, lent to the plugin host for the run.
struct LiveState<S: CallRecordSink> {
    ctx: CallContext<S>,
    caller: Caller,
    setup: CallSetup,
    next_leg: u16,
    handoff: Option<Handoff>,
    /// The caller hung up, or their media died.
    caller_gone: bool,
    /// The plugin asked to end the call.
    hangup: Option<HangupCause>,
    /// A key that stopped a prompt: its digit event, which comes when the key is released,
    /// is that same key and must not count twice.
    swallow: Option<Digit>,
}

/// The [`CallControl`] of one live call.
struct LiveCall<D: Directory, S: CallRecordSink> {
    engine: Arc<Engine<D, S>>,
    state: Arc<Mutex<LiveState<S>>>,
}

/// Run the pinned plugin on the caller's call, then carry out what it decided.
pub(crate) async fn run<D: Directory, S: CallRecordSink>(
    engine: Arc<Engine<D, S>>,
    mut ctx: CallContext<S>,
    caller: Caller,
    setup: CallSetup,
    next_leg: u16,
    plugin: PluginPin,
    fallback: HotlineAction,
) {
    let Some(runner) = engine.ivr.clone() else {
        warn!("no plugin host: the hotline's fallback takes the call");
        return super::actions::carry_out(engine, ctx, caller, setup, next_leg, fallback).await;
    };
    if !caller.anchored() {
        // No media of Hotline's own (an offerless INVITE): nothing to play or hear digits on.
        warn!("the call carries no media Hotline can run an IVR on; using the fallback");
        return super::actions::carry_out(engine, ctx, caller, setup, next_leg, fallback).await;
    }
    ctx.emit(CallEventKind::IvrStarted);
    let info = call_info(&ctx, &setup);
    let (tenant_id, zone, cpu_ms_per_call, call_id) = (
        setup.tenant_id,
        setup.zone,
        setup.cpu_ms_per_call,
        ctx.call_id(),
    );
    let state = Arc::new(Mutex::new(LiveState {
        ctx,
        caller,
        setup,
        next_leg,
        handoff: None,
        caller_gone: false,
        hangup: None,
        swallow: None,
    }));
    let control = Box::new(LiveCall {
        engine: engine.clone(),
        state: state.clone(),
    });
    let report = runner
        .run(IvrRun {
            tenant_id,
            zone,
            cpu_ms_per_call,
            plugin: plugin.clone(),
            call_id,
            info,
            control,
        })
        .await;
    // The host hands the control back (or dropped it): then the call's state is the task's again.
    drop(report.control);
    let Ok(state) = Arc::try_unwrap(state) else {
        // Something still holds the call: its state goes when that does, and the context's
        // guard records the call as failed rather than losing it.
        warn!(plugin = plugin.name, "the plugin host kept the call");
        return;
    };
    let state = state.into_inner();
    let (report_outcome, fallback_reason, vars) = (report.outcome, report.fallback, report.vars);
    let LiveState {
        mut ctx,
        mut caller,
        setup,
        mut next_leg,
        handoff,
        caller_gone,
        hangup,
        ..
    } = state;
    for (name, value) in vars {
        ctx.emit(CallEventKind::VarSet { name, value });
    }
    ctx.emit(CallEventKind::IvrFinished {
        outcome: report_outcome.clone(),
    });
    if caller_gone || matches!(report_outcome, IvrOutcome::CallerHungUp) {
        anchor::caller_media_ended(&mut ctx, &caller).await;
        caller.end(480).await;
        return ctx.finish(EndCause::Abandoned, Party::Caller);
    }
    match handoff {
        Some(Handoff::Connected(answered)) => {
            return ring::connect(&engine, ctx, caller, &setup, answered).await;
        }
        Some(Handoff::Queue(entry)) => {
            return queue::wait(&engine, ctx, caller, &setup, &mut next_leg, entry).await;
        }
        None => {}
    }
    if let Some(reason) = fallback_reason {
        info!(%reason, "the plugin failed: the hotline's fallback takes the call");
        return super::actions::carry_out(engine, ctx, caller, setup, next_leg, fallback).await;
    }
    // Self-served, or the plugin hung up: the IVR ends the call.
    let status = match hangup {
        Some(HangupCause::Busy) => 486,
        Some(HangupCause::Rejected) => 603,
        Some(HangupCause::Unavailable) => 503,
        Some(HangupCause::Normal) | None => 480,
    };
    anchor::caller_media_ended(&mut ctx, &caller).await;
    caller.end(status).await;
    ctx.finish(EndCause::IvrHangup, Party::System);
}

fn call_info<S: CallRecordSink>(ctx: &CallContext<S>, setup: &CallSetup) -> CallInfo {
    CallInfo {
        call_id: ctx.call_id().to_string(),
        hotline_id: setup.hotline_id.to_string(),
        hotline_name: setup.hotline_name.clone(),
        caller: setup.caller.clone(),
        dialed: setup.dialed.clone(),
        language: setup.language.clone(),
        arrived_at: hotline_plugins::local_time(setup.arrived_at, setup.zone),
        branch: if setup.open {
            PluginBranch::Open
        } else {
            PluginBranch::Closed
        },
        vars: Vec::<Var>::new(),
    }
}

impl<S: CallRecordSink> LiveState<S> {
    fn tenant(&self) -> hotline_core::ids::TenantId {
        self.setup.tenant_id
    }

    /// Answer the caller if not yet (the IVR speaks with Hotline's own media).
    fn ensure_answered(&mut self) -> Result<(), CallError> {
        if self.caller_gone {
            return Err(CallError::HungUp);
        }
        if self.caller.is_answered() {
            return Ok(());
        }
        self.caller
            .answer(None)
            .map_err(|e| CallError::Unavailable(format!("the call could not be answered: {e}")))?;
        self.ctx.emit(CallEventKind::Answered);
        Ok(())
    }

    /// The caller's SIP leg did something while the IVR waits: a hang-up ends the wait, a
    /// re-offer is answered by the caller's media leg, an INFO digit joins the media path.
    async fn on_sip(&mut self, event: LegEvent) -> Result<(), CallError> {
        let Some(media) = self.caller.media.as_ref() else {
            return Err(CallError::HungUp);
        };
        match event {
            LegEvent::Ended(_) => {
                self.caller_gone = true;
                let _ = media.leg.stop_playing();
                Err(CallError::HungUp)
            }
            LegEvent::Reoffer { sdp, reply } => {
                match sdp.map(|offer| offer.to_vec()) {
                    Some(offer) => match media.leg.answer_reoffer(&offer).await {
                        Ok(answer) => reply.accept(Some(answer)).await,
                        Err(_) => reply.reject(488).await,
                    },
                    None => reply.reject(488).await,
                }
                Ok(())
            }
            LegEvent::Info { content_type, body } => {
                if let Some(content_type) = content_type {
                    if let Ok((digit, duration)) =
                        hotline_media::dtmf::sip_info::parse(&content_type, &body)
                    {
                        let _ = media.leg.sip_info_digit(digit, duration);
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The next key the caller presses (from any path), watching for a hang-up meanwhile.
    async fn next_key(&mut self) -> Result<char, CallError> {
        enum Step {
            Sip(LegEvent),
            Media(Option<MediaEvent>),
        }
        loop {
            let step = {
                let Caller { inbound, media, .. } = &mut self.caller;
                let Some(media) = media.as_mut() else {
                    return Err(CallError::HungUp);
                };
                tokio::select! {
                    event = inbound.next_event() => Step::Sip(event),
                    event = media.leg.next_event() => Step::Media(event),
                }
            };
            match step {
                Step::Sip(event) => self.on_sip(event).await?,
                Step::Media(Some(MediaEvent::Digit(key))) => {
                    if self.swallow == Some(key.digit) {
                        self.swallow = None;
                        continue;
                    }
                    return Ok(key.digit.as_char());
                }
                Step::Media(Some(MediaEvent::MediaTimeout { .. }) | None) => {
                    info!("the caller's media died during the IVR");
                    self.caller_gone = true;
                    return Err(CallError::HungUp);
                }
                Step::Media(Some(_)) => {}
            }
        }
    }

    /// Play `playlist`; the key that stopped it (among `keys`), watching for a hang-up.
    async fn play(&mut self, playlist: Playlist, keys: BargeIn) -> Result<Option<char>, CallError> {
        self.ensure_answered()?;
        let outcome = {
            let Caller { inbound, media, .. } = &mut self.caller;
            let Some(media) = media.as_ref() else {
                return Err(CallError::HungUp);
            };
            let play = media.leg.play(playlist, keys);
            tokio::pin!(play);
            loop {
                tokio::select! {
                    outcome = &mut play => break outcome,
                    event = inbound.next_event() => match event {
                        LegEvent::Ended(_) => {
                            let _ = media.leg.stop_playing();
                            self.caller_gone = true;
                            return Err(CallError::HungUp);
                        }
                        LegEvent::Reoffer { sdp: Some(offer), reply } => {
                            match media.leg.answer_reoffer(&offer).await {
                                Ok(answer) => reply.accept(Some(answer)).await,
                                Err(_) => reply.reject(488).await,
                            }
                        }
                        LegEvent::Reoffer { reply, .. } => reply.reject(488).await,
                        LegEvent::Info { content_type: Some(kind), body } => {
                            if let Ok((digit, duration)) =
                                hotline_media::dtmf::sip_info::parse(&kind, &body)
                            {
                                let _ = media.leg.sip_info_digit(digit, duration);
                            }
                        }
                        _ => {}
                    },
                }
            }
        };
        match outcome {
            Ok(PlayOutcome::Interrupted { digit }) => {
                self.swallow = Some(digit);
                Ok(Some(digit.as_char()))
            }
            Ok(PlayOutcome::Finished | PlayOutcome::Stopped) => Ok(None),
            Err(_) => {
                self.caller_gone = true;
                Err(CallError::HungUp)
            }
        }
    }
}

/// The playlist for a plugin's prompt, from the tenant's prompts.
async fn playlist<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    tenant_id: hotline_core::ids::TenantId,
    prompts: &[Prompt],
) -> Result<Playlist, CallError> {
    let mut items = Vec::with_capacity(prompts.len());
    for prompt in prompts {
        items.push(match prompt {
            Prompt::Named(name) => PlayItem::Prompt(named(engine, tenant_id, name).await?),
            Prompt::Silence(ms) => PlayItem::Silence(Duration::from_millis(u64::from(*ms))),
        });
    }
    Ok(Playlist::once(items))
}

async fn named<D: Directory, S: CallRecordSink>(
    engine: &Engine<D, S>,
    tenant_id: hotline_core::ids::TenantId,
    name: &str,
) -> Result<hotline_media::prompt::Prompt, CallError> {
    engine
        .prompts
        .by_name(tenant_id, name)
        .await
        .map_err(|error| match error {
            PromptLookupError::NotFound(_) | PromptLookupError::NoAudio(_) => {
                CallError::UnknownPrompt(name.to_string())
            }
            PromptLookupError::Unavailable(why) => CallError::Unavailable(why),
        })
}

/// The prompt names that speak `n` (English-style composition).
fn number_prompts(n: i64) -> Vec<String> {
    fn below_thousand(n: u64, out: &mut Vec<String>) {
        let (hundreds, rest) = (n / 100, n % 100);
        if hundreds > 0 {
            out.push(format!("number-{hundreds}"));
            out.push("number-hundred".into());
        }
        if rest >= 20 {
            out.push(format!("number-{}", rest / 10 * 10));
            if rest % 10 > 0 {
                out.push(format!("number-{}", rest % 10));
            }
        } else if rest > 0 || hundreds == 0 {
            out.push(format!("number-{rest}"));
        }
    }
    let mut out = Vec::new();
    if n < 0 {
        out.push("minus".to_string());
    }
    let mut n = n.unsigned_abs();
    if n == 0 {
        return vec!["number-0".into()];
    }
    for (scale, name) in [
        (1_000_000_000_000_000_000u64, "number-quintillion"),
        (1_000_000_000_000_000, "number-quadrillion"),
        (1_000_000_000_000, "number-trillion"),
        (1_000_000_000, "number-billion"),
        (1_000_000, "number-million"),
        (1_000, "number-thousand"),
    ] {
        if n >= scale {
            below_thousand(n / scale, &mut out);
            out.push(name.to_string());
            n %= scale;
        }
    }
    if n > 0 {
        below_thousand(n, &mut out);
    }
    out
}

fn digit_prompt(c: char) -> Option<String> {
    match c {
        '0'..='9' => Some(format!("digit-{c}")),
        '*' => Some("star".into()),
        '#' => Some("hash".into()),
        _ => None,
    }
}

fn barge_keys(options: &PlayOptions) -> BargeIn {
    if !options.barge_in {
        return BargeIn::NONE;
    }
    let keys: Vec<Digit> = options
        .barge_in_digits
        .chars()
        .filter_map(Digit::from_char)
        .collect();
    BargeIn::keys(&keys)
}

impl<D: Directory, S: CallRecordSink> LiveCall<D, S> {
    /// Ring `target` while the caller hears ringback; the answered leg, or why not.
    async fn ring(&self, state: &mut LiveState<S>, target: Target) -> Result<Answered, CallError> {
        state.ensure_answered()?;
        if let Some(media) = &state.caller.media {
            let ringback = PlayItem::Tone(ToneSpec::ringback(ToneRegion::Europe), None);
            let _ = media.leg.start_playing(Playlist::looping(vec![ringback]));
        }
        let LiveState {
            ctx,
            caller,
            setup,
            next_leg,
            ..
        } = state;
        let rang = ring::ring(
            &self.engine,
            ctx,
            caller,
            setup,
            target,
            TRANSFER_RING,
            next_leg,
        )
        .await;
        if let Some(media) = &state.caller.media {
            let _ = media.leg.stop_playing();
        }
        match rang {
            Rang::Answered(answered) => Ok(answered),
            Rang::CallerGone => {
                state.caller_gone = true;
                Err(CallError::HungUp)
            }
            Rang::NoAnswer => Err(CallError::TransferFailed("no answer".into())),
            Rang::Failed { status } => Err(CallError::TransferFailed(format!(
                "the far end could not be reached (SIP {status})"
            ))),
        }
    }

    /// The tenant's queue `name`, if it can take a caller needing `skills` now.
    async fn queue_for(
        &self,
        tenant_id: hotline_core::ids::TenantId,
        name: &str,
        skills: &[String],
    ) -> Result<QueueRoute, CallError> {
        let queue = self
            .engine
            .directory
            .queue(tenant_id, QueueRef::Name(name))
            .await
            .map_err(|e| CallError::Unavailable(e.to_string()))?
            .ok_or_else(|| CallError::UnknownQueue(name.to_string()))?;
        let members = queue::eligible(&queue, skills);
        if members.is_empty() {
            return Err(CallError::QueueRefused(if skills.is_empty() {
                "no agent serves the queue".into()
            } else {
                format!("no agent of the queue has the skills {}", skills.join(", "))
            }));
        }
        if members
            .iter()
            .all(|agent| self.engine.agents.contacts(*agent).is_empty())
        {
            return Err(CallError::QueueRefused("no agent is logged in".into()));
        }
        Ok(queue)
    }
}

#[async_trait]
impl<D: Directory, S: CallRecordSink> hotline_plugins::CallControl for LiveCall<D, S> {
    async fn answer(&mut self) -> Result<(), CallError> {
        self.state.lock().await.ensure_answered()
    }

    async fn play(
        &mut self,
        prompt: &Prompt,
        options: &PlayOptions,
    ) -> Result<Option<char>, CallError> {
        let mut state = self.state.lock().await;
        let playlist = playlist(&self.engine, state.tenant(), std::slice::from_ref(prompt)).await?;
        state.play(playlist, barge_keys(options)).await
    }

    async fn collect(&mut self, options: &CollectOptions) -> Result<Collected, CallError> {
        let mut state = self.state.lock().await;
        let tenant_id = state.tenant();
        let prompt = match &options.prompt {
            Some(prompt) => {
                Some(playlist(&self.engine, tenant_id, std::slice::from_ref(prompt)).await?)
            }
            None => None,
        };
        let retry = match &options.retry_prompt {
            Some(prompt) => {
                Some(playlist(&self.engine, tenant_id, std::slice::from_ref(prompt)).await?)
            }
            None => None,
        };
        state.ensure_answered()?;
        for attempt in 1..=options.retries.saturating_add(1) {
            if attempt > 1 {
                if let Some(retry) = &retry {
                    state.play(retry.clone(), BargeIn::NONE).await?;
                }
            }
            let mut input = Attempt::new(options, Instant::now());
            let key = match &prompt {
                Some(prompt) => state.play(prompt.clone(), BargeIn::ANY).await?,
                None => None,
            };
            let mut end = input.prompt_done(key, Instant::now());
            while end.is_none() {
                match tokio::time::timeout_at(input.deadline(), state.next_key()).await {
                    Ok(Ok(key)) => end = input.key(key, Instant::now()),
                    Ok(Err(error)) => return Err(error),
                    Err(_) => end = Some(input.timed_out(Instant::now())),
                }
            }
            if let Some(end) = end {
                if let Some(collected) = input.finish(end, attempt) {
                    debug!(digits = collected.digits, attempt, "collected");
                    return Ok(collected);
                }
            }
        }
        Ok(collect::no_input(options))
    }

    async fn say_digits(&mut self, digits: &str) -> Result<(), CallError> {
        let names: Vec<Prompt> = digits
            .chars()
            .map(|c| {
                digit_prompt(c).map(Prompt::Named).ok_or_else(|| {
                    CallError::InvalidArgument(format!("{c:?} is not a digit, * or #"))
                })
            })
            .collect::<Result<_, _>>()?;
        let mut state = self.state.lock().await;
        let playlist = playlist(&self.engine, state.tenant(), &names).await?;
        state.play(playlist, BargeIn::NONE).await.map(|_| ())
    }

    async fn say_number(&mut self, number: i64) -> Result<(), CallError> {
        let names: Vec<Prompt> = number_prompts(number)
            .into_iter()
            .map(Prompt::Named)
            .collect();
        let mut state = self.state.lock().await;
        let playlist = playlist(&self.engine, state.tenant(), &names).await?;
        state.play(playlist, BargeIn::NONE).await.map(|_| ())
    }

    async fn record_voicemail(
        &mut self,
        _options: &VoicemailOptions,
    ) -> Result<Voicemail, CallError> {
        Err(CallError::Unavailable(
            "voicemail is not stored on live calls yet".into(),
        ))
    }

    async fn enqueue(
        &mut self,
        queue: &str,
        options: &EnqueueOptions,
    ) -> Result<QueueTicket, CallError> {
        let mut state = self.state.lock().await;
        if state.caller_gone {
            return Err(CallError::HungUp);
        }
        let route = self
            .queue_for(state.tenant(), queue, &options.required_skills)
            .await?;
        state.handoff = Some(Handoff::Queue(queue::Entry {
            queue: route,
            priority: i32::from(options.priority),
            skills: options.required_skills.clone(),
        }));
        Ok(QueueTicket {
            position: 1,
            estimated_wait_seconds: None,
        })
    }

    async fn transfer(&mut self, target: &TransferTarget) -> Result<(), CallError> {
        let mut state = self.state.lock().await;
        if state.caller_gone {
            return Err(CallError::HungUp);
        }
        let tenant_id = state.tenant();
        let target = match target {
            TransferTarget::Agent(username) => {
                let agent = self
                    .engine
                    .directory
                    .agent(tenant_id, username)
                    .await
                    .map_err(|e| CallError::Unavailable(e.to_string()))?
                    .ok_or_else(|| CallError::UnknownAgent(username.clone()))?;
                Target::Agent(agent)
            }
            TransferTarget::Number(number) => {
                let e164 = hotline_core::e164::normalize(number)
                    .map_err(|_| CallError::InvalidNumber(number.clone()))?;
                Target::External {
                    number: e164,
                    trunk_id: None,
                }
            }
            TransferTarget::Queue(name) => {
                let route = self.queue_for(tenant_id, name, &[]).await?;
                state.handoff = Some(Handoff::Queue(queue::Entry {
                    queue: route,
                    priority: 0,
                    skills: Vec::new(),
                }));
                return Ok(());
            }
        };
        let answered = self.ring(&mut state, target).await?;
        state.handoff = Some(Handoff::Connected(answered));
        Ok(())
    }

    async fn offer_callback(
        &mut self,
        _options: &CallbackOptions,
    ) -> Result<CallbackDecision, CallError> {
        Err(CallError::Unavailable(
            "callbacks need the queue engine, which live calls do not have yet".into(),
        ))
    }

    async fn hangup(&mut self, cause: HangupCause) -> Result<(), CallError> {
        let mut state = self.state.lock().await;
        if state.caller_gone {
            return Err(CallError::HungUp);
        }
        state.hangup = Some(cause);
        Ok(())
    }

    fn now(&self) -> DateTime<Utc> {
        hotline_core::time::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_spoken_english_style() {
        let speak = |n| number_prompts(n).join(" ");
        assert_eq!(speak(0), "number-0");
        assert_eq!(speak(7), "number-7");
        assert_eq!(speak(15), "number-15");
        assert_eq!(speak(40), "number-40");
        assert_eq!(speak(421), "number-4 number-hundred number-20 number-1");
        assert_eq!(speak(1_000), "number-1 number-thousand");
        assert_eq!(
            speak(-2_015_300),
            "minus number-2 number-million number-15 number-thousand number-3 number-hundred"
        );
        assert_eq!(
            number_prompts(i64::MIN).first().map(String::as_str),
            Some("minus")
        );
    }

    #[test]
    fn barge_in_listens_for_the_keys_asked_for() {
        let keys = |barge_in, digits: &str| {
            barge_keys(&PlayOptions {
                barge_in,
                barge_in_digits: digits.into(),
            })
        };
        let one = Digit::from_char('1').unwrap();
        let two = Digit::from_char('2').unwrap();
        assert!(!keys(false, "").stops_on(one));
        assert!(keys(true, "").stops_on(two));
        assert!(keys(true, "1#").stops_on(one) && !keys(true, "1#").stops_on(two));
        assert_eq!(digit_prompt('#').as_deref(), Some("hash"));
        assert_eq!(digit_prompt('x'), None);
    }
}
