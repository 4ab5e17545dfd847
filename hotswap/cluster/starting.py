"""Bring a local control plane up: credentials, etcd, kube-apiserver, kubeconfig, CRDs.

Both servers listen on 127.0.0.1 only, on free ports; see docs/control-plane.md."""

from __future__ import annotations

from pathlib import Path

from hotswap.cluster import (
    applying,
    building,
    certificates,
    clusters,
    kubeconfigs,
    stopping,
    supervising,
    waiting,
)
from hotswap.local import replicas

SERVICE_CIDR = "10.0.0.0/24"


def up(state_dir: Path, *, apply_crds: bool = True, timeout: float = 90.0) -> clusters.Cluster:
    """Start a control plane in `state_dir`, or return the one already running there; then
    apply the project's `crds/` unless told not to (the tests apply them in a test of their own).
    """
    cluster = clusters.load(state_dir)
    if supervising.is_running(cluster):
        return cluster
    binaries = building.ensure_built()
    stopping.down(state_dir)
    cluster = clusters.Cluster(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        write_credentials(cluster)
        start_etcd(cluster, binaries.etcd, timeout=timeout)
        start_apiserver(cluster, _apiserver_argv(cluster, binaries.kube_apiserver), timeout=timeout)
        if apply_crds:
            applying.apply_crds(cluster)
    except BaseException:
        stopping.down(state_dir, keep_logs=True)
        raise
    return cluster


def write_credentials(cluster: clusters.Cluster) -> None:
    ca = certificates.create_authority()
    certificates.write(ca, cluster.pki, "ca")
    certificates.write(certificates.issue_serving(ca), cluster.pki, "apiserver")
    admin = certificates.issue_client(ca, "hotswap-admin", ["system:masters"])
    certificates.write(admin, cluster.pki, "admin")
    certificates.write(certificates.create_service_account_keys(), cluster.pki, "service-account")


def start_etcd(cluster: clusters.Cluster, binary: Path, *, timeout: float) -> None:
    client, peer = (f"http://127.0.0.1:{port}" for port in replicas.free_ports(2))
    argv = [
        str(binary),
        f"--data-dir={cluster.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=default={peer}",
        "--unsafe-no-fsync=true",  # test data: speed over durability
    ]
    run_etcd(cluster, argv, port=int(client.rsplit(":", 1)[1]), timeout=timeout)


def run_etcd(cluster: clusters.Cluster, argv: list[str], *, port: int, timeout: float) -> None:
    """Start (or restart, with the recorded command line) etcd and wait until it is healthy."""
    process = supervising.spawn("etcd", argv, port=port, log_dir=cluster.logs)
    cluster.record(process)
    log = cluster.logs / "etcd.log"
    waiting.until(process, lambda: waiting.etcd_healthy(port), log=log, timeout=timeout)


def start_apiserver(cluster: clusters.Cluster, argv: list[str], *, timeout: float) -> None:
    """Start (or restart, with the recorded command line) kube-apiserver and wait for it."""
    port = int(next(a for a in argv if a.startswith("--secure-port=")).split("=")[1])
    process = supervising.spawn("kube-apiserver", argv, port=port, log_dir=cluster.logs)
    cluster.record(process)
    admin = certificates.read(cluster.pki, "admin")
    ca = certificates.read(cluster.pki, "ca")
    config = kubeconfigs.render(cluster.server, ca.cert_pem, admin, user="hotswap-admin")
    kubeconfigs.write(cluster.kubeconfig, config)
    log = cluster.logs / "kube-apiserver.log"
    waiting.until(process, lambda: waiting.apiserver_ready(cluster), log=log, timeout=timeout)


def restart_apiserver(cluster: clusters.Cluster, *, timeout: float = 90.0) -> None:
    """Stop kube-apiserver and start it again on the same port with the same flags."""
    process = cluster.processes["kube-apiserver"]
    supervising.stop(process)
    start_apiserver(cluster, process.argv, timeout=timeout)


def restart_etcd(cluster: clusters.Cluster, *, timeout: float = 90.0) -> None:
    """Stop etcd and start it again on the same ports with the same data folder; the API
    server reconnects by itself (or restart it after, with `restart_apiserver`)."""
    process = cluster.processes["etcd"]
    supervising.stop(process)
    run_etcd(cluster, process.argv, port=process.port, timeout=timeout)


def _apiserver_argv(cluster: clusters.Cluster, binary: Path) -> list[str]:
    pki, etcd = cluster.pki, cluster.processes["etcd"].port
    return [
        str(binary),
        f"--etcd-servers=http://127.0.0.1:{etcd}",
        "--bind-address=127.0.0.1",
        # Loopback only, everywhere: no reconciler, so the host's interface address is never
        # written to the `kubernetes` Service endpoints (the default one rejects 127.0.0.1).
        "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none",
        f"--secure-port={replicas.free_port()}",
        f"--cert-dir={pki}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki / 'service-account.crt'}",
        f"--service-account-signing-key-file={pki / 'service-account.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--disable-admission-plugins=ServiceAccount",
        "--allow-privileged=true",
        # Close open watches on SIGTERM instead of waiting for them to time out (up to 60s+).
        "--shutdown-watch-termination-grace-period=2s",
    ]
