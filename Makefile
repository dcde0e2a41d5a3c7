# The two entry points (see README): `make bench` and `make test`. Both install what they need.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
CTEST_BUILD := build/ctest
JOBS ?= $(shell nproc)

.PHONY: bench test setup-test setup-bench ctest pytest lint stress clean fuzz fuzz-setup fuzz-build fuzz-corpus fuzz-native fuzz-python

setup-test:
	scripts/bootstrap.sh test

setup-bench:
	scripts/bootstrap.sh bench

ctest: setup-test
	$(VENV)/bin/cmake -S . -B $(CTEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DFASTIMG_BUILD_TESTS=ON \
	  -DFASTIMG_BUILD_PYTHON=OFF -DFASTIMG_WERROR=ON -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja
	$(VENV)/bin/cmake --build $(CTEST_BUILD) -j $(JOBS)
	$(VENV)/bin/ctest --test-dir $(CTEST_BUILD) --output-on-failure -j $(JOBS) -LE '^bench$$'

pytest: setup-test
	$(PY) -m pytest tests
	$(PY) -m pytest benchmarks --benchmark-disable -q

# Style, types and the generated stub: each can fail the build.
lint: setup-test
	$(VENV)/bin/ruff check src tests benchmarks fuzz
	$(VENV)/bin/ruff format --check src tests benchmarks fuzz
	$(VENV)/bin/mypy
	$(VENV)/bin/clang-format --dry-run --Werror $$(git ls-files 'cpp/*.cpp' 'cpp/*.hpp' 'fuzz/*.cpp')
	scripts/stubs.sh --check

test: lint ctest wheel pytest

# The long stress run (make test runs a short one): 10,000 batches with RSS sampled, faults, concurrency.
stress: setup-test
	FASTIMG_STRESS_BATCHES=10000 $(PY) -m pytest tests/test_stress.py -s

bench: setup-bench
	$(PY) benchmarks/run.py
	$(PY) -m pytest benchmarks -q --benchmark-autosave --benchmark-max-time=0.5 --benchmark-columns=min,median,rounds

clean:
	rm -rf build .venv

# `make wheel`: a self-contained manylinux wheel in wheelhouse/ (auditwheel), then tests/test_wheel.py
# installs it into a fresh venv outside the tree and checks it (scripts/build_wheel.sh says how).
.PHONY: wheel
wheel: setup-test
	scripts/build_wheel.sh

# `make fuzz`: the libFuzzer target (clang, ASan + UBSan) over the native decoders, then the atheris target
# over the Python API, FUZZ_SECONDS each (make fuzz FUZZ_SECONDS=600). Each input may take 1 s and the process
# 2 GiB; any crash, sanitizer report, leak, timeout or out-of-memory fails the target and leaves the input in
# fuzz/artifacts/. New inputs accumulate in fuzz/corpus/{native,python} across runs (git-ignored).
FUZZ_SECONDS ?= 120
FUZZ_BUILD := build/fuzz
FUZZ_FLAGS = -timeout=1 -rss_limit_mb=2048 -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
  -dict=fuzz/image.dict -close_fd_mask=2

fuzz: fuzz-native fuzz-python

fuzz-setup: setup-test
	fuzz/setup.sh

fuzz-build: fuzz-setup
	$(VENV)/bin/cmake -S fuzz -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja
	$(VENV)/bin/cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz-corpus: fuzz-setup
	$(PY) fuzz/make_corpus.py fuzz/corpus/seeds

fuzz-native: fuzz-build fuzz-corpus
	mkdir -p fuzz/corpus/native fuzz/artifacts
	UBSAN_OPTIONS=print_stacktrace=1 $(FUZZ_BUILD)/decode_fuzzer $(FUZZ_FLAGS) -artifact_prefix=fuzz/artifacts/native- \
	  fuzz/corpus/native fuzz/corpus/seeds

fuzz-python: fuzz-corpus
	mkdir -p fuzz/corpus/python fuzz/corpus/native fuzz/artifacts
	$(PY) fuzz/fuzz_python.py $(FUZZ_FLAGS) -artifact_prefix=fuzz/artifacts/python- fuzz/corpus/python fuzz/corpus/seeds \
	  fuzz/corpus/native

# `make sanitize` (not part of `make test`): the C++ core and its GoogleTest suite built and run under
# AddressSanitizer + UndefinedBehaviorSanitizer (build/asan) and under ThreadSanitizer (build/tsan), via
# -DFASTIMG_SANITIZE=address|thread (cmake/Sanitizers.cmake). Debug builds: they compile several times
# faster than -O2 with instrumentation, and the tests are small. Every report is fatal. The core's
# threads are its own (cpp/src/thread_team.cpp), so TSan checks the code the release build runs; the
# suppression files in sanitizers/ say what they hide and why. The variables are set for the build as well, because
# gtest_discover_tests runs the instrumented test binary at build time.
ASAN_BUILD := build/asan
TSAN_BUILD := build/tsan
SANITIZE_CONFIGURE = $(VENV)/bin/cmake -S . -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFASTIMG_BUILD_TESTS=ON \
  -DFASTIMG_BUILD_PYTHON=OFF -DFASTIMG_WERROR=ON -DCMAKE_MAKE_PROGRAM=$(CURDIR)/$(VENV)/bin/ninja
ASAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:print_stacktrace=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:report_error_type=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/sanitizers/lsan.supp:print_suppressions=0
TSAN_ENV := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$(CURDIR)/sanitizers/tsan.supp:print_suppressions=0

sanitize-asan: setup-test
	$(SANITIZE_CONFIGURE) -B $(ASAN_BUILD) -DFASTIMG_SANITIZE=address
	$(ASAN_ENV) $(VENV)/bin/cmake --build $(ASAN_BUILD) -j $(JOBS)
	$(ASAN_ENV) $(VENV)/bin/ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS)

sanitize-tsan: setup-test
	$(SANITIZE_CONFIGURE) -B $(TSAN_BUILD) -DFASTIMG_SANITIZE=thread
	$(TSAN_ENV) $(VENV)/bin/cmake --build $(TSAN_BUILD) -j $(JOBS)
	$(TSAN_ENV) $(VENV)/bin/ctest --test-dir $(TSAN_BUILD) --output-on-failure -j $(JOBS)

sanitize: sanitize-asan sanitize-tsan

.PHONY: sanitize sanitize-asan sanitize-tsan
