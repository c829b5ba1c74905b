# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Cached bytecode: every server, worker and CLI process would otherwise compile the stack anew.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint browser fuzz bench bench-overload bench-pooler bench-webhooks bench-hierarchy profile schema migrate seed-demo install clean-db

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench,otel]'
	touch $(STAMP)

install: $(STAMP)

## Start the database (embedded unless DATABASE_URL is set), migrate, load demo data into an
## empty database, print the demo tokens and serve GraphiQL on http://127.0.0.1:8000/graphql.
run: $(STAMP)
	$(BIN)/chargecars run

## The static checks (make lint), then the whole test suite against a real PostgreSQL.
test: $(STAMP) lint browser
	$(BIN)/pytest

## Headless Chromium for the GraphiQL test (Debian's package; installed when missing, as root).
browser:
	@command -v chromium >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else echo "make test needs Chromium for tests/test_graphiql.py: sudo apt-get install chromium" >&2; exit 1; fi; }

## The static checks alone (seconds): ruff's lint rules and formatting, mypy, and the import
## contracts (pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Generated operations against a real server (docs/design.md, "Limits"): 1,300 per persona
## and mode, 5,200 in all; FUZZ_EXAMPLES for more or fewer.
FUZZ_EXAMPLES ?= 1300
fuzz: $(STAMP)
	CHARGECARS_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/test_fuzz.py -s -p no:cacheprovider

## The benchmark (docs/benchmarks.md) on a database of its own; BENCH_SCALE=0.1 for a quick one.
## Writes docs/benchmark-results.md and bench/results.json.
BENCH_SCALE ?= 1
bench: $(STAMP)
	$(BIN)/python -m bench.run --scale $(BENCH_SCALE) $(BENCH_ARGS)

## Overload (docs/benchmarks.md, "Overload"): rounds of 200 concurrent order trees on one worker,
## without and with admission control. Writes docs/benchmark-overload.md. Scale 0.2 unless BENCH_SCALE.
bench-overload: $(STAMP)
	$(BIN)/python -m bench.overload $(if $(filter command line environment,$(origin BENCH_SCALE)),--scale $(BENCH_SCALE)) $(BENCH_ARGS)

## The API through a real PgBouncer in transaction mode (docs/deployment.md, "Behind PgBouncer");
## needs Debian's pgbouncer (apt-get install pgbouncer). Writes docs/benchmark-pooler.md.
bench-pooler: $(STAMP)
	$(BIN)/python -m bench.pooler $(BENCH_ARGS)

## The outbox and webhook delivery (docs/benchmarks.md, "Webhooks"): the write path with and without
## the outbox, event-to-receipt latency at rest and under write load, deliveries per second per
## worker. Writes docs/benchmark-webhooks.md and bench/results-webhooks.json.
bench-webhooks: $(STAMP)
	$(BIN)/python -m bench.webhooks --scale $(BENCH_SCALE) $(BENCH_ARGS)

## Closure table against ltree paths for the policy's hierarchy questions (docs/benchmarks.md).
bench-hierarchy: $(STAMP)
	$(BIN)/python -m bench.hierarchy --scale $(BENCH_SCALE)

## Profile query 1 in-process on the benchmark dataset (bench/profile-query1.txt).
profile: $(STAMP)
	$(BIN)/python -m bench.profile --scale $(BENCH_SCALE)

## Rewrite schema.graphql from the Strawberry schema.
schema: $(STAMP)
	$(BIN)/chargecars export-schema

migrate: $(STAMP)
	$(BIN)/chargecars migrate

seed-demo: $(STAMP)
	$(BIN)/chargecars seed-demo

## Remove the embedded databases (the `make run`, test and benchmark ones), the local mailbox and the stored documents.
clean-db:
	rm -rf .pgdata .pgdata-test .pgdata-bench .mailbox .documents .demo-tokens.json
