# atelier: `make run` reproduces every study at the cpu preset; `make test` runs the test suite.
# Both set up what is missing first (scripts/setup.sh is idempotent).
VENV := .venv
BIN := $(VENV)/bin
export PYTHONDONTWRITEBYTECODE :=
JOBS ?= 1

.PHONY: setup run test test-fast lab bench clean help
help:
	@echo "make run    set up, run all ten studies at the cpu preset, build outputs/index.html"
	@echo "make test   set up, run the unit tests and every notebook at the smoke preset"
	@echo "make lab    open JupyterLab on notebooks/"
	@echo "make bench  run the benchmarks into outputs/bench/"

setup:
	@scripts/setup.sh

run: setup
	@echo "[run] executing every study at the cpu preset (about 10 min each, 04 about 30, 08 about 40; about 2.5 hours in all)"
	$(BIN)/atelier run --all --preset cpu --jobs $(JOBS); status=$$?; \
	echo "[run] building the gallery outputs/index.html"; \
	$(BIN)/atelier report; exit $$status

test: setup
	@echo "[test] unit tests + every notebook at the smoke preset (pytest, 2 workers)"
	$(BIN)/python -m pytest -n 2 --dist loadgroup --timeout 900 -q

test-fast: setup
	$(BIN)/python -m pytest -n 2 -q -m "not notebook and not slow"

lab: setup
	$(BIN)/atelier lab

bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
