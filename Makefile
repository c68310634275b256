# The commands of the README. Everything runs inside .venv, made from requirements.txt.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv vendor book test references e2e lint notebooks portability lab app bench clean

venv: $(STAMP)

# Rebuilt when requirements.txt or pyproject.toml change. A .venv without pip is a failed
# first attempt (say, before python3-venv was installed), and one of a Python older than
# 3.11 was made before PYTHON named a newer one: either is made again.
$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "nnlab needs \
		Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) -V 2>&1): make book PYTHON=python3.12"; \
		exit 1; }
	$(BIN)/python -c 'import sys, pip; sys.exit(sys.version_info < (3, 11))' > /dev/null 2>&1 \
		|| { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# MathJax, from its pinned npm package, so that the built book works with no network
# (skipped, with a notice, where npm is missing).
vendor: $(STAMP)
	$(BIN)/python scripts/vendor_web.py _vendor/web

book: vendor
	$(BIN)/jupyter-book build . --all -W --keep-going
	@echo "The book is in _build/html/index.html"

test: vendor
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval --nbval-current-env \
		--nbval-sanitize-with tests/sanitize.cfg --doctest-modules nnlab tests book

# The reference implementations (requirements-ref.txt) into .venv: the tests that compare
# nnlab with PyTorch and Keras then run instead of being skipped. torch alone first, from
# TORCH_INDEX if given (see bench below); then the rest, pinned.
TORCH_INDEX ?=
TORCH := $(shell grep '^torch==' requirements-ref.txt)
REF_STAMP := $(VENV)/.references-installed
references: $(REF_STAMP)
$(REF_STAMP): requirements-ref.txt $(STAMP)
	$(BIN)/python -m pip install --quiet --no-deps $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -r requirements-ref.txt
	touch $@

# Browser tests of the built book (offline), the Voila app and JupyterLab, in Debian's
# Chromium (apt-get install chromium; CHROMIUM=/path/to/chromium to use another).
E2E_STAMP := $(VENV)/.e2e-installed
$(E2E_STAMP): requirements-e2e.txt $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-e2e.txt
	touch $@

e2e: book $(E2E_STAMP)
	$(BIN)/python -m pytest e2e
	@echo "Screenshots are in _build/screenshots/"

lint: $(STAMP)
	$(BIN)/ruff check nnlab tests benchmarks scripts book e2e

# Re-execute every chapter in place, storing widget state for the rendered book.
notebooks: $(STAMP)
	$(BIN)/python scripts/execute_notebooks.py book/*.ipynb

# The whole suite as an older x86-64 CPU runs it: no fused multiply-add in OpenBLAS's
# kernels, no AVX in numpy's nor in glibc's maths functions (which numpy's float64 exp and
# tanh call when its own SIMD code is off). A failure is a result that depends on the
# machine: a printed number (a chaotic run, a value at float64's last digits) or a flag.
portability: vendor
	OPENBLAS_CORETYPE=Sandybridge NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" \
	GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-AVX \
		$(BIN)/python -m pytest -n 2 --dist loadfile --nbval --nbval-current-env \
		--nbval-sanitize-with tests/sanitize.cfg --doctest-modules nnlab tests book

# Speed measurements (scripts that print tables; not tests). PyTorch and scikit-learn are
# the references: PyTorch is installed into .venv here when the package index has it, never
# a dependency of nnlab; scikit-learn already is one (its bundled data sets). On Linux the
# default index's wheel brings CUDA (several GB); TORCH_INDEX=https://download.pytorch.org/whl/cpu
# takes the CPU build from PyTorch's own index instead.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet $(TORCH) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX)) \
		|| echo "PyTorch not installed: its rows are skipped"
	$(BIN)/python benchmarks/bench_train.py
	$(BIN)/python benchmarks/bench_conv.py

# The explorers alone, as a Voila app on HOST:PORT (Ctrl-C stops it). A closed page's kernel
# is shut down after 10 idle minutes: Voila's own request to do so when the page closes is
# refused by its server (voila-dashboards/voila#1458), and a class would leave dozens.
HOST ?= 127.0.0.1
PORT ?= 8866
app: $(STAMP)
	$(BIN)/python scripts/make_app.py _build/app
	@echo "The explorers: http://$(HOST):$(PORT)/voila/render/00_index.ipynb (Ctrl-C to stop)"
	$(BIN)/voila _build/app --no-browser --Voila.ip=$(HOST) --port=$(PORT) \
		--MappingKernelManager.cull_idle_timeout=600 --MappingKernelManager.cull_interval=60

# JupyterLab on the project environment, opened on the chapters.
# JupyterLab refuses to run as root unless told to (containers often run as root).
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=book $(ROOT_FLAG)

clean:
	rm -rf _build _vendor .pytest_cache .hypothesis .ruff_cache book/.ruff_cache book/_ext/.ruff_cache
