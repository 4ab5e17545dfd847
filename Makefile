# Hotswap: `make demo` and `make test` are all a newcomer needs; both set everything up.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
CACHE ?= $(HOME)/.cache/hotswap
export HOTSWAP_CACHE := $(CACHE)
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: help setup lint test test-unit test-integration test-e2e demo bench bench-switch control-plane clean
.PHONY: system-deps images e2e-kind test-node node-up node-down object-store

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

setup: $(VENV)/.installed ## virtualenv with the project and its test tools

# Exact versions from requirements.lock (every file hash-checked), then the project itself
# without resolving anything: a clean clone installs the same versions every time.
$(VENV)/.installed: pyproject.toml requirements.lock
	@echo "==> creating $(VENV) and installing requirements.lock, then hotswap (editable)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $@

# requirements.lock: hotswap[dev] (pyproject.toml's ranges) plus pip and setuptools
# (tools/lock-installers.in) resolved to exact versions with every file's sha256, for Linux
# x86_64 and Python 3.11, by uv (installed once into $(CACHE)/tools). Then one lock per image,
# requirements/<image>.lock (its extra plus the installers, the same versions: constrained by
# requirements.lock), which its Dockerfile installs with --require-hashes before the source;
# and requirements/native.lock, the compiler of the inference image's request path (mypy).
# Commit the results.
UV_VERSION := 0.13.9
UV := $(CACHE)/tools/uv-$(UV_VERSION)/bin/uv
UV_COMPILE = $(UV) pip compile --native-tls --quiet pyproject.toml tools/lock-installers.in \
  --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
  --custom-compile-command 'make lock'
IMAGE_PARTS := inference operator

.PHONY: lock
lock: ## re-resolve requirements.lock and the images' requirements/*.lock (then `make setup`)
	@[ -x $(UV) ] || { $(PYTHON) -m venv $(CACHE)/tools/uv-$(UV_VERSION) && \
	  $(CACHE)/tools/uv-$(UV_VERSION)/bin/pip install -q uv==$(UV_VERSION); }
	$(UV_COMPILE) --extra dev $(if $(UPGRADE),--upgrade) -o requirements.lock
	for part in $(IMAGE_PARTS) native; do \
	  $(UV_COMPILE) --extra $$part --constraint requirements.lock -o requirements/$$part.lock; \
	done

lint: setup ## ruff, mypy strict, import layering
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: setup lint test-unit test-native test-integration test-e2e test-node ## set up, then every test tier

# pytest exits 5 when a tier collects no test; such a tier is reported, not failed.
PYTEST_TIER = $(PY) -m pytest -q $(PYTEST_ARGS) $(1) || { rc=$$?; [ $$rc -eq 5 ] && echo "no tests in $(1)"; [ $$rc -eq 5 ]; }

test-unit: setup system-deps object-store ## unit tier: pure logic, the store, loopback servers
	$(call PYTEST_TIER,tests/unit)

# The serving port's request path compiled by mypyc (setup.py; pyproject.toml's [tool.hotswap]
# compiled), installed apart in $(NATIVE) with the rest of the project: PYTHONPATH=$(NATIVE)
# runs it, as the inference image does; the editable install stays interpreted. Rebuilt when a
# source changes (~40 s; gcc and the Python headers).
NATIVE ?= .native
NATIVE_SOURCES := setup.py pyproject.toml $(shell find hotswap inference operator -name '*.py' -not -path '*/__pycache__/*')

.PHONY: native test-native
native: $(NATIVE)/.built ## the request path compiled by mypyc, in .native/ (PYTHONPATH=.native)

$(NATIVE)/.built: $(VENV)/.installed $(NATIVE_SOURCES)
	@echo "==> compiling the request path with mypyc into $(NATIVE)"
	rm -rf $(NATIVE) build
	HOTSWAP_COMPILE=1 $(PY) -m pip install -q --no-deps --no-build-isolation --target $(NATIVE) .
	rm -rf build
	touch $@

test-native: setup system-deps native ## the inference and fast-path unit tests again, on the compiled request path
	HOTSWAP_NATIVE=1 PYTHONPATH=$(abspath $(NATIVE)) $(call PYTEST_TIER,tests/unit/inference tests/unit/fastpath)

test-integration: setup control-plane ## integration tier: a real kube-apiserver and etcd
	$(call PYTEST_TIER,tests/integration)

test-e2e: setup system-deps control-plane ## e2e tier: the demo flow under load, Prometheus, Chromium
	$(call PYTEST_TIER,tests/e2e)

# Where the machine cannot run a node (not root, no CAP_NET_ADMIN, no overlayfs, ...), one line
# says why and the tier passes without running; everything it needs is installed and built
# (cached) otherwise, and the node is taken down afterwards whatever happened (docs/node.md).
test-node: setup ## node tier: the images and real manifests on kubelet + containerd (root; docs/node.md)
	@if reason=$$(bash tools/node.sh preflight); then \
	  trap '[ "$${HOTSWAP_NODE_KEEP:-}" = 1 ] || bash tools/node.sh down >/dev/null 2>&1 || true' EXIT; \
	  bash tools/install-system-deps.sh --node; \
	  $(call PYTEST_TIER,tests/node -s); \
	else echo "node tier skipped: $$reason"; fi

node-up: setup ## a real node (kubelet, containerd, runc, CNI) on the local control plane (docs/node.md)
	bash tools/install-system-deps.sh --node
	bash tools/node.sh up

node-down: ## stop what node-up started: pods, processes, mounts, bridge, iptables rules
	bash tools/node.sh down

object-store: ## build (once, cached) versitygw, the S3-compatible server of the object-store tests
	bash tools/build-objectstore.sh

control-plane: setup ## build (once, cached) kube-apiserver and etcd from Go modules
	bash tools/build-control-plane.sh

demo: setup control-plane ## the whole loop on the local control plane, with progress
	$(VENV)/bin/hotswap demo

.PHONY: dev-up dev-down
dev-up: setup control-plane ## a playground that stays up: control plane, operator, 3 replicas, a Canary
	$(VENV)/bin/hotswap dev up

dev-down: ## stop everything `make dev-up` started (safe to run twice)
	@if [ -x $(VENV)/bin/hotswap ]; then $(VENV)/bin/hotswap dev down; else echo "no $(VENV): nothing to stop"; fi

bench: setup system-deps object-store native ## inference benchmark; figures printed and written to bench/results/
	$(PY) bench/inference.py
	$(PY) bench/fastpath.py
	$(PY) bench/objectstore.py

.PHONY: bench-objectstore
bench-objectstore: setup object-store ## switch time: pods that download from a bucket beside pods on the volume
	$(PY) bench/objectstore.py

bench-switch: setup control-plane ## switch latency vs replicas (1, 3, 10) beside the model load time
	$(PY) bench/switch.py

.PHONY: bench-swap
bench-swap: setup system-deps control-plane ## latency and loop stalls while versions swap under load (one pod alone, 3 pods, then Canary)
	$(PY) bench/swap.py

.PHONY: bench-scale
bench-scale: setup control-plane ## operator at scale: 100 Canaries x 3 simulated pods, 1,000 ModelVersions (docs/scale.md)
	nice -n 10 $(PY) bench/scale.py

.PHONY: bench-analysis
bench-analysis: setup control-plane ## rollout analysis: false rollbacks, detection speed (simulated), live rollback (docs/analysis.md)
	$(PY) bench/analysis.py --live

system-deps: ## Debian packages the tests run (promtool, chromium, wrk, gcc); skipped when present
	PYTHON=$(PYTHON) bash tools/install-system-deps.sh

images: ## build hotswap-inference and hotswap-operator (Docker, or buildah on a Debian base)
	bash tools/build-images.sh $(or $(IMAGE_TAG),dev)

e2e-kind: setup ## images, a kind cluster, manifests, the demo flow (needs Docker and kind)
	bash tools/e2e-kind.sh

clean: ## remove the virtualenv and caches in the tree (not ~/.cache/hotswap)
	rm -rf $(VENV) $(NATIVE) build .mypy_cache .ruff_cache .pytest_cache bench/results
