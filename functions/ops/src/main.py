"""ops: the platform's operations on a schedule — backups to S3 with their retention (docs/operations.md).

Table of contents: the schedule's route; each job lives in its own module (``backups.py``).
"""

from bigtech.http import Router, serve

from . import schedule

router = Router()
router.add("POST", "/", schedule.run, action=schedule.RUN_ACTION)  # the daily schedule

main = serve(router)
