"""bqemulator's own CLI, for machines without internet access.

At start-up bqemulator downloads two DuckDB extensions from DuckDB's
extension repository: spatial (for GEOGRAPHY, and fatal when missing) and
avro (optional). Offline, as in CI, that download fails. aimo's SQL uses
neither GEOGRAPHY nor Avro loads, so both are skipped; everything else is the
emulator as released.

Usage: python3 bqemulator_launcher.py start --rest-port 0 --grpc-port 0 ...
"""

from __future__ import annotations

import sys

from bqemulator.storage import engine
from parent_watch import exit_with_parent


def _skip_extension(_self: object) -> None:
    return None


engine.DuckDBEngine._load_spatial = _skip_extension  # type: ignore[method-assign]
engine.DuckDBEngine._load_format_extensions = _skip_extension  # type: ignore[method-assign]

if __name__ == "__main__":
    exit_with_parent()
    from bqemulator.cli import main

    sys.exit(main())
