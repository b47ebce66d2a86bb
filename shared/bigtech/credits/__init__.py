"""Credits: wallets (atomic balances), the immutable ledger, reservations and prices
(docs/credits-consultas-plugins.md#credits).

- ``wallets``: one wallet per member, balance moved only by atomic increment/decrement;
- ``ledger``: ``grant|purchase|hold|debit|release|refund|chargeback`` rows, each with an idempotency key;
- ``holds``: reserve → settle/release, the money path of a consulta;
- ``grants``: credits given by an admin (also the model for crediting a paid order);
- ``pricing``: the tenant's price table;
- ``reaper``: releases holds whose consulta died before settling (billing's schedule);
- ``abandoned``: ends pending async consultas whose execution died or never ran (the reaper's visit).

``reaper`` and ``abandoned`` are imported by name (``from bigtech.credits import reaper``): only billing's
schedule and the async worker use them, and a consulta's cold start should not load them.
"""

from . import grants, holds, ledger, pricing, wallets
from .holds import Hold, release_now, reserve, stage_release, stage_settle
from .ledger import EFFECT, balance_from
from .pricing import DEFAULT_PRICES, price_for, price_table
from .wallets import SERVICE_WALLET, Wallet, ensure_wallet, read_wallet

__all__ = [
    "DEFAULT_PRICES",
    "EFFECT",
    "SERVICE_WALLET",
    "Hold",
    "Wallet",
    "balance_from",
    "ensure_wallet",
    "grants",
    "holds",
    "ledger",
    "price_for",
    "price_table",
    "pricing",
    "read_wallet",
    "release_now",
    "reserve",
    "stage_release",
    "stage_settle",
    "wallets",
]
