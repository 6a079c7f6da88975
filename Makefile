# make demo: set up and run the main job on the synthetic defect set.  make test: set up and run the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export YOLO_OFFLINE ?= 1
export YOLO_AUTOINSTALL ?= false
export YOLO_CONFIG_DIR ?= $(CURDIR)/.ulcfg
export MPLBACKEND ?= Agg
SOURCES := $(shell git ls-files gfdnet_ultra cfg 2>/dev/null) setup.cfg setup.py pyproject.toml gfdnet_ultra_autoload.py gfdnet_ultra-autoload.pth

.PHONY: demo test test-fast install clean

$(VENV)/.deps: constraints.txt setup.cfg
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel
	$(PIP) install -q -c constraints.txt ".[dev]"
	touch $@

# A regular (non-editable) install, so the autoload .pth lands in site-packages exactly as users get it.
$(VENV)/.installed: $(VENV)/.deps $(SOURCES)
	$(PIP) install -q --no-deps --no-build-isolation .
	touch $@

install: $(VENV)/.installed

test: install
	$(PY) -m pytest -m "slow or not slow" -p no:cacheprovider -q

test-fast: install
	$(PY) -m pytest -m "not slow" -p no:cacheprovider -q

demo: install
	$(PY) scripts/demo.py

clean:
	rm -rf $(VENV) build *.egg-info runs .ulcfg
