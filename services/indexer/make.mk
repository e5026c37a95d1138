.PHONY: eval-retrieval bench-index

## eval-retrieval: hit@1, hit@5 and MRR of dense, keyword and hybrid retrieval on the question set
eval-retrieval: setup
	$(PY) -m steward_indexer.evaluate

## bench-index: indexing throughput against a bare encode, and retrieval p50/p99 at 1k and 20k
bench-index: setup
	$(PY) -m steward_indexer.bench
