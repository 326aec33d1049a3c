# convnet: the two commands of README.md.
#   make demo   install packages, build, train LeNet-5 on Fashion-MNIST, print test accuracy
#   make test   install packages, build, run every test (ctest)
#   make fuzz SECONDS=N   every loader's libFuzzer target for N seconds (clang, ASan, UBSan)
#   make test-sanitize   the tests under ASan and UBSan
#   make docs   the API reference (Doxygen) in build/docs/html
#   make install PREFIX=DIR   the library, headers, CMake package and CLI
#   make transfer-study   the transfer-learning study of README.md (LeNet-5, Fashion-MNIST)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build demo test test-sanitize bench docs install fuzz clean transfer-study

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	./$(BUILD)/convnet train

test: build
	./scripts/run-tests.sh $(BUILD) -j$(JOBS)

bench: build
	./scripts/bench_vs_pytorch.sh --build $(BUILD)
	./scripts/bench_vs_ort.sh --build $(BUILD)

transfer-study: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS) --target convnet
	./scripts/transfer_study.sh --build $(BUILD) --update-docs

# The unit, parity and e2e tests built with ASan and UBSan in $(BUILD)-sanitize (slow: about
# three times the plain run); scripts/sanitize.supp explains each suppression.
# ONEDNN_MAX_CPU_ISA: oneDNN 2.6's AMX bf16 convolution reads past one of its own heap
# buffers while it creates some primitives, which only ASan's allocator layout turns into a
# SEGV (scripts/sanitize.supp explains); the sanitized run uses oneDNN's AVX-512 bf16 kernels.
test-sanitize: deps
	cmake -S . -B $(BUILD)-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVNET_SANITIZE=ON -DCONVNET_WERROR=OFF >/dev/null
	cmake --build $(BUILD)-sanitize -j$(JOBS)
	ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 ASAN_OPTIONS=detect_leaks=0:suppressions=$(CURDIR)/scripts/sanitize.supp \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$(CURDIR)/scripts/sanitize.supp \
	  ./scripts/run-tests.sh $(BUILD)-sanitize -j$(JOBS) -L 'unit|parity|e2e'

# Fuzzing (fuzz/, scripts/fuzz.sh): a clang build with libFuzzer, ASan and UBSan in
# $(BUILD)-fuzz, then each loader's target for SECONDS seconds. A crash is saved into
# fuzz/regressions/<target>/ (ctest replays those in every build) and fails the target.
SECONDS ?= 60
fuzz: build
	CXX=clang++ cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONVNET_FUZZ=ON \
	  -DCONVNET_BUILD_TESTS=OFF -DCONVNET_WERROR=OFF >/dev/null
	cmake --build $(BUILD)-fuzz -j$(JOBS) --target fuzz_all
	./scripts/fuzz.sh $(BUILD)-fuzz $(SECONDS)

# The API reference of the public headers (Doxygen; any warning fails): $(BUILD)/docs/html.
docs: deps
	mkdir -p $(BUILD)/docs
	CONVNET_VERSION=$$(sed -nE 's/^project\(convnet VERSION ([0-9.]+).*/\1/p' CMakeLists.txt) \
	  CONVNET_DOCS_OUT=$(BUILD)/docs doxygen docs/api/Doxyfile
	@echo "docs: $(BUILD)/docs/html/index.html"

# Installs headers, library, CMake package, pkg-config file and the CLI: make install PREFIX=...
PREFIX ?= /usr/local
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD)
