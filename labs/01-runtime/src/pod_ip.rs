//! Pod IPs: one loopback address per sandbox.
//!
//! On Linux the whole of 127.0.0.0/8 is routed to the loopback interface, so a server can bind
//! 127.1.0.7:8080 without any setup, and two pods can both listen on port 8080 as long as each
//! binds its own address. That gives every skiff pod "its own IP" without network namespaces.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use crate::error::{Result, RuntimeError};

/// The default range pod IPs come from.
pub const DEFAULT_POD_RANGE: (Ipv4Addr, u8) = (Ipv4Addr::new(127, 1, 0, 0), 16);

/// Hands out addresses from a loopback range, never the same one to two live sandboxes.
#[derive(Debug, Clone)]
pub struct PodIpAllocator {
    /// First address of the range, as a number (the "network" address).
    base: u32,
    /// Number of addresses in the range.
    size: u32,
    /// Addresses currently handed out.
    in_use: BTreeSet<Ipv4Addr>,
    /// Offset (from `base`) where the next search starts. Moving on instead of restarting at 0
    /// means a released address is reused as late as possible, so a recreated pod gets a new IP
    /// and a stale client cannot reach the new pod by accident.
    next: u32,
}

impl PodIpAllocator {
    /// An allocator for `base/prefix_len`, e.g. `127.1.0.0/16`. The range must lie inside
    /// 127.0.0.0/8 and hold at least one usable address.
    pub fn new(base: Ipv4Addr, prefix_len: u8) -> Result<Self> {
        if !(8..=30).contains(&prefix_len) {
            return Err(RuntimeError::invalid(
                "pod_range.prefix_len",
                format!("must be between 8 and 30, got {prefix_len}"),
            ));
        }
        if base.octets()[0] != 127 {
            return Err(RuntimeError::invalid(
                "pod_range.base",
                format!("must be inside 127.0.0.0/8 (loopback), got {base}"),
            ));
        }
        Ok(Self::covering(base, prefix_len))
    }

    /// An allocator for a private range inside 10.0.0.0/8, for pods with network namespaces of
    /// their own (`root` isolation), where loopback addresses would not leave the pod.
    pub fn new_private(base: Ipv4Addr, prefix_len: u8) -> Result<Self> {
        if !(8..=30).contains(&prefix_len) {
            return Err(RuntimeError::invalid(
                "pod_network.prefix_len",
                format!("must be between 8 and 30, got {prefix_len}"),
            ));
        }
        if base.octets()[0] != 10 {
            return Err(RuntimeError::invalid(
                "pod_network.base",
                format!("must be inside 10.0.0.0/8 (private), got {base}"),
            ));
        }
        Ok(Self::covering(base, prefix_len))
    }

    /// The allocator for `base/prefix_len`, already checked.
    fn covering(base: Ipv4Addr, prefix_len: u8) -> Self {
        let size = 1u32 << (32 - prefix_len);
        let base = u32::from(base) & !(size - 1);
        PodIpAllocator {
            base,
            size,
            in_use: BTreeSet::new(),
            next: 0,
        }
    }

    /// The range as text, e.g. `127.1.0.0/16`.
    pub fn range(&self) -> String {
        format!(
            "{}/{}",
            Ipv4Addr::from(self.base),
            32 - self.size.trailing_zeros()
        )
    }

    /// Is this address one a pod may get? Not an address ending in .0 or .255 (which look like
    /// network and broadcast addresses to humans and some tools), and never 127.0.0.1, which
    /// the host's own services use.
    pub fn is_assignable(ip: Ipv4Addr) -> bool {
        let last = ip.octets()[3];
        last != 0 && last != 255 && ip != Ipv4Addr::LOCALHOST
    }

    // ANCHOR: allocate
    /// Hands out a free address, searching from where the last search stopped.
    pub fn allocate(&mut self) -> Result<Ipv4Addr> {
        // EXERCISE(runtime-pod-ip): scan at most `size` offsets from `next` (wrapping), take the first assignable address not in use
        for step in 0..self.size {
            let offset = (self.next + step) % self.size;
            let ip = Ipv4Addr::from(self.base + offset);
            if Self::is_assignable(ip) && !self.in_use.contains(&ip) {
                self.in_use.insert(ip);
                self.next = (offset + 1) % self.size;
                return Ok(ip);
            }
        }
        Err(RuntimeError::PodIpsExhausted {
            range: self.range(),
        })
        // END EXERCISE
    }
    // ANCHOR_END: allocate

    /// Gives an address back. Releasing an address that is not in use does nothing.
    pub fn release(&mut self, ip: Ipv4Addr) {
        self.in_use.remove(&ip);
    }

    /// How many addresses are handed out right now.
    pub fn in_use(&self) -> usize {
        self.in_use.len()
    }
}

impl Default for PodIpAllocator {
    fn default() -> Self {
        let (base, prefix_len) = DEFAULT_POD_RANGE;
        Self::new(base, prefix_len).expect("the default pod range is valid")
    }
}
