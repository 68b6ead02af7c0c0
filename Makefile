# The two set-up commands of the README. Both create the virtual environment on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: reproduce test bench golden clean

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

clean:
	rm -rf results .snakemake .cache report.html
