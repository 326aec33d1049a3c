# convnet: the two commands of README.md.
#   make demo   install packages, build, train LeNet-5 on Fashion-MNIST, print test accuracy
#   make test   install packages, build, run every test (ctest)
#   make docs   the API reference (Doxygen) in build/docs/html
#   make install PREFIX=DIR   the library, headers, CMake package and CLI
#   make transfer-study   the transfer-learning study of README.md (LeNet-5, Fashion-MNIST)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build demo test bench docs install clean transfer-study

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
