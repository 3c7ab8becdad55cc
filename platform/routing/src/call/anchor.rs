//! Media anchoring: Hotline's own RTP legs between the caller and whoever answers, so that audio
//! runs through the media engine (recording, prompts, DTMF, quality) instead of end to end.
//!
//! A call is anchored when the engine has a media engine and the caller's INVITE carries an
//! offer: the caller gets Hotline's answer, every dialed leg gets Hotline's own offer, and on
//! answer the two media legs are bridged. An INVITE without an offer keeps the signaling-only
//! path (the SDP passes through), since the answer would come in an ACK the SIP layer does not
//! surface. This module must never decide routing; it only sets media up and reads it back.

use chrono::{DateTime, Utc};
use hotline_core::call::{CallEventKind, LegMedia, RecordingRecord};
use hotline_core::ids::TenantId;
use hotline_media::bridge::Side;
use hotline_media::{BridgeHandle, LegHandle, MediaEngine, RecordingTarget};
use tracing::warn;

use super::context::CallContext;
use crate::directory::RecordingPolicy;
use crate::prompts::RecordingFiles;
use crate::sink::CallRecordSink;

/// The caller's anchored media: the leg and the answer it gives the caller's offer.
pub(crate) struct CallerMedia {
    pub(crate) leg: LegHandle,
    pub(crate) answer: Vec<u8>,
}

/// A connected call's media: the bridge (caller on side A) and its recording, if any.
pub(crate) struct Anchored {
    pub(crate) bridge: BridgeHandle,
    /// Leg numbers in the record: 0 for the caller, the answering leg's number for side B.
    pub(crate) answerer_leg: u16,
    /// The running recording's key and start.
    recording: Option<(String, DateTime<Utc>)>,
}

impl Anchored {
    /// Bridge the caller with the leg that answered, and start recording if the hotline's
    /// policy says so. A recording that cannot start leaves the call going, unrecorded, and the
    /// record says why.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn connect<S: CallRecordSink>(
        ctx: &mut CallContext<S>,
        media: &MediaEngine,
        caller: LegHandle,
        answerer: LegHandle,
        answerer_leg: u16,
        tenant_id: TenantId,
        policy: RecordingPolicy,
        files: &dyn RecordingFiles,
    ) -> Result<Self, hotline_media::MediaError> {
        let bridge = media.bridge(caller, answerer).await?;
        let mut anchored = Anchored {
            bridge,
            answerer_leg,
            recording: None,
        };
        if policy == RecordingPolicy::Always {
            anchored.start_recording(ctx, tenant_id, files).await;
        }
        Ok(anchored)
    }

    async fn start_recording<S: CallRecordSink>(
        &mut self,
        ctx: &mut CallContext<S>,
        tenant_id: TenantId,
        files: &dyn RecordingFiles,
    ) {
        let now = hotline_core::time::now();
        let (key, path) = match files.create(tenant_id, ctx.call_id(), now) {
            Ok(place) => place,
            Err(why) => {
                warn!(%why, "the call cannot be recorded");
                metrics::counter!("hotline_recordings_failed_total").increment(1);
                ctx.emit(CallEventKind::RecordingStopped {
                    recording: RecordingRecord {
                        key: String::new(),
                        started_at: now,
                        duration_ms: 0,
                        paused_ms: 0,
                        failed: Some(why),
                    },
                });
                return;
            }
        };
        match self
            .bridge
            .start_recording(RecordingTarget::Path(path), Side::A)
            .await
        {
            Ok(()) => {
                ctx.emit(CallEventKind::RecordingStarted { key: key.clone() });
                self.recording = Some((key, now));
            }
            Err(error) => {
                warn!(%error, "the recording did not start");
                metrics::counter!("hotline_recordings_failed_total").increment(1);
                ctx.emit(CallEventKind::RecordingStopped {
                    recording: RecordingRecord {
                        key,
                        started_at: now,
                        duration_ms: 0,
                        paused_ms: 0,
                        failed: Some(error.to_string()),
                    },
                });
            }
        }
    }

    /// The recording stopped by itself (disk full, storage gone): the record says so.
    pub(crate) fn recording_failed<S: CallRecordSink>(
        &mut self,
        ctx: &mut CallContext<S>,
        reason: String,
    ) {
        if let Some((key, started_at)) = self.recording.take() {
            metrics::counter!("hotline_recordings_failed_total").increment(1);
            ctx.emit(CallEventKind::RecordingStopped {
                recording: RecordingRecord {
                    key,
                    started_at,
                    duration_ms: 0,
                    paused_ms: 0,
                    failed: Some(reason),
                },
            });
        }
    }

    /// At the end of the call: close the recording and put both legs' media quality in the
    /// record. The bridge (and its ports) goes when this returns.
    pub(crate) async fn finish<S: CallRecordSink>(self, ctx: &mut CallContext<S>) {
        if let Some((key, started_at)) = &self.recording {
            let started_at = *started_at;
            let recording = match self.bridge.stop_recording().await {
                Ok(summary) => RecordingRecord {
                    key: key.clone(),
                    started_at,
                    duration_ms: summary.duration_ms,
                    paused_ms: summary.paused_ms,
                    failed: None,
                },
                Err(error) => RecordingRecord {
                    key: key.clone(),
                    started_at,
                    duration_ms: 0,
                    paused_ms: 0,
                    failed: Some(error.to_string()),
                },
            };
            ctx.emit(CallEventKind::RecordingStopped { recording });
        }
        for (side, leg) in [(Side::A, 0), (Side::B, self.answerer_leg)] {
            if let Some(media) = leg_media(self.bridge.leg(side), leg).await {
                ctx.emit(CallEventKind::LegMediaEnded { media });
            }
        }
    }
}

/// One media leg's quality, in the record's terms; `None` when the leg is already gone.
pub(crate) async fn leg_media(leg: &LegHandle, number: u16) -> Option<LegMedia> {
    let quality = leg.quality().await.ok()?;
    let codec = leg
        .negotiated()
        .await
        .ok()
        .flatten()
        .map(|negotiated| negotiated.codec.encoding_name().to_string())
        .unwrap_or_default();
    let micros = |ms: f64| (ms.max(0.0) * 1000.0).round() as u64;
    Some(LegMedia {
        leg: number,
        codec,
        packets_in: quality.packets_in,
        packets_out: quality.packets_out,
        lost: quality.lost,
        ignored: quality.ignored,
        jitter_us: micros(quality.jitter_ms),
        max_jitter_us: micros(quality.max_jitter_ms),
        rtt_ms: quality.rtt_ms.map(|ms| ms.max(0.0).round() as u32),
    })
}

/// At the end of a call whose media was never bridged (a message, an IVR that ended it, a
/// queue nobody answered): the caller's media quality in the record.
pub(crate) async fn caller_media_ended<S: CallRecordSink>(
    ctx: &mut CallContext<S>,
    caller: &super::ring::Caller,
) {
    if let Some(media) = &caller.media {
        if let Some(media) = leg_media(&media.leg, 0).await {
            ctx.emit(CallEventKind::LegMediaEnded { media });
        }
    }
}
