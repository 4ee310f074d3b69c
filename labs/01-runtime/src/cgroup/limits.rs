//! From limits to cgroup files: which file of which controller gets which value.

use super::{CgroupVersion, Controller};
use crate::config::ResourceLimits;

/// The CFS period the runtime uses, in microseconds: 100 ms, the kernel's and Kubernetes' default.
pub const CFS_PERIOD_US: u64 = 100_000;

/// One value to write into one cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitFile {
    /// The controller whose directory holds the file.
    pub controller: Controller,
    /// The file name, e.g. `memory.max`.
    pub file: &'static str,
    /// What to write, e.g. `67108864`.
    pub value: String,
}

// ANCHOR: limit_files
/// The files to write, in order, to apply `limits` in a cgroup of the given version.
///
/// CPU is a bandwidth quota: in every period of [`CFS_PERIOD_US`] the group may run for
/// `millicores * CFS_PERIOD_US / 1000` microseconds (summed over all cores), so 500 millicores
/// is 50 ms per 100 ms. v2 writes quota and period together into `cpu.max`; v1 has two files,
/// and the period must be written first because the quota is checked against it.
pub fn limit_files(limits: &ResourceLimits, version: CgroupVersion) -> Vec<LimitFile> {
    // EXERCISE(runtime-cgroup-limits): memory.max|memory.limit_in_bytes, then cpu.max "quota period"|cpu.cfs_period_us + cpu.cfs_quota_us, then pids.max
    let mut files = Vec::new();
    let mut push = |controller, file, value: String| {
        files.push(LimitFile {
            controller,
            file,
            value,
        });
    };
    if let Some(bytes) = limits.memory_bytes {
        let file = match version {
            CgroupVersion::V1 => "memory.limit_in_bytes",
            CgroupVersion::V2 => "memory.max",
        };
        push(Controller::Memory, file, bytes.to_string());
    }
    if let Some(millicores) = limits.cpu_millicores {
        let quota = millicores * CFS_PERIOD_US / 1000;
        match version {
            CgroupVersion::V1 => {
                push(
                    Controller::Cpu,
                    "cpu.cfs_period_us",
                    CFS_PERIOD_US.to_string(),
                );
                push(Controller::Cpu, "cpu.cfs_quota_us", quota.to_string());
            }
            CgroupVersion::V2 => {
                push(
                    Controller::Cpu,
                    "cpu.max",
                    format!("{quota} {CFS_PERIOD_US}"),
                );
            }
        }
    }
    if let Some(pids) = limits.pids {
        push(Controller::Pids, "pids.max", pids.to_string());
    }
    files
    // END EXERCISE
}
// ANCHOR_END: limit_files
