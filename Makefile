# The two commands of the README. Both do all setup first and are idempotent.
.PHONY: run test setup lint cluster

run: setup
	PROMPTLINK_DEMO=$${PROMPTLINK_DEMO:-1} PYTHONPATH=backend .venv/bin/python -m promptlink run

# The deploy/ topology on one machine (deploy/README.md): 2 backends, 2 Rasa servers, the action
# server and HAProxy on http://127.0.0.1:8088/, on the machine's PostgreSQL and Redis
# (CLUSTER_ARGS=--private starts private ones).
cluster: setup
	PROMPTLINK_DEMO=$${PROMPTLINK_DEMO:-1} PYTHONPATH=backend .venv/bin/python -m promptlink cluster $(CLUSTER_ARGS)

test: setup
	scripts/test.sh

setup:
	scripts/setup.sh

lint:
	.venv/bin/ruff check backend bot actions tests testkit bench
