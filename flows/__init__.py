"""Prefect orchestration and the command line.

Prefect reads its settings when first imported, so the defaults below are set before anything in
this package imports it; users may still override each one.
"""

import os

# Telemetry off.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# Prefect gives its temporary server 20 s to start; on a busy 2-core machine it took 25-55 s
# (bench/throughput.py), and the run failed outright.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
