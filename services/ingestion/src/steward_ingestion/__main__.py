"""Run the ingestion service: `python -m steward_ingestion`."""

from steward_ingestion.app import main

main()
