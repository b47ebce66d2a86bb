"""OpenAPI 3.1 documents generated from the functions' routers and pydantic models (docs/openapi.md).

- ``function_document(router, function_id)``: one function's document (what ``GET /openapi.json`` serves);
- ``combined_document({id: document})``: all of them under ``/<function id>`` (``docs/openapi/bigtech.json``);
- ``RouteDoc`` (``bigtech.http.route_doc``): what a route declares that the generator cannot infer.
"""

from ..http.route_doc import RouteDoc
from .builder import function_document, operation_id
from .combine import combined_document

__all__ = ["RouteDoc", "combined_document", "function_document", "operation_id"]
