# The two commands of the README. Both do all setup first and are idempotent.
.PHONY: run test setup lint

run: setup
	PROMPTLINK_DEMO=$${PROMPTLINK_DEMO:-1} PYTHONPATH=backend .venv/bin/python -m promptlink run

test: setup
	scripts/test.sh

setup:
	scripts/setup.sh

lint:
	.venv/bin/ruff check backend bot actions tests testkit bench
