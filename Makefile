# A thin wrapper over CMake. `make run` and `make test` work on a fresh machine: they install what
# is missing first (scripts/deps.sh).
#   make run                        build and run the conc command on sample workloads
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

# Until `conc demo` exists, `make run` shows `conc bound` on two sample workloads.
run: build
	@echo '== a CPU-bound command: hashing 300 MB =='
	$(BUILD)/tools/conc/conc bound -- sh -c 'head -c 300000000 /dev/zero | md5sum'
	@echo
	@echo '== an IO/wait-bound command: a shell loop that mostly waits =='
	$(BUILD)/tools/conc/conc bound -- sh -c 'for i in 1 2 3 4 5; do sleep 0.1; cat /proc/self/status > /dev/null; done'

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
