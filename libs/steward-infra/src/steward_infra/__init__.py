"""Start, check and stop Steward's embedded Kafka-protocol broker and PostgreSQL."""

from steward_infra.broker import LocalBroker, broker_binary
from steward_infra.postgres import LocalPostgres, postgres_bin_dir
from steward_infra.processes import InfraError, PortTaken, free_port, port_open
from steward_infra.stack import InfraSettings, LocalStack

__all__ = [
    "InfraError",
    "InfraSettings",
    "LocalBroker",
    "LocalPostgres",
    "LocalStack",
    "PortTaken",
    "broker_binary",
    "free_port",
    "port_open",
    "postgres_bin_dir",
]
