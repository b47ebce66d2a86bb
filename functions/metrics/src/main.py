"""metrics: Prometheus scrapes ``GET /`` with ``x-metrics-token`` (docs/operations.md).

Table of contents: one route; the families are built in ``collect.py``, the token checked in ``scrape.py``;
the hourly compaction of old buckets is ``compaction.py``.
"""

from bigtech.http import Router, serve

from . import compaction, scrape

router = Router()
router.add("GET", "/", scrape.read, action=scrape.READ_ACTION)
router.add("POST", "/", compaction.run, action=compaction.COMPACT_ACTION)  # the hourly schedule

main = serve(router)
