//! Walks a playlist for one leg, one frame at a time: prompts (shared, never copied), tones,
//! silences, in order, looping for music on hold. The leg paces it (one frame per ptime) and
//! stops it on a digit when barge-in is on; the player itself knows no clock.

use std::time::Duration;

use super::tone::{ToneGenerator, ToneSpec};
use super::Prompt;

#[derive(Clone, Debug, PartialEq)]
pub enum PlayItem {
    Prompt(Prompt),
    /// A tone for a duration; `None` plays it until stopped.
    Tone(ToneSpec, Option<Duration>),
    Silence(Duration),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Playlist {
    pub items: Vec<PlayItem>,
    /// Start again from the first item after the last (music on hold).
    pub looping: bool,
}

impl Playlist {
    pub fn once(items: Vec<PlayItem>) -> Playlist {
        Playlist {
            items,
            looping: false,
        }
    }

    pub fn looping(items: Vec<PlayItem>) -> Playlist {
        Playlist {
            items,
            looping: true,
        }
    }

    fn item_samples(item: &PlayItem) -> Option<u64> {
        match item {
            PlayItem::Prompt(p) => Some(p.samples().len() as u64),
            PlayItem::Tone(_, Some(d)) | PlayItem::Silence(d) => Some(d.as_millis() as u64 * 8),
            PlayItem::Tone(_, None) => None,
        }
    }

    /// True when the list would produce no sound at all (nothing to loop over).
    pub fn is_empty(&self) -> bool {
        self.items
            .iter()
            .all(|i| Playlist::item_samples(i) == Some(0))
    }
}

#[derive(Debug)]
pub struct Player {
    playlist: Playlist,
    index: usize,
    offset: u64,
    tone: Option<ToneGenerator>,
}

impl Player {
    pub fn new(playlist: Playlist) -> Player {
        let mut player = Player {
            playlist,
            index: 0,
            offset: 0,
            tone: None,
        };
        player.enter_item();
        player
    }

    fn enter_item(&mut self) {
        self.offset = 0;
        self.tone = match self.playlist.items.get(self.index) {
            Some(PlayItem::Tone(spec, _)) => Some(ToneGenerator::new(spec)),
            _ => None,
        };
    }

    pub fn finished(&self) -> bool {
        self.index >= self.playlist.items.len()
    }

    /// Fills a frame; returns false once the playlist is over (the frame is then silence).
    pub fn fill_frame(&mut self, out: &mut [i16]) -> bool {
        let mut written = 0;
        let mut empty_rounds = 0;
        while written < out.len() {
            if self.finished() {
                if self.playlist.looping && !self.playlist.is_empty() && empty_rounds < 2 {
                    self.index = 0;
                    self.enter_item();
                    empty_rounds += 1;
                } else {
                    out[written..].fill(0);
                    return written > 0;
                }
            }
            let Some(item) = self.playlist.items.get(self.index) else {
                continue;
            };
            let left = Playlist::item_samples(item).map(|total| total.saturating_sub(self.offset));
            let want = out.len() - written;
            let take = left.map_or(want, |l| (l as usize).min(want));
            let dst = &mut out[written..written + take];
            match item {
                PlayItem::Prompt(p) => {
                    let start = self.offset as usize;
                    dst.copy_from_slice(&p.samples()[start..start + take]);
                }
                PlayItem::Tone(..) => {
                    if let Some(tone) = self.tone.as_mut() {
                        tone.fill(dst);
                    }
                }
                PlayItem::Silence(_) => dst.fill(0),
            }
            if take > 0 {
                empty_rounds = 0;
            }
            written += take;
            self.offset += take as u64;
            // The item is used up (a zero-length one at once).
            if left == Some(take as u64) {
                self.index += 1;
                self.enter_item();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(len: usize, value: i16) -> Prompt {
        Prompt::from_pcm(vec![value; len])
    }

    #[test]
    fn a_playlist_plays_in_order_and_ends() {
        let mut p = Player::new(Playlist::once(vec![
            PlayItem::Prompt(prompt(200, 1)),
            PlayItem::Silence(Duration::from_millis(10)),
            PlayItem::Prompt(prompt(100, 2)),
        ]));
        let mut frame = [9i16; 160];
        assert!(p.fill_frame(&mut frame));
        assert!(frame.iter().all(|s| *s == 1));
        assert!(p.fill_frame(&mut frame));
        assert!(frame[..40].iter().all(|s| *s == 1));
        assert!(frame[40..120].iter().all(|s| *s == 0));
        assert!(frame[120..].iter().all(|s| *s == 2));
        assert!(p.fill_frame(&mut frame));
        assert!(frame[..60].iter().all(|s| *s == 2) && frame[60..].iter().all(|s| *s == 0));
        assert!(!p.fill_frame(&mut frame));
        assert!(p.finished());
    }

    #[test]
    fn looping_music_on_hold_never_ends() {
        let mut p = Player::new(Playlist::looping(vec![PlayItem::Prompt(prompt(50, 3))]));
        let mut frame = [0i16; 160];
        for _ in 0..100 {
            assert!(p.fill_frame(&mut frame));
            assert!(frame.iter().all(|s| *s == 3));
        }
    }

    #[test]
    fn an_empty_looping_list_ends_instead_of_spinning() {
        let mut p = Player::new(Playlist::looping(vec![PlayItem::Prompt(prompt(0, 1))]));
        let mut frame = [5i16; 160];
        assert!(!p.fill_frame(&mut frame));
        assert!(frame.iter().all(|s| *s == 0));
        let mut p = Player::new(Playlist::looping(vec![]));
        assert!(!p.fill_frame(&mut frame));
    }

    #[test]
    fn an_endless_tone_plays_until_stopped() {
        let mut p = Player::new(Playlist::once(vec![PlayItem::Tone(
            ToneSpec::continuous(vec![425.0], -13.0),
            None,
        )]));
        let mut frame = [0i16; 160];
        for _ in 0..500 {
            assert!(p.fill_frame(&mut frame));
        }
        assert!(frame.iter().any(|s| *s != 0));
    }
}
