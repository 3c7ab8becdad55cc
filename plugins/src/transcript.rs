//! The readable account of a simulated call (format in `plugins/SCENARIOS.md`): one line per
//! event, stamped with the call's clock since the call started. The simulator's call control and
//! the host's own calls (kv, http, log, set-var, faults, the outcome) write to the same
//! transcript, so it reads in the order things happened.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A transcript shared between the simulator and the host for one call.
#[derive(Clone, Debug)]
pub struct Transcript {
    inner: Arc<Mutex<Lines>>,
}

#[derive(Debug)]
struct Lines {
    start: DateTime<Utc>,
    lines: Vec<String>,
}

impl Transcript {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Lines {
                start,
                lines: Vec::new(),
            })),
        }
    }

    /// Append `event` with `details` at `at` on the call's clock.
    pub fn line(&self, at: DateTime<Utc>, event: &str, details: impl AsRef<str>) {
        if let Ok(mut inner) = self.inner.lock() {
            let stamp = stamp((at - inner.start).num_milliseconds());
            let details = details.as_ref();
            let line = if details.is_empty() {
                format!("{stamp}  {event}")
            } else {
                format!("{stamp}  {event:<8}  {details}")
            };
            inner.lines.push(line);
        }
    }

    pub fn lines(&self) -> Vec<String> {
        self.inner
            .lock()
            .map(|inner| inner.lines.clone())
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        let mut text = self.lines().join("\n");
        text.push('\n');
        text
    }
}

/// `MM:SS.mmm` since the call started (minutes go past 59).
pub fn stamp(millis: i64) -> String {
    let millis = millis.max(0);
    format!(
        "{:02}:{:02}.{:03}",
        millis / 60_000,
        (millis / 1_000) % 60,
        millis % 1_000
    )
}

/// Seconds with milliseconds, `3.000 s`.
pub fn seconds(millis: u64) -> String {
    format!("{}.{:03} s", millis / 1_000, millis % 1_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_count_minutes_past_the_hour() {
        assert_eq!(stamp(0), "00:00.000");
        assert_eq!(stamp(3_200), "00:03.200");
        assert_eq!(stamp(61 * 60_000 + 5), "61:00.005");
    }

    #[test]
    fn lines_pad_the_event() {
        let start = Utc::now();
        let t = Transcript::new(start);
        t.line(start, "play", "welcome (3.000 s)");
        t.line(start, "answer", "");
        assert_eq!(
            t.lines(),
            vec![
                "00:00.000  play      welcome (3.000 s)",
                "00:00.000  answer"
            ]
        );
    }
}
