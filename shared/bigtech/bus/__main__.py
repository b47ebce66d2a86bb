"""`python -m bigtech.bus status|replay <subscriber>...`: the ops task (see `ops.main`)."""

from .ops import main

raise SystemExit(main())
