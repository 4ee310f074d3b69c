"""The official Kubernetes Python client against skiff.

Usage: client_test.py KUBECONFIG

Loads the kubeconfig (https, skiff's CA, a bearer token), lists nodes, creates a pod, watches
it appear, deletes it and watches it go. Prints one line per step for the Rust test to check.
"""

import sys

from kubernetes import client, config, watch


def main(kubeconfig):
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()

    nodes = v1.list_node()
    print("nodes:", ",".join(sorted(n.metadata.name for n in nodes.items)))

    pods = v1.list_namespaced_pod("default")
    start = pods.metadata.resource_version

    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="py-pod", labels={"app": "py"}),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="app", image="skiff/sleep")]
        ),
    )
    created = v1.create_namespaced_pod("default", pod)
    print("created:", created.metadata.name, "uid set:", bool(created.metadata.uid))

    w = watch.Watch()
    deleted = False
    for event in w.stream(
        v1.list_namespaced_pod,
        "default",
        resource_version=start,
        timeout_seconds=30,
    ):
        name = event["object"].metadata.name
        if name != "py-pod":
            continue
        print("event:", event["type"], name)
        if event["type"] == "ADDED" and not deleted:
            v1.delete_namespaced_pod("py-pod", "default")
            deleted = True
        if event["type"] == "DELETED":
            w.stop()
            break

    try:
        v1.read_namespaced_pod("py-pod", "default")
        print("still there")
    except client.exceptions.ApiException as e:
        print("read after delete:", e.status, e.reason)


if __name__ == "__main__":
    main(sys.argv[1])
