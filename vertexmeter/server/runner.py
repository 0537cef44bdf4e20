"""Run the app on uvicorn with JSON logs, no uvicorn access log (it would print `?key=`), and a
bounded graceful shutdown (SIGTERM / SIGINT: stop accepting, finish in-flight requests).

The HTTP stack is uvicorn's C one when installed (httptools' llhttp parser, the uvloop event loop; both
come with the `server` extra), else its pure-Python h11 protocol on asyncio's loop."""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from vertexmeter.server.app import create_app
from vertexmeter.server.config import ServerConfig, check_bind
from vertexmeter.server.guard import MAX_HEAD_BYTES, event_loop, protocol_class


def log_config(level: str) -> dict[str, Any]:
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "vertexmeter.server.access.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"},
            # access lines in blocks (a write per line costs more than a small request); errors at once
            "access": {
                "class": "vertexmeter.server.access.BufferedStreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "vertexmeter.server": {"handlers": ["stderr"], "level": level, "propagate": False},
            "vertexmeter.server.access": {"handlers": ["access"], "level": level, "propagate": False},
        },
    }


def uvicorn_config(config: ServerConfig, *, configure_logging: bool = True) -> uvicorn.Config:
    return uvicorn.Config(
        create_app(config),
        host=config.host,
        port=config.port,
        log_config=log_config(config.log_level) if configure_logging else None,
        log_level=config.log_level,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=config.shutdown_timeout,
        lifespan="on",
        http=protocol_class(config.header_timeout, config.http),
        loop=event_loop(),
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,  # request line + headers (checked exactly in the protocol)
    )


class Server(uvicorn.Server):
    """uvicorn's server, telling the app when a shutdown starts: requests still running shortly before
    `--shutdown-timeout` is over are answered 503 UNAVAILABLE in Google's shape and their large-lane
    workers stopped, so the process exits on time (uvicorn itself would cancel them with a plain-text
    500, or not at all when the signal ends the process first)."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        state = getattr(getattr(self.config.app, "state", None), "vertexmeter", None)
        if state is not None:
            state.begin_shutdown(self.config.timeout_graceful_shutdown)
        await super().shutdown(sockets)


def make_server(config: ServerConfig, *, configure_logging: bool = True) -> Server:
    return Server(uvicorn_config(config, configure_logging=configure_logging))


def serve(config: ServerConfig, sock: socket.socket | None = None) -> None:
    """Serve until SIGINT/SIGTERM. Refuses an unsafe bind (see `check_bind`)."""
    check_bind(config)
    server = make_server(config)
    server.run(sockets=[sock] if sock else None)
