//! Graded tests of `kubelet-should-restart`: restartPolicy × exit code.

use kubelet::{RestartPolicy, should_restart};

#[test]
fn always_restarts_whatever_the_exit_code() {
    for code in [0, 1, 137, 143] {
        assert!(should_restart(RestartPolicy::Always, code), "code {code}");
    }
}

#[test]
fn on_failure_restarts_only_failures() {
    assert!(!should_restart(RestartPolicy::OnFailure, 0));
    for code in [1, 2, 137, -1] {
        assert!(
            should_restart(RestartPolicy::OnFailure, code),
            "code {code}"
        );
    }
}

#[test]
fn never_never_restarts() {
    for code in [0, 1, 137] {
        assert!(!should_restart(RestartPolicy::Never, code), "code {code}");
    }
}

#[test]
fn the_policy_is_read_from_the_spec_with_always_as_default() {
    assert_eq!(RestartPolicy::from_spec(None), Ok(RestartPolicy::Always));
    assert_eq!(
        RestartPolicy::from_spec(Some("OnFailure")),
        Ok(RestartPolicy::OnFailure)
    );
    assert_eq!(
        RestartPolicy::from_spec(Some("Never")),
        Ok(RestartPolicy::Never)
    );
    let error = RestartPolicy::from_spec(Some("Sometimes")).unwrap_err();
    assert!(
        error.starts_with("spec.restartPolicy: Unsupported value: \"Sometimes\""),
        "{error}"
    );
}
