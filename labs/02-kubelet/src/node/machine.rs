//! What this machine has: CPUs, memory, processes, disk. Read from `/proc` and `statvfs`.

use std::path::Path;

/// A reading of the machine's resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MachineInfo {
    /// Logical CPUs.
    pub cpus: u64,
    /// Total memory in bytes (`MemTotal`).
    pub memory_bytes: u64,
    /// Memory available to new work in bytes (`MemAvailable`).
    pub memory_available_bytes: u64,
    /// Processes that exist now.
    pub processes: u64,
    /// The highest pid the kernel hands out (`/proc/sys/kernel/pid_max`).
    pub pid_max: u64,
    /// Bytes free on the filesystem holding the kubelet's data.
    pub disk_available_bytes: u64,
    /// Size of that filesystem in bytes.
    pub disk_bytes: u64,
}

// ANCHOR: read_machine
/// Reads the machine. A value that cannot be read is 0 and the rest still comes through: a
/// node that reports partial capacity is better than a kubelet that does not start.
pub fn read_machine(data_dir: &Path) -> MachineInfo {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let (disk_available_bytes, disk_bytes) = disk_space(data_dir);
    MachineInfo {
        cpus: std::thread::available_parallelism().map_or(0, |n| n.get() as u64),
        memory_bytes: meminfo_kib(&meminfo, "MemTotal:") * 1024,
        memory_available_bytes: meminfo_kib(&meminfo, "MemAvailable:") * 1024,
        processes: count_processes(),
        pid_max: std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(0),
        disk_available_bytes,
        disk_bytes,
    }
}
// ANCHOR_END: read_machine

/// A `Name:   1234 kB` line of `/proc/meminfo`, in KiB.
fn meminfo_kib(meminfo: &str, field: &str) -> u64 {
    meminfo
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or(0)
}

/// The numeric entries of `/proc`: one per process.
fn count_processes() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .count() as u64
}

/// (available, total) bytes of the filesystem holding `dir`.
fn disk_space(dir: &Path) -> (u64, u64) {
    use std::os::unix::ffi::OsStrExt;
    let Ok(path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return (0, 0);
    };
    // SAFETY: `path` is a valid NUL-terminated string and `stats` a properly sized output
    // buffer that statvfs fills in; nothing is retained after the call.
    let mut stats: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(path.as_ptr(), &mut stats) } != 0 {
        return (0, 0);
    }
    let block = stats.f_frsize as u64;
    (stats.f_bavail as u64 * block, stats.f_blocks as u64 * block)
}
