//! How many connections the edge holds, in total and per client address.
//!
//! A client that opens connections and sends nothing holds each until the header timeout;
//! with only a total bound, one such client could take every slot and lock everyone out.
//! So each address gets a share too, and a connection over either bound is closed as soon as
//! it is accepted: the accept loop never waits for a slot, so the backlog never fills and
//! other addresses (and the connections already open) keep being served.

use crate::config::ConnectionLimits;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Whom a connection is counted against: an IPv4 address, or an IPv6 /64 (one host is
/// usually given a whole /64, so single IPv6 addresses would not bound it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Client {
    V4(u32),
    V6(u64),
}

impl From<IpAddr> for Client {
    fn from(ip: IpAddr) -> Client {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Client::V4(u32::from(v4)),
            IpAddr::V6(v6) => Client::V6((u128::from(v6) >> 64) as u64),
        }
    }
}

#[derive(Default)]
struct Counts {
    total: usize,
    by_client: HashMap<Client, usize>,
}

/// The edge's open connections. The std mutex guards two counters, taken once per accept
/// and once per close, never across an await.
#[derive(Clone)]
pub struct Connections {
    limits: ConnectionLimits,
    counts: Arc<Mutex<Counts>>,
}

/// One admitted connection's place in the counts, given back when it is dropped.
pub struct Admitted {
    client: Client,
    counts: Arc<Mutex<Counts>>,
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Connections {
        Connections {
            limits,
            counts: Arc::default(),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a connection from `ip`, or `None` when it is over the total or its client's
    /// share and must be closed.
    pub fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        let client = Client::from(ip);
        let mut counts = self.counts();
        if counts.total >= self.limits.total {
            return None;
        }
        let mine = counts.by_client.entry(client).or_insert(0);
        if *mine >= self.limits.per_address {
            return None;
        }
        *mine += 1;
        counts.total += 1;
        Some(Admitted {
            client,
            counts: self.counts.clone(),
        })
    }

    /// Open connections: in total, and from `ip`'s client.
    #[cfg(test)]
    fn open(&self, ip: IpAddr) -> (usize, usize) {
        let counts = self.counts();
        let mine = counts.by_client.get(&Client::from(ip)).copied();
        (counts.total, mine.unwrap_or(0))
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.by_client.get_mut(&self.client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                counts.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_address_has_a_share_and_gets_it_back() {
        let c = Connections::new(ConnectionLimits {
            total: 10,
            per_address: 3,
        });
        let held: Vec<_> = (0..3).map(|_| c.admit(ip("127.0.0.1")).unwrap()).collect();
        assert!(c.admit(ip("127.0.0.1")).is_none(), "over its share");
        assert!(
            c.admit(ip("::ffff:127.0.0.1")).is_none(),
            "the same address"
        );
        let other = c
            .admit(ip("127.0.0.2"))
            .expect("another address has its own share");
        assert_eq!(c.open(ip("127.0.0.1")), (4, 3));
        drop(held);
        assert_eq!(c.open(ip("127.0.0.1")), (1, 0));
        assert!(c.admit(ip("127.0.0.1")).is_some());
        drop(other);
    }

    #[test]
    fn the_total_bounds_every_address_together() {
        let c = Connections::new(ConnectionLimits {
            total: 4,
            per_address: 3,
        });
        let _a: Vec<_> = (0..3).map(|_| c.admit(ip("10.0.0.1")).unwrap()).collect();
        let _b = c.admit(ip("10.0.0.2")).unwrap();
        assert!(c.admit(ip("10.0.0.3")).is_none());
    }

    #[test]
    fn an_ipv6_slash_64_is_one_client() {
        let c = Connections::new(ConnectionLimits {
            total: 10,
            per_address: 1,
        });
        let _a = c.admit(ip("2001:db8:1:2::1")).unwrap();
        assert!(c.admit(ip("2001:db8:1:2::ffff")).is_none());
        assert!(c.admit(ip("2001:db8:1:3::1")).is_some());
    }
}
