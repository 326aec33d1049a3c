# convnet: the two commands of README.md.
#   make demo   install packages, build, train LeNet-5 on Fashion-MNIST, print test accuracy
#   make test   install packages, build, run every test (ctest)
#   make transfer-study   the transfer-learning study of README.md (LeNet-5, Fashion-MNIST)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build demo test bench clean transfer-study

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

transfer-study: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS) --target convnet
	./scripts/transfer_study.sh --build $(BUILD) --update-docs

clean:
	rm -rf $(BUILD)
