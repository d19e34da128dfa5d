# Two entry points for a fresh machine (see README.md):
#   make demo   set up, then derive the seed network, write and compile its LaTeX, ...
#   make test   set up, then run every test
# Everything goes into .venv; TeX Live comes from Debian when pdflatex is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# A second interpreter for the tests (Python 3.13 from pyenv when the machine has one).
PYTHON313 ?= $(shell ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | tail -n 1 || true)
VENV313   := .venv313

.PHONY: setup tex demo test test-slow test-313 derivations bench bench-compile clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Beamer (in texlive-latex-recommended) needs pgf, from texlive-pictures.
tex:
	@command -v latexmk >/dev/null && command -v pdflatex >/dev/null && command -v pdfinfo >/dev/null \
	  && kpsewhich pgf.sty >/dev/null || { \
	  echo "installing TeX Live from Debian (needs root)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    texlive-latex-base texlive-latex-recommended texlive-pictures latexmk poppler-utils >/dev/null; }

demo: setup tex
	@echo "== 1. derive the seed's network; write and compile its LaTeX"
	$(BIN)/symcnn show derivations/seed_1d.toml
	$(BIN)/symcnn derive derivations/seed_1d.toml -o out/seed_1d.tex --pdf
	$(BIN)/symcnn derive derivations/seed_1d.toml --beamer -o out/seed_1d_slides.tex --pdf
	@echo "== 2. verify hand derivations of dloss/dW1: a right one (exit 0), one without the ReLU step (exit 1)"
	$(BIN)/symcnn verify derivations/seed_1d.toml derivations/answers/dloss_dW1_correct.tex --wrt W1
	$(BIN)/symcnn verify derivations/seed_1d.toml derivations/answers/dloss_dW1_no_relu.tex --wrt W1; \
	  test $$? -eq 1 && echo "(exit 1, as it should: the wrong entries are named above)"
	@echo "== 3. compiled gradients vs finite differences, then training on the 8x8 digits"
	$(BIN)/symcnn gradcheck derivations/digits_cnn.toml
	$(BIN)/symcnn train derivations/digits_cnn.toml --data digits --out out/digits_cnn

# Regenerate derivations/*.tex (documents) and derivations/slides/*.tex (Beamer) from the spec files.
derivations: setup
	for spec in derivations/*.toml; do \
	  $(BIN)/symcnn derive $$spec -o $${spec%.toml}.tex || exit 1; \
	  $(BIN)/symcnn derive $$spec --beamer -o derivations/slides/$$(basename $${spec%.toml}).tex || exit 1; \
	done

# Every test under Python 3.11 (the slow property runs included), then the suite under Python 3.13
# where the machine has one; each spread over both cores (pytest-xdist), the 15 slowest listed.
test: setup tex
	@status=0; $(BIN)/python -m pytest -q -n 2 -m "slow or not slow" --durations=15 || status=$$?; \
	  echo "== Python 3.13 (make test-313)"; $(MAKE) --no-print-directory test-313 || status=$$?; exit $$status

# The long property runs (random LaTeX and token soups into `symcnn verify`).
test-slow: setup
	$(BIN)/python -m pytest -q -m slow

# The suite under Python 3.13 (PyTorch has no wheel there: its oracle tests skip).
test-313:
	@if [ -z "$(PYTHON313)" ]; then echo "no Python 3.13 on this machine: test-313 skipped"; else \
	  set -e; test -x $(VENV313)/bin/python || $(PYTHON313) -m venv $(VENV313); \
	  $(VENV313)/bin/pip install --quiet --upgrade pip; $(VENV313)/bin/pip install --quiet -e '.[test]'; \
	  $(VENV313)/bin/python -m pytest -q -n 2 -p no:cacheprovider; fi

# Step time vs PyTorch CPU and hand NumPy, compile time by input size (see benchmarks/).
bench: setup
	$(BIN)/python benchmarks/bench_step.py

# Derive + compile time and peak memory by input size and depth (general formulas).
bench-compile: setup
	$(BIN)/python benchmarks/bench_compile.py

clean:
	rm -rf $(VENV) $(VENV313) out .pytest_cache .hypothesis
