# A thin wrapper over CMake. `make run` and `make test` work on a fresh machine: they install what
# is missing first (scripts/deps.sh).
#   make run [DEMO=--quick]         build and run `conc demo`: the guide's experiments, measured
#   make test [SANITIZE=address,undefined|thread]   build and run every test
#   make bench                      benchmarks vs pthreads and CPython (bench/run)
#   make install PREFIX=/usr/local
#   make format | format-check
SANITIZE ?=
PREFIX   ?= /usr/local
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
ifeq ($(SANITIZE),)
BUILD    ?= build
CMAKE_TYPE ?= RelWithDebInfo
else
BUILD    ?= build-$(subst $(comma),-,$(SANITIZE))
CMAKE_TYPE ?= Debug
endif
comma := ,
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find include src tools tests bench examples -name '*.[ch]')

.PHONY: all deps configure build run test bench install format format-check clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(CMAKE_TYPE) -DCONC_SANITIZE=$(SANITIZE) \
	      -DCMAKE_INSTALL_PREFIX=$(PREFIX)

configure: $(BUILD)/CMakeCache.txt

build: deps configure
	cmake --build $(BUILD) -j $(JOBS)

# `conc demo`: the Python guide's experiments, measured (docs/demo.md). Under 30 s on a busy
# 2-core machine; `make run DEMO=--quick` for the 5-second version.
DEMO ?=
run: build
	$(BUILD)/tools/conc/conc demo $(DEMO)

test: build
	@scripts/deps.sh test
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps
	@scripts/deps.sh bench
	$(MAKE) build BUILD=build-bench CMAKE_TYPE=Release
	BUILD=build-bench bench/run

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

format:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run --Werror $(SOURCES)

clean:
	rm -rf build build-*
