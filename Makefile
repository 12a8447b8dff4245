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
# The lab cluster's certificates (a CA made for each run).
APT_PACKAGES += openssl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: plan test policy deps venv lint bench clean golden-report engine cluster-tools mutate

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

# ruff, then mypy over the core, the components, the pack and the program (pyproject [tool.mypy]).
lint: venv
	$(PY) -m ruff check .
	$(PY) -m mypy

test: venv deps lint schemas engine cluster-tools
	$(SUDO) env LANES_CLUSTER_TOOLS=$(CLUSTER_TOOLS_CACHE) $(PY) -m pytest -q

# The CRDs the cluster tests validate rendered objects against (schemas/go.mod), fetched through
# the Go module proxy into GOMODCACHE, outside the repo; each checked against schemas/go.sum.
.PHONY: schemas
schemas: venv
	$(PY) -m tests.cluster.crd_schema

# The real Pulumi engine the engine tier (tests/engine) runs the program under, built from the Go
# modules pinned in engine/ (a go.mod each, the binary a `tool` line) into build/engine/bin/
# (ignored). Each binary is rebuilt only when its module's go.mod or go.sum is newer; the module
# and build caches live outside the repo, so a warm rebuild takes seconds and a cold one minutes.
# Nothing is downloaded when a stack runs: every plugin is beside `pulumi` and the tests disable
# automatic plugin acquisition.
# - engine/cli: the CLI (pkg/v3 v3.274.1), stamped with the version go.mod pins.
# - engine/command: the command provider (pulumi-command/provider at its v1.2.1 commit), stamped
#   1.2.1, the plugin version the pulumi_command SDK asks for.
# - engine/python: the Python language host of v3.259.0 (pkg/v3 and sdk/v3 v3.259.0); its two
#   scripts come from that sdk/v3 module in the module cache.
# Two of these modules are served by ../shared/goproxy on the machines whose proxy refuses them:
# when that folder exists it comes first in GOPROXY, the ordinary proxy after it. Their go.sum
# lines are committed, so a build needs no GONOSUMDB (engine-tidy, which may add lines, does).
ENGINE_BIN := build/engine/bin
ENGINE := $(addprefix $(ENGINE_BIN)/,pulumi pulumi-resource-command pulumi-language-python \
	pulumi-language-python-exec pulumi-resource-pulumi-python)
LOCAL_GOPROXY := $(abspath $(CURDIR)/../shared/goproxy)
ENGINE_GOPROXY = $$(p=$$(go env GOPROXY); \
	if [ -d $(LOCAL_GOPROXY) ]; then echo "file://$(LOCAL_GOPROXY),$$p"; else echo "$$p"; fi)
ENGINE_GOSUMS := github.com/pulumi/pulumi-command/provider,github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
ENGINE_GO = cd engine/$(1) && export GOPROXY=$(ENGINE_GOPROXY) GOFLAGS=-mod=readonly &&
PYTHON_SDK = $$($(call ENGINE_GO,python) go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)

engine: $(ENGINE)

$(ENGINE_BIN)/pulumi: engine/cli/go.mod engine/cli/go.sum
	mkdir -p $(ENGINE_BIN)
	$(call ENGINE_GO,cli) version=$$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3) && \
	nice -n 10 go build -o $(CURDIR)/$@.tmp \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$$version" \
		github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	mv $@.tmp $@

$(ENGINE_BIN)/pulumi-resource-command: engine/command/go.mod engine/command/go.sum
	mkdir -p $(ENGINE_BIN)
	$(call ENGINE_GO,command) nice -n 10 go build -o $(CURDIR)/$@.tmp \
		-ldflags "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=1.2.1" \
		github.com/pulumi/pulumi-command/provider/cmd/pulumi-resource-command
	mv $@.tmp $@

$(ENGINE_BIN)/pulumi-language-python: engine/python/go.mod engine/python/go.sum
	mkdir -p $(ENGINE_BIN)
	$(call ENGINE_GO,python) version=$$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3) && \
	nice -n 10 go build -o $(CURDIR)/$@.tmp \
		-ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$$version" \
		github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
	mv $@.tmp $@

$(ENGINE_BIN)/pulumi-language-python-exec: engine/python/go.mod engine/python/go.sum
	mkdir -p $(ENGINE_BIN)
	install -m 755 "$(PYTHON_SDK)/python/cmd/pulumi-language-python-exec" $@

$(ENGINE_BIN)/pulumi-resource-pulumi-python: engine/python/go.mod engine/python/go.sum
	mkdir -p $(ENGINE_BIN)
	install -m 755 "$(PYTHON_SDK)/python/dist/pulumi-resource-pulumi-python" $@

# After changing a version in engine/*/go.mod: refresh its go.mod and go.sum (the two modules of
# ../shared/goproxy are not in the checksum database, hence GONOSUMDB here only).
.PHONY: engine-tidy
engine-tidy:
	for m in cli command python; do \
		( $(call ENGINE_GO,$$m) GONOSUMDB=$(ENGINE_GOSUMS) go mod tidy ) || exit 1; \
	done

# What a pull request's comment shows of STACK's preview (Markdown, .github/workflows/preview.yml):
# per component kind the creates, updates, replaces and deletes, then the policy verdicts. The
# backend and its secrets are the operator's: PULUMI_BACKEND_URL, and PULUMI_CONFIG_PASSPHRASE
# (or PULUMI_ACCESS_TOKEN for Pulumi Cloud).
.PHONY: preview
preview: venv engine
	@$(PY) -m lanes preview --stack $(STACK)

# The lab cluster's binaries (etcd, kube-apiserver, kube-controller-manager, the pulumi-kubernetes
# plugin), built from the modules pinned in cluster-tools/ into ~/.cache/lanes/cluster-tools/,
# one folder per module keyed by its hash (lanes/lab/clustertools.py): built once per machine,
# nothing to do when they are there. Cold: about 30 CPU-minutes (see the README).
CLUSTER_TOOLS_CACHE ?= $(HOME)/.cache/lanes/cluster-tools
cluster-tools: venv
	LANES_CLUSTER_TOOLS=$(CLUSTER_TOOLS_CACHE) $(PY) -m lanes.lab.clustertools

# The CrossGuard pack over both stacks under the SDK's mocks (what CI runs without the CLI).
policy: venv
	$(PY) -m pytest -q tests/policy

# The committed reports of dev and prod (tests/golden/report/), reviewed beside the plan's diff.
golden-report: venv
	for stack in dev prod; do for format in html plantuml; do \
		$(PY) -m lanes report --stack $$stack --format $$format --out tests/golden/report/$$stack || exit 1; \
	done; done

# Figures, not timed tests: each script prints what it measured against its target.
bench: venv deps engine
	taskset -c 0 $(PY) benchmarks/plan_region.py
	$(PY) benchmarks/policy_pack.py
	taskset -c 0 $(PY) benchmarks/report_region.py
	$(SUDO) $(PY) benchmarks/gateway_exposures.py
	$(SUDO) $(PY) benchmarks/gateway_iptables.py
	$(SUDO) $(PY) benchmarks/lab_up.py
	$(SUDO) $(PY) benchmarks/region_lab.py
	$(PY) benchmarks/engine.py
	$(PY) benchmarks/engine_scale.py
	$(SUDO) $(PY) benchmarks/engine_lab.py
	$(PY) benchmarks/engine_build.py

# Mutation testing of the core (`make mutate`; not part of `make test`): the shared mutrun runner
# changes one expression of a target at a time and runs the selection's fast, namespace-free
# tests; a change no test notices survives. What to mutate and which tests judge it is here and
# nowhere else. The run works on a scratch copy in $(MUTATE_DIR)/src (the working tree as git
# sees it: committed, modified and new files), never on the working tree, and resumes into the
# same results (tests/mutation/resume.py says what it keeps; MUTATE_FRESH=1 keeps nothing).
# tests/mutation/score.py prints the per-file table and the score over the mutants not listed
# as equivalent.
MUTRUN ?= ../shared/tools/mutrun
MUTATE_DIR := build/mutate
MUTATE_TARGETS := lanes/model/addressing.py lanes/model/plan.py lanes/model/hostnet.py \
	$(filter-out %/__init__.py,$(wildcard lanes/intents/*.py)) \
	$(filter-out %/catalog.py,$(wildcard lanes/rules/*.py))
MUTATE_TESTS := tests/core tests/policy tests/cluster \
	tests/gateway/test_model.py tests/gateway/test_rules.py tests/gateway/test_render.py \
	tests/gateway/test_intent_kinds.py tests/gateway/test_bird.py \
	tests/host/test_hostnet.py tests/host/test_golden.py tests/host/test_layout_rules.py \
	tests/lab/test_matrix.py tests/lab/test_crossaz.py
# --assert=plain: mutrun runs pytest without bytecode caches, and rewriting the asserts of every
# test module again for each mutant would double its cost; a mutant is killed or not all the same.
# Left out: namespaces (unshare), the pack in its own process (it imports the installed lanes,
# never the mutant), and whole-program runs under mocks whose rules and models the tests above
# already judge (a surviving mutant costs one run of the whole selection: keep it lean).
MUTATE_DESELECT := tests/policy/test_engine_layout.py \
	tests/gateway/test_render.py::test_every_rendered_ruleset_passes_nft_check \
	tests/gateway/test_render.py::test_nft_check_catches_a_broken_ruleset \
	tests/gateway/test_render.py::test_every_nginx_config_passes_nginx_t \
	tests/core/test_inventory.py tests/core/test_program.py tests/cluster/test_program.py
# Every mutant by default; MUTATE_SAMPLE=40 samples 40 per file (seed fixed) for a quick look.
MUTATE_SAMPLE ?= 1000000
MUTATE_WORKERS ?= 2
MUTATE_OUT ?= $(MUTATE_DIR)/results.jsonl

mutate: venv schemas
	@test -f $(MUTRUN)/mutrun.py || { echo "make mutate: $(MUTRUN)/mutrun.py is missing: the mutation runner lives in the shared tools folder beside the repo (MUTRUN=path/to/mutrun to point elsewhere)" >&2; exit 2; }
	@for f in $(MUTATE_TARGETS) $(MUTATE_TESTS); do test -e $$f || { echo "make mutate: $$f (MUTATE_TARGETS/MUTATE_TESTS in the Makefile) does not exist; was it moved?" >&2; exit 2; }; done
	@$(PY) -c 'import coverage' 2>/dev/null || $(PY) -m pip install -q -e '.[test,mutate]'
	@mkdir -p $(MUTATE_DIR)
	@rm -rf $(MUTATE_DIR)/src.new && git clone -q --no-hardlinks . $(MUTATE_DIR)/src.new && \
	git ls-files -z -m -o --exclude-standard | xargs -0 -r sh -c \
		'for f; do if [ -e "$$f" ]; then cp --parents "$$f" "$$0"; else rm -f "$$0/$$f"; fi; done' \
		$(MUTATE_DIR)/src.new
	@rm -rf $(MUTATE_DIR)/src && mv $(MUTATE_DIR)/src.new $(MUTATE_DIR)/src
	@if [ -n "$(MUTATE_FRESH)" ]; then rm -f $(MUTATE_OUT); fi
	@$(PY) tests/mutation/resume.py $(MUTATE_DIR)/src $(MUTATE_OUT) \
		$(MUTATE_TARGETS) -- $(MUTATE_TESTS) -- $(MUTATE_DESELECT)
	nice -n 15 $(PY) $(MUTRUN)/mutrun.py --repo $(CURDIR)/$(MUTATE_DIR)/src --python $(CURDIR)/$(PY) \
		--out $(MUTATE_OUT) --workdir $(CURDIR)/$(MUTATE_DIR)/work --workers $(MUTATE_WORKERS) \
		--per-module $(MUTATE_SAMPLE) --budget 1000000 --seed 29 \
		--no-default-deselect --pytest-arg=-m --pytest-arg='not netns' --pytest-arg=--assert=plain \
		$(foreach d,$(MUTATE_DESELECT),--pytest-arg=--deselect --pytest-arg=$(d)) \
		--targets $(MUTATE_TARGETS) --tests $(MUTATE_TESTS)
	$(PY) tests/mutation/score.py $(MUTATE_OUT) --repo $(MUTATE_DIR)/src \
		--equivalent tests/mutation/equivalent.txt

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
