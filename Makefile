# The two entry points (see README): `make bench` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CTEST_BUILD := build/ctest
JOBS ?= $(shell nproc)

.PHONY: bench test setup-test setup-bench ctest pytest lint stress clean

setup-test:
	scripts/bootstrap.sh test

setup-bench:
	scripts/bootstrap.sh bench

ctest: setup-test
	$(VENV)/bin/cmake -S . -B $(CTEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFASTIMG_BUILD_TESTS=ON \
	  -DFASTIMG_BUILD_PYTHON=OFF -DFASTIMG_WERROR=ON -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja
	$(VENV)/bin/cmake --build $(CTEST_BUILD) -j $(JOBS)
	$(VENV)/bin/ctest --test-dir $(CTEST_BUILD) --output-on-failure -j $(JOBS)

pytest: setup-test
	$(PY) -m pytest tests

# Style, types and the generated stub: each can fail the build.
lint: setup-test
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/clang-format --dry-run --Werror $$(git ls-files 'cpp/*.cpp' 'cpp/*.hpp' 'fuzz/*.cpp')
	scripts/stubs.sh --check

test: lint ctest pytest

# The long stress run (make test runs a short one): 10,000 batches with RSS sampled, faults, concurrency.
stress: setup-test
	FASTIMG_STRESS_BATCHES=10000 $(PY) -m pytest tests/test_stress.py -s

bench: setup-bench
	$(PY) benchmarks/run.py

clean:
	rm -rf build .venv
