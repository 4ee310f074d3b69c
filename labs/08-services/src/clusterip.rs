//! ClusterIP allocation: a bitmap of the service range, kept in the API server's storage.
//!
//! Kubernetes allocates a Service's virtual IP synchronously, in the API server's create path:
//! the allocator is a bitmap of the service CIDR stored under `/registry/ranges/serviceips` and
//! updated with compare-and-swap, so two API servers (or two concurrent requests) can never
//! hand out the same address. skiff does the same through lab 04's [`Storage`] trait and its
//! [`MutatingAdmission`] hook.
//!
//! The split is the usual one: [`Bitmap`] and [`pick_free`] are plain data and a pure function;
//! [`ClusterIpAllocator`] is the thin shell that reads, changes and writes the bitmap with a
//! compare-and-swap loop.

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use apiserver::rest::{HookFuture, MutatingAdmission};
use apiserver::status::StatusError;
use apiserver::storage::{Storage, StorageError};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The default service range: `127.10.0.0/16`. Pods use `127.1.0.0/16` (lab 01) and node
/// proxies `127.2.0.0/16` (lab 03), so the three never overlap; all of 127.0.0.0/8 binds on
/// Linux without any setup.
pub const DEFAULT_SERVICE_RANGE: &str = "127.10.0.0/16";

/// Where the allocation bitmap is stored, as in Kubernetes.
pub const RANGE_KEY: &str = "/registry/ranges/serviceips";

/// A block of IPv4 addresses, e.g. `127.10.0.0/16`. Offset 0 (the network address) and the
/// last offset (the broadcast address) are never handed out, as in Kubernetes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceRange {
    base: Ipv4Addr,
    prefix_len: u8,
}

impl ServiceRange {
    /// Parses `a.b.c.d/len`; the range must lie inside 127.0.0.0/8 and be between /8 and /30.
    pub fn parse(text: &str) -> Result<ServiceRange, String> {
        let error = |why: &str| format!("service range {text:?}: {why}");
        let (ip, len) = text
            .split_once('/')
            .ok_or_else(|| error("must be a CIDR such as 127.10.0.0/16"))?;
        let base: Ipv4Addr = ip
            .parse()
            .map_err(|_| error("the address is not an IPv4 address"))?;
        let prefix_len: u8 = len
            .parse()
            .map_err(|_| error("the prefix length is not a number"))?;
        if !(8..=30).contains(&prefix_len) {
            return Err(error("the prefix length must be between 8 and 30"));
        }
        if base.octets()[0] != 127 {
            return Err(error("must be inside 127.0.0.0/8 (loopback)"));
        }
        let mask = u32::MAX << (32 - prefix_len);
        if u32::from(base) & !mask != 0 {
            return Err(error("the address has host bits set"));
        }
        Ok(ServiceRange { base, prefix_len })
    }

    /// How many addresses the block holds (including the two never handed out).
    pub fn size(&self) -> u32 {
        1 << (32 - self.prefix_len)
    }

    /// The offset of `ip` in the range, if it is an address that can be allocated.
    pub fn offset_of(&self, ip: Ipv4Addr) -> Option<u32> {
        let offset = u32::from(ip).wrapping_sub(u32::from(self.base));
        (u32::from(ip) >= u32::from(self.base) && offset >= 1 && offset < self.size() - 1)
            .then_some(offset)
    }

    /// The address at `offset`.
    pub fn ip_at(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.base) + offset)
    }
}

impl fmt::Display for ServiceRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix_len)
    }
}

/// One bit per address of a range: set means allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    bits: Vec<u8>,
    size: u32,
}

impl Bitmap {
    /// An empty bitmap of `size` bits.
    pub fn new(size: u32) -> Bitmap {
        Bitmap {
            bits: vec![0; size.div_ceil(8) as usize],
            size,
        }
    }

    /// How many bits the bitmap holds.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// True when bit `offset` is set.
    pub fn is_set(&self, offset: u32) -> bool {
        offset < self.size && self.bits[(offset / 8) as usize] & (1 << (offset % 8)) != 0
    }

    /// Sets or clears bit `offset` (ignored outside the bitmap).
    pub fn set(&mut self, offset: u32, value: bool) {
        if offset >= self.size {
            return;
        }
        let byte = &mut self.bits[(offset / 8) as usize];
        if value {
            *byte |= 1 << (offset % 8);
        } else {
            *byte &= !(1 << (offset % 8));
        }
    }

    /// How many bits are set.
    pub fn count(&self) -> u32 {
        self.bits.iter().map(|b| b.count_ones()).sum()
    }
}

// ANCHOR: pick_free
/// The first free offset at or after `start`, wrapping around; offsets 0 and `size - 1` (the
/// network and broadcast addresses) are never chosen. `None` when the range is full.
///
/// Starting after the last allocation (rather than at 1) means a just-released address is the
/// last to be handed out again, so a stale client is unlikely to reach a new Service on it.
pub fn pick_free(bitmap: &Bitmap, start: u32) -> Option<u32> {
    // EXERCISE(services-allocate-ip): scan offsets 1..size-1 starting at `start`, wrapping around, and return the first clear bit
    let usable = bitmap.size().checked_sub(2)?;
    let start = start.clamp(1, bitmap.size().saturating_sub(2).max(1));
    (0..usable)
        .map(|step| 1 + (start - 1 + step) % usable)
        .find(|&offset| !bitmap.is_set(offset))
    // END EXERCISE
}
// ANCHOR_END: pick_free

/// The stored form of the allocation (Kubernetes' `RangeAllocation`): the range, the bitmap in
/// base64, and where the next search starts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RangeAllocation {
    range: String,
    next: u32,
    data: String,
}

/// Why an address could not be allocated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllocError {
    /// The requested address belongs to another Service.
    Taken(Ipv4Addr),
    /// The requested address is not in the service range.
    OutOfRange(Ipv4Addr, ServiceRange),
    /// Every address is in use.
    Full(ServiceRange),
    /// The stored bitmap does not match the configured range or cannot be decoded.
    Corrupt(String),
    /// Storage failed.
    Storage(StorageError),
}

impl fmt::Display for AllocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllocError::Taken(ip) => {
                write!(
                    f,
                    "failed to allocate IP {ip}: provided IP is already allocated"
                )
            }
            AllocError::OutOfRange(ip, range) => write!(
                f,
                "failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {range}"
            ),
            AllocError::Full(range) => {
                write!(f, "failed to allocate a serviceIP: range {range} is full")
            }
            AllocError::Corrupt(why) => write!(f, "the service IP allocation is unreadable: {why}"),
            AllocError::Storage(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for AllocError {}

/// Allocates and releases Service IPs from a [`ServiceRange`], with the bitmap kept in
/// [`Storage`] under [`RANGE_KEY`] and every change written with compare-and-swap.
#[derive(Clone)]
pub struct ClusterIpAllocator {
    storage: Arc<dyn Storage>,
    range: ServiceRange,
}

impl fmt::Debug for ClusterIpAllocator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterIpAllocator")
            .field("range", &self.range)
            .finish_non_exhaustive()
    }
}

impl ClusterIpAllocator {
    /// An allocator for `range` over `storage` (the API server's own).
    pub fn new(storage: Arc<dyn Storage>, range: ServiceRange) -> ClusterIpAllocator {
        ClusterIpAllocator { storage, range }
    }

    /// The range addresses come from.
    pub fn range(&self) -> ServiceRange {
        self.range
    }

    /// Reads the stored bitmap (an empty one if none is stored yet) and its mod revision.
    async fn load(&self) -> Result<(Bitmap, u32, Option<i64>), AllocError> {
        let stored = self
            .storage
            .get(RANGE_KEY)
            .await
            .map_err(AllocError::Storage)?;
        let Some(stored) = stored else {
            return Ok((Bitmap::new(self.range.size()), 1, None));
        };
        let record: RangeAllocation = serde_json::from_slice(&stored.value)
            .map_err(|e| AllocError::Corrupt(e.to_string()))?;
        if record.range != self.range.to_string() {
            return Err(AllocError::Corrupt(format!(
                "stored range {} differs from the configured {}",
                record.range, self.range
            )));
        }
        let bits = STANDARD
            .decode(&record.data)
            .map_err(|e| AllocError::Corrupt(e.to_string()))?;
        let mut bitmap = Bitmap::new(self.range.size());
        if bits.len() != bitmap.bits.len() {
            return Err(AllocError::Corrupt(
                "the bitmap has the wrong length".into(),
            ));
        }
        bitmap.bits = bits;
        Ok((bitmap, record.next, Some(stored.mod_revision)))
    }

    // ANCHOR: change
    /// Reads the bitmap, lets `change` edit it, and writes it back only if nobody wrote in
    /// between (compare-and-swap on the key's revision); on a conflict, starts again from a
    /// fresh read. This loop is what makes concurrent creates safe.
    async fn change<T>(
        &self,
        change: impl Fn(&mut Bitmap, &mut u32) -> Result<T, AllocError>,
    ) -> Result<T, AllocError> {
        loop {
            let (mut bitmap, mut next, revision) = self.load().await?;
            let result = change(&mut bitmap, &mut next)?;
            let record = RangeAllocation {
                range: self.range.to_string(),
                next,
                data: STANDARD.encode(&bitmap.bits),
            };
            let value =
                serde_json::to_vec(&record).map_err(|e| AllocError::Corrupt(e.to_string()))?;
            let written = match revision {
                None => self.storage.create(RANGE_KEY, value).await.map(|_| ()),
                Some(revision) => self
                    .storage
                    .update(RANGE_KEY, value, revision)
                    .await
                    .map(|_| ()),
            };
            match written {
                Ok(()) => return Ok(result),
                Err(StorageError::Conflict { .. } | StorageError::AlreadyExists { .. }) => {
                    continue;
                }
                Err(other) => return Err(AllocError::Storage(other)),
            }
        }
    }
    // ANCHOR_END: change

    /// Allocates `requested` if it is free, or the next free address when `None`.
    pub async fn allocate(&self, requested: Option<Ipv4Addr>) -> Result<Ipv4Addr, AllocError> {
        let range = self.range;
        let wanted = match requested {
            Some(ip) => Some(
                range
                    .offset_of(ip)
                    .ok_or(AllocError::OutOfRange(ip, range))?,
            ),
            None => None,
        };
        let offset = self
            .change(|bitmap, next| {
                let offset = match wanted {
                    Some(offset) if bitmap.is_set(offset) => {
                        return Err(AllocError::Taken(range.ip_at(offset)));
                    }
                    Some(offset) => offset,
                    None => {
                        let offset = pick_free(bitmap, *next).ok_or(AllocError::Full(range))?;
                        *next = offset + 1;
                        offset
                    }
                };
                bitmap.set(offset, true);
                Ok(offset)
            })
            .await?;
        Ok(range.ip_at(offset))
    }

    /// Gives `ip` back; releasing a free or foreign address changes nothing.
    pub async fn release(&self, ip: Ipv4Addr) -> Result<(), AllocError> {
        let Some(offset) = self.range.offset_of(ip) else {
            return Ok(());
        };
        self.change(|bitmap, _| {
            bitmap.set(offset, false);
            Ok(())
        })
        .await
    }

    /// How many addresses are allocated now.
    pub async fn allocated(&self) -> Result<u32, AllocError> {
        Ok(self.load().await?.0.count())
    }

    /// True when `ip` is allocated now.
    pub async fn is_allocated(&self, ip: Ipv4Addr) -> Result<bool, AllocError> {
        let (bitmap, _, _) = self.load().await?;
        Ok(self.range.offset_of(ip).is_some_and(|o| bitmap.is_set(o)))
    }
}

/// A 422 naming `field` of the Service `name`.
fn invalid(name: &str, field: &str, value: &str, detail: &str) -> StatusError {
    let path = api::validation::FieldPath::root("spec").child(field);
    let error = api::validation::FieldError::invalid(&path, value, detail);
    StatusError::invalid("", "Service", name, &[error])
}

/// The Service's `spec.clusterIP`, if it has a non-empty one.
fn cluster_ip(object: &Value) -> Option<&str> {
    object["spec"]["clusterIP"]
        .as_str()
        .filter(|s| !s.is_empty())
}

/// True for Services that get no virtual IP: headless (`clusterIP: None`) and ExternalName.
fn wants_no_ip(object: &Value) -> bool {
    cluster_ip(object) == Some("None") || object["spec"]["type"] == "ExternalName"
}

// ANCHOR: admission
impl MutatingAdmission for ClusterIpAllocator {
    fn resource(&self) -> &'static str {
        "services"
    }

    fn on_create<'a>(&'a self, object: &'a mut Value) -> HookFuture<'a, Result<(), StatusError>> {
        Box::pin(async move {
            if wants_no_ip(object) {
                return Ok(());
            }
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let requested = match cluster_ip(object) {
                None => None,
                Some(text) => Some(text.parse::<Ipv4Addr>().map_err(|_| {
                    invalid(&name, "clusterIP", text, "must be a valid IPv4 address")
                })?),
            };
            let ip = self
                .allocate(requested)
                .await
                .map_err(|error| match error {
                    AllocError::Taken(ip) | AllocError::OutOfRange(ip, _) => {
                        invalid(&name, "clusterIP", &ip.to_string(), &error.to_string())
                    }
                    other => StatusError::internal(other.to_string()),
                })?;
            tracing::debug!(service = %name, %ip, "allocated a cluster IP");
            object["spec"]["clusterIP"] = Value::String(ip.to_string());
            object["spec"]["clusterIPs"] = serde_json::json!([ip.to_string()]);
            Ok(())
        })
    }

    fn on_update(&self, existing: &Value, incoming: &mut Value) -> Result<(), StatusError> {
        let name = existing["metadata"]["name"].as_str().unwrap_or("");
        let old = existing["spec"]["clusterIP"].clone();
        let old_ips = existing["spec"]["clusterIPs"].clone();
        match cluster_ip(incoming) {
            // An update that leaves the address out keeps it (as Kubernetes does for PUT).
            None => {
                incoming["spec"]["clusterIP"] = old;
                incoming["spec"]["clusterIPs"] = old_ips;
                Ok(())
            }
            Some(new) if Some(new) == old.as_str() => {
                incoming["spec"]["clusterIPs"] = old_ips;
                Ok(())
            }
            Some(new) => Err(invalid(name, "clusterIP", new, "field is immutable")),
        }
    }

    fn on_delete<'a>(&'a self, object: &'a Value) -> HookFuture<'a, ()> {
        Box::pin(async move {
            let Some(ip) = cluster_ip(object).and_then(|s| s.parse::<Ipv4Addr>().ok()) else {
                return;
            };
            if let Err(error) = self.release(ip).await {
                tracing::warn!(%ip, %error, "could not release a cluster IP");
            }
        })
    }
}
// ANCHOR_END: admission
