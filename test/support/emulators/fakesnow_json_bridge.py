"""fakesnow's HTTP server, answering query results as JSON rowsets.

fakesnow answers SELECTs in Snowflake's Arrow result format. snowflake-sdk
(Node) reads only the JSON result format and waits for the `returned` row
count that fakesnow leaves out. This wraps fakesnow's own query endpoint and
rewrites each Arrow rowset into the JSON rowset real Snowflake sends to the
Node driver: one string per value, encoded as Snowflake encodes it (days since
the epoch for DATE, `seconds.nanoseconds` for timestamps, hex for BINARY...).

It also fills two gaps in fakesnow that aimo relies on, both documented
Snowflake behaviour: TO_NUMBER with a hexadecimal format model ('XXXXXXXX'),
which fakesnow rejects as not implemented, and REAL bind values, which
fakesnow passes on as text. Everything else (SQL translation, sessions,
errors) is fakesnow's own.

Usage: python3 fakesnow_json_bridge.py [--host 127.0.0.1] [--port 0]
Prints one line `{"event": "listening", "port": N}` on stdout once it accepts
connections; stops on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import decimal
import json
import re
import signal
import socket
import sys
import threading
from typing import Any

import pyarrow as pa
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from sqlglot import Expr, exp
from starlette.routing import Route

import fakesnow.server as fakesnow_server
import fakesnow.transforms as fakesnow_transforms
from parent_watch import exit_with_parent

QUERY_PATH = "/queries/v1/query-request"
EPOCH_DAY = datetime.date(1970, 1, 1)

# Real Snowflake returns the session's output formats with every result; the
# Node driver reads them to decode values (BINARY needs BINARY_OUTPUT_FORMAT).
SESSION_FORMAT_PARAMETERS = [
    {"name": "TIMEZONE", "value": "Etc/UTC"},
    {"name": "DATE_OUTPUT_FORMAT", "value": "YYYY-MM-DD"},
    {"name": "TIME_OUTPUT_FORMAT", "value": "HH24:MI:SS"},
    {"name": "TIMESTAMP_OUTPUT_FORMAT", "value": "YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM"},
    {"name": "TIMESTAMP_NTZ_OUTPUT_FORMAT", "value": "YYYY-MM-DD HH24:MI:SS.FF3"},
    {"name": "TIMESTAMP_LTZ_OUTPUT_FORMAT", "value": ""},
    {"name": "TIMESTAMP_TZ_OUTPUT_FORMAT", "value": ""},
    {"name": "BINARY_OUTPUT_FORMAT", "value": "HEX"},
]


HEX_FORMAT = re.compile(r"[Xx]{1,16}")
_fakesnow_to_decimal = fakesnow_transforms.to_decimal


def to_decimal_with_hex_format(expression: Expr) -> Expr:
    """TO_NUMBER(s, 'XXXXXXXX') parses s as hexadecimal; in DuckDB that is CAST('0x' || s AS UBIGINT)."""
    if isinstance(expression, exp.ToNumber):
        fmt = expression.args.get("format")
        if isinstance(fmt, exp.Literal) and fmt.is_string and HEX_FORMAT.fullmatch(fmt.this):
            hex_text = exp.DPipe(this=exp.Literal.string("0x"), expression=expression.this.copy())
            as_integer = exp.Cast(this=hex_text, to=exp.DataType.build("UBIGINT", dialect="duckdb"))
            precision = expression.args.get("precision") or exp.Literal.number(38)
            scale = expression.args.get("scale") or exp.Literal.number(0)
            decimal_type = exp.DataType(this=exp.DataType.Type.DECIMAL, expressions=[precision.copy(), scale.copy()])
            return exp.Cast(this=as_integer, to=decimal_type)
    return _fakesnow_to_decimal(expression)


fakesnow_transforms.to_decimal = to_decimal_with_hex_format

_fakesnow_from_binding = fakesnow_server.from_binding


def from_binding_with_real(binding: dict[str, str]) -> Any:
    """The driver sends a non-integer number as type REAL; Snowflake binds it as FLOAT."""
    if binding.get("type") == "REAL" and binding.get("value") is not None:
        return float(binding["value"])
    return _fakesnow_from_binding(binding)


fakesnow_server.from_binding = from_binding_with_real


def seconds_text(epoch: int, fraction_ns: int) -> str:
    """Exact `seconds.nanoseconds`; fraction is non-negative, epoch is floored."""
    value = decimal.Decimal(epoch) + decimal.Decimal(fraction_ns) / decimal.Decimal(10**9)
    return format(value.quantize(decimal.Decimal("0.000000001")), "f")


def json_value(sf_type: str, value: Any) -> str | None:
    if value is None:
        return None
    if sf_type == "fixed":
        return format(value, "f") if isinstance(value, decimal.Decimal) else str(int(value))
    if sf_type == "real":
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(float(value))
    if sf_type == "boolean":
        return "1" if value else "0"
    if sf_type == "date":
        return str((value - EPOCH_DAY).days)
    if sf_type == "time":
        # fakesnow sends TIME as nanoseconds since midnight
        return seconds_text(int(value) // 10**9, int(value) % 10**9)
    if sf_type in ("timestamp_ntz", "timestamp_ltz"):
        return seconds_text(value["epoch"], value["fraction"])
    if sf_type == "timestamp_tz":
        return f"{seconds_text(value['epoch'], value['fraction'])} {value['timezone']}"
    if sf_type == "binary":
        return bytes(value).hex().upper()
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def arrow_to_rowset(rowset_base64: str, rowtype: list[dict[str, Any]]) -> list[list[str | None]]:
    if not rowset_base64:
        return []
    reader = pa.ipc.open_stream(pa.py_buffer(base64.b64decode(rowset_base64)))
    table = reader.read_all()
    columns = [
        [json_value(str(rowtype[i]["type"]).lower(), v) for v in table.column(i).to_pylist()]
        for i in range(table.num_columns)
    ]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def as_json_result(data: dict[str, Any]) -> None:
    if data.get("queryResultFormat") == "arrow":
        data["rowset"] = arrow_to_rowset(data.pop("rowsetBase64", ""), data.get("rowtype") or [])
        data["queryResultFormat"] = "json"
    rowset = data.setdefault("rowset", [])
    data["returned"] = len(rowset)
    data.setdefault("total", len(rowset))
    known = {p["name"] for p in data.get("parameters") or []}
    data["parameters"] = [*(data.get("parameters") or []), *(p for p in SESSION_FORMAT_PARAMETERS if p["name"] not in known)]


async def query_request(request: Request) -> Response:
    response = await fakesnow_server.query_request(request)
    payload = json.loads(bytes(response.body))
    data = payload.get("data")
    if payload.get("success") and isinstance(data, dict) and "rowtype" in data:
        as_json_result(data)
    return JSONResponse(payload, status_code=response.status_code)


def build_app() -> Starlette:
    routes = [
        Route(route.path, query_request, methods=["POST"]) if route.path == QUERY_PATH else route
        for route in fakesnow_server.routes
    ]
    return Starlette(routes=routes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    exit_with_parent()

    # Bind first, so the port we report is the one we hold (no race with other processes).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    port = sock.getsockname()[1]

    server = uvicorn.Server(uvicorn.Config(build_app(), log_level="warning", lifespan="off"))
    stop = threading.Event()

    def request_stop(_signum: int, _frame: object) -> None:
        server.should_exit = True
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="fakesnow", daemon=True)
    thread.start()
    while thread.is_alive() and not server.started:
        stop.wait(0.05)
    if not server.started:
        print(json.dumps({"event": "failed"}), flush=True)
        return 1
    print(json.dumps({"event": "listening", "port": port}), flush=True)
    thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
