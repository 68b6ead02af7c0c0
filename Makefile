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

# Two workers (one per core of a CI machine): one runs the ci workflow and the tests of its results
# (tests/conftest.py groups them), the other the unit tests meanwhile.
test: $(STAMP)
	$(BIN)/pytest -n auto --dist loadgroup

# Record the ci config's outputs as the golden reference of the reproducibility test (tests/golden/);
# run it only for an intended change of numbers, and say why in the commit.
GOLDEN_RUN := .cache/golden-run
golden: $(STAMP)
	rm -rf $(GOLDEN_RUN) && mkdir -p $(GOLDEN_RUN)
	cp -r Snakefile workflow config profiles $(GOLDEN_RUN)/
	cd $(GOLDEN_RUN) && $(CURDIR)/$(BIN)/snakemake --cores all --configfile config/ci.yaml
	$(BIN)/python -m nnqft.golden write $(GOLDEN_RUN)/results tests/golden

bench: $(STAMP)
	$(BIN)/python -m nnqft.bench

clean:
	rm -rf results .snakemake .cache report.html
