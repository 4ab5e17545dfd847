"""A real local Kubernetes control plane (etcd + kube-apiserver built from Go modules, envtest
style) for the integration tests and the demo: `hotswap cluster up | down | env`.

Modules: `building` (binaries), `certificates` and `kubeconfigs` (credentials), `starting` and
`stopping` (lifecycle), `supervising` (processes), `waiting` (readiness), `applying` (kubectl,
CRDs), `kubelets` (Pod objects for processes run by tests), `clusters` (the state folder)."""
