.PHONY: eval-guardrail bench-guardrail

## eval-guardrail: PII, injection and groundedness quality on the labelled dev and test sets
eval-guardrail: setup
	$(PY) -m steward_guardrail.evaluate --split both

## bench-guardrail: input and output stage latency (p50/p99) on one thread, per check
bench-guardrail: setup
	$(PY) -m steward_guardrail.bench
