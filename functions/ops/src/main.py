"""ops: the platform's operations on a schedule — data retention, then backups to S3
with their own retention policy — the platform's invoice report, and platform usage built from the
bus events (docs/operations.md).

Table of contents: the schedule's route; each job lives in its own module (``retention.py``, ``backups.py``);
``events.py`` consumes the bus, ``usage.py`` reads what it built.
"""

from bigtech.http import Router, serve

from . import events, invoices, schedule, usage

router = Router()
router.add("POST", "/", schedule.run, action=schedule.RUN_ACTION)  # the daily schedule
router.add("GET", "/invoices", invoices.read, action=invoices.READ_ACTION)  # platform billing (platform admins)
router.add("GET", "/usage", usage.read, action=usage.READ_ACTION)  # usage from events (platform admins)
router.add("POST", "/events", events.handle, action=events.EVENTS_ACTION)  # the relay: consulta/credits/payment

main = serve(router)
