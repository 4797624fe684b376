# The two commands: `make demo` and `make test`.
PY := .venv/bin/python
FLASK := .venv/bin/flask --app app

.PHONY: setup demo test test-deploy lint bench

setup:
	bash scripts/setup.sh

demo: setup
	$(FLASK) db upgrade
	$(FLASK) demo prepare
	@echo "Serving on http://127.0.0.1:5000 (the baseline runs in the background; Ctrl-C stops)"
	$(PY) app.py --host 127.0.0.1 --port 5000

test: setup
	.venv/bin/ruff check .
	$(PY) -m pytest -q -m "not deploy" -n auto --dist loadfile  # a worker per core; a file stays on one
	$(PY) -m pytest -q -m deploy -n 0  # the compose stack and the faults: one at a time

# Only the deployment tests (tests/deploy: the compose stack, faults survived).
test-deploy: setup
	$(PY) -m pytest -q -m deploy -n 0

lint:
	.venv/bin/ruff check .

bench: setup
	$(PY) bench/scoring_bench.py
	$(PY) bench/leaderboard_bench.py
	$(PY) bench/load.py
