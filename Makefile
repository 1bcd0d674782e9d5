# Sora platform — developer entry points. Everything installs itself from a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help venv tools images run crd test test-unit test-integration test-e2e lint typecheck bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

ACTIONLINT_VERSION := v1.7.12
$(TOOLS)/bin/actionlint: | $(UV)
	GOBIN=$(abspath $(TOOLS))/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

venv: $(VENV)/.synced ## install the pinned environment into .venv

run: venv ## run the platform locally on http://127.0.0.1:8080
	$(VENV)/bin/sora up

# The CRD is generated from the models in operator/sora_operator/api/, and the platform
# chart's values schema from the CRD: one target keeps both current.
crd: venv ## regenerate crds/ from the operator's models, then the chart files made from it
	$(PY) hack/crd-gen.py
	$(PY) hack/chart-sync.py

# The Go-built tools the tests use, built (once, cached under ~/.cache) before pytest starts:
# a cold build takes tens of minutes on 2 cores and must not run inside a test's timeout.
tools: venv ## build or reuse the pinned test tools (control plane, helm, promtool)
	@set -e; start=$$(date +%s); \
	hack/promtool.sh >/dev/null & promtool=$$!; \
	hack/cluster.sh build >/dev/null & kube=$$!; \
	wait $$promtool; wait $$kube; \
	echo "tools ready in $$(( $$(date +%s) - start )) s"

# Every tier (what CI runs): the images are built or reused first. The e2e tier runs in its
# own pytest session beside the unit and integration tiers: it mostly waits (kubelets,
# controllers, HPA windows), and one tier after the other left most of the two cores idle.
# Its output goes to $(E2E_LOG) and is printed once both sessions end.
E2E_LOG := artifacts/pytest-e2e.log
test: tools ## unit, integration and e2e tiers (what CI runs)
	@$(call with_engine,$(call beside_e2e,$(PY) -m pytest -m "unit or integration" $(PYTEST_ARGS)))

test-unit: venv ## unit tier only
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

test-integration: tools ## integration tier only
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

# The e2e tier's images (kind node, services, operator, moto), built or reused before
# pytest so that no build runs inside a test's timeout; starts dockerd if none answers.
images: tools ## build or reuse the e2e tier's container images (starts a Docker engine)
	@if hack/docker-engine.sh start; then hack/kind.sh images >/dev/null; \
	else echo "images: no Docker engine can run here; the e2e tier will skip and say why" >&2; fi

# $(call with_engine,COMMAND): COMMAND after `make images`; a dockerd that was not
# running before is stopped again afterwards, whatever COMMAND's outcome.
with_engine = engine=$$(hack/docker-engine.sh status); \
	$(MAKE) --no-print-directory images && { $(1); }; rc=$$?; \
	if [ "$$engine" = down ]; then hack/docker-engine.sh stop; fi; exit $$rc

# $(call beside_e2e,COMMAND): COMMAND while the e2e tier runs; fails if either fails.
beside_e2e = mkdir -p $(dir $(E2E_LOG)); \
	$(PY) -m pytest -m e2e $(PYTEST_ARGS) >$(E2E_LOG) 2>&1 & e2e=$$!; \
	$(1); rc=$$?; wait $$e2e; e2e_rc=$$?; \
	echo "==== the e2e tier (its own session, beside the others; exit $$e2e_rc) ===="; \
	cat $(E2E_LOG); [ $$rc -eq 0 ] && [ $$e2e_rc -eq 0 ]

test-e2e: tools ## kind cluster suite (a Docker engine is started if none answers)
	@$(call with_engine,$(PY) -m pytest -m e2e $(PYTEST_ARGS))

lint: venv $(TOOLS)/bin/actionlint ## ruff, mypy, import layers, hadolint, actionlint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint services/Dockerfile operator/Dockerfile
	$(TOOLS)/bin/actionlint

typecheck: venv
	$(VENV)/bin/mypy

bench: venv ## benchmarks; figures go to docs/benchmarks.md
	$(PY) -m benchmarks $(BENCH_ARGS)

clean: ## remove local environments and data
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
