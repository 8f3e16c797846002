# Build, check and explore the memnb book.
#
#   make book    set up .venv, execute every chapter, build the HTML into _build/html
#   make test    every check: lint and clean notebooks, unit tests, strict book build,
#                built pages, every chapter validated by nbval, Chromium, JupyterLab, a
#                fresh clone, memnb's wheel in a clean environment, and a summary
#   make test-chapter CH=capacity   run one chapter under nbval (while editing it)
#   make lab     JupyterLab on the chapters, with the project's kernel and widgets
#   make clean   remove build outputs (make distclean also removes .venv)
#
# Every step runs with the Python of the virtual environment in $(VENV).

SHELL := /bin/sh
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
BUILD := _build
HTML := $(BUILD)/html
LINT_PATHS := $(wildcard memnb tests benchmarks tools)

# The venv's tools come first on PATH (a kernel started by name runs the venv's
# python), and Jupyter looks up kernels in the venv before the user's folders,
# so an old kernel registered elsewhere on the machine cannot take over.
export PATH := $(CURDIR)/$(BIN):$(PATH)
export JUPYTER_PREFER_ENV_PATH := 1
# Silence debugpy's note about frozen modules on every kernel start.
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# One torch thread per process. The book executes two chapters at a time (one per core
# of a two-core machine), and the chapters' tensors are small: two threads per kernel
# would only contend for the same cores. The same setting everywhere (build, checks,
# JupyterLab) also keeps the last digits of float32 sums, which depend on how a sum is
# split across threads, the same in every run. Set it yourself to override.
export OMP_NUM_THREADS ?= 1
# Chapters executed at once by the book build (tools/execute_book.py) and by nbval.
JOBS ?= 2
REPORTS := $(BUILD)/reports
# Seconds a cell may run: execute.timeout of _config.yml.
CELL_TIMEOUT := $(shell sed -n 's/^  timeout: *\([0-9][0-9]*\).*/\1/p' _config.yml)
# The executed chapters that nbval compares with (tools/nbval_references.py writes them),
NBVAL := $(BUILD)/nbval
# all but these, whose outputs are timings of this machine: nbval only runs their cells.
NBVAL_RUN_ONLY := performance

.PHONY: help setup widgets book test lint unit book-strict nbval test-chapter summary \
	test-built-book lab clean distclean chromium browser test-lab test-fresh test-install

help:
	@echo "make book       build the book into $(HTML) (set-up included)"
	@echo "make test       run every check (lint, unit tests, strict build, nbval, browser, lab, fresh clone, clean install)"
	@echo "make test-chapter CH=capacity   run chapters/capacity.ipynb under nbval"
	@echo "make lab        open the chapters in JupyterLab"
	@echo "make clean      remove build outputs; make distclean also removes $(VENV)"

# ---------------------------------------------------------------------------
# Set-up: a virtual environment with pinned packages and memnb (editable).

setup: $(STAMP)

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@set -e; \
	if [ ! -x "$(PY)" ]; then \
		py=$$(command -v python3.11 || command -v python3 || true); \
		if [ -z "$$py" ]; then \
			echo "error: neither python3.11 nor python3 is on PATH" >&2; exit 1; \
		fi; \
		if ! "$$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
			echo "error: $$py is older than Python 3.11" >&2; exit 1; \
		fi; \
		echo "creating $(VENV) with $$py"; \
		"$$py" -m venv "$(VENV)"; \
	fi
	$(PY) -m pip install --upgrade pip -c constraints.txt
	$(PY) -m pip install -r requirements.txt -c constraints.txt
	$(PY) -m pip install -e . --no-deps --no-build-isolation
	@touch $@

# The JavaScript that shows widgets and typesets equations in the built pages without a
# CDN: RequireJS and the ipywidgets HTML manager (embed-amd.js and its icon fonts) bring
# the widgets stored in a page back to life, and MathJax 3 (es5/tex-mml-chtml.js, its
# fonts and the TeX extensions it loads on demand) typesets equations. npm downloads the
# pinned release tarballs from its registry, sha512sum checks them against js/SHA512SUMS
# (the registry's published sha512 integrity of each), and tar unpacks what the pages need
# into _static/widgets/ and _static/mathjax/, with the licenses the tarballs do not carry
# (js/LICENSE.*). Nothing is downloaded again while those files are newer than the sums.
JS_PACKAGES := @jupyter-widgets/html-manager@1.0.15 requirejs@2.3.8 mathjax@3.2.2
JS_FILES := _static/widgets/embed-amd.js _static/widgets/require.js \
	_static/mathjax/es5/tex-mml-chtml.js
FONTS := woff woff2 ttf eot svg

widgets: $(JS_FILES) _static/widgets/offline_widgets.js

$(JS_FILES) &: js/SHA512SUMS js/LICENSE.html-manager.txt js/LICENSE.requirejs.txt
	@command -v npm >/dev/null 2>&1 || { echo "error: npm is missing; it fetches the" \
		"widget JavaScript and MathJax (Debian: apt-get install npm)" >&2; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	echo "fetching $(JS_PACKAGES)"; \
	npm pack --silent --pack-destination "$$tmp" $(JS_PACKAGES) >/dev/null || { echo \
		"error: npm could not download $(JS_PACKAGES); the first build needs the npm" \
		"registry (check the network or npm's proxy settings)" >&2; exit 1; }; \
	(cd "$$tmp" && sha512sum --check --strict --quiet "$(CURDIR)/js/SHA512SUMS") || { \
		echo "error: the tarballs above do not match js/SHA512SUMS" >&2; exit 1; }; \
	rm -rf _static/widgets _static/mathjax; mkdir -p _static/widgets _static/mathjax; \
	untar() { tgz=$$1 dir=$$2 strip=$$3; shift 3; tar -xzf "$$tmp/$$tgz" -C "$$dir" \
		--strip-components=$$strip --wildcards --no-wildcards-match-slash \
		--transform s/embed.js.LICENSE.txt/LICENSE.html-manager-bundled.txt/ "$$@"; }; \
	untar jupyter-widgets-html-manager-1.0.15.tgz _static/widgets 2 package/dist/embed-amd.js \
		package/dist/embed.js.LICENSE.txt $(FONTS:%='package/dist/*.%'); \
	untar requirejs-2.3.8.tgz _static/widgets 1 package/require.js; \
	untar mathjax-3.2.2.tgz _static/mathjax 1 package/LICENSE package/es5/tex-mml-chtml.js \
		'package/es5/output/chtml/fonts/woff-v2/*.woff' 'package/es5/input/tex/extensions/*.js'; \
	cp js/LICENSE.html-manager.txt js/LICENSE.requirejs.txt _static/widgets/; \
	touch $(JS_FILES); echo "wrote $$(find _static/widgets _static/mathjax -type f | wc -l) files"

_static/widgets/offline_widgets.js: tools/offline_widgets.js $(JS_FILES)
	cp $< $@

# ---------------------------------------------------------------------------
# The book.

# $(call build-book,OPTIONS): from a clean build folder (so every chapter is executed and
# the time is honest; only the last jupyter-cache stays, whose execution times order the
# chapters longest first), every chapter executed $(JOBS) at a time into a new jupyter-cache,
# then `jupyter-book build` with OPTIONS, which takes them from there; a cell that raises
# (a failed assert included) stops it. Prints Sphinx's warnings (jupyter-book's banners
# on stdout are dropped), every chapter's time and the page to open.
define build-book
	@mkdir -p $(BUILD) && find $(BUILD) -mindepth 1 -maxdepth 1 ! -name .jupyter_cache \
		-exec rm -rf {} +
	@start=$$(date +%s); \
	$(PY) tools/execute_book.py --jobs $(JOBS) . && \
	$(BIN)/jupyter-book build . --quiet $(1) >/dev/null && \
	$(PY) tools/report.py build $$(($$(date +%s) - start)) && \
	echo "Open $(CURDIR)/$(HTML)/index.html"
endef

book: setup widgets
	$(call build-book,)

# ---------------------------------------------------------------------------
# Checks. `make test` runs them in this order and stops at the first failure.

test: setup widgets
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory book-strict
	@$(MAKE) --no-print-directory test-built-book
	@$(MAKE) --no-print-directory nbval
	@$(MAKE) --no-print-directory browser
	@$(MAKE) --no-print-directory test-lab
	@$(MAKE) --no-print-directory test-fresh
	@$(MAKE) --no-print-directory test-install
	@$(MAKE) --no-print-directory summary

# Lint, and notebooks committed without outputs, execution counts or widget state.
lint: setup
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	@$(BIN)/nbstripout --keep-id --verify chapters/*.ipynb || { \
		echo "error: strip the notebooks above: $(BIN)/nbstripout --keep-id chapters/*.ipynb" >&2; \
		exit 1; }

# The unit and property tests, memnb's public names among them (tests/book and
# tests/browser need a built book; tests/install builds its own environment).
unit: setup
	$(PY) -m pytest -q tests --ignore=tests/book --ignore=tests/browser --ignore=tests/install


# The book with warnings as errors (references checked: -n).
book-strict: setup widgets
	$(call build-book,-W -n --keep-going)

# The pages of the built book: present, without errors, glued values filled in.
test-built-book: setup
	$(PY) -m pytest -q tests/book/test_built_book.py

# Every chapter executed again by nbval in a fresh kernel, $(JOBS) at a time (pytest-xdist;
# --dist loadscope keeps each notebook on one kernel): the outputs of every cell must equal
# the built book's, taken from its jupyter-cache (tests/book/nbval_sanitize.cfg lists what
# may differ). The chapters of NBVAL_RUN_ONLY run from chapters/, as in the build, and
# have no outputs there (nbstripout), so nbval only checks that their cells run, as
# --nbval-lax would. Results in $(REPORTS)/nbval.xml and nbval_references.json.
nbval: setup
	@rm -rf $(NBVAL)
	$(PY) tools/nbval_references.py . $(NBVAL) --skip $(NBVAL_RUN_ONLY)
	$(PY) -m pytest -q --nbval -n $(JOBS) --dist loadscope --nbval-cell-timeout $(CELL_TIMEOUT) \
		--nbval-sanitize-with tests/book/nbval_sanitize.cfg --junitxml $(REPORTS)/nbval.xml \
		$(NBVAL_RUN_ONLY:%=chapters/%.ipynb) $(NBVAL)

# One chapter in a fresh kernel under nbval (its cells must run), e.g. CH=capacity.
test-chapter: setup
	@test -n "$(CH)" -a -f "chapters/$(CH).ipynb" || { echo "error: CH='$(CH)' names no" \
		"chapter; run make test-chapter CH=<name>, <name> one of:" \
		$$(ls chapters/*.ipynb | sed 's|chapters/||; s|\.ipynb||') >&2; exit 2; }
	$(PY) -m pytest -q --nbval-lax --nbval-cell-timeout $(CELL_TIMEOUT) chapters/$(CH).ipynb

# The one summary that ends `make test`.
summary: setup
	@$(PY) tools/report.py summary

# The checks with real clients (tests/browser/). Debian's chromium is installed when it
# is missing (apt-get, as root or with sudo); where it cannot be, they are skipped with
# a warning. No browser is ever downloaded.
chromium:
	@if command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	warn="WARNING: chromium is missing and cannot be installed here; browser checks will be SKIPPED"; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "$$warn (no apt-get)" >&2; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "$$warn (not root, no sudo)" >&2; exit 0; fi; \
	echo "installing Debian's chromium"; \
	$$sudo apt-get update -qq && \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || \
	echo "$$warn (apt-get install chromium failed)" >&2

# Every page of the built book in headless Chromium (screenshots in $(BUILD)/screenshots/,
# counts in $(BUILD)/reports/browser.json), a tiny broken book the checks must reject, and
# every explorer switching to its stored figures offline, from file:// and over HTTP.
browser: setup widgets chromium
	$(PY) -m pytest -q -rs tests/browser/test_book_pages.py tests/browser/test_broken_book.py \
		tests/browser/test_static_explorers.py

# Chapters run in a real JupyterLab, driven through Chromium; a slider must change the figure.
test-lab: setup chromium
	$(PY) -m pytest -q -rs tests/browser/test_lab.py

# A clean clone of HEAD in a temporary folder, with its own new .venv: `make book` there.
test-fresh: setup
	$(PY) -m pytest -q -rs tests/browser/test_fresh_clone.py

# memnb as a reader installs it: its wheel in a new venv with torch and only what the wheel
# declares, then the console command, every public module and each experiment module run
# from a folder outside the repository, then the extras (tests/install/). -s: it prints
# each step and what pip installed. After the book build, which empties $(BUILD) (its
# report goes to $(REPORTS)/install.json).
test-install: setup
	$(PY) -m pytest -q -s tests/install/test_clean_install.py

# ---------------------------------------------------------------------------
# Interactive use.

# Extra options for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port 8899".
# Jupyter refuses to run as root unless told to (containers often run as root).
LAB_ARGS ?=
LAB_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)

lab: setup
	$(BIN)/jupyter lab $(LAB_ROOT) $(LAB_ARGS) chapters/

# ---------------------------------------------------------------------------

clean:
	rm -rf $(BUILD) _static/widgets _static/mathjax .pytest_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -type d \( -name __pycache__ -o -name .ipynb_checkpoints \) \
		-prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
