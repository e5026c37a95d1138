# The trainer service's own targets; the root Makefile includes this file.
.PHONY: eval-model trainer-tools

## eval-model: score the packaged base model on the golden set (in-process, CPU, minutes)
eval-model: setup
	$(PY) -m steward_trainer.evaluate_cli

# llama.cpp's LoRA-to-GGUF converter and the gguf-py it needs, from the llama-cpp-python source
# archive on PyPI (pinned and hash-checked); the trainer runs it after each training run.
LLAMA_CPP_PYTHON_VERSION := 0.3.36
LLAMA_CPP_PYTHON_SHA256 := 832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
LORA_TOOLS := .steward/tools
LORA_SOURCE := llama_cpp_python-$(LLAMA_CPP_PYTHON_VERSION)
LORA_CONVERTER := $(LORA_TOOLS)/$(LORA_SOURCE)/vendor/llama.cpp/convert_lora_to_gguf.py

## trainer-tools: llama.cpp's LoRA-to-GGUF converter under .steward/tools (after make setup)
trainer-tools: $(LORA_CONVERTER)

$(LORA_CONVERTER):
	@mkdir -p $(LORA_TOOLS)
	$(PIP) download -q --no-deps --no-binary :all: -d $(LORA_TOOLS) \
		llama-cpp-python==$(LLAMA_CPP_PYTHON_VERSION)
	echo "$(LLAMA_CPP_PYTHON_SHA256)  $(LORA_TOOLS)/$(LORA_SOURCE).tar.gz" | sha256sum -c --quiet
	@# Only the converter, the model classes it reuses and the bundled gguf-py are kept.
	tar -xzf $(LORA_TOOLS)/$(LORA_SOURCE).tar.gz -C $(LORA_TOOLS) \
		$(addprefix $(LORA_SOURCE)/vendor/llama.cpp/,LICENSE convert_lora_to_gguf.py conversion gguf-py)
	rm $(LORA_TOOLS)/$(LORA_SOURCE).tar.gz
	@touch $@
