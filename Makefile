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

# Debian packages some tests need: a one-node SLURM cluster and a headless browser. Installed
# by `make test` where apt-get exists and we are root; elsewhere those tests skip, saying why.
SYSTEM_PACKAGES ?= slurmctld slurmd slurm-client munge chromium

.PHONY: study test bench install system clean

$(BIN)/longseq: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/longseq

study: install
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake --cores $(CORES) $(ARGS)

system:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(SYSTEM_PACKAGES) >/dev/null; }; \
	else echo "make system: not root with apt-get; the SLURM and browser tests will be skipped"; fi

test: install system
	$(BIN)/python -m pytest $(ARGS)

clean:
	rm -rf results logs .snakemake

bench: install
	$(BIN)/python benchmarks/training_speed.py $(ARGS)
