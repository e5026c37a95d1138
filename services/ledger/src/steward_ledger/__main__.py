"""Run the ledger service: `python -m steward_ledger`."""

from steward_ledger.app import main

main()
