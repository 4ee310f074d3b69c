//! Which processes a cluster has, and that each one's command line is one its own subcommand
//! accepts, pointing at the files `skiff up` prepared.

use std::net::SocketAddr;
use std::path::PathBuf;

use skiff::cmd;
use skiff::cmd::apiserver::StorageKind;
use skiff::component::{
    ClusterSpec, Component, cluster_components, component_args, kubeconfig_name, pod_range,
};
use skiff::layout::Layout;

fn spec(nodes: u16) -> ClusterSpec {
    ClusterSpec {
        nodes,
        listen: "127.0.0.1:0".parse().unwrap(),
        storage: "embedded".to_string(),
    }
}

fn layout() -> Layout {
    Layout::new("/data")
}

#[test]
fn a_cluster_is_the_control_plane_then_a_kubelet_and_a_proxy_per_node() {
    let names: Vec<String> = cluster_components(2).iter().map(Component::name).collect();
    assert_eq!(
        names,
        [
            "apiserver",
            "scheduler",
            "controller-manager",
            "kubelet-n1",
            "proxy-n1",
            "kubelet-n2",
            "proxy-n2"
        ]
    );
}

#[test]
fn the_api_server_gets_its_data_dir_listen_address_storage_and_files() {
    let args = component_args(&Component::ApiServer, &spec(1), &layout());
    assert_eq!(args[0], "apiserver");
    let parsed = cmd::apiserver::parse(&args[1..]).unwrap().unwrap();
    assert_eq!(parsed.data_dir, PathBuf::from("/data/apiserver"));
    assert_eq!(parsed.listen, "127.0.0.1:0".parse::<SocketAddr>().unwrap());
    assert_eq!(parsed.storage, StorageKind::Embedded);
    assert_eq!(parsed.url_file, Some(PathBuf::from("/data/apiserver.url")));
    assert_eq!(
        parsed.kubeconfig_dir,
        Some(PathBuf::from("/data/kubeconfigs"))
    );
    assert_eq!(
        parsed.kubelet_token_file,
        Some(PathBuf::from("/data/apiserver/kubelet-proxy.token"))
    );
}

#[test]
fn the_scheduler_and_controller_manager_use_their_own_identity() {
    let args = component_args(&Component::Scheduler, &spec(1), &layout());
    assert_eq!(args[0], "scheduler");
    let parsed = cmd::scheduler::parse(&args[1..]).unwrap().unwrap();
    assert_eq!(
        parsed.kubeconfig,
        PathBuf::from("/data/kubeconfigs/scheduler.kubeconfig")
    );
    assert_eq!(
        parsed.ready_file,
        Some(PathBuf::from("/data/run/scheduler.ready"))
    );

    let args = component_args(&Component::ControllerManager, &spec(1), &layout());
    assert_eq!(args[0], "controller-manager");
    let parsed = cmd::controller_manager::parse(&args[1..]).unwrap().unwrap();
    assert_eq!(
        parsed.kubeconfig,
        PathBuf::from("/data/kubeconfigs/controller-manager.kubeconfig")
    );
    assert_eq!(
        parsed.ready_file,
        Some(PathBuf::from("/data/run/controller-manager.ready"))
    );
}

#[test]
fn each_kubelet_gets_its_node_its_root_and_a_pod_range_of_its_own() {
    let components = cluster_components(3);
    let kubelets: Vec<&Component> = components
        .iter()
        .filter(|c| matches!(c, Component::Kubelet { .. }))
        .collect();
    assert_eq!(kubelets.len(), 3);
    let mut ranges = Vec::new();
    for (index, kubelet) in kubelets.into_iter().enumerate() {
        let node = format!("n{}", index + 1);
        let args = component_args(kubelet, &spec(3), &layout());
        assert_eq!(args[0], "kubelet");
        let parsed = cmd::kubelet::parse(&args[1..]).unwrap().unwrap();
        assert_eq!(
            parsed.client.kubeconfig,
            PathBuf::from(format!("/data/kubeconfigs/kubelet-{node}.kubeconfig"))
        );
        assert_eq!(parsed.kubelet.config.node_name, node);
        // The same number as the node's proxy: pods dial the addresses that proxy serves.
        assert_eq!(parsed.node_index, Some(index as u8));
        assert_eq!(
            parsed.kubelet.root,
            Some(PathBuf::from(format!("/data/nodes/{node}")))
        );
        // The same token file as the API server's, so its log proxy gets in.
        assert_eq!(
            parsed.kubelet.logs_token_file,
            Some(PathBuf::from("/data/apiserver/kubelet-proxy.token"))
        );
        let (base, prefix) = parsed.kubelet.pod_range.unwrap();
        assert_eq!(prefix, 24);
        ranges.push(base);
    }
    assert_eq!(
        ranges,
        ["127.1.1.0", "127.1.2.0", "127.1.3.0"].map(|a| a.parse::<std::net::Ipv4Addr>().unwrap())
    );
}

#[test]
fn each_proxy_shares_the_proxy_identity_and_gets_its_node_number() {
    let component = Component::Proxy {
        node: "n2".into(),
        index: 1,
    };
    let args = component_args(&component, &spec(2), &layout());
    assert_eq!(args[0], "proxy");
    let parsed = cmd::proxy::parse(&args[1..]).unwrap().unwrap();
    assert_eq!(parsed.node, "n2");
    assert_eq!(parsed.node_index, 1);
    assert_eq!(
        parsed.client.kubeconfig,
        PathBuf::from("/data/kubeconfigs/proxy.kubeconfig")
    );
    assert_eq!(
        parsed.client.ready_file,
        Some(PathBuf::from("/data/run/proxy-n2.ready"))
    );
}

#[test]
fn identities_name_their_kubeconfigs() {
    let cases = [
        ("admin", "admin"),
        ("system:kube-scheduler", "scheduler"),
        ("system:kube-controller-manager", "controller-manager"),
        ("system:kube-proxy", "proxy"),
        ("system:node:n7", "kubelet-n7"),
        ("someone:else", "someone-else"),
    ];
    for (user, name) in cases {
        assert_eq!(kubeconfig_name(user), name, "{user}");
    }
    for component in cluster_components(2).iter().skip(1) {
        let user = component.identity().unwrap();
        assert!(
            component_args(component, &spec(2), &layout()).contains(
                &layout()
                    .kubeconfig(&kubeconfig_name(&user))
                    .display()
                    .to_string()
            ),
            "{} uses the kubeconfig of {user}",
            component.name()
        );
    }
    assert_eq!(Component::ApiServer.identity(), None);
}

#[test]
fn pod_ranges_stay_inside_127_1() {
    assert_eq!(pod_range(0), "127.1.1.0/24");
    assert_eq!(pod_range(253), "127.1.254.0/24");
}
