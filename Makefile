# glowtts: the README's commands. Everything runs inside tools/venv.
VENV ?= tools/venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install test test-fast lint format demo clean

install:
	bash tools/install.sh

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check glowtts tests bench
	$(VENV)/bin/ruff format --check glowtts tests bench

format: install
	$(VENV)/bin/ruff format glowtts tests bench
	$(VENV)/bin/ruff check --fix glowtts tests bench

demo: install
	bash egs/slt_mini/tts1/demo.sh

clean:
	rm -rf build *.egg-info glowtts/monotonic_align/core.c glowtts/monotonic_align/*.so
