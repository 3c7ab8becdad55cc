//! The recording file: a stereo 16-bit 8 kHz WAV written as the call runs. The header's RIFF
//! and data sizes are rewritten at every flush and on close, and [`repair`] fixes them for a
//! file whose writer died (truncating to whole frames), so a crash loses at most the audio
//! since the last flush.
//!
//! It never buffers more than one flush interval and never seeks anywhere but the two size
//! fields and the end.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

pub const CHANNELS: u16 = 2;
pub const SAMPLE_RATE: u32 = 8000;
pub const BITS: u16 = 16;
pub const FRAME_BYTES: u64 = (CHANNELS as u64) * (BITS as u64 / 8);
/// The canonical 44-byte header this writer produces: the data starts here.
pub const HEADER_LEN: u64 = 44;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("recording I/O: {0}")]
    Io(#[from] io::Error),
    #[error("not a WAV recording: {0}")]
    NotWav(&'static str),
}

fn header(data_bytes: u32) -> [u8; HEADER_LEN as usize] {
    let mut h = [0u8; HEADER_LEN as usize];
    h[0..4].copy_from_slice(b"RIFF");
    h[4..8].copy_from_slice(&(36u32.saturating_add(data_bytes)).to_le_bytes());
    h[8..12].copy_from_slice(b"WAVE");
    h[12..16].copy_from_slice(b"fmt ");
    h[16..20].copy_from_slice(&16u32.to_le_bytes());
    h[20..22].copy_from_slice(&1u16.to_le_bytes()); // PCM
    h[22..24].copy_from_slice(&CHANNELS.to_le_bytes());
    h[24..28].copy_from_slice(&SAMPLE_RATE.to_le_bytes());
    h[28..32].copy_from_slice(&(SAMPLE_RATE * FRAME_BYTES as u32).to_le_bytes());
    h[32..34].copy_from_slice(&(FRAME_BYTES as u16).to_le_bytes());
    h[34..36].copy_from_slice(&BITS.to_le_bytes());
    h[36..40].copy_from_slice(b"data");
    h[40..44].copy_from_slice(&data_bytes.to_le_bytes());
    h
}

/// Anything a recording can be written to: a file, or memory in tests.
pub trait RecordingSink: Write + Seek + Send {}
impl<T: Write + Seek + Send> RecordingSink for T {}

/// Writes interleaved stereo frames after a header that is kept true at every flush.
pub struct WavWriter {
    out: BufWriter<Box<dyn RecordingSink>>,
    data_bytes: u64,
    flushed_bytes: u64,
}

impl std::fmt::Debug for WavWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavWriter")
            .field("data_bytes", &self.data_bytes)
            .finish()
    }
}

/// A WAV data chunk cannot pass 4 GiB; past it the recording stops growing (about 37 hours).
const MAX_DATA: u64 = u32::MAX as u64 - HEADER_LEN;

impl WavWriter {
    pub fn new(mut sink: Box<dyn RecordingSink>) -> Result<WavWriter, RecordError> {
        sink.write_all(&header(0))?;
        sink.flush()?;
        Ok(WavWriter {
            // Half a second of audio; the flush interval pushes the rest.
            out: BufWriter::with_capacity(16 * 1024, sink),
            data_bytes: 0,
            flushed_bytes: 0,
        })
    }

    pub fn create(path: &Path) -> Result<WavWriter, RecordError> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
        WavWriter::new(Box::new(file))
    }

    /// Appends interleaved (left, right) frames.
    pub fn write_frames(&mut self, interleaved: &[i16]) -> Result<(), RecordError> {
        let bytes = interleaved.len() as u64 * 2;
        if self.data_bytes + bytes > MAX_DATA {
            return Ok(());
        }
        let mut chunk = [0u8; 640];
        for samples in interleaved.chunks(320) {
            let n = samples.len() * 2;
            for (dst, s) in chunk[..n].chunks_exact_mut(2).zip(samples) {
                dst.copy_from_slice(&s.to_le_bytes());
            }
            self.out.write_all(&chunk[..n])?;
        }
        self.data_bytes += bytes;
        Ok(())
    }

    pub fn frames(&self) -> u64 {
        self.data_bytes / FRAME_BYTES
    }

    /// Pushes buffered audio to the file and makes the header tell its true length.
    pub fn flush(&mut self) -> Result<(), RecordError> {
        self.out.flush()?;
        if self.flushed_bytes != self.data_bytes {
            let sink = self.out.get_mut();
            let data = self.data_bytes as u32;
            sink.seek(SeekFrom::Start(4))?;
            sink.write_all(&(36 + data).to_le_bytes())?;
            sink.seek(SeekFrom::Start(40))?;
            sink.write_all(&data.to_le_bytes())?;
            sink.seek(SeekFrom::End(0))?;
            sink.flush()?;
            self.flushed_bytes = self.data_bytes;
        }
        Ok(())
    }

    /// Flushes and closes; the file is a complete WAV afterwards.
    pub fn finish(mut self) -> Result<u64, RecordError> {
        self.flush()?;
        Ok(self.frames())
    }
}

/// What [`repair`] found and did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RepairReport {
    /// The data size the header claimed.
    pub claimed_bytes: u64,
    /// The data size now (whole frames actually in the file).
    pub data_bytes: u64,
    /// Bytes cut off the end (a frame the crash interrupted).
    pub truncated_bytes: u64,
    pub changed: bool,
}

/// Fixes the header of a recording whose writer did not close it. Safe to run on any
/// recording (a closed one is left as it is).
pub fn repair(path: &Path) -> Result<RepairReport, RecordError> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    let mut h = [0u8; HEADER_LEN as usize];
    if len < HEADER_LEN {
        return Err(RecordError::NotWav("shorter than a WAV header"));
    }
    file.read_exact(&mut h)?;
    if &h[0..4] != b"RIFF" || &h[8..12] != b"WAVE" {
        return Err(RecordError::NotWav("no RIFF/WAVE signature"));
    }
    if &h[12..16] != b"fmt " || &h[36..40] != b"data" {
        return Err(RecordError::NotWav("not a header this recorder wrote"));
    }
    let block_align = u16::from_le_bytes([h[32], h[33]]).max(1) as u64;
    let claimed = u32::from_le_bytes([h[40], h[41], h[42], h[43]]) as u64;
    let present = (len - HEADER_LEN).min(MAX_DATA);
    let whole = present / block_align * block_align;
    let riff_claimed = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as u64;
    let changed = claimed != whole || riff_claimed != 36 + whole || len != HEADER_LEN + whole;
    if changed {
        file.set_len(HEADER_LEN + whole)?;
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&(36 + whole as u32).to_le_bytes())?;
        file.seek(SeekFrom::Start(40))?;
        file.write_all(&(whole as u32).to_le_bytes())?;
        file.sync_all()?;
    }
    Ok(RepairReport {
        claimed_bytes: claimed,
        data_bytes: whole,
        truncated_bytes: present - whole,
        changed,
    })
}

/// Runs [`repair`] on every `.wav` file under `dir` (recursively), as start-up does for the
/// recordings a crash left open. Files that are not recordings are reported, not touched.
pub fn repair_all(dir: &Path) -> Vec<(std::path::PathBuf, Result<RepairReport, RecordError>)> {
    let mut results = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t)
                    if t.is_file()
                        && path
                            .extension()
                            .is_some_and(|e| e.eq_ignore_ascii_case("wav")) =>
                {
                    let result = repair(&path);
                    results.push((path, result));
                }
                _ => {}
            }
        }
    }
    results.sort_by(|a, b| a.0.cmp(&b.0));
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;
    use std::sync::{Arc, Mutex};

    /// A sink the test can read while the writer still owns it.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Cursor<Vec<u8>>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Seek for Shared {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.0.lock().unwrap().seek(pos)
        }
    }

    #[test]
    fn the_header_is_true_after_every_flush() {
        let shared = Shared::default();
        let mut w = WavWriter::new(Box::new(shared.clone())).unwrap();
        w.write_frames(&[1, -1, 2, -2]).unwrap();
        w.flush().unwrap();
        let bytes = shared.0.lock().unwrap().get_ref().clone();
        let reader = hound::WavReader::new(Cursor::new(bytes)).unwrap();
        assert_eq!(reader.spec().channels, 2);
        assert_eq!(reader.duration(), 2);
        w.write_frames(&[3, -3]).unwrap();
        assert_eq!(w.finish().unwrap(), 3);
        let bytes = shared.0.lock().unwrap().get_ref().clone();
        let samples: Vec<i16> = hound::WavReader::new(Cursor::new(bytes))
            .unwrap()
            .into_samples()
            .map(|s| s.unwrap())
            .collect();
        assert_eq!(samples, vec![1, -1, 2, -2, 3, -3]);
    }

    #[test]
    fn repair_fixes_sizes_and_cuts_a_half_frame() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("left-open.wav");
        let mut w = WavWriter::create(&path).unwrap();
        w.write_frames(&vec![7i16; 8000 * 2]).unwrap();
        w.flush().unwrap();
        w.write_frames(&vec![9i16; 4000 * 2]).unwrap();
        // The process dies: the buffer reaches the file but the header is not updated, and the
        // last frame is half written.
        let _ = w.out.flush();
        std::mem::forget(w);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[1, 2]).unwrap();
        drop(f);

        let report = repair(&path).unwrap();
        assert!(report.changed);
        assert_eq!(report.claimed_bytes, 8000 * 4);
        assert_eq!(report.data_bytes, 12000 * 4);
        assert_eq!(report.truncated_bytes, 2);
        let reader = hound::WavReader::open(&path).unwrap();
        assert_eq!(reader.duration(), 12000);
        assert!(!repair(&path).unwrap().changed, "repair is idempotent");
    }

    #[test]
    fn repair_refuses_what_is_not_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short.wav");
        std::fs::write(&short, b"RIFF").unwrap();
        assert!(matches!(repair(&short), Err(RecordError::NotWav(_))));
        let text = dir.path().join("text.wav");
        std::fs::write(&text, vec![b'x'; 100]).unwrap();
        assert!(matches!(repair(&text), Err(RecordError::NotWav(_))));
        assert!(matches!(
            repair(&dir.path().join("missing.wav")),
            Err(RecordError::Io(_))
        ));
    }

    #[test]
    fn repair_all_walks_the_tree_and_reports_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let tenant = dir.path().join("tenant-a").join("2026-12-01");
        std::fs::create_dir_all(&tenant).unwrap();
        let open = tenant.join("open.wav");
        let mut w = WavWriter::create(&open).unwrap();
        w.write_frames(&[1i16; 800]).unwrap();
        let _ = w.out.flush();
        std::mem::forget(w);
        std::fs::write(tenant.join("notes.txt"), b"not audio").unwrap();
        std::fs::write(dir.path().join("bogus.wav"), b"nope").unwrap();
        let results = repair_all(dir.path());
        assert_eq!(results.len(), 2);
        assert!(matches!(results[0].1, Err(RecordError::NotWav(_))));
        assert_eq!(results[1].1.as_ref().unwrap().data_bytes, 1600);
        assert_eq!(hound::WavReader::open(&open).unwrap().duration(), 400);
    }

    #[test]
    fn an_existing_file_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("taken.wav");
        std::fs::write(&path, b"keep me").unwrap();
        assert!(WavWriter::create(&path).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    }
}
