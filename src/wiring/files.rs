//! The tenants' files in `hotline serve`: a [`DirStore`] at `files.dir` (default
//! `<data_dir>/files`) holding prompt audio and call recordings under each tenant's prefix; the
//! start-up repair of recordings a crash left open ([`repair_recordings`]); and where the call
//! engine writes a call's recording ([`StoreRecordingFiles`], its `RecordingFiles`).
//!
//! The directory belongs to one running server: the repair rewrites the header of every
//! recording it finds unfinished, which would cut one that another live process is writing.
//! So it runs before calls are taken, and only over the days since the previous start
//! (recorded in [`LAST_START_FILE`]): a file left open by a crash belongs to a call that arrived
//! after the crashed process started. Without that record (first start, or it is unreadable)
//! every recording is checked.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hotline_core::blob::{BlobKey, BlobStore, DirStore};
use hotline_core::ids::{CallId, TenantId};
use hotline_core::TenantScope;
use hotline_routing::RecordingFiles;

use crate::config::Config;

/// When the previous `serve` started (RFC 3339, UTC), in the files directory.
pub const LAST_START_FILE: &str = ".last-start";

/// The file store at the configured directory, created (mode 0700) if missing.
pub fn open(config: &Config) -> Result<Arc<DirStore>> {
    let dir = config.files_dir();
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)
            .with_context(|| {
                format!(
                    "cannot create the files directory {} (files.dir)",
                    dir.display()
                )
            })?;
    }
    Ok(Arc::new(DirStore::new(dir)))
}

/// What the start-up repair found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RepairSummary {
    /// Recordings of calls from this day on were checked; `None`: all of them.
    pub since: Option<NaiveDate>,
    pub checked: usize,
    /// Recordings whose header was fixed (or a half-written frame cut off).
    pub repaired: usize,
    /// Files that are not recordings this server wrote, left as they were.
    pub failed: usize,
}

/// Fixes the recordings a crash left open under `root`, logs what it did, and records this
/// start for the next one. Runs on a blocking thread; call it before taking calls.
pub async fn repair_recordings(root: &Path) -> Result<RepairSummary> {
    let root = root.to_path_buf();
    let started = Utc::now();
    let summary = tokio::task::spawn_blocking(move || {
        let summary = repair_since_last_start(&root);
        if let Err(error) = record_start(&root, started) {
            tracing::warn!(
                %error,
                "cannot record this start; the next start checks every recording"
            );
        }
        summary
    })
    .await
    .context("the recording repair stopped unexpectedly")?;
    tracing::info!(
        checked = summary.checked,
        repaired = summary.repaired,
        not_recordings = summary.failed,
        since = %summary.since.map_or_else(|| "the beginning".to_string(), |d| d.to_string()),
        "checked the recordings a stop without shutdown may have left open"
    );
    Ok(summary)
}

fn repair_since_last_start(root: &Path) -> RepairSummary {
    // A day's margin for a clock that moved between the starts.
    let since = last_start(root).and_then(|at| at.date_naive().pred_opt());
    let mut summary = RepairSummary {
        since,
        ..RepairSummary::default()
    };
    for dir in recording_dirs(root, since) {
        for (path, outcome) in hotline_media::record::repair_all(&dir) {
            summary.checked += 1;
            match outcome {
                Ok(report) if report.changed => {
                    summary.repaired += 1;
                    tracing::info!(
                        path = %path.display(),
                        header_said = report.claimed_bytes,
                        audio_bytes = report.data_bytes,
                        cut_bytes = report.truncated_bytes,
                        "repaired a recording left open"
                    );
                }
                Ok(_) => {}
                Err(error) => {
                    summary.failed += 1;
                    tracing::warn!(path = %path.display(), %error, "not a recording; left as it is");
                }
            }
        }
    }
    summary
}

fn last_start(root: &Path) -> Option<DateTime<Utc>> {
    let text = fs::read_to_string(root.join(LAST_START_FILE)).ok()?;
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

fn record_start(root: &Path, at: DateTime<Utc>) -> std::io::Result<()> {
    let temporary = root.join(format!("{LAST_START_FILE}.{}", std::process::id()));
    fs::write(&temporary, format!("{}\n", at.to_rfc3339()))?;
    fs::rename(&temporary, root.join(LAST_START_FILE))
}

/// The directories whose recordings may have been left open: for every tenant, the day
/// directories (`recordings/YYYY/MM/DD`) from `since` on, or the whole `recordings` when
/// `since` is `None`. A directory not named as a date is checked whole, to be safe.
fn recording_dirs(root: &Path, since: Option<NaiveDate>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for tenant in subdirs(&root.join("tenants")) {
        let is_tenant = tenant
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.parse::<TenantId>().is_ok());
        let recordings = tenant.join("recordings");
        if !is_tenant || !recordings.is_dir() {
            continue;
        }
        let Some(since) = since else {
            dirs.push(recordings);
            continue;
        };
        for year_dir in subdirs(&recordings) {
            let Some(year) = number_named(&year_dir) else {
                dirs.push(year_dir);
                continue;
            };
            if (year as i32) < since.year() {
                continue;
            }
            for month_dir in subdirs(&year_dir) {
                let Some(month) = number_named(&month_dir) else {
                    dirs.push(month_dir);
                    continue;
                };
                if (year as i32, month) < (since.year(), since.month()) {
                    continue;
                }
                for day_dir in subdirs(&month_dir) {
                    let day = number_named(&day_dir)
                        .and_then(|day| NaiveDate::from_ymd_opt(year as i32, month, day));
                    if day.is_none_or(|day| day >= since) {
                        dirs.push(day_dir);
                    }
                }
            }
        }
    }
    dirs
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

fn number_named(dir: &Path) -> Option<u32> {
    dir.file_name()?.to_str()?.parse().ok()
}

/// Where the call engine writes a call's recording: the file of its key in the store, which
/// must be a local directory (the recorder fixes the WAV header as it writes).
pub struct StoreRecordingFiles {
    files: Arc<dyn BlobStore>,
}

impl StoreRecordingFiles {
    pub fn new(files: Arc<dyn BlobStore>) -> Self {
        Self { files }
    }
}

impl RecordingFiles for StoreRecordingFiles {
    fn create(
        &self,
        tenant_id: TenantId,
        call_id: CallId,
        arrived_at: DateTime<Utc>,
    ) -> Result<(String, PathBuf), String> {
        let key = BlobKey::recording(&TenantScope::from_verified(tenant_id), call_id, arrived_at);
        let path = self.files.local_path(&key).ok_or_else(|| {
            "the file store keeps no local files to record into while a call runs".to_string()
        })?;
        if let Some(parent) = path.parent() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        Ok((key.to_string(), path))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use hotline_media::record::wav::HEADER_LEN;
    use hotline_media::record::WavWriter;

    use super::*;

    /// A recording whose writer died: the header claims `claimed` frames, the file holds
    /// `frames` and half of another.
    fn torn_recording(path: &Path, claimed: usize, frames: usize) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let _ = fs::remove_file(path);
        let mut writer = WavWriter::create(path).unwrap();
        writer.write_frames(&vec![1000i16; claimed * 2]).unwrap();
        writer.flush().unwrap();
        drop(writer);
        let mut bytes = fs::read(path).unwrap();
        bytes.extend(std::iter::repeat_n(7u8, (frames - claimed) * 4 + 2));
        fs::write(path, bytes).unwrap();
    }

    fn data_size(path: &Path) -> (u32, u64) {
        let bytes = fs::read(path).unwrap();
        (
            u32::from_le_bytes(bytes[40..44].try_into().unwrap()),
            bytes.len() as u64,
        )
    }

    fn recording_path(root: &Path, tenant: TenantId, at: DateTime<Utc>) -> PathBuf {
        let key = BlobKey::recording(&TenantScope::from_verified(tenant), CallId::new(), at);
        root.join(key.as_str())
    }

    #[tokio::test]
    async fn torn_recordings_since_the_last_start_are_repaired_older_ones_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let tenant = TenantId::new();
        let now = Utc::now();
        let today = recording_path(root, tenant, now);
        let long_ago = recording_path(
            root,
            tenant,
            Utc.with_ymd_and_hms(2020, 3, 1, 10, 0, 0).unwrap(),
        );
        torn_recording(&today, 8000, 16000);
        torn_recording(&long_ago, 8000, 16000);
        let stray = root.join(format!("tenants/{tenant}/recordings/notes.wav"));
        fs::write(&stray, b"not a recording").unwrap();

        // First start: no record of a previous one, so everything is checked.
        let first = repair_recordings(root).await.unwrap();
        assert_eq!(
            (first.since, first.checked, first.repaired, first.failed),
            (None, 3, 2, 1)
        );
        for path in [&today, &long_ago] {
            assert_eq!(data_size(path), (16000 * 4, HEADER_LEN + 16000 * 4));
        }
        assert!(last_start(root).is_some());

        // A crash later: today's recording torn again, an old one too (left by something else).
        torn_recording(&today, 100, 200);
        torn_recording(&long_ago, 100, 200);
        let second = repair_recordings(root).await.unwrap();
        assert_eq!(second.since, now.date_naive().pred_opt());
        assert_eq!((second.checked, second.repaired), (1, 1));
        assert_eq!(data_size(&today), (200 * 4, HEADER_LEN + 200 * 4));
        assert_eq!(
            data_size(&long_ago).0,
            100 * 4,
            "outside the days since the last start"
        );
        assert_eq!(fs::read(&stray).unwrap(), b"not a recording");
    }

    #[tokio::test]
    async fn files_that_are_not_recordings_are_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let tenant = TenantId::new();
        let junk = recording_path(dir.path(), tenant, Utc::now());
        fs::create_dir_all(junk.parent().unwrap()).unwrap();
        fs::write(&junk, b"RIFF....WAVE but nothing more").unwrap();
        // Not a tenant's directory at all: never looked at.
        let outside = dir.path().join("tenants/not-a-tenant/recordings/x.wav");
        fs::create_dir_all(outside.parent().unwrap()).unwrap();
        torn_recording(&outside, 10, 20);
        let summary = repair_recordings(dir.path()).await.unwrap();
        assert_eq!(
            (summary.checked, summary.repaired, summary.failed),
            (1, 0, 1)
        );
        assert_eq!(fs::read(&junk).unwrap(), b"RIFF....WAVE but nothing more");
        assert_eq!(data_size(&outside).0, 10 * 4);
    }

    #[test]
    fn day_directories_are_chosen_by_date_and_unknown_names_checked_whole() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let tenant = TenantId::new();
        let base = root.join(format!("tenants/{tenant}/recordings"));
        for day in [
            "2026/02/28",
            "2026/03/01",
            "2026/03/02",
            "2025/12/31",
            "2026/03/xx",
            "misc",
        ] {
            fs::create_dir_all(base.join(day)).unwrap();
        }
        let since = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let chosen: Vec<String> = recording_dirs(root, Some(since))
            .iter()
            .map(|p| p.strip_prefix(&base).unwrap().display().to_string())
            .collect();
        assert_eq!(
            chosen,
            vec!["2026/03/01", "2026/03/02", "2026/03/xx", "misc"]
        );
        assert_eq!(recording_dirs(root, None), vec![base]);
    }

    #[test]
    fn a_recording_gets_its_key_under_the_tenant_and_a_directory_to_be_written_in() {
        let dir = tempfile::tempdir().unwrap();
        let files = StoreRecordingFiles::new(Arc::new(DirStore::new(dir.path())));
        let tenant = TenantId::new();
        let call = CallId::new();
        let at = Utc.with_ymd_and_hms(2026, 5, 4, 23, 59, 59).unwrap();
        let (key, path) = files.create(tenant, call, at).unwrap();
        assert_eq!(
            key,
            format!("tenants/{tenant}/recordings/2026/05/04/{call}.wav")
        );
        assert_eq!(path, dir.path().join(&key));
        assert!(path.parent().unwrap().is_dir());
        let scope = TenantScope::from_verified(tenant);
        assert!(BlobKey::parse(&scope, &key).is_ok());
    }
}
