# Two commands set up a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.installed
# torch/torchvision pins that install from this machine's disk (a CUDA build that also runs on CPU)
TORCH  ?= torch==2.14.1 torchvision==0.29.1
WORKERS ?= 2

.PHONY: install demo test test-all lint format table bench golden golden-record clean

# pip stays quiet (-qq: errors only); these lines say what is happening instead
$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "creating the virtual environment $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "installing torch and torchvision ($(TORCH); about 2 minutes on a fresh machine)"
	@$(PIP) install -qq $(TORCH)
	@echo "installing ganarium with its test, evaluation, data, study and app extras (about 1 minute)"
	@$(PIP) install -qq -e ".[test,eval,data,study,app]"
	@touch $(STAMP)
	@echo "installed into $(VENV)"

install: $(STAMP)

demo: install
	$(PY) -m ganarium.demo

# the suite CI runs: everything but the learning checks marked slow (< 20 min on 2 cores)
test: install
	$(PY) -m pytest -n $(WORKERS) -q -m "not slow" --durations=15

# everything, the slow learning checks included (their figures are in the README table)
test-all: install
	$(PY) -m pytest -n $(WORKERS) --dist worksteal -q --durations=15

lint: install
	$(VENV)/bin/ruff check ganarium tests scripts benchmarks
	$(VENV)/bin/ruff format --check ganarium tests scripts benchmarks

format: install
	$(VENV)/bin/ruff format ganarium tests scripts benchmarks

# every learning check in one run named TABLE_RUN (resumable: run it again with the same name)
TABLE_RUN ?= table-$(shell date +%Y-%m)
table: install
	$(PY) scripts/learning_table.py --run $(TABLE_RUN)

# golden trajectories: every recipe's weights after 10 steps, hashed, against scripts/golden.json
# (recorded on this machine: a refactor is pure where no hash moves; a few minutes)
golden: install
	$(PY) scripts/golden.py check

golden-record: install
	$(PY) scripts/golden.py record

bench: install
	$(PY) benchmarks/trainer_overhead.py

clean:
	rm -rf $(VENV) runs .pytest_cache
