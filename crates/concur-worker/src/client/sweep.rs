//! Sweeping the dead-letter list: reading it a chunk at a time from either
//! end and acting on the entries picked, for the retries of `admin.rs` and
//! the deletes of `steer.rs`.

use std::collections::HashSet;

use super::Client;
use crate::error::Error;
use crate::keys::Keys;
use crate::record::DeadEntry;
use crate::scripts;

impl Client {
    /// Reads the dead-letter list of `keys` a chunk at a time from `from`,
    /// hands each chunk's entries that are `wanted` (by id; every entry for
    /// `None`) to `act` — which removes some of them from the list and says
    /// how many — and stops at the end of the list or once every wanted id
    /// was picked. Returns what `act` removed. Entries pushed meanwhile at
    /// the newest end shift a scan from there back over entries it has
    /// seen, never past unseen ones.
    ///
    /// For wanted ids, Redis itself looks through a window of the list at a
    /// time for entries that name one of them, and only those cross the
    /// wire: finding the oldest of 200,000 entries takes 20 round trips
    /// instead of 200, and no reading of the others here.
    pub(crate) fn sweep_dead(
        &mut self,
        keys: &Keys,
        from: End,
        wanted: Option<&HashSet<&str>>,
        act: &mut DeadAction<'_>,
    ) -> Result<usize, Error> {
        let dead = keys.dead();
        let needles: Option<Vec<String>> = wanted.map(|ids| ids.iter().map(|id| format!("\"id\":\"{id}\"")).collect());
        // The first search window is a chunk's: the ids asked for are
        // usually among the newest, which a small window finds at once.
        let mut chunk = DEAD_CHUNK;
        let (mut stayed, mut picked, mut removed) = (0_i64, 0, 0);
        loop {
            let (read, raws) = match &needles {
                Some(needles) => {
                    let mut invocation = scripts::DEAD_FIND.prepare_invoke();
                    invocation.key(&dead).arg(from.direction()).arg(stayed).arg(chunk).arg(needles);
                    let reply: Vec<redis::Value> = self.with_conn(|c| invocation.invoke(c))?;
                    let mut reply = reply.into_iter();
                    let read = match reply.next() {
                        Some(redis::Value::Int(read)) => usize::try_from(read).unwrap_or(0),
                        _ => 0,
                    };
                    let found = reply
                        .filter_map(|value| match value {
                            redis::Value::BulkString(raw) => Some(raw),
                            _ => None,
                        })
                        .collect();
                    (read, found)
                }
                None => {
                    let size = chunk as i64;
                    let (start, stop) = match from {
                        End::Newest => (stayed, stayed + size - 1),
                        End::Oldest => (-(stayed + size), -(stayed + 1)),
                    };
                    let mut raws: Vec<Vec<u8>> =
                        self.with_conn(|c| redis::cmd("LRANGE").arg(&dead).arg(start).arg(stop).query(c))?;
                    if from == End::Oldest {
                        raws.reverse();
                    }
                    (raws.len(), raws)
                }
            };
            let chosen: Vec<(Vec<u8>, DeadEntry)> = raws
                .into_iter()
                .map(|raw| {
                    let entry = DeadEntry::from_json(&String::from_utf8_lossy(&raw));
                    (raw, entry)
                })
                .filter(|(_, entry)| wanted.is_none_or(|ids| ids.contains(entry.id.as_str())))
                .collect();
            let gone = if chosen.is_empty() { 0 } else { act(self, &dead, &chosen)? };
            picked += chosen.len();
            removed += gone;
            stayed += i64::try_from(read - gone.min(read)).unwrap_or(i64::MAX);
            if read < chunk || wanted.is_some_and(|ids| picked >= ids.len()) {
                return Ok(removed);
            }
            if needles.is_some() {
                chunk = DEAD_FIND_WINDOW;
            }
        }
    }
}

/// What a sweep of the dead-letter list does with the entries it picked
/// (raw and read) in one chunk, given the list's key: removes some, and says
/// how many.
pub(crate) type DeadAction<'a> = dyn FnMut(&mut Client, &str, &[(Vec<u8>, DeadEntry)]) -> Result<usize, Error> + 'a;

/// The most dead-letter entries read in one command.
const DEAD_CHUNK: usize = 1000;

/// The most dead-letter entries Redis looks through in one search for ids:
/// a few milliseconds of its time, so other clients wait no longer.
const DEAD_FIND_WINDOW: usize = 10_000;

/// The end of a list a scan starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The left end, where new entries are pushed.
    Newest,
    /// The right end.
    Oldest,
}

impl End {
    /// The count argument of `LREM` that searches from this end.
    pub(crate) fn direction(self) -> i64 {
        match self {
            End::Newest => 1,
            End::Oldest => -1,
        }
    }
}
