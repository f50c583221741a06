//! The other nodes a NATS node hears: heartbeats in, `"up"`/`"down"` out.
//!
//! Every node publishes a heartbeat each [`BEAT`] on its own subject; a
//! node heard for the first time is up, one silent for [`SILENCE`] (three
//! beats missed) or saying goodbye is down. The same address is reported
//! for the up and the down of one node.

use rustc_hash::FxHashMap as HashMap;
use std::time::{Duration, Instant};

pub const BEAT: Duration = Duration::from_secs(1);
/// Three beats missed, with some slack for a busy sender.
pub const SILENCE: Duration = Duration::from_millis(3500);

/// One heartbeat's meaning.
#[derive(Debug, PartialEq, Eq)]
pub enum Beat {
    Alive(String),
    Leaving,
}

impl Beat {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Beat::Alive(address) => format!("alive {address}").into_bytes(),
            Beat::Leaving => b"leave".to_vec(),
        }
    }

    pub fn decode(bytes: &[u8]) -> Option<Beat> {
        let text = std::str::from_utf8(bytes).ok()?;
        if text == "leave" {
            return Some(Beat::Leaving);
        }
        text.strip_prefix("alive ").map(|a| Beat::Alive(a.to_owned()))
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Up(u64, String),
    Down(u64, String),
}

#[derive(Default)]
pub struct Peers {
    heard: HashMap<u64, (String, Instant)>,
}

impl Peers {
    /// Node `id` sent `beat` at `now`.
    pub fn heard(&mut self, id: u64, beat: Beat, now: Instant) -> Option<Change> {
        match beat {
            Beat::Alive(address) => match self.heard.get_mut(&id) {
                Some((_, last)) => {
                    *last = now;
                    None
                }
                None => {
                    self.heard.insert(id, (address.clone(), now));
                    Some(Change::Up(id, address))
                }
            },
            Beat::Leaving => self.heard.remove(&id).map(|(address, _)| Change::Down(id, address)),
        }
    }

    /// The nodes silent for [`SILENCE`] at `now`, forgotten.
    pub fn sweep(&mut self, now: Instant) -> Vec<Change> {
        let mut gone = Vec::new();
        self.heard.retain(|&id, (address, last)| {
            let alive = now.duration_since(*last) < SILENCE;
            if !alive {
                gone.push(Change::Down(id, std::mem::take(address)));
            }
            alive
        });
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beats_round_trip() {
        for b in [Beat::Alive("10.0.0.1".into()), Beat::Leaving] {
            assert_eq!(Beat::decode(&b.encode()), Some(b));
        }
        assert_eq!(Beat::decode(b"hello"), None);
        assert_eq!(Beat::decode(b"\xff"), None);
    }

    #[test]
    fn first_beat_is_up_and_later_ones_are_quiet() {
        let mut p = Peers::default();
        let t = Instant::now();
        assert_eq!(p.heard(7, Beat::Alive("a".into()), t), Some(Change::Up(7, "a".into())));
        assert_eq!(p.heard(7, Beat::Alive("a".into()), t + BEAT), None);
        assert!(p.sweep(t + BEAT * 3).is_empty(), "heard one beat ago");
    }

    #[test]
    fn silence_is_down_with_the_same_address_once() {
        let mut p = Peers::default();
        let t = Instant::now();
        p.heard(7, Beat::Alive("a".into()), t);
        p.heard(8, Beat::Alive("b".into()), t + BEAT * 2);
        assert_eq!(p.sweep(t + SILENCE), vec![Change::Down(7, "a".into())]);
        assert!(p.sweep(t + SILENCE).is_empty());
        assert_eq!(p.heard(7, Beat::Alive("a".into()), t + SILENCE), Some(Change::Up(7, "a".into())), "back up");
    }

    #[test]
    fn goodbye_is_down_at_once() {
        let mut p = Peers::default();
        let t = Instant::now();
        assert_eq!(p.heard(7, Beat::Leaving, t), None, "never heard: nothing to report");
        p.heard(7, Beat::Alive("a".into()), t);
        assert_eq!(p.heard(7, Beat::Leaving, t), Some(Change::Down(7, "a".into())));
        assert!(p.sweep(t + SILENCE * 2).is_empty());
    }
}
