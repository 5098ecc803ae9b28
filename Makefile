# Steward — the two commands:  `make run`  and  `make test`.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(HOME)/.cargo/bin:$(CURDIR)/end2end/node_modules/.bin:$(PATH)

CARGO_TEST_PACKAGES := -p steward-domain -p steward-app -p steward-server -p steward-bench

.PHONY: run build bootstrap test lint unit e2e api-fuzz screenshots bench bench-bundle bench-inventory bench-import bench-posture bench-grants bench-authz soak fuzz clean

## make run: install what is missing, build, migrate, seed demo data on first run, serve.
## The demo asks no second factor of its well-known demo accounts unless you set
## STEWARD_SECOND_FACTOR_ROLES (a real deployment asks it of admins and auditors).
run: build
	STEWARD_DEMO_IF_EMPTY=$${STEWARD_DEMO_IF_EMPTY:-300} \
	STEWARD_SECOND_FACTOR_ROLES=$${STEWARD_SECOND_FACTOR_ROLES-none} ./target/release/steward serve

## make build: the release server and the size-optimised browser bundle.
build: bootstrap
	cargo leptos build --release --split
	@date '+make: build done at %T'

bootstrap:
	scripts/bootstrap.sh

## make test: the whole suite (lint, unit + store + HTTP tests, browser tests, hostile
## API input). Runs the store tests on PostgreSQL too when STEWARD_TEST_PG_URL is set.
test: lint build unit e2e api-fuzz

lint:
	scripts/bootstrap.sh --test
	cargo fmt --all -- --check
	leptosfmt --check app/src
	cargo clippy $(CARGO_TEST_PACKAGES) --all-targets -- -D warnings
	cargo clippy -p steward-frontend --target wasm32-unknown-unknown -- -D warnings
	@date '+make: lint done at %T'

unit:
	cargo test --release $(CARGO_TEST_PACKAGES)
	@date '+make: unit done at %T'

e2e:
	rm -rf target/e2e && mkdir -p target/e2e
	cd end2end && npx playwright test
	@date '+make: e2e done at %T'

## make api-fuzz: schemathesis against the REST API of a release server (no 5xx, every
## error problem+json), API_FUZZ_SECONDS (default 60) for the main pass.
api-fuzz:
	scripts/api-fuzz.sh

## make screenshots: the README's screenshots (docs/screenshots/), taken by the Playwright
## suite's screenshot test in Chromium (run `make build` first).
screenshots:
	rm -rf target/e2e && mkdir -p target/e2e
	cd end2end && STEWARD_SCREENSHOTS_DIR=../docs/screenshots npx playwright test tests/screenshots.spec.ts

## make bench-inventory: inventory timings on 1M identities (SQLite and PostgreSQL) into BENCHMARKS.md.
bench-inventory:
	scripts/bench-inventory.sh

## make bench-import: a 100,000-row AWS credential report imported into SQLite and PostgreSQL, timed into BENCHMARKS.md.
bench-import:
	scripts/bench-import.sh

## make bench-posture: full findings evaluation and the dashboard on 1M identities into BENCHMARKS.md.
bench-posture:
	scripts/bench-posture.sh

## make bench-grants: a 100,000-grant expiry burst and API grant requests (SQLite and PostgreSQL) into BENCHMARKS.md.
bench-grants:
	scripts/bench-grants.sh

## make bench-authz: decisions with 10,000 agents, in process and through /api/v1/authorize under wrk, into BENCHMARKS.md.
bench-authz:
	scripts/bench-authz.sh

## make bench-bundle: the browser bundle's size (raw and gzip) into BENCHMARKS.md.
bench-bundle:
	scripts/bench-bundle.sh

## make soak: 10 minutes of mixed page, REST and /authorize load on loopback; fails when
## memory grows or p99 leaves 2x a short run (STEWARD_SOAK_SECONDS, STEWARD_SOAK_PG=1).
soak:
	scripts/soak.sh

bench: bench-bundle bench-inventory bench-import bench-posture bench-grants bench-authz

## make fuzz: the import parsers and the authorize request under cargo-fuzz, FUZZ_SECONDS (default 30) each.
fuzz:
	scripts/fuzz.sh

clean:
	cargo clean
	rm -rf data target/e2e
