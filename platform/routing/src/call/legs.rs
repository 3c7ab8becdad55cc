//! Second legs run as small actors: each owns its `OutboundLeg`, forwards what its far end does
//! to the call task (tagged with the leg number) and takes commands back. That keeps the call
//! task a single `select!` over the caller's leg and one channel, however many phones ring.
//!
//! An actor whose call task is gone hangs its leg up: a leg never outlives its call.

use hotline_sip::{LegEvent, OutboundLeg, Sdp};
use tokio::sync::{mpsc, oneshot};

/// A far end's answer to a re-offer: status and SDP, or `None` when the leg could not send it.
pub(crate) type ReofferAnswer = Option<(u16, Option<Sdp>)>;

pub(crate) enum LegCommand {
    Hangup,
    Reoffer {
        sdp: Option<Sdp>,
        answer: oneshot::Sender<ReofferAnswer>,
    },
}

/// The call task's handle on one second leg.
pub(crate) struct LegHandle {
    pub(crate) no: u16,
    commands: mpsc::Sender<LegCommand>,
    /// Whatever must live as long as the leg (a trunk's concurrent-call slot).
    _keep: Option<Box<dyn Send + Sync>>,
}

impl LegHandle {
    pub(crate) fn hangup(&self) {
        let _ = self.commands.try_send(LegCommand::Hangup);
    }

    pub(crate) async fn reoffer(&self, sdp: Option<Sdp>) -> ReofferAnswer {
        let (answer, answered) = oneshot::channel();
        if self
            .commands
            .send(LegCommand::Reoffer { sdp, answer })
            .await
            .is_err()
        {
            return None;
        }
        answered.await.ok().flatten()
    }
}

/// Start the actor for `leg`, reporting to `events` as leg `no`.
pub(crate) fn spawn(
    no: u16,
    mut leg: OutboundLeg,
    events: mpsc::Sender<(u16, LegEvent)>,
    keep: Option<Box<dyn Send + Sync>>,
) -> LegHandle {
    let (commands, mut inbox) = mpsc::channel(8);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                command = inbox.recv() => match command {
                    Some(LegCommand::Reoffer { sdp, answer }) => {
                        let _ = answer.send(leg.reoffer(sdp).await.ok().flatten());
                    }
                    Some(LegCommand::Hangup) | None => {
                        leg.hangup().await;
                        // Let the far end's final answer to our CANCEL/BYE arrive, then stop.
                        let _ = tokio::time::timeout(std::time::Duration::from_secs(32), async {
                            while !matches!(leg.next_event().await, LegEvent::Ended(_)) {}
                        })
                        .await;
                        break;
                    }
                },
                event = leg.next_event() => {
                    let ended = matches!(event, LegEvent::Ended(_));
                    if events.send((no, event)).await.is_err() {
                        leg.hangup().await;
                        break;
                    }
                    if ended {
                        break;
                    }
                }
            }
        }
    });
    LegHandle {
        no,
        commands,
        _keep: keep,
    }
}
