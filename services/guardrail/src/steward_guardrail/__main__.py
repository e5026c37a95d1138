"""Run the guardrail service: `python -m steward_guardrail`."""

from steward_guardrail.app import main

main()
