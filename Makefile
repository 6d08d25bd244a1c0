# Two entry points, each installing what it needs into .venv first:
#   make study   run the default study (config/config.yaml) on this machine
#   make test    run the test suite
#   make bench   measure training speed and memory (benchmarks/)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
# The pinned CPU build of torch goes in first; the package's torch range is then already met.
TORCH  ?= torch==2.13.0

.PHONY: study test bench install clean

$(BIN)/longseq: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/longseq

study: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake --cores $(CORES) $(ARGS)

test: install
	$(BIN)/python -m pytest $(ARGS)

clean:
	rm -rf results logs .snakemake

bench: install
	$(BIN)/python benchmarks/training_speed.py $(ARGS)
