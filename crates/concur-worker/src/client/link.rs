//! The connection under a [`Client`](super::Client): to one Redis server,
//! or to a Redis Cluster.
//!
//! A cluster is named by several seed URLs separated by commas
//! (`redis://10.0.0.1:7000,redis://10.0.0.2:7000`, the later ones may be
//! bare `host:port`), or found on its own: a single URL whose server answers
//! `cluster_enabled:1` to `INFO cluster` is taken as a seed of its cluster.
//! Either way the connection is redis-rs's cluster connection, which sends
//! each command to the master of its key's slot, follows `MOVED` and `ASK`,
//! refreshes the slot map when the cluster changes, and reconnects to the
//! new master after a failover. Every script of the protocol touches one
//! queue's keys, all in one slot, so each runs on one node as Redis Cluster
//! requires.
//!
//! Why redis-rs's cluster client rather than our own: it already tracks the
//! slot map, the redirections and the retries; the protocol needs nothing
//! from a cluster beyond keyed commands and, for a stop, a command sent to
//! the node of a given key (`CLIENT UNBLOCK` to the node that holds a
//! blocking fetch), which its `route_command` offers.

use std::time::Duration;

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, ConnectionLike, FromRedisValue, RedisResult, Value};

/// Where the queue's Redis is.
#[derive(Clone)]
pub(crate) enum Server {
    /// One server.
    Single(redis::Client),
    /// A Redis Cluster, reached through these seeds.
    Cluster(ClusterClient),
}

/// An open connection.
pub(crate) enum Link {
    Single(redis::Connection),
    // Boxed: the cluster connection's slot map and node table are much
    // larger than one socket, and most links are to a single server.
    Cluster(Box<ClusterConnection>),
}

impl Server {
    /// Opens a connection with the given timeouts for connecting and for
    /// each reply.
    pub(crate) fn open(&self, connect: Duration) -> RedisResult<Link> {
        match self {
            Server::Single(client) => client.get_connection_with_timeout(connect).map(Link::Single),
            Server::Cluster(client) => client.get_connection().map(|conn| Link::Cluster(Box::new(conn))),
        }
    }

    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self, Server::Cluster(_))
    }
}

impl Link {
    pub(crate) fn set_read_timeout(&mut self, timeout: Option<Duration>) -> RedisResult<()> {
        match self {
            Link::Single(conn) => conn.set_read_timeout(timeout),
            Link::Cluster(conn) => conn.set_read_timeout(timeout),
        }
    }

    pub(crate) fn set_write_timeout(&mut self, timeout: Option<Duration>) -> RedisResult<()> {
        match self {
            Link::Single(conn) => conn.set_write_timeout(timeout),
            Link::Cluster(conn) => conn.set_write_timeout(timeout),
        }
    }

    /// Runs `cmd`, which names no key, on the node that serves `key`: the
    /// master of its slot on a cluster, the one server otherwise.
    pub(crate) fn query_on_node_of<T: FromRedisValue>(&mut self, cmd: &Cmd, key: &str) -> RedisResult<T> {
        match self {
            Link::Single(conn) => cmd.query(conn),
            Link::Cluster(conn) => {
                let route = Route::with_key(key.as_bytes(), SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route));
                let value = conn.route_command(cmd, routing)?;
                T::from_redis_value(value).map_err(Into::into)
            }
        }
    }

    fn inner(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Link::Single(conn) => conn,
            Link::Cluster(conn) => &mut **conn,
        }
    }
}

impl ConnectionLike for Link {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        self.inner().req_packed_command(cmd)
    }

    fn req_packed_commands(&mut self, cmd: &[u8], offset: usize, count: usize) -> RedisResult<Vec<Value>> {
        self.inner().req_packed_commands(cmd, offset, count)
    }

    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        self.inner().req_command(cmd)
    }

    fn get_db(&self) -> i64 {
        match self {
            Link::Single(conn) => conn.get_db(),
            Link::Cluster(conn) => conn.get_db(),
        }
    }

    fn supports_pipelining(&self) -> bool {
        match self {
            Link::Single(conn) => conn.supports_pipelining(),
            Link::Cluster(conn) => conn.supports_pipelining(),
        }
    }

    fn check_connection(&mut self) -> bool {
        self.inner().check_connection()
    }

    fn is_open(&self) -> bool {
        match self {
            Link::Single(conn) => conn.is_open(),
            Link::Cluster(conn) => conn.is_open(),
        }
    }
}

/// The seed URLs of a comma-separated list: the first as given, the later
/// ones completed with its scheme and credentials when written as bare
/// `host:port`.
pub(crate) fn seeds(url: &str) -> Vec<String> {
    let mut parts = url.split(',').map(str::trim).filter(|p| !p.is_empty());
    let Some(first) = parts.next() else { return Vec::new() };
    let (scheme, rest) = first.split_once("://").unwrap_or(("redis", first));
    let credentials = rest.split('/').next().and_then(|authority| authority.rsplit_once('@')).map(|(user, _)| user);
    let mut seeds = vec![first.to_owned()];
    for part in parts {
        if part.contains("://") {
            seeds.push(part.to_owned());
        } else {
            match credentials {
                Some(user) => seeds.push(format!("{scheme}://{user}@{part}")),
                None => seeds.push(format!("{scheme}://{part}")),
            }
        }
    }
    seeds
}

#[cfg(test)]
mod tests {
    use super::seeds;

    #[test]
    fn later_seeds_take_the_first_ones_scheme_and_password() {
        assert_eq!(seeds("redis://h:1"), ["redis://h:1"]);
        assert_eq!(seeds("redis://:pw@a:1,b:2, rediss://c:3"), ["redis://:pw@a:1", "redis://:pw@b:2", "rediss://c:3"]);
        assert_eq!(seeds("rediss://u:p@a:1/0,b:2"), ["rediss://u:p@a:1/0", "rediss://u:p@b:2"]);
    }
}
