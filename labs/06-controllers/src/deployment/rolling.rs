//! The arithmetic of a rolling update: how far above and below `replicas` it may go.

use api::{DeploymentSpec, IntOrString};

/// The default of both bounds when the Deployment says nothing.
pub const DEFAULT_BOUND: &str = "25%";

/// `value` as a number of pods out of `total`: an int as is, a percentage of `total` rounded
/// up or down. `field` names the field in the error for anything else.
pub fn scaled_value(
    value: &IntOrString,
    total: i32,
    round_up: bool,
    field: &str,
) -> Result<i32, String> {
    match value {
        IntOrString::Int(n) if *n >= 0 => Ok(*n),
        IntOrString::Int(n) => Err(format!("{field}: {n} must be greater than or equal to 0")),
        IntOrString::String(text) => {
            let percent = text
                .strip_suffix('%')
                .and_then(|digits| digits.parse::<i64>().ok())
                .filter(|p| *p >= 0)
                .ok_or_else(|| {
                    format!("{field}: {text:?} must be an integer or a percentage such as \"25%\"")
                })?;
            let scaled = percent * i64::from(total);
            let value = if round_up {
                (scaled + 99) / 100
            } else {
                scaled / 100
            };
            Ok(value as i32)
        }
    }
}

// ANCHOR: fenceposts
/// Resolves `maxSurge` and `maxUnavailable` against `desired` replicas: surge rounds up,
/// unavailable rounds down (so a percentage never blocks progress nor drops too low). Both
/// explicitly 0 is invalid (the rollout could never move); both *rounded* to 0 lets one pod
/// be unavailable, as in Kubernetes' `ResolveFenceposts`.
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), String> {
    // EXERCISE(controllers-rolling-surge): scale both (default 25%), surge rounding up and unavailable down; reject explicit 0/0; if both resolve to 0, allow 1 unavailable
    let default = IntOrString::String(DEFAULT_BOUND.to_string());
    let surge_field = "spec.strategy.rollingUpdate.maxSurge";
    let unavailable_field = "spec.strategy.rollingUpdate.maxUnavailable";
    let surge = scaled_value(max_surge.unwrap_or(&default), desired, true, surge_field)?;
    let unavailable = scaled_value(
        max_unavailable.unwrap_or(&default),
        desired,
        false,
        unavailable_field,
    )?;
    let zero = |v: Option<&IntOrString>| {
        matches!(v, Some(IntOrString::Int(0)))
            || matches!(v, Some(IntOrString::String(s)) if s == "0%")
    };
    if zero(max_surge) && zero(max_unavailable) {
        return Err(format!(
            "{unavailable_field}: may not be 0 when maxSurge is 0"
        ));
    }
    if surge == 0 && unavailable == 0 {
        return Ok((0, 1));
    }
    Ok((surge, unavailable))
    // END EXERCISE
}
// ANCHOR_END: fenceposts

/// The fenceposts of a Deployment's RollingUpdate strategy (its defaults when unset).
pub fn fenceposts_of(spec: &DeploymentSpec) -> Result<(i32, i32), String> {
    let rolling = spec
        .strategy
        .as_ref()
        .and_then(|s| s.rolling_update.as_ref());
    resolve_fenceposts(
        rolling.and_then(|r| r.max_surge.as_ref()),
        rolling.and_then(|r| r.max_unavailable.as_ref()),
        spec.replicas.unwrap_or(1),
    )
}

// ANCHOR: new_replicas
/// How many replicas the new ReplicaSet may have now: up to `desired`, without the sum of
/// all ReplicaSets' replicas going over `desired + max_surge`.
pub fn new_rs_replicas(desired: i32, max_surge: i32, all_replicas: i32, new_replicas: i32) -> i32 {
    let max_total = desired + max_surge;
    if all_replicas >= max_total {
        return new_replicas;
    }
    let scale_up = (max_total - all_replicas).min(desired - new_replicas);
    new_replicas + scale_up.max(0)
}

/// How many old pods may go now: the available pods above `desired - max_unavailable`.
pub fn old_scale_down_budget(desired: i32, max_unavailable: i32, available: i32) -> i32 {
    let min_available = desired - max_unavailable;
    (available - min_available).max(0)
}
// ANCHOR_END: new_replicas
