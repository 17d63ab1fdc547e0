# The two commands of the README: `make build` renders sources/ into build/, `make test` runs the tests.
# Each installs what it needs first: Debian's libraries for WeasyPrint, then a virtualenv in .venv.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: build test system system-test bytecode clean

build: system $(VENV)/.installed bytecode
	$(BIN)/briefgen build

test: system-test $(VENV)/.installed-test bytecode
	$(BIN)/python -m pytest -n auto  # one test process per core: run one by one, most tests leave a core idle

# briefgen's modules compiled ahead, also where PYTHONDONTWRITEBYTECODE is set (as on the machine this was measured on):
# there every Python process compiled them again, about 40 ms of each command and worker (15% of a CLI-bound test run).
bytecode: $(VENV)/.installed
	$(BIN)/python -m compileall -q briefgen

system:
	@sh .ci/system-deps

system-test:
	@sh .ci/system-deps test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

clean:
	rm -rf $(VENV) build/*.pdf build/*.html build/manifest.json
