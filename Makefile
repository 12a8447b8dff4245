# The two front-door commands: `make plan` (dev stack's address plan) and `make test`.
# Both set up what they need: Debian packages (as root, or via sudo), the .venv, the project.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.lanes-installed
STACK ?= dev
# Real tools the tests run rendered configs through, and the namespace hosts' plumbing.
APT_PACKAGES := iproute2 procps util-linux dash openssh-server openssh-client netplan.io \
	nftables iptables nginx-light libnginx-mod-stream socat systemd
# The AZ routers' BGP speaker (BIRD 2): its rendered config is checked and run in the lab.
APT_PACKAGES += bird2
# lanes report's tests: a real browser, and C4-PlantUML (laid out by graphviz) with a font.
APT_PACKAGES += chromium plantuml graphviz fonts-dejavu-core
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: plan test policy deps venv lint bench clean golden-report

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

plan: venv
	$(PY) -m lanes plan --stack $(STACK)

lint: venv
	$(PY) -m ruff check .

test: venv deps lint schemas
	$(SUDO) $(PY) -m pytest -q

# The CRDs the cluster tests validate rendered objects against (schemas/go.mod), fetched through
# the Go module proxy into GOMODCACHE, outside the repo; each checked against schemas/go.sum.
.PHONY: schemas
schemas: venv
	$(PY) -m tests.cluster.crd_schema

# The CrossGuard pack over both stacks under the SDK's mocks (what CI runs without the CLI).
policy: venv
	$(PY) -m pytest -q tests/policy

# The committed reports of dev and prod (tests/golden/report/), reviewed beside the plan's diff.
golden-report: venv
	for stack in dev prod; do for format in html plantuml; do \
		$(PY) -m lanes report --stack $$stack --format $$format --out tests/golden/report/$$stack || exit 1; \
	done; done

# Figures, not timed tests: each script prints what it measured against its target.
bench: venv deps
	taskset -c 0 $(PY) benchmarks/plan_region.py
	$(PY) benchmarks/policy_pack.py
	taskset -c 0 $(PY) benchmarks/report_region.py
	$(SUDO) $(PY) benchmarks/gateway_exposures.py
	$(SUDO) $(PY) benchmarks/gateway_iptables.py
	$(SUDO) $(PY) benchmarks/lab_up.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
