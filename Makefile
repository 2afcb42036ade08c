# lvs.cluster: developer and CI entry points. Every target installs what it needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV      := $(CURDIR)/.venv
PY        := $(VENV)/bin/python
BUILD     := $(CURDIR)/.build
COLL_LINK := $(BUILD)/collections/ansible_collections/lvs/cluster
SANITY    := $(BUILD)/sanity/ansible_collections/lvs/cluster
DOCS      := $(BUILD)/docs
TOPOLOGY  ?= nat
SCENARIO  ?= nat
RELEASE   ?= bookworm
REQUESTS  ?= 12
# make test's pytest workers: the seed lab (NAT, reset proof) on one, integration then a second seed
# lab (DR, TUN) on the other, molecule and the rest to whichever is free first (tests/conftest.py's
# scheduler keeps each booted lab's tests on one worker and starts the longest groups first).
WORKERS   ?= 2
# SUITE=core leaves out the health-check and director-HA scenarios (tests/conftest.py SUITES).
SUITE     ?= full
export LVSLAB_SUITE := $(SUITE)
APT_PKGS  := qemu-system-x86 qemu-utils mmdebstrap openssh-client e2fsprogs git shellcheck

export PATH := $(VENV)/bin:$(PATH)
export PYTHONPATH := $(CURDIR)/tests
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections
export ANSIBLE_ROLES_PATH := $(CURDIR)/roles
export ANSIBLE_PIPELINING := True
export ANSIBLE_HOST_KEY_CHECKING := False
export NO_COLOR := 1
export PY_COLORS := 0
LAB := $(PY) -m lab_harness
# make test's time budget: phases outside pytest append "name<TAB>seconds" here, pytest prints the table.
PHASES    := $(BUILD)/phases.tsv
TIMED     := python3 tests/phases.py
# Lab runs (integration, scenarios, make lab, bench) use Mitogen; LVSLAB_STRATEGY=linear for plain Ansible.
export LVSLAB_STRATEGY ?= mitogen_linear

.PHONY: help deps venv image unit sanity lint docs-lint docs ee changelog-lint gates integration scenarios \
        images-extra test lab lab-up lab-down lab-status lab-smoke bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

deps: ## Install the apt packages the lab needs (only those missing)
	@missing=$$(for p in $(APT_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" -ne 0 ]; then echo "need root to install: $$missing" >&2; exit 1; fi; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

venv: $(VENV)/.stamp $(COLL_LINK) ## Create the venv from the pinned requirements

$(VENV)/.stamp: requirements/lock.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements/lock.txt
	touch $@

$(COLL_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

image: deps venv ## Build (or reuse) the cached guest image
	$(LAB) image --release $(RELEASE)

unit: venv ## Unit tests (no guests)
	$(PY) -m pytest -q tests/unit

sanity: venv ## ansible-test sanity on a copy of the tree at .../ansible_collections/lvs/cluster
	rm -rf $(SANITY) && mkdir -p $(SANITY)
	@# Tracked and new files, less those deleted in the work tree; any copy error fails the gate.
	{ git ls-files -co --exclude-standard; git ls-files -d; git ls-files -d; } | sort | uniq -u \
	  | tr '\n' '\0' | tar --null -T - -cf - | tar -xf - -C $(SANITY)
	pipver=$$($(PY) -c 'from ansible_test._internal.python_requirements import PIP_VERSION as v; print(v)' 2>/dev/null || echo 24.2); \
	  cache=$$HOME/.ansible/test/cache/get_pip_$${pipver//./_}.py; mkdir -p $$(dirname $$cache); \
	  [ -s $$cache ] || cp tests/sanity/get_pip_offline.py $$cache
	cd $(SANITY) && git init -q && git add -A && \
	  ansible-test sanity --venv --python 3.11 --color no --exclude tests/lab_harness/guest/

lint: venv ## ansible-lint (production profile)
	ansible-lint

docs-lint: venv ## antsibull-docs lint of the collection and plugin docs
	antsibull-docs lint-collection-docs --plugin-docs $(COLL_LINK)

changelog-lint: venv ## antsibull-changelog lint
	antsibull-changelog lint

ee: venv ## Build context of the execution environment (execution-environment.yml) in .build/ee; no image (no container engine)
	ansible-galaxy collection build --force --output-path $(BUILD)/dist
	rm -rf $(BUILD)/ee && ansible-builder create -f execution-environment.yml -c $(BUILD)/ee --output-filename Containerfile

docs: venv ## HTML docsite of every module, plugin and role (antsibull-docs, Sphinx) in .build/docs/build/html; any warning fails
	rm -rf $(DOCS) && mkdir -m 0755 -p $(DOCS)
	ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir $(DOCS) \
	  --project lvs.cluster --copyright "lvs.cluster developers" --title "lvs.cluster" --html-short-title lvs.cluster lvs.cluster
	$(PY) docs/offline_intersphinx.py $(DOCS)
	@# build.sh: antsibull-docs collection --fail-on-error, then sphinx-build -W (warnings are errors), nitpicky.
	cd $(DOCS) && ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False bash build.sh
	test -s $(DOCS)/build/html/collections/lvs/cluster/index.html

gates: sanity lint docs-lint changelog-lint docs ## All static gates

integration: deps venv image ## Module and role integration targets in a lab guest
	$(PY) -m pytest -q tests/integration

scenarios: deps venv image ## Molecule scenarios on lab guests
	$(PY) -m pytest -q tests/scenarios

test: export LVSLAB_PHASES = $(PHASES)
test: ## Everything: set-up, gates, one pytest run (two workers) of unit, integration and scenarios, then the time budget
	@mkdir -p $(BUILD) && : > $(PHASES)
	$(TIMED) "set-up: apt, venv, images" -- $(MAKE) --no-print-directory deps venv image images-extra
	$(TIMED) "gate: sanity" -- $(MAKE) --no-print-directory sanity
	$(TIMED) "gate: ansible-lint" -- $(MAKE) --no-print-directory lint
	$(TIMED) "gate: docs lint" -- $(MAKE) --no-print-directory docs-lint
	$(TIMED) "gate: changelog lint" -- $(MAKE) --no-print-directory changelog-lint
	$(TIMED) "gate: docsite" -- $(MAKE) --no-print-directory docs
	$(PY) -m pytest -n $(WORKERS) --dist loadscope --durations=12 tests/unit tests/integration tests/scenarios

images-extra: deps venv ## Build (or reuse) the trixie image the molecule scenario boots
	$(LAB) image --release trixie

lab-smoke: deps venv image ## Boot one guest, converge and verify it with molecule
	molecule test -s smoke

lab-up: deps venv image ## Boot TOPOLOGY (smoke, nat, dr, ha or a file) and print its run id
	$(LAB) up $(TOPOLOGY) --release $(RELEASE)

lab-down: venv ## Tear down every lab of this cache
	$(LAB) down --all

lab-status: venv ## List running labs
	$(LAB) status

lab: deps venv image ## Build the image, boot the SCENARIO lab (nat, dr, tun, or ha: two directors, failover), converge it, show traffic via the VIP
	$(PY) tests/lab_harness/demo.py $(SCENARIO) --requests $(REQUESTS)

bench: deps venv image ## Benchmark ipvs_table against ipvsadm and keepalived in a lab guest (BENCH_ARGS="--skip-per-rule")
	$(PY) tests/bench/bench_ipvs_table.py $(BENCH_ARGS)

clean: lab-down ## Remove build artefacts (keeps the image cache)
	rm -rf $(BUILD) .pytest_cache
