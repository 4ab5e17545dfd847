"""A local Hotswap environment, all on loopback: the pieces `hotswap demo`, the benchmarks and
the integration and e2e tests share.

- `replicas`: inference processes on 127.0.0.x (spawn, wait, stop); `registering`: as pods.
- `operators`: the operator subprocess; `authorizing`: manifests/rbac and its identity.
- `traffic` (+ `declarations`): the bounded load loop, optionally checking routing.json.
- `objects`: ModelVersions and Canaries of a namespace, and waiting for their status.
- `environments`: all of it on the local control plane, stopped in reverse order.
- `demo` (the whole loop, `hotswap demo`) and `dataplane` (`hotswap demo --no-cluster`).
- `declaring`: rollouts on the volume without a cluster (`hotswap local`), as the operator
  makes them; `dataplane` makes its changes through it.
- `playgrounds` (+ `detaching`): the environment kept running as one detached process
  (`hotswap dev up | down`).
"""
