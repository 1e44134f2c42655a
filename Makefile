# The two commands of the README (both set up what they need: scripts/bootstrap.sh), and the rest.
.PHONY: run test demo bench

run:
	@scripts/bootstrap.sh
	.venv/bin/mia run

test:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python -m pytest -q

demo:
	@scripts/bootstrap.sh
	@scripts/demo.sh

bench:
	@scripts/bootstrap.sh test,bench
	.venv/bin/python bench/bench_rules.py
