//! The member queues a worker fetches from, and their order in each fetch.
//!
//! A worker serves the queues of its [`QueueSet`]; each queue is one member,
//! or several when it is sharded (the queue itself, then its shards). The
//! set's order — strict, or a fresh weighted shuffle — picks the queues;
//! within one queue the members take turns being first, so no shard starves.

use crate::QueueSet;

#[derive(Debug)]
pub(crate) struct Plan {
    set: QueueSet,
    /// For each queue of the set, its members' positions.
    groups: Vec<Vec<usize>>,
    /// The next member of each group to come first.
    turn: Vec<usize>,
    /// Every member's queue name, by position.
    names: Vec<String>,
}

impl Plan {
    /// `groups[i]` names the members of the set's `i`-th queue.
    pub(crate) fn new(set: QueueSet, groups: Vec<Vec<String>>) -> Plan {
        let mut names = Vec::new();
        let groups: Vec<Vec<usize>> = groups
            .into_iter()
            .map(|members| {
                members
                    .into_iter()
                    .map(|name| {
                        names.push(name);
                        names.len() - 1
                    })
                    .collect()
            })
            .collect();
        let turn = vec![0; groups.len()];
        Plan { set, groups, turn, names }
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    pub(crate) fn set(&self) -> &QueueSet {
        &self.set
    }

    /// Every member, in the order this fetch takes them.
    pub(crate) fn order(&mut self, rng: &mut impl rand::Rng) -> Vec<usize> {
        let mut order = Vec::with_capacity(self.names.len());
        for group in self.set.fetch_order(rng) {
            let members = &self.groups[group];
            let first = self.turn[group] % members.len();
            self.turn[group] = self.turn[group].wrapping_add(1);
            order.extend(members[first..].iter().chain(&members[..first]));
        }
        order
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_of_one_queue_take_turns_being_first() {
        let set = QueueSet::strict(["a", "b"]).unwrap();
        let mut plan = Plan::new(set, vec![vec!["a".into(), "a1".into(), "a2".into()], vec!["b".into()]]);
        let mut rng = rand::rng();
        assert_eq!(plan.order(&mut rng), [0, 1, 2, 3]);
        assert_eq!(plan.order(&mut rng), [1, 2, 0, 3]);
        assert_eq!(plan.order(&mut rng), [2, 0, 1, 3]);
        assert_eq!(plan.names()[3], "b");
    }
}
