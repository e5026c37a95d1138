"""Run the inference service: `python -m steward_inference`."""

from steward_inference.app import main

main()
