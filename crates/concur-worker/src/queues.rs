//! The queues one worker serves, and the order it takes them in:
//! [`QueueSet`].
//!
//! Two orders, as Sidekiq offers them:
//!
//! - **strict** (`critical,default,low`): each fetch takes from `critical`
//!   as long as it has tasks, then from `default`, then from `low`. A busy
//!   first queue starves the others, which is what "critical" means.
//! - **weighted** (`critical:5,default:2,low:1`): each fetch puts the queues
//!   in a random order in which a queue comes first with a probability
//!   proportional to its weight (here 5/8, 2/8 and 1/8), and takes from them
//!   in that order. A queue of weight 1 is first one fetch in eight, so it is
//!   never starved, however busy the others are.
//!
//! Either way a fetch that finds the first queue short takes the rest of its
//! free slots from the next ones, so a worker never idles while any of its
//! queues has tasks.

use std::fmt;
use std::str::FromStr;

use rand::seq::SliceRandom;

use crate::error::Error;
use crate::keys::Keys;

/// The queues a worker serves, and the order it takes them in.
///
/// - **strict** (`critical,default,low`): each fetch takes from `critical`
///   as long as it has tasks, then from `default`, then from `low`. A busy
///   first queue starves the others, which is what "critical" means.
/// - **weighted** (`critical:5,default:2,low:1`): each fetch puts the queues
///   in a random order in which a queue comes first with a probability
///   proportional to its weight (here 5/8, 2/8 and 1/8). A queue of weight 1
///   is first one fetch in eight, so it is never starved.
///
/// Either way a fetch that finds the first queue short takes the rest of its
/// free slots from the next ones. When every queue is empty an idle worker
/// blocks on the first queue of the order for at most 100 ms, then looks at
/// all of them again: a task pushed to the first queue starts at once, one
/// pushed to another within about 100 ms (a worker serving one queue blocks
/// on it for up to 2 s, and starts a pushed task at once).
///
/// # Examples
///
/// ```
/// use concur_worker::QueueSet;
///
/// let strict: QueueSet = "critical,default,low".parse()?;
/// assert_eq!(strict.names().collect::<Vec<_>>(), ["critical", "default", "low"]);
/// assert!(!strict.is_weighted());
///
/// let weighted = QueueSet::weighted([("critical", 5), ("default", 2), ("low", 1)])?;
/// assert_eq!(weighted.to_string(), "critical:5,default:2,low:1");
/// # Ok::<(), concur_worker::Error>(())
/// ```
///
/// # Python
///
/// Celery's `-Q critical,default` (strict) and Sidekiq's
/// `-q critical,5 -q default,2` (weighted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a QueueSet does nothing until it is passed to `WorkerBuilder::queues`"]
pub struct QueueSet {
    queues: Vec<(String, u32)>,
    weighted: bool,
}

impl QueueSet {
    /// One queue.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a name the protocol refuses.
    ///
    /// # Examples
    ///
    /// ```
    /// let one = concur_worker::QueueSet::single("emails")?;
    /// assert_eq!(one.len(), 1);
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn single(name: &str) -> Result<QueueSet, Error> {
        QueueSet::strict([name])
    }

    /// Queues served in this order of priority.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidName`] for a name the protocol refuses;
    /// [`Error::InvalidOption`] for no queue or a queue named twice.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = concur_worker::QueueSet::strict(["critical", "default"])?;
    /// assert!(concur_worker::QueueSet::strict(["a", "a"]).is_err());
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn strict<I, S>(names: I) -> Result<QueueSet, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        QueueSet::checked(names.into_iter().map(|n| (n.as_ref().to_owned(), 1)).collect(), false)
    }

    /// Queues served in a weighted random order: a queue comes first with a
    /// probability proportional to its weight.
    ///
    /// # Errors
    ///
    /// As [`strict`](Self::strict), and [`Error::InvalidOption`] for a
    /// weight of 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let set = concur_worker::QueueSet::weighted([("critical", 5), ("low", 1)])?;
    /// assert!(set.is_weighted());
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn weighted<I, S>(queues: I) -> Result<QueueSet, Error>
    where
        I: IntoIterator<Item = (S, u32)>,
        S: AsRef<str>,
    {
        QueueSet::checked(queues.into_iter().map(|(n, w)| (n.as_ref().to_owned(), w)).collect(), true)
    }

    fn checked(queues: Vec<(String, u32)>, weighted: bool) -> Result<QueueSet, Error> {
        if queues.is_empty() {
            return Err(Error::InvalidOption("a worker must serve at least one queue".into()));
        }
        for (i, (name, weight)) in queues.iter().enumerate() {
            Keys::new(name)?;
            if *weight == 0 {
                return Err(Error::InvalidOption(format!("the weight of the queue {name:?} must be at least 1")));
            }
            if queues[..i].iter().any(|(other, _)| other == name) {
                return Err(Error::InvalidOption(format!("the queue {name:?} is named twice")));
            }
        }
        Ok(QueueSet { queues, weighted })
    }

    /// The queues' names, in the order given.
    ///
    /// # Examples
    ///
    /// See [`QueueSet`].
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.queues.iter().map(|(name, _)| name.as_str())
    }

    /// How many queues.
    ///
    /// # Examples
    ///
    /// See [`single`](Self::single).
    pub fn len(&self) -> usize {
        self.queues.len()
    }

    /// Always false: a set holds at least one queue.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!concur_worker::QueueSet::single("q")?.is_empty());
    /// # Ok::<(), concur_worker::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// Whether the order is weighted rather than strict.
    ///
    /// # Examples
    ///
    /// See [`QueueSet`].
    pub fn is_weighted(&self) -> bool {
        self.weighted
    }

    /// The positions of the queues in the order one fetch takes them:
    /// always the order given when strict; a fresh weighted shuffle each
    /// call otherwise.
    pub(crate) fn fetch_order(&self, rng: &mut impl rand::Rng) -> Vec<usize> {
        if !self.weighted {
            return (0..self.queues.len()).collect();
        }
        // Sidekiq's way: each queue as many times as its weight, shuffled,
        // then each kept at its first place.
        let mut tickets: Vec<usize> =
            self.queues.iter().enumerate().flat_map(|(i, (_, w))| std::iter::repeat_n(i, *w as usize)).collect();
        tickets.shuffle(rng);
        let mut order = Vec::with_capacity(self.queues.len());
        for ticket in tickets {
            if !order.contains(&ticket) {
                order.push(ticket);
            }
        }
        order
    }
}

impl FromStr for QueueSet {
    type Err = Error;

    /// Reads `critical,default,low` (strict) or `critical:5,default:2,low:1`
    /// (weighted). A name that itself ends in `:` and digits is written with
    /// its weight, `name:7:1`.
    fn from_str(text: &str) -> Result<QueueSet, Error> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let split = |part: &str| -> Option<(String, u32)> {
            let (name, weight) = part.rsplit_once(':')?;
            (!weight.is_empty() && weight.bytes().all(|b| b.is_ascii_digit()))
                .then(|| weight.parse().ok().map(|w| (name.to_owned(), w)))
                .flatten()
        };
        let weighted: Vec<Option<(String, u32)>> = parts.iter().map(|p| split(p)).collect();
        match (weighted.iter().all(Option::is_some), weighted.iter().any(Option::is_some)) {
            (true, _) => QueueSet::weighted(weighted.into_iter().flatten()),
            (false, false) => QueueSet::strict(parts),
            (false, true) => Err(Error::InvalidOption(format!(
                "{text:?} mixes queues with a weight and without one; give every queue a weight (critical:5,low:1) \
                 or none (critical,low)"
            ))),
        }
    }
}

impl fmt::Display for QueueSet {
    /// The form [`FromStr`] reads.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .queues
            .iter()
            .map(|(name, weight)| if self.weighted { format!("{name}:{weight}") } else { name.clone() })
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_forms_parse_and_print_back() {
        let strict: QueueSet = "a, b,c".parse().unwrap();
        assert_eq!((strict.to_string(), strict.is_weighted()), ("a,b,c".to_owned(), false));
        let weighted: QueueSet = "a:5,b:2,c:1".parse().unwrap();
        assert_eq!(weighted.to_string(), "a:5,b:2,c:1");
        let colon: QueueSet = "x:7:1,y:2".parse().unwrap();
        assert_eq!(colon.names().collect::<Vec<_>>(), ["x:7", "y"]);
        assert!("a:5,b".parse::<QueueSet>().unwrap_err().to_string().contains("mixes"));
        assert!("a:0".parse::<QueueSet>().unwrap_err().to_string().contains("at least 1"));
        assert!("".parse::<QueueSet>().is_err());
        assert!("a{b}".parse::<QueueSet>().is_err());
    }

    #[test]
    fn a_weighted_order_puts_each_queue_first_in_proportion_to_its_weight() {
        let set = QueueSet::weighted([("critical", 5), ("default", 2), ("low", 1)]).unwrap();
        let mut rng = rand::rng();
        let mut first = [0u32; 3];
        for _ in 0..8000 {
            let order = set.fetch_order(&mut rng);
            assert_eq!(order.len(), 3);
            first[order[0]] += 1;
        }
        // Expected 5000, 2000 and 1000; the bounds are many deviations wide.
        assert!((4500..5500).contains(&first[0]), "{first:?}");
        assert!((1600..2400).contains(&first[1]), "{first:?}");
        assert!((700..1300).contains(&first[2]), "{first:?}");
        let strict = QueueSet::strict(["a", "b"]).unwrap();
        assert_eq!(strict.fetch_order(&mut rng), [0, 1]);
    }
}
