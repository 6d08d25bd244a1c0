# Two entry points, each installing what it needs into .venv first:
#   make study   run the default study (config/config.yaml) on this machine
#   make test    run the test suite
#   make test-fast   the suite without its slow, cluster and browser tests
#   make bench   measure training speed and memory (benchmarks/)
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
CORES  ?= all
# The pinned torch goes in first; the package's torch range is then already met. From PyPI,
# torch 2.13.0 for Linux x86-64 is the CUDA build (about 3 GB with its NVIDIA wheels); for the
# CPU-only build (about 200 MB) name PyTorch's CPU index:
#   make study TORCH_INDEX=https://download.pytorch.org/whl/cpu
TORCH  ?= torch==2.13.0
TORCH_INDEX ?=

# Debian packages some tests need: a one-node SLURM cluster and a headless browser. Installed
# by `make test` where apt-get exists and we are root; elsewhere those tests skip, saying why.
SYSTEM_PACKAGES ?= slurmctld slurmd slurm-client munge chromium

.PHONY: study test test-fast bench install system clean

$(BIN)/longseq: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found. Install Python 3.11 (Debian/Ubuntu: apt-get install python3.11 python3.11-venv) or name one: make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c "import venv, ensurepip" 2>/dev/null || { echo "make: $(PYTHON) has no venv/ensurepip module. Debian/Ubuntu: apt-get install python3.11-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/longseq

study: install
	$(BIN)/snakemake --cores $(CORES) $(ARGS)

system:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; }; \
	else echo "make system: not root with apt-get; the SLURM and browser tests will be skipped"; fi

test: install system
	$(BIN)/python -m pytest $(ARGS)

# the inner loop of a change: everything but the workflow runs, SLURM and the browser (`make test` runs all)
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not cluster and not browser" $(ARGS)

clean:
	rm -rf results logs .snakemake

bench: install
	$(BIN)/python benchmarks/training_speed.py $(ARGS)
