"""`vertexmeter serve`: a drop-in Vertex AI / Gemini API token server (countTokens, computeTokens).

    from vertexmeter.server import ServerConfig, create_app, serve
    serve(ServerConfig(port=8080))      # or: uvicorn-compatible `create_app(config)`

Needs the `server` extra (fastapi, uvicorn, prometheus-client). See docs/server.md.
"""

from vertexmeter.server.app import create_app
from vertexmeter.server.config import ConfigError, ServerConfig, load_config
from vertexmeter.server.runner import serve

__all__ = ["ConfigError", "ServerConfig", "create_app", "load_config", "serve"]
