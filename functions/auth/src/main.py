"""auth: the caller's own view of their identity (README.md#the-platform). The wallet joins with the credits issue."""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import me

router = Router()
router.add("GET", "/me", me.me, action="me.read")

main = serve(router, before=[authenticate])
