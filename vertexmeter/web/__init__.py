"""The browser page of `vertexmeter serve` (`GET /`) and the offline API docs (`/docs`).

Everything the page loads ships in this package (`static/`) or in the `fastapi-offline` wheel (Swagger
UI); a Content-Security-Policy keeps every request on the server's own origin. The page talks
only to the server's JSON routes. See docs/web.md.
"""

from vertexmeter.web.router import BATCH_PARAMETERS, web_router

__all__ = ["BATCH_PARAMETERS", "web_router"]
