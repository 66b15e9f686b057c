//! Sharded queues: one queue spread over several slots, so that on a Redis
//! Cluster it is served by several masters instead of the one that owns its
//! name's slot.
//!
//! A queue `NAME` declared with `K` shards (`{NAME}:shards` holds `K`) has
//! `K` shard queues besides itself. Shard `i` (0 ≤ i < K) is the queue named
//! `NAME:K:i:N`, where `N` is the smallest number ≥ 0 for which that name's
//! key slot (CRC16/XMODEM of the name, modulo 16384, as Redis Cluster
//! computes it) falls in the `i`-th of `K` equal ranges of the 16384 slots.
//! `redis-cli --cluster create` gives each master an equal run of slots, so
//! `K` equal to the number of masters puts one shard on each, and a multiple
//! of it puts as many on each. A producer in another language finds the
//! same names the same way.
//!
//! Producers that know of the shards (this client reads the declaration
//! when it connects) spread tasks over them in turn; workers serve the queue
//! itself and every shard, so a producer that knows nothing of shards —
//! `redis-cli LPUSH NAME 5` — is still served. Status, dead letters and
//! results read all of them.

use super::Client;
use crate::error::Error;
use crate::keys::{Keys, MAX_NAME_LEN};

/// How many slots Redis Cluster has.
const SLOTS: u32 = 16384;
/// The most shards a queue may have.
pub(crate) const MAX_SHARDS: u32 = 1024;

/// The key slot of `key` (which holds no hash tag), as Redis Cluster
/// computes it.
fn slot(key: &str) -> u32 {
    u32::from(crc16::State::<crc16::XMODEM>::calculate(key.as_bytes())) % SLOTS
}

/// The names of the `shards` shards of the queue `name`; see the module
/// docs.
pub(crate) fn shard_names(name: &str, shards: u32) -> Vec<String> {
    (0..shards)
        .map(|i| {
            let low = i * SLOTS / shards;
            let high = (i + 1) * SLOTS / shards;
            (0u32..)
                .map(|n| format!("{name}:{shards}:{i}:{n}"))
                .find(|candidate| (low..high).contains(&slot(candidate)))
                .expect("every range of slots holds some name")
        })
        .collect()
}

impl Client {
    /// The shards of this queue, as declared in Redis when this client
    /// connected (or as it last declared them): empty for a queue that is
    /// not sharded.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let client = concur_worker::Client::connect("redis://127.0.0.1", Default::default())?;
    /// for shard in client.shards() {
    ///     println!("shard {shard}");
    /// }
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn shards(&self) -> impl Iterator<Item = &str> {
        self.shards.iter().map(Keys::name)
    }

    /// Declares that this queue has `shards` shards, or none with 0: from
    /// then on, clients that connect spread their tasks over the shards and
    /// workers that start serve them. Changing the number is refused while
    /// any shard of the old number holds tasks (pending, running or
    /// delayed): drain them first.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] for more than 1,024 shards, a name too long
    /// to shard, or a change while the old shards hold tasks; connection
    /// errors.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let mut client = concur_worker::Client::connect("redis://127.0.0.1:7000,127.0.0.1:7001", Default::default())?;
    /// client.set_shards(3)?;
    /// assert_eq!(client.shards().count(), 3);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn set_shards(&mut self, shards: u32) -> Result<(), Error> {
        if shards > MAX_SHARDS {
            return Err(Error::InvalidOption(format!("a queue may have at most {MAX_SHARDS} shards, not {shards}")));
        }
        let declared = self.declared_shards()?;
        if declared == shards {
            self.shards = self.shard_keys(shards)?;
            return Ok(());
        }
        for keys in self.shard_keys(declared)? {
            let mut shard = self.for_keys(keys)?;
            let status = shard.member_status()?;
            let busy = status.pending + status.delayed + status.processing();
            if busy > 0 {
                return Err(Error::InvalidOption(format!(
                    "the queue {:?} has {busy} tasks in its {declared} shards (the shard {:?} among them); let the \
                     workers drain them before changing the number of shards",
                    self.keys.name(),
                    shard.keys.name()
                )));
            }
        }
        let key = self.keys.shards();
        if shards == 0 {
            self.with_conn(|c| redis::cmd("DEL").arg(&key).query::<()>(c))?;
        } else {
            self.with_conn(|c| redis::cmd("SET").arg(&key).arg(shards).query::<()>(c))?;
        }
        self.shards = self.shard_keys(shards)?;
        Ok(())
    }

    /// The number of shards declared in Redis, 0 for none.
    pub(crate) fn declared_shards(&mut self) -> Result<u32, Error> {
        let key = self.keys.shards();
        let declared: Option<String> = self.with_conn(|c| redis::cmd("GET").arg(&key).query(c))?;
        match declared {
            None => Ok(0),
            Some(text) => text.parse::<u32>().ok().filter(|&k| k <= MAX_SHARDS).ok_or_else(|| {
                self.protocol_error(format!("the shard count {text:?} in {key}, which is not a number up to 1024"))
            }),
        }
    }

    /// The keys of `shards` shards of this queue.
    pub(crate) fn shard_keys(&self, shards: u32) -> Result<Vec<Keys>, Error> {
        shard_names(self.keys.name(), shards)
            .into_iter()
            .map(|name| {
                if name.len() > MAX_NAME_LEN {
                    return Err(Error::InvalidOption(format!(
                        "the queue name {:?} is too long to shard: its shards' names would pass {MAX_NAME_LEN} bytes",
                        self.keys.name()
                    )));
                }
                Keys::new(&name)
            })
            .collect()
    }

    /// This queue and its shards, the queue itself first.
    pub(crate) fn members(&self) -> Vec<Keys> {
        std::iter::once(self.keys.clone()).chain(self.shards.iter().cloned()).collect()
    }

    /// Where the next enqueue goes: the shards in turn, or the queue itself
    /// when it has none.
    pub(crate) fn next_target(&mut self) -> Keys {
        if self.shards.is_empty() {
            return self.keys.clone();
        }
        self.next_shard = self.next_shard.wrapping_add(1);
        self.shards[self.next_shard % self.shards.len()].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_land_in_equal_ranges_of_slots() {
        for shards in [2, 3, 6, 16] {
            let names = shard_names("emails", shards);
            assert_eq!(names.len(), shards as usize);
            for (i, name) in names.iter().enumerate() {
                let i = i as u32;
                assert!(name.starts_with(&format!("emails:{shards}:{i}:")), "{name}");
                assert!((i * SLOTS / shards..(i + 1) * SLOTS / shards).contains(&slot(name)), "{name}");
            }
        }
        // Redis's own example: the slot of "foo" is 12182.
        assert_eq!(slot("foo"), 12182);
    }
}
