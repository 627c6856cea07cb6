# Benchmark targets beside `make bench` (the top-level Makefile's, which runs
# bench/run.sh: the router's view, issue 18). Figures only; never part of
# `make test`.
#   make bench-quick      the same LAN benchmark, fewer cells: < 3 minutes,
#                         results in build/bench/quick/ (RESULTS.md untouched)
#   make bench-loopback   issue 7's loopback comparison with sizes and memory:
#                         bench/RESULTS-loopback.md, build/bench/loopback/

.PHONY: bench-quick bench-loopback

bench-quick: all
	BENCH_QUICK=1 sh bench/run.sh

bench-loopback: all
	sh bench/run.sh loopback
