//! Call recording: the two legs of a bridge mixed into one stereo WAV (caller left, agent
//! right), aligned by the media clock, written while the call runs ([`wav`]).
//!
//! Alignment: each channel's RTP timestamps are anchored to the recording clock on their first
//! packet (and again on a new SSRC or a jump of more than a second), so audio lands at the
//! position its sender stamped, not when the network delivered it. Frames are written
//! [`LATENCY`] behind real time, which leaves room for network jitter; a gap is silence.
//!
//! Pause (while a caller reads a card number) writes **silence** for the paused time rather
//! than skipping it: the file's clock stays the call's clock, so a reviewer's position in the
//! recording is the position in the call, and both channels stay aligned. Nothing that was
//! said while paused can enter the file: audio fed while paused is dropped, audio already
//! buffered for positions after the pause is cleared, and late packets whose position falls in
//! a paused span are refused.

pub mod wav;

use std::time::{Duration, Instant};

pub use wav::{repair, repair_all, RecordError, RecordingSink, RepairReport, WavWriter};

/// How far behind real time frames are written.
pub const LATENCY: Duration = Duration::from_millis(300);
/// Frames the mixer holds per channel (1 s: the latency, a write interval and room for early
/// packets).
const CAPACITY: usize = 8_000;
/// How often due frames move from the mixer to the writer (the file is flushed less often).
pub const WRITE_INTERVAL: Duration = Duration::from_millis(100);
/// A timestamp this far from where arrival time puts it re-anchors the channel.
const REANCHOR_SAMPLES: i64 = 8000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Left,
    Right,
}

#[derive(Clone, Copy, Debug)]
struct Anchor {
    ssrc: u32,
    last_ts: u32,
    extended: i64,
    offset: i64,
}

#[derive(Debug)]
struct Track {
    samples: Box<[i16]>,
    anchor: Option<Anchor>,
}

impl Track {
    fn new() -> Track {
        Track {
            samples: vec![0; CAPACITY].into_boxed_slice(),
            anchor: None,
        }
    }

    /// Position of a packet on the recording clock.
    fn position(&mut self, ssrc: u32, ts: u32, arrival: i64) -> i64 {
        if let Some(a) = self.anchor.as_mut() {
            if a.ssrc == ssrc {
                let step = ts.wrapping_sub(a.last_ts) as i32 as i64;
                let extended = a.extended + step;
                let position = extended + a.offset;
                if (position - arrival).abs() <= REANCHOR_SAMPLES {
                    if step > 0 {
                        a.last_ts = ts;
                        a.extended = extended;
                    }
                    return position;
                }
            }
        }
        self.anchor = Some(Anchor {
            ssrc,
            last_ts: ts,
            extended: ts as i64,
            offset: arrival - ts as i64,
        });
        arrival
    }
}

/// What a finished recording holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordingSummary {
    pub frames: u64,
    pub duration_ms: u64,
    pub paused_ms: u64,
    /// Samples refused because they were late, too early, or inside a paused span.
    pub dropped_samples: u64,
}

/// Mixes two channels into a [`WavWriter`].
#[derive(Debug)]
pub struct Recorder {
    writer: WavWriter,
    started: Instant,
    left: Track,
    right: Track,
    /// Frames written so far (the write position on the recording clock).
    written: i64,
    paused_since: Option<i64>,
    paused_spans: Vec<(i64, i64)>,
    paused_frames: u64,
    flush_interval: Duration,
    last_flush: Instant,
    last_tick: Instant,
    dropped: u64,
}

fn position_at(started: Instant, now: Instant) -> i64 {
    (now.saturating_duration_since(started).as_micros() as i64) * 8 / 1000
}

impl Recorder {
    pub fn new(writer: WavWriter, now: Instant, flush_interval: Duration) -> Recorder {
        Recorder {
            writer,
            started: now,
            left: Track::new(),
            right: Track::new(),
            written: 0,
            paused_since: None,
            paused_spans: Vec::new(),
            paused_frames: 0,
            flush_interval: flush_interval.min(Duration::from_secs(1)),
            last_flush: now,
            last_tick: now,
            dropped: 0,
        }
    }

    pub fn paused(&self) -> bool {
        self.paused_since.is_some()
    }

    /// Audio of one channel, as it arrived in a packet.
    pub fn feed(
        &mut self,
        channel: Channel,
        ssrc: u32,
        rtp_ts: u32,
        samples: &[i16],
        now: Instant,
    ) {
        if self.paused_since.is_some() {
            self.dropped += samples.len() as u64;
            return;
        }
        let arrival = position_at(self.started, now);
        let track = match channel {
            Channel::Left => &mut self.left,
            Channel::Right => &mut self.right,
        };
        let start = track.position(ssrc, rtp_ts, arrival);
        for (i, s) in samples.iter().enumerate() {
            let at = start + i as i64;
            let in_pause = self.paused_spans.iter().any(|(a, b)| at >= *a && at < *b);
            if at < self.written || at >= self.written + CAPACITY as i64 || in_pause {
                self.dropped += 1;
                continue;
            }
            track.samples[at as usize % CAPACITY] = *s;
        }
    }

    pub fn pause(&mut self, now: Instant) {
        if self.paused_since.is_some() {
            return;
        }
        let at = position_at(self.started, now).max(self.written);
        // Anything buffered for after this instant was never said before the pause.
        for pos in at..self.written + CAPACITY as i64 {
            self.left.samples[pos as usize % CAPACITY] = 0;
            self.right.samples[pos as usize % CAPACITY] = 0;
        }
        self.paused_since = Some(at);
    }

    pub fn resume(&mut self, now: Instant) {
        if let Some(since) = self.paused_since.take() {
            let until = position_at(self.started, now).max(since);
            self.paused_frames += (until - since) as u64;
            self.paused_spans.push((since, until));
        }
    }

    /// Writes what is due and flushes when the interval has passed. Call at least every
    /// [`Recorder::next_tick`].
    pub fn tick(&mut self, now: Instant) -> Result<(), RecordError> {
        let latency = (LATENCY.as_millis() as i64) * 8;
        let target = position_at(self.started, now) - latency;
        self.last_tick = now;
        self.write_until(target)?;
        if now.saturating_duration_since(self.last_flush) >= self.flush_interval {
            self.writer.flush()?;
            self.last_flush = now;
        }
        Ok(())
    }

    pub fn next_tick(&self) -> Instant {
        (self.last_tick + WRITE_INTERVAL).min(self.last_flush + self.flush_interval)
    }

    fn write_until(&mut self, target: i64) -> Result<(), RecordError> {
        let mut frame = [0i16; 320];
        while self.written < target {
            let n = ((target - self.written) as usize).min(160);
            for i in 0..n {
                let slot = (self.written as usize + i) % CAPACITY;
                let pos = self.written + i as i64;
                let silenced = self.paused_since.is_some_and(|p| pos >= p);
                let (l, r) = if silenced {
                    (0, 0)
                } else {
                    (self.left.samples[slot], self.right.samples[slot])
                };
                frame[2 * i] = l;
                frame[2 * i + 1] = r;
                self.left.samples[slot] = 0;
                self.right.samples[slot] = 0;
            }
            self.writer.write_frames(&frame[..2 * n])?;
            self.written += n as i64;
        }
        let written = self.written;
        self.paused_spans.retain(|(_, end)| *end > written);
        Ok(())
    }

    /// Writes everything up to now and closes the file.
    pub fn finish(mut self, now: Instant) -> Result<RecordingSummary, RecordError> {
        self.resume(now);
        let end = position_at(self.started, now);
        self.write_until(end)?;
        let frames = self.writer.frames();
        let dropped = self.dropped;
        let paused_frames = self.paused_frames;
        self.writer.finish()?;
        Ok(RecordingSummary {
            frames,
            duration_ms: frames / 8,
            paused_ms: paused_frames / 8,
            dropped_samples: dropped,
        })
    }
}

#[cfg(test)]
mod tests;
