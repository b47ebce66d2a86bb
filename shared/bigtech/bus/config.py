"""The bus settings a relay run (and the ops task) reads from its environment.

- `BIGTECH_BUS_URL`: RabbitMQ URL (`amqp://user:pass@host:5672/vhost`); unset, empty or `direct` → direct mode.
- `BIGTECH_BUS_EXCHANGE` (`bigtech.events`): the topic exchange; its dead-letter exchange is `<exchange>.dlx`.
- `BIGTECH_BUS_QUEUE_PREFIX` (`bigtech`): queues `<prefix>.q.<subscriber>`, dead-letter queues
  `<prefix>.dlq.<subscriber>`.
- `BIGTECH_BUS_DELIVERY_LIMIT` (`5`): deliveries of one event to one subscriber before it is dead-lettered.

Read on every execution (never cached), like every other function setting.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .topology import DEFAULT_DELIVERY_LIMIT, DEFAULT_EXCHANGE, DEFAULT_PREFIX, Topology

BUS_URL_ENV = "BIGTECH_BUS_URL"
EXCHANGE_ENV = "BIGTECH_BUS_EXCHANGE"
PREFIX_ENV = "BIGTECH_BUS_QUEUE_PREFIX"
DELIVERY_LIMIT_ENV = "BIGTECH_BUS_DELIVERY_LIMIT"
# Spelled-out ways of asking for direct mode (an empty variable works too).
DIRECT_VALUES = frozenset({"", "direct", "none", "off"})


def bus_url_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    value = (environ if environ is not None else os.environ).get(BUS_URL_ENV, "").strip()
    return None if value.lower() in DIRECT_VALUES else value


@dataclass(frozen=True)
class BusConfig:
    url: str | None = None
    exchange: str = DEFAULT_EXCHANGE
    queue_prefix: str = DEFAULT_PREFIX
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    @property
    def mode(self) -> str:
        return "amqp" if self.url else "direct"

    @property
    def topology(self) -> Topology:
        return Topology(self.exchange, self.queue_prefix, self.delivery_limit)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BusConfig:
        env = environ if environ is not None else os.environ
        limit = (env.get(DELIVERY_LIMIT_ENV) or "").strip()
        return cls(
            url=bus_url_from_env(env),
            exchange=(env.get(EXCHANGE_ENV) or "").strip() or DEFAULT_EXCHANGE,
            queue_prefix=(env.get(PREFIX_ENV) or "").strip() or DEFAULT_PREFIX,
            delivery_limit=max(1, int(limit)) if limit else DEFAULT_DELIVERY_LIMIT,
        )
