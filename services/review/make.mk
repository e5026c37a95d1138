.PHONY: bench-review

## bench-review: review claims/s with 8 workers against bare SKIP LOCKED claims, as a ratio
bench-review: setup
	$(PY) -m steward_review.bench
