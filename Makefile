# make demo: install what is missing, build, run the main job on examples/ (no cluster needed)
# make test: install what is missing, build, run every test
BUILD ?= build
JOBS ?= 2
PREFIX ?= /usr/local
BIN := $(BUILD)/bin/kubectl-otel
VERSION := $(shell grep -m1 -o 'kubectl-otel VERSION [0-9.]*' CMakeLists.txt | cut -d' ' -f3)

# ccache (when installed) shares hits between clones in different folders.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: all deps configure build test test-sanitize demo install install-files dist bench image clean fuzz fuzz-build

# make test-sanitize: every test again in $(SAN_BUILD), everything built with g++'s AddressSanitizer (leaks
# included) and UndefinedBehaviorSanitizer at -O1; a sanitizer report fails the test that caused it.
SAN_BUILD ?= build-asan
SAN_ENV := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# make fuzz: the libFuzzer targets (fuzz/) built with clang++, ASan and UBSan in $(FUZZ_BUILD), each run
# for FUZZ_SECONDS; a crash, leak or sanitizer report fails it.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZERS ?= yaml kubeconfig scrape_config ta_config watch_event inject admission

all: build

deps:
	@bash scripts/install-deps

# -O2 with line tables only (-g1): backtraces and profiles keep file:line; full -g makes the build a third
# slower. Configure with -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g -DNDEBUG" to step through locals in gdb.
$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

configure: deps $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

# Builds only what the demo runs: the binary and the standalone test API server.
demo: configure
	cmake --build $(BUILD) -j$(JOBS) --target kubectl-otel otel-test-apiserver
	@bash scripts/demo $(BIN)

install: build
	$(MAKE) install-files

# Copies an already built binary (used by `install` and by the CLI tests).
install-files:
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/kubectl-otel
	install -m 0755 scripts/kubectl_complete-otel $(DESTDIR)$(PREFIX)/bin/kubectl_complete-otel

dist: build
	bash scripts/dist $(BIN) $(VERSION)

# The OCI image `install` deploys, without a container daemon (umoci): $(BUILD)/image/kubectl-otel.tar
image: configure
	cmake --build $(BUILD) -j$(JOBS) --target kubectl-otel
	bash scripts/image $(BIN) $(BUILD)/image $(VERSION)

bench: build
	@for b in $(BUILD)/bench/*/bench_*; do [ -x "$$b" ] && "$$b" --benchmark_min_time=0.2; done

$(SAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DOTEL_SANITIZE=ON

test-sanitize: deps $(SAN_BUILD)/CMakeCache.txt
	cmake --build $(SAN_BUILD) -j$(JOBS)
	cd $(SAN_BUILD) && $(SAN_ENV) ctest --output-on-failure -j$(JOBS) --timeout 900

$(FUZZ_BUILD)/CMakeCache.txt:
	CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOTEL_FUZZ=ON

fuzz-build: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target all_fuzzers

fuzz: fuzz-build
	bash scripts/fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZERS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(SAN_BUILD) dist
