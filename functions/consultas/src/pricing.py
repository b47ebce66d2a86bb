"""What one consulta costs, and on which terms (step 2 of ``service.run_consulta``).

- An API key (mercado-atacado, ``command.terms``): the price of its volume band, else the tenant's table.
  The public API sells categories, not the retail catalogue's products: a ``product`` there is 422.
- A member: the market plugin's terms (``gateway.member_terms``: mercado-varejo's price of the named
  ``product``, else of the category, and the member's monthly limit), read from the varejo row the flow
  reads anyway — naming a product adds no Appwrite call. A product the catalogue does not sell is 422
  ``product_not_offered``.
- A gateway without market terms: the tenant's price table.

The price is read when the consulta is priced, so a catalogue change applies to the next consulta; an
idempotent replay never gets here (it answers the stored row, with the price it was charged).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bigtech import idempotency
from bigtech.credits import price_for
from bigtech.errors import Unprocessable
from bigtech.market import MemberTerms

if TYPE_CHECKING:
    from .service import ConsultaCommand, Gateway


def quote(command: ConsultaCommand, gateway: Gateway,
          claimed: idempotency.Claim | None = None) -> tuple[MemberTerms | None, int]:
    """``(member terms or None, price)``. Nothing is held yet: on a refusal the idempotency claim is freed."""
    try:
        return _quote(command, gateway)
    except BaseException:
        gateway.release_claim(claimed)
        raise


def _quote(command: ConsultaCommand, gateway: Gateway) -> tuple[MemberTerms | None, int]:
    category, product = command.body.category, command.body.product
    if command.terms:
        if product:
            raise Unprocessable.field("product", "the public API prices consultas by category; send no product",
                                      code="product_not_offered")
        return None, command.terms.price(category)
    member = gateway.member_terms(command)
    if member:
        return member, member.price
    if product:  # no catalogue: nothing sells products
        raise Unprocessable.field("product", "not offered", code="product_not_offered")
    return None, price_for(command.settings, category)


__all__ = ["quote"]
