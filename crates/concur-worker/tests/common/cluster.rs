//! A real Redis Cluster of the test's own: three masters and three
//! replicas, six `redis-server --cluster-enabled yes` processes on free
//! loopback ports, joined with `redis-cli --cluster create`, stopped on
//! drop. A short `cluster-node-timeout` makes a killed master's replica take
//! over within a few seconds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::free_port;

/// How long the cluster may take to form, or to fail over.
const FORM_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) struct RedisCluster {
    nodes: BTreeMap<u16, Child>,
    dir: PathBuf,
    extra: Vec<String>,
    replicas: bool,
}

impl RedisCluster {
    /// Three masters with one replica each, every slot served.
    pub(crate) fn start() -> RedisCluster {
        RedisCluster::start_with(&[], true)
    }

    /// Three masters and no replicas: for measuring the masters alone.
    pub(crate) fn start_masters() -> RedisCluster {
        RedisCluster::start_with(&[], false)
    }

    /// Three masters, with a replica each when `replicas`, and extra
    /// arguments for every `redis-server`.
    pub(crate) fn start_with(extra: &[&str], replicas: bool) -> RedisCluster {
        let nodes = if replicas { 6 } else { 3 };
        let dir = std::env::temp_dir().join(format!("concur-cluster-{}-{}", std::process::id(), free_port()));
        let _ = std::fs::remove_dir_all(&dir);
        let extra = extra.iter().map(|a| a.to_string()).collect();
        let mut cluster = RedisCluster { nodes: BTreeMap::new(), dir, extra, replicas };
        let mut ports = Vec::new();
        while ports.len() < nodes {
            let port = free_port();
            if !ports.contains(&port) && cluster.spawn(port) {
                ports.push(port);
            }
        }
        let addresses: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let output = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addresses)
            .args(["--cluster-replicas", if replicas { "1" } else { "0" }, "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run redis-cli ({e}); install it: apt-get install -y redis-tools"));
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        cluster.wait_until("the cluster forms", |c| c.formed());
        cluster
    }

    fn spawn(&mut self, port: u16) -> bool {
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).expect("a node's scratch directory");
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--cluster-enabled", "yes"])
            .args(["--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000"])
            // A replica may take over however long ago it last heard from
            // its master: the tests kill masters on purpose.
            .args(["--cluster-replica-validity-factor", "0"])
            .args(["--save", "", "--appendonly", "no", "--dir", &dir.display().to_string()])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run redis-server ({e}); install it: apt-get install -y redis-server"));
        self.nodes.insert(port, child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(Ok(Some(_))) = self.nodes.get_mut(&port).map(Child::try_wait) {
                self.nodes.remove(&port);
                return false; // The port was taken meanwhile.
            }
            if self.query::<String>(port, &["PING"]).is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// The seeds, as `concur` takes them: every node, comma-separated.
    pub(crate) fn url(&self) -> String {
        self.nodes.keys().map(|p| format!("redis://127.0.0.1:{p}")).collect::<Vec<_>>().join(",")
    }

    /// The process ids of the nodes still running, by port.
    pub(crate) fn pids(&self) -> Vec<(u16, u32)> {
        self.nodes.iter().map(|(&port, child)| (port, child.id())).collect()
    }

    /// The ports of the nodes still running.
    pub(crate) fn ports(&self) -> Vec<u16> {
        self.nodes.keys().copied().collect()
    }

    /// A plain connection to one node.
    pub(crate) fn node(&self, port: u16) -> redis::Connection {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).expect("a valid URL");
        client.get_connection_with_timeout(Duration::from_secs(5)).expect("connect to a cluster node")
    }

    /// A command on one node; `None` if it cannot be reached or refuses.
    fn query<T: redis::FromRedisValue>(&self, port: u16, args: &[&str]) -> Option<T> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
        let mut conn = client.get_connection_with_timeout(Duration::from_secs(2)).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut command = redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        command.query(&mut conn).ok()
    }

    /// The slot of `key`.
    pub(crate) fn slot(&self, key: &str) -> u16 {
        let port = *self.nodes.keys().next().expect("a node");
        self.query(port, &["CLUSTER", "KEYSLOT", key]).expect("CLUSTER KEYSLOT")
    }

    /// The port of the master that serves `key`, as the running nodes see it.
    pub(crate) fn master_of(&self, key: &str) -> Option<u16> {
        let slot = self.slot(key);
        for &port in self.nodes.keys() {
            let Some(slots) = self.query::<redis::Value>(port, &["CLUSTER", "SLOTS"]) else { continue };
            let redis::Value::Array(ranges) = slots else { continue };
            for range in ranges {
                let redis::Value::Array(parts) = range else { continue };
                let number = |v: &redis::Value| match v {
                    redis::Value::Int(n) => Some(*n),
                    _ => None,
                };
                let (Some(start), Some(end)) = (number(&parts[0]), number(&parts[1])) else { continue };
                if (start..=end).contains(&i64::from(slot)) {
                    if let redis::Value::Array(master) = &parts[2] {
                        return number(&master[1]).and_then(|p| u16::try_from(p).ok());
                    }
                }
            }
        }
        None
    }

    /// Whether every running node says the cluster is whole and sees three
    /// masters, each with a connected replica.
    fn formed(&self) -> bool {
        self.nodes.keys().all(|&port| {
            let info: Option<String> = self.query(port, &["CLUSTER", "INFO"]);
            info.is_some_and(|text| text.contains("cluster_state:ok"))
        }) && (!self.replicas || self.masters_with_replicas() == 3)
    }

    /// Masters whose replica has finished its first sync: until then the
    /// replica has nothing to take over with.
    fn masters_with_replicas(&self) -> usize {
        let synced_replicas = self
            .nodes
            .keys()
            .filter(|&&port| {
                let info: Option<String> = self.query(port, &["INFO", "replication"]);
                info.is_some_and(|text| text.contains("role:slave") && text.contains("master_link_status:up"))
            })
            .count();
        let masters = self
            .nodes
            .keys()
            .filter(|&&port| {
                let info: Option<String> = self.query(port, &["INFO", "replication"]);
                info.is_some_and(|text| text.contains("role:master") && text.contains("connected_slaves:1"))
            })
            .count();
        masters.min(synced_replicas)
    }

    /// Kills a node at once, as a crash would.
    pub(crate) fn kill(&mut self, port: u16) {
        if let Some(mut child) = self.nodes.remove(&port) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts a killed node again on its port, with its cluster
    /// configuration: a master that lost its slots comes back as a replica
    /// of the node that took them over. Waits until it has synced.
    pub(crate) fn restart(&mut self, port: u16) {
        assert!(self.spawn(port), "the node on port {port} did not start again");
        self.wait_until("the restarted node syncs as a replica", |c| {
            let info: Option<String> = c.query(port, &["INFO", "replication"]);
            info.is_some_and(|text| text.contains("role:slave") && text.contains("master_link_status:up"))
        });
    }

    /// Waits until `key`'s slot is served by a live master again and every
    /// live node says the cluster is ok.
    pub(crate) fn wait_for_failover(&self, key: &str) -> u16 {
        let mut master = None;
        self.wait_until("a replica takes over", |c| {
            master = c.master_of(key).filter(|p| c.nodes.contains_key(p));
            master.is_some()
                && c.nodes.keys().all(|&port| {
                    let info: Option<String> = c.query(port, &["CLUSTER", "INFO"]);
                    info.is_some_and(|text| text.contains("cluster_state:ok"))
                })
        });
        master.expect("checked above")
    }

    fn wait_until(&self, what: &str, mut done: impl FnMut(&RedisCluster) -> bool) {
        let deadline = Instant::now() + FORM_TIMEOUT;
        while !done(self) {
            assert!(Instant::now() < deadline, "timed out after {FORM_TIMEOUT:?} waiting until {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for child in self.nodes.values_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
