# The two commands of the README (both set up what they need: scripts/bootstrap.sh), and the rest.
# test-deep and mutate are for before a merge, not for CI (minutes to an hour).
.PHONY: run test test-deep mutate demo bench

run:
	@scripts/bootstrap.sh
	.venv/bin/mia run

test:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python -m pytest -q

test-deep:
	@scripts/bootstrap.sh test,bench
	MIA_TEST_PROFILE=deep .venv/bin/python -m pytest -q

mutate:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python scripts/mutate.py

demo:
	@scripts/bootstrap.sh
	@scripts/demo.sh

bench:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python bench/bench_rules.py
