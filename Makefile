# fwpush — make help lists the targets.
SHELL   := /bin/bash
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/fwpush
SYSTEM  ?= clearwater
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)

.PHONY: help deps build test test-short lint fmt golden bench bench-push lab-up lab-down demo clean FORCE

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install what is missing: the lab's Debian packages (as root) and Go modules
	./scripts/deps.sh

build: ## build bin/fwpush
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/fwpush

test: deps build ## all tests incl. lab tests (root) and fuzz seed corpora
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) test -race -count=1 -timeout 15m ./...

test-short: ## unit tests only (no lab)
	$(GO) test -short ./...

lint: ## go vet, gofmt, staticcheck
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; exit 1; }
	$(GO) tool staticcheck ./...

fmt: ## gofmt the tree
	gofmt -w .

golden: ## regenerate golden files (review the diff!)
	$(GO) test ./... -run 'Golden|Render' -update

bench: build ## Go benchmarks (compile+render at scale), then bench-push
	$(GO) test -run '^$$' -bench 'OfflinePlan$$' -benchmem ./internal/plan/
	$(GO) test -run '^$$' -bench 'Streaming$$' -benchmem ./internal/plan/
	$(GO) test -run '^$$' -bench . -benchmem ./internal/compile/... ./drivers/...
	$(MAKE) bench-push

BENCH_HOSTS ?= 100
BENCH_FLAGS ?=
bench-push: build ## root: ssh floor vs fwpush vs Ansible, 100-host netns lab (~8 min; BENCH_HOSTS, BENCH_FLAGS)
	@command -v ansible-playbook >/dev/null || { apt-get update && apt-get install -y ansible; }
	$(GO) build -o bin/fwp-bench ./testbed/bench/cmd/fwp-bench
	./bin/fwp-bench -hosts $(BENCH_HOSTS) -fwpush $(BIN) -json bin/bench-push.json $(BENCH_FLAGS)

bin/fwp-lab: FORCE
	$(GO) build -o bin/fwp-lab ./testbed/cmd/fwp-lab

LAB_INVENTORY ?= inventory/examples/$(SYSTEM)
LAB_PLAYBOOK  ?= playbooks/$(SYSTEM).yml
lab-up: build bin/fwp-lab ## start a lab for SYSTEM (or LAB_INVENTORY, LAB_PLAYBOOK; routed if it has lab_segments) (root); writes inventory/lab/$(SYSTEM)
	./bin/fwp-lab up --inventory $(LAB_INVENTORY) --playbook $(LAB_PLAYBOOK) \
		--root-link --state /run/fwpush-lab --write-inventory inventory/lab/$(SYSTEM)

lab-down: bin/fwp-lab ## tear the lab down
	./bin/fwp-lab down --state /run/fwpush-lab

demo: deps build bin/fwp-lab ## the whole story on a throwaway lab: plan, apply, verify (root)
	SYSTEM=$(SYSTEM) ./testbed/demo.sh

FORCE:

clean: ## remove build output
	rm -rf bin
