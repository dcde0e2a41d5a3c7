# The two entry points (see README): `make bench` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CTEST_BUILD := build/ctest
JOBS ?= $(shell nproc)

.PHONY: bench test setup-test setup-bench ctest pytest clean

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

test: ctest pytest

bench: setup-bench
	$(PY) benchmarks/run.py

clean:
	rm -rf build .venv
