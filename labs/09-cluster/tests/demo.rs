//! The demo's sample app.

#[test]
fn the_demo_app_is_three_echo_servers_behind_a_service() {
    let (deployment, service) = skiff::demo::sample_app().unwrap();
    assert_eq!(deployment.spec.replicas, Some(3));
    assert_eq!(
        deployment.spec.template.spec.containers[0].image,
        "skiff/echo"
    );
    assert_eq!(
        service.spec.selector.get("app").map(String::as_str),
        Some("echo")
    );
    assert_eq!(service.spec.ports[0].port, 8080);
}
