# The two commands of the README, and what they need. Everything installs into .venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test install bench handlers clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "OtterMQ needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

install: $(STAMP)

## The main job: a real pipeline end to end on the embedded Redis.
demo: $(STAMP)
	$(PY) -m ottermq validate pipelines/ examples/
	$(PY) examples/demo.py

## Every test, against private Redis servers the suite starts itself. First, the quick
## handlers (C, AssemblyScript) are rebuilt from source and checked against the committed ones.
test: $(STAMP)
	$(PY) wasm_modules/build.py --languages c,assemblyscript --check
	OTTERMQ_WASM_TEST_CACHE=$${OTTERMQ_WASM_TEST_CACHE:-$$HOME/.cache/ottermq-wasm-test} \
	  $(PY) -m pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

bench: $(STAMP)
	$(PY) bench/spec_bench.py
	$(PY) bench/wasm_bench.py

clean:
	rm -rf $(VENV) .ottermq .pytest_cache .hypothesis
