## bench-ledger: ledger appends vs a bare COPY of the same rows, and 1M-event bundle verification
bench-ledger: setup
	$(PY) -m steward_ledger.bench $(LEDGER_BENCH_ARGS)
