"""ops: the platform's operations on a schedule — data retention, then backups to S3
with their own retention policy — and the platform's invoice report (docs/operations.md).

Table of contents: the schedule's route; each job lives in its own module (``retention.py``, ``backups.py``).
"""

from bigtech.http import Router, serve

from . import invoices, schedule

router = Router()
router.add("POST", "/", schedule.run, action=schedule.RUN_ACTION)  # the daily schedule
router.add("GET", "/invoices", invoices.read, action=invoices.READ_ACTION)  # platform billing (platform admins)

main = serve(router)
