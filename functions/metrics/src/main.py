"""metrics: Prometheus scrapes ``GET /`` with ``x-metrics-token`` (docs/operations.md).

Table of contents: one route; the families are built in ``collect.py``, the token checked in ``scrape.py``.
"""

from bigtech.http import Router, serve

from . import scrape

router = Router()
router.add("GET", "/", scrape.read, action=scrape.READ_ACTION)

main = serve(router)
