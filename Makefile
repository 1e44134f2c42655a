# The two commands of the README. Both set up what they need (scripts/bootstrap.sh).
.PHONY: run test bench

run:
	@scripts/bootstrap.sh
	@scripts/demo.sh

test:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python -m pytest -q

bench:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python bench/bench_rules.py
