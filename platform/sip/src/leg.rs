//! The two sides of a B2BUA call as the call engine sees them: an [`InboundLeg`] (a caller's
//! INVITE Hotline accepted) and an [`OutboundLeg`] (an INVITE Hotline sent to a phone or a
//! trunk). Each leg is its own dialog with its own Call-ID and tags; the engine relays between
//! them through [`LegEvent`]s and the methods here, and never sees rsipstack's types.
//!
//! A leg must never outlive its call silently: dropping a leg that is still up hangs it up
//! (BYE, CANCEL or a final error response) and removes its dialog from the stack's table.

use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::{
    DialogState, DialogStateReceiver, TerminatedReason, TransactionHandle,
};
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::headers::make_header;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::key::TransactionRole;
use tokio::time::Instant;

use crate::error::SipError;
use crate::locator::NatPin;
use crate::stack::{CallSlot, StackInner};

/// A session description as bytes: passed through untouched until the media engine anchors it.
pub type Sdp = Vec<u8>;

/// Why a leg is over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LegEnd {
    /// The far end sent BYE.
    HungUp,
    /// The caller cancelled before the call was answered.
    Cancelled,
    /// The far end refused the INVITE with this final status.
    Rejected { status: u16 },
    /// No final answer in time, or no ACK after our 200 (timer B / H).
    Timeout,
    /// The session timer ran out without a refresh (RFC 4028).
    SessionExpired,
    /// Hotline ended it (hangup, reject, cancel).
    Local,
}

/// Something a leg's far end did.
#[derive(Debug)]
pub enum LegEvent {
    /// 180/183 from the far end of an outbound leg (`sdp` for early media).
    Ringing {
        status: u16,
        sdp: Option<Sdp>,
    },
    /// Outbound: 2xx received. Inbound: the caller ACKed our 200.
    Answered {
        sdp: Option<Sdp>,
    },
    /// The far end sent a re-INVITE or UPDATE (hold, resume, session refresh): answer it with
    /// `reply`, typically after relaying it to the other leg.
    Reoffer {
        sdp: Option<Sdp>,
        reply: ReofferReply,
    },
    /// SIP INFO (e.g. application/dtmf-relay), already answered 200.
    Info {
        content_type: Option<String>,
        body: Vec<u8>,
    },
    Ended(LegEnd),
}

/// The pending answer to a re-INVITE/UPDATE from the far end.
#[derive(Debug)]
pub struct ReofferReply {
    handle: TransactionHandle,
}

impl ReofferReply {
    pub async fn accept(self, sdp: Option<Sdp>) {
        let headers = sdp
            .as_ref()
            .map(|_| vec![make_header("Content-Type", "application/sdp".into())]);
        let _ = self.handle.respond(StatusCode::OK, headers, sdp).await;
    }

    pub async fn reject(self, status: u16) {
        let _ = self
            .handle
            .respond(StatusCode::from(status), None, None)
            .await;
    }
}

/// What both leg kinds share: the dialog, its state feed and the stack.
struct LegCore {
    dialog: InviteDialog,
    states: DialogStateReceiver,
    stack: Arc<StackInner>,
    answered: bool,
    ended: bool,
}

impl LegCore {
    fn translate(&mut self, state: DialogState) -> Option<LegEvent> {
        match state {
            DialogState::Early(_, response) => Some(LegEvent::Ringing {
                status: response.status_code.code(),
                sdp: body(&response.body),
            }),
            DialogState::Confirmed(_, response) => {
                if self.answered {
                    return None;
                }
                self.answered = true;
                let sdp = if self.dialog.role() == TransactionRole::Client {
                    body(&response.body)
                } else {
                    None
                };
                Some(LegEvent::Answered { sdp })
            }
            DialogState::Updated(_, request, handle) => Some(LegEvent::Reoffer {
                sdp: body(&request.body),
                reply: ReofferReply { handle },
            }),
            DialogState::Info(_, request, handle) => {
                let content_type =
                    crate::message::header_value(&request, "Content-Type").map(str::to_string);
                tokio::spawn(async move {
                    let _ = handle.reply(StatusCode::OK).await;
                });
                Some(LegEvent::Info {
                    content_type,
                    body: request.body,
                })
            }
            DialogState::Options(_, _, handle) => {
                tokio::spawn(async move {
                    let _ = handle.reply(StatusCode::OK).await;
                });
                None
            }
            DialogState::Notify(_, _, handle)
            | DialogState::Refer(_, _, handle)
            | DialogState::Message(_, _, handle)
            | DialogState::Publish(_, _, handle) => {
                tokio::spawn(async move {
                    let _ = handle.reply(StatusCode::NotImplemented).await;
                });
                None
            }
            DialogState::Terminated(_, reason) => {
                self.ended = true;
                Some(LegEvent::Ended(end_of(reason)))
            }
            DialogState::Calling(_) | DialogState::Trying(_) | DialogState::WaitAck(_, _) => None,
        }
    }

    async fn next_event(&mut self) -> LegEvent {
        if self.ended {
            return LegEvent::Ended(LegEnd::Local);
        }
        loop {
            match self.states.recv().await {
                Some(state) => {
                    if let Some(event) = self.translate(state) {
                        return event;
                    }
                }
                None => {
                    self.ended = true;
                    return LegEvent::Ended(LegEnd::Local);
                }
            }
        }
    }

    async fn reoffer(&self, sdp: Option<Sdp>) -> Result<Option<(u16, Option<Sdp>)>, SipError> {
        let headers = sdp
            .as_ref()
            .map(|_| vec![make_header("Content-Type", "application/sdp".into())]);
        let response = self.dialog.reinvite(headers, sdp).await?;
        Ok(response.map(|r| (r.status_code.code(), body(&r.body))))
    }
}

impl Drop for LegCore {
    fn drop(&mut self) {
        let dialog = self.dialog.clone();
        let stack = self.stack.clone();
        if self.ended || matches!(dialog.state(), DialogState::Terminated(..)) {
            stack.dialogs.remove_dialog(&dialog.id());
            return;
        }
        // Still up: end it the way its state allows (reject an unanswered INVITE we received,
        // CANCEL one we sent, BYE a confirmed dialog); each call is a no-op in the other states.
        tokio::spawn(async move {
            if dialog.role() == TransactionRole::Server {
                let _ = dialog.reject(Some(StatusCode::ServerInternalError), None);
            }
            let _ = dialog.hangup().await;
            stack.dialogs.remove_dialog(&dialog.id());
        });
    }
}

fn body(bytes: &[u8]) -> Option<Sdp> {
    (!bytes.is_empty()).then(|| bytes.to_vec())
}

fn end_of(reason: TerminatedReason) -> LegEnd {
    match reason {
        TerminatedReason::Timeout => LegEnd::Timeout,
        TerminatedReason::UacCancel => LegEnd::Cancelled,
        TerminatedReason::UacBye | TerminatedReason::UasBye => LegEnd::HungUp,
        TerminatedReason::UacBusy | TerminatedReason::UasBusy => LegEnd::Rejected { status: 486 },
        TerminatedReason::UasDecline => LegEnd::Rejected { status: 603 },
        TerminatedReason::ProxyAuthRequired => LegEnd::Rejected { status: 407 },
        TerminatedReason::ProxyError(code)
        | TerminatedReason::UacOther(code)
        | TerminatedReason::UasOther(code) => LegEnd::Rejected {
            status: code.code(),
        },
    }
}

/// The session timer Hotline keeps for an inbound leg (RFC 4028): when it runs out without a
/// refresh, the call is over.
#[derive(Clone, Copy, Debug)]
pub struct SessionTimer {
    pub interval: Duration,
    pub deadline: Instant,
}

/// A caller's INVITE that Hotline accepted into a dialog.
pub struct InboundLeg {
    core: LegCore,
    _slot: CallSlot,
    session_timer: Option<SessionTimer>,
    answer_headers: Vec<Header>,
}

impl InboundLeg {
    pub(crate) fn new(
        dialog: InviteDialog,
        states: DialogStateReceiver,
        stack: Arc<StackInner>,
        session_timer: Option<Duration>,
        slot: CallSlot,
    ) -> Self {
        let mut answer_headers = Vec::new();
        if let Some(interval) = session_timer {
            answer_headers.push(make_header(
                "Session-Expires",
                format!("{};refresher=uac", interval.as_secs()),
            ));
            answer_headers.push(make_header("Require", "timer".into()));
        }
        Self {
            core: LegCore {
                dialog,
                states,
                stack,
                answered: false,
                ended: false,
            },
            _slot: slot,
            session_timer: session_timer.map(|interval| SessionTimer {
                interval,
                deadline: Instant::now() + interval,
            }),
            answer_headers,
        }
    }

    /// 180 Ringing, or 183 Session Progress with early media.
    pub fn ringing(&self, sdp: Option<Sdp>) -> Result<(), SipError> {
        let headers = sdp
            .as_ref()
            .map(|_| vec![make_header("Content-Type", "application/sdp".into())]);
        Ok(self.core.dialog.ringing(headers, sdp)?)
    }

    /// 200 OK with the answer.
    pub fn answer(&mut self, sdp: Option<Sdp>) -> Result<(), SipError> {
        let mut headers = self.answer_headers.clone();
        if sdp.is_some() {
            headers.push(make_header("Content-Type", "application/sdp".into()));
        }
        if let Some(timer) = self.session_timer.as_mut() {
            timer.deadline = Instant::now() + timer.interval;
        }
        Ok(self.core.dialog.accept(Some(headers), sdp)?)
    }

    /// A final error response before answering (no answer, target busy, ...).
    pub fn reject(&mut self, status: u16) {
        let _ = self
            .core
            .dialog
            .reject(Some(StatusCode::from(status)), None);
        self.core.ended = true;
    }

    /// BYE to the caller.
    pub async fn hangup(&mut self) {
        if !self.core.ended {
            let _ = self.core.dialog.bye().await;
            self.core.ended = true;
        }
    }

    /// Send a re-INVITE to the caller; `None` when the dialog is not confirmed.
    pub async fn reoffer(&self, sdp: Option<Sdp>) -> Result<Option<(u16, Option<Sdp>)>, SipError> {
        self.core.reoffer(sdp).await
    }

    /// The next thing the caller did. A session refresh (re-INVITE/UPDATE) restarts the
    /// session timer; when it runs out the leg reports `Ended(SessionExpired)`.
    pub async fn next_event(&mut self) -> LegEvent {
        let Some(timer) = self.session_timer else {
            return self.core.next_event().await;
        };
        tokio::select! {
            event = self.core.next_event() => {
                if matches!(event, LegEvent::Reoffer { .. }) {
                    if let Some(timer) = self.session_timer.as_mut() {
                        timer.deadline = Instant::now() + timer.interval;
                    }
                }
                event
            }
            _ = tokio::time::sleep_until(timer.deadline), if self.core.answered => {
                LegEvent::Ended(LegEnd::SessionExpired)
            }
        }
    }
}

/// An INVITE Hotline sent.
pub struct OutboundLeg {
    core: LegCore,
    marker: String,
    _pin: Option<NatPin>,
}

impl Drop for OutboundLeg {
    fn drop(&mut self) {
        self.core.stack.forget_marker(&self.marker);
    }
}

impl OutboundLeg {
    pub(crate) fn new(
        dialog: InviteDialog,
        states: DialogStateReceiver,
        stack: Arc<StackInner>,
        marker: String,
        pin: Option<NatPin>,
    ) -> Self {
        Self {
            core: LegCore {
                dialog,
                states,
                stack,
                answered: false,
                ended: false,
            },
            marker,
            _pin: pin,
        }
    }

    /// CANCEL while ringing, BYE once answered.
    pub async fn hangup(&mut self) {
        if !self.core.ended {
            let _ = self.core.dialog.hangup().await;
            self.core.ended = true;
        }
    }

    pub async fn reoffer(&self, sdp: Option<Sdp>) -> Result<Option<(u16, Option<Sdp>)>, SipError> {
        self.core.reoffer(sdp).await
    }

    pub async fn next_event(&mut self) -> LegEvent {
        self.core.next_event().await
    }

    pub fn is_answered(&self) -> bool {
        self.core.answered
    }
}

/// Which SIP methods Hotline answers (Allow header).
pub const ALLOWED: &[Method] = &[
    Method::Invite,
    Method::Ack,
    Method::Cancel,
    Method::Bye,
    Method::Options,
    Method::Info,
    Method::Update,
    Method::Register,
];
