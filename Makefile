# The two front doors. Each does its own set-up first (infra/bootstrap.sh).
# Test files run on parallel workers, a local stack each (tests/conftest.py says
# how they share the files); `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 3
XDIST = $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --no-loadscope-reorder)
.PHONY: demo test test-fast bench lint down lock format contract

demo:  ## run the whole pipeline locally, in the foreground (Ctrl-C stops it)
	@bash infra/bootstrap.sh
	@.venv/bin/cutscenes local up

test:  ## run every test: lint, unit, integration (emulators, the Node client), e2e (Chromium)
	@WANT_BROWSER=1 bash infra/bootstrap.sh
	@.venv/bin/ruff format --check -q shared cutscenes functions infra tests bench examples
	@.venv/bin/ruff check shared cutscenes functions infra tests bench examples
	@# mypy checks types beside the tests (15 s cold on a quiet machine, about
	@# twice that beside a CPU-bound process, otherwise spent before pytest
	@# starts); what it says is printed after pytest, and either failing fails.
	@mkdir -p .local; \
	.venv/bin/mypy shared cutscenes functions infra bench > .local/mypy.out 2>&1 & types=$$!; \
	.venv/bin/pytest -q -p no:cacheprovider --durations=15 $(XDIST) $(PYTEST_ARGS); tests=$$?; \
	wait $$types; typed=$$?; echo "mypy: $$(cat .local/mypy.out)"; \
	[ $$typed -eq 0 ] || exit $$typed; exit $$tests

test-fast:  ## the unit and stage tests only (tests/unit): no emulators, under a minute
	@bash infra/bootstrap.sh
	@.venv/bin/pytest -q -p no:cacheprovider --durations=5 tests/unit $(PYTEST_ARGS)

bench:  ## start a local stack, run the benchmarks, print a table, write JSON
	@bash infra/bootstrap.sh
	@.venv/bin/python -m bench

down:  ## stop a stack started with `cutscenes local up --detach`
	@.venv/bin/cutscenes local down

lock:  ## re-resolve pyproject.toml in a scratch venv and rewrite requirements/constraints.txt
	@bash infra/bootstrap.sh
	@.venv/bin/python -m infra.lock
	@bash infra/bootstrap.sh

format:  ## format the tree and apply the linter's fixes (what `make test` checks)
	@.venv/bin/ruff format -q shared cutscenes functions infra tests bench examples
	@.venv/bin/ruff check -q --fix shared cutscenes functions infra tests bench examples

contract:  ## rewrite the machine-readable contract (docs/schema/, docs/openapi.yaml, the Node client's copies) from the models
	@.venv/bin/python -m infra.contract
