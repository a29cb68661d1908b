# The course's commands. `make lab` and `make test` are all a learner needs on a fresh clone:
# each creates .venv on first use and installs the course into it, editable. `make lab` installs the
# learner's environment (the course and JupyterLab); `make test`, `make slides` and `make book` add the
# dev and instructor extras (tests, lint, nbgrader, slides, the course site, the browser test's driver).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# torch/torchvision are held at the versions the course was measured with (see constraints.txt).
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
LAB_ARGS ?=
PYTEST_ARGS ?=
NBVAL := --nbval-lax --nbval-current-env --nbval-cell-timeout=600

.PHONY: lab test full lint strip exercises clean-venv sandbox browser slides book

$(STAMP): pyproject.toml constraints.txt
	@$(PY) -c '' 2>/dev/null || $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "make: the course needs Python 3.11 or newer; $(PYTHON) is $$($(PYTHON) --version 2>&1)."\
	       "Choose another with PYTHON=python3.12 (README, Install)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "make: $(PYTHON) could not create a virtual environment; on Debian/Ubuntu: sudo apt-get install python3-venv"; \
	  exit 1; }
	$(PIP_INSTALL) -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(PIP_INSTALL) -e '.[dev,instructor]'
	touch $(DEV_STAMP)

lab: $(STAMP)  ## open JupyterLab on the course; your own copies of the exercises are in work/
	$(PY) -m coursekit.exercises --work
	# Learners get no grading UI even when the instructor extra is installed (etc/jupyter-learner/).
	JUPYTER_CONFIG_PATH="$(CURDIR)/etc/jupyter-learner$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" --ServerApp.default_url=/lab/tree/notebooks/00_setup.ipynb $(LAB_ARGS)

# The grader's sandbox: Debian's bubblewrap, installed when missing (as root, with apt-get); without it
# grading still works, in a plain subprocess with resource limits (README, "Exercises").
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get install -y -qq bubblewrap >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } || \
	    echo "make sandbox: apt-get could not install bubblewrap; the grader will run submissions without it"; \
	  else \
	    echo "make sandbox: bubblewrap (bwrap) is missing and cannot be installed here (needs root and apt-get;"\
	         "try: sudo apt-get install bubblewrap); the grader will run submissions without it"; \
	  fi; }

# The browser test's Chromium: Debian's package, installed when missing (as root, with apt-get); never a
# browser download. Where it cannot be installed the browser test is skipped and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "make browser: installing Debian's chromium with apt-get (about a minute)"; \
	    apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null 2>&1 || \
	    { apt-get update -qq >/dev/null 2>&1 && \
	      apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null 2>&1; } || \
	    echo "make browser: apt-get could not install chromium; the browser test will be skipped"; \
	  else \
	    echo "make browser: chromium is missing and cannot be installed here (needs root and apt-get;"\
	         "try: sudo apt-get install chromium); the browser test will be skipped"; \
	  fi; }

test: $(DEV_STAMP) sandbox browser  ## lint, unit tests, every notebook under nbval in quick mode, the site, the browser test
	$(PY) -m ruff check .
	# Two workers on two cores: one torch thread each, or they oversubscribe the CPU and crawl.
	# -p coursekit.executed keeps each lecture as nbval ran it, for the site and the browser test.
	OMP_NUM_THREADS=1 COURSEKIT_MODE=quick COURSEKIT_LIVE=0 $(PY) -m pytest -n 2 --dist loadfile $(NBVAL) \
		-p coursekit.executed --ignore=tests/test_browser_lab.py tests notebooks solutions $(PYTEST_ARGS)
	COURSEKIT_MODE=quick $(PY) -m coursekit.book
	# In a real JupyterLab: the notebooks that display widgets, a deck, the site (screenshots: build/browser/).
	OMP_NUM_THREADS=1 COURSEKIT_MODE=quick $(PY) -m pytest -p no:cacheprovider tests/test_browser_lab.py $(PYTEST_ARGS)

slides: $(DEV_STAMP)  ## a reveal.js deck per lecture notebook in build/slides/, viewable offline
	OMP_NUM_THREADS=1 COURSEKIT_MODE=quick COURSEKIT_LIVE=0 $(PY) -m coursekit.slides

book: $(DEV_STAMP)  ## the course site (every lecture with its outputs, and its exercise) in build/book/
	OMP_NUM_THREADS=1 COURSEKIT_MODE=quick COURSEKIT_LIVE=0 $(PY) -m coursekit.book

full: $(STAMP)  ## run every notebook in full mode and write RESULTS.md
	COURSEKIT_MODE=full $(PY) -m coursekit.full notebooks/*.ipynb --table RESULTS.md

lint: $(DEV_STAMP)
	$(PY) -m ruff check .

strip: $(DEV_STAMP)  ## remove outputs from notebooks before committing
	$(VENV)/bin/nbstripout --keep-metadata-keys cell.metadata.nbgrader notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb

clean-venv:
	rm -rf $(VENV)

exercises: $(STAMP)  ## regenerate exercises/ from solutions/
	$(PY) -m coursekit.exercises
