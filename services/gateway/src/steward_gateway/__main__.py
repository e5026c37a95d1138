"""Run the gateway: `python -m steward_gateway`."""

from steward_gateway.app import main

main()
