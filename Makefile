# The two set-up commands of the README. Both create the virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: reproduce test bench bench-paper-p1 golden clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

reproduce: $(STAMP)
	$(BIN)/snakemake --cores all
	$(BIN)/snakemake --cores all --report report.html

test: $(STAMP)
	$(BIN)/pytest

# Record the ci config's outputs as the golden reference of the reproducibility test (tests/golden/);
# run it only for an intended change of numbers, and say why in the commit.
GOLDEN_RUN := .cache/golden-run
golden: $(STAMP)
	rm -rf $(GOLDEN_RUN) && mkdir -p $(GOLDEN_RUN)
	cp -r Snakefile workflow config profiles $(GOLDEN_RUN)/
	cd $(GOLDEN_RUN) && $(CURDIR)/$(BIN)/snakemake --cores all --configfile config/ci.yaml
	$(BIN)/python -m nnqft.golden write $(GOLDEN_RUN)/results tests/golden

# The ci config through profiles/slurm on a one-node Slurm cluster on this machine (Debian's Slurm,
# installed and started on first use; needs root), checked against a local run (README, "Running on
# a cluster"). Not part of `make test`: it runs the ci config twice.
.PHONY: test-slurm
test-slurm: $(STAMP)
	$(BIN)/pip install --quiet -e ".[slurm]"
	PYTHON=$(CURDIR)/$(BIN)/python .ci/slurm/test.sh

bench: $(STAMP)
	$(BIN)/python -m nnqft.bench

# The paper config's P1 width sweeps (10^6 networks per width; every activation, d_in and width) in a
# scratch copy, on whatever device JAX finds (pip install -e ".[gpu]" for CUDA). Writes the wall time,
# the device and the peak memory to benchmarks/paper_p1.txt; the README records the measured runs.
# On one GPU, PAPER_CORES=4 keeps four jobs at a time on the device.
PAPER_RUN := .cache/paper-p1
PAPER_CORES ?= all
bench-paper-p1: $(STAMP)
	rm -rf $(PAPER_RUN) && mkdir -p $(PAPER_RUN) benchmarks
	cp -r Snakefile workflow config profiles $(PAPER_RUN)/
	$(BIN)/python -c "import jax; print('device:', jax.devices())" > benchmarks/paper_p1.txt
	cd $(PAPER_RUN) && /usr/bin/time -v -a -o $(CURDIR)/benchmarks/paper_p1.txt \
		$(CURDIR)/$(BIN)/snakemake deviation_tables --cores $(PAPER_CORES) --configfile config/paper.yaml
	grep -E "device|Elapsed|Maximum resident" benchmarks/paper_p1.txt

clean:
	rm -rf results .snakemake .cache report.html
