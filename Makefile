# Two commands on a fresh machine (see README):
#   make run   - create .venv, install, build the default outputs offline into out/
#   make test  - create .venv if needed, install test extras (+ Chromium, QGIS and GDAL for the client checks), run the suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: run maps test install install-test browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: $(VENV)/.installed
	$(BIN)/jlp-geo build --out $(OUT) --fetch
	@$(MAKE) --no-print-directory maps

# maps/: the HTML maps of the default offline build (no cached OSM), byte-for-byte; tests/test_wheel.py checks them
maps: $(VENV)/.installed
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  JLP_GEO_CACHE_DIR="$$tmp/cache" $(BIN)/jlp-geo build --out "$$tmp/out" --quiet > /dev/null && \
	  rm -rf maps && mkdir -p maps && cp "$$tmp"/out/maps/*.html maps/
	@echo "maps/ updated: $$(ls maps | tr '\n' ' ')"

browser:
	@bash scripts/install_browser.sh

test: $(VENV)/.installed-test browser
	$(BIN)/python -m pytest

clean:
	rm -rf $(OUT) .pytest_cache
