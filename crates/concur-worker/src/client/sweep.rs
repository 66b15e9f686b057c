//! Sweeping the dead-letter list: reading it a chunk at a time from either
//! end and acting on the entries picked, for the retries of `admin.rs` and
//! the deletes of `steer.rs`.

use super::Client;
use crate::error::Error;
use crate::keys::Keys;
use crate::record::DeadEntry;

impl Client {
    /// Reads the dead-letter list of `keys` a chunk at a time from `from`,
    /// hands each chunk's entries that `select` picks to `act` — which
    /// removes some of them from the list and says how many — and stops at
    /// the end of the list or once `limit` entries were picked. Returns
    /// what `act` removed. Entries pushed meanwhile at the newest end shift
    /// a scan from there back over entries it has seen, never past unseen
    /// ones.
    pub(crate) fn sweep_dead(
        &mut self,
        keys: &Keys,
        from: End,
        select: &dyn Fn(&DeadEntry) -> bool,
        limit: Option<usize>,
        act: &mut DeadAction<'_>,
    ) -> Result<usize, Error> {
        let dead = keys.dead();
        let chunk = DEAD_CHUNK as i64;
        let (mut stayed, mut picked, mut removed) = (0_i64, 0, 0);
        loop {
            let (start, stop) = match from {
                End::Newest => (stayed, stayed + chunk - 1),
                End::Oldest => (-(stayed + chunk), -(stayed + 1)),
            };
            let mut raws: Vec<Vec<u8>> =
                self.with_conn(|c| redis::cmd("LRANGE").arg(&dead).arg(start).arg(stop).query(c))?;
            let read = raws.len();
            if from == End::Oldest {
                raws.reverse();
            }
            let chosen: Vec<(Vec<u8>, DeadEntry)> = raws
                .into_iter()
                .map(|raw| {
                    let entry = DeadEntry::from_json(&String::from_utf8_lossy(&raw));
                    (raw, entry)
                })
                .filter(|(_, entry)| select(entry))
                .collect();
            let gone = if chosen.is_empty() { 0 } else { act(self, &dead, &chosen)? };
            picked += chosen.len();
            removed += gone;
            stayed += i64::try_from(read - gone.min(read)).unwrap_or(i64::MAX);
            if read < DEAD_CHUNK || limit.is_some_and(|limit| picked >= limit) {
                return Ok(removed);
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
