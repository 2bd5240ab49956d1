"""Orders that act on each other: attached orders (parentId, brackets), transmission (transmit=False/True)
and one-cancels-all groups (ocaGroup, ocaType), as TWS and IB run them.

* **Transmission.** An order placed with transmit=False is held in "TWS" with status Inactive: it cannot
  trade and adds no margin. A later order with transmit=True transmits itself together with its
  untransmitted parent (up the chain) and that parent's untransmitted children, parent first. This is how
  a bracket goes out as one: parent and take-profit with transmit=False, the stop-loss with True.
* **Attached orders.** A child (parentId = the parent's order id, same client) is held, status
  PreSubmitted, until its parent has filled something; it then works for the parent's filled quantity less
  what the children have filled already, so children never close more than the parent opened. A fill of
  one child reduces its siblings by as many shares, and a sibling reduced to nothing is cancelled: a
  take-profit's fill cancels the stop-loss. Cancelling a parent that has not filled cancels its children;
  a parent cancelled after a partial fill (an IOC's rest, a cancel, the end of the day) leaves its children
  working for what it did fill. A rejected parent takes its children with it.
* **OCA groups.** Orders with the same ocaGroup (across the account) form a group. A fill of one member, by
  ocaType: 1 cancels all other members; 2 and 3 reduce the others' remaining quantity in proportion (a
  member that filled 40 of its 100 leaves the others with 60 % of what they had), cancelling a member
  reduced to nothing. Types 1 and 2 are "with block": while one member's fill is running no other member
  trades, so the group cannot overfill; type 3 has no block. An ocaType of 0 (unset) acts as 1. A new
  order cannot join a type-1 group one of whose members has filled.

Children of one parent block each other the same way, so a split fill of one child cannot race its sibling.
"""

from __future__ import annotations

import math
from typing import Protocol

from .admission import OrderRejected
from .book import OrderBook, WorkingOrder
from .market import Quote
from .trailing import follow

CANCELS_ALL = (0, 1)  # ocaType 0 (unset) acts as 1
WITH_BLOCK = (0, 1, 2)


class LinkHost(Protocol):
    """What the links need of the trading desk."""

    def quote_for(self, order: WorkingOrder) -> Quote: ...

    def check_margin(self, order: WorkingOrder) -> None: ...  # raises OrderRejected

    def announce(self, order: WorkingOrder, open_order: bool) -> None: ...  # record it, send its state

    def match(self, order: WorkingOrder) -> None: ...

    def cancel_linked(self, order: WorkingOrder) -> None: ...  # cancelled by the system (orderStatus + 202)

    def reject(self, order: WorkingOrder, code: int, text: str) -> None: ...


class Links:
    def __init__(self, book: OrderBook, host: LinkHost) -> None:
        self._book = book
        self._host = host

    # --- entry ---------------------------------------------------------------------------------------
    def check_parent(self, client_id: int, parent_id: int) -> None:
        """An attached order names an order of the same client, as TWS requires (else error 135)."""
        if parent_id and self._book.get(client_id, parent_id) is None:
            raise OrderRejected(135, f"Can't find order with id = {parent_id}")

    def check_joins(self, order: WorkingOrder) -> None:
        """Whether the order can join its parent and OCA group; raises OrderRejected as TWS refuses it."""
        parent = self.parent(order)
        if parent is not None and parent.status == "Cancelled":
            raise OrderRejected(201, "Order rejected - reason:Parent order is being cancelled.")
        for member in self.oca_members(order):
            if member.oca_type in CANCELS_ALL and member.filled > 0:
                raise OrderRejected(
                    201, f"Order rejected - reason:The OCA group {order.oca_group!r} has already been filled.")

    def transmit(self, order: WorkingOrder) -> None:
        """Send the order and what it transmits along (see the module docstring); reject a parent's group
        when the parent fails the margin check."""
        sent = self._transmission(order)
        for member in sent:
            if self.parent(member) is None:
                try:
                    self._host.check_margin(member)
                except OrderRejected as exc:
                    self._host.reject(member, exc.code, exc.text)
                    return
            member.status = self.status_for(member)
            if member.is_trailing and not self.is_held(member):
                follow(member, self._host.quote_for(member))
            self._host.announce(member, open_order=True)
        for member in sent:
            self._host.match(member)

    def _transmission(self, order: WorkingOrder) -> list[WorkingOrder]:
        root = order
        while (parent := self.parent(root)) is not None and not parent.transmitted and parent.is_live:
            root = parent
        group = [root, *self._descendants(root)]
        return [o for o in group if o is order or (o.is_live and not o.transmitted)]

    def _descendants(self, order: WorkingOrder) -> list[WorkingOrder]:
        found = []
        for child in self.children(order):
            found += [child, *self._descendants(child)]
        return found

    # --- working -------------------------------------------------------------------------------------
    def status_for(self, order: WorkingOrder) -> str:
        """The status of a transmitted order: held children PreSubmitted, limits Submitted, else PreSubmitted."""
        if self._waits_for_parent(order):
            return "PreSubmitted"
        if order.triggered or order.order_type == "LMT":
            return "Submitted"
        return "PreSubmitted"

    def is_held(self, order: WorkingOrder) -> bool:
        """Not trading now: untransmitted, waiting for its parent's fill, or blocked by a linked order's fill."""
        if not order.transmitted or self._waits_for_parent(order):
            return True
        return any(other.filling for other in self._blockers(order))

    def workable(self, order: WorkingOrder) -> float:
        """How much the order may trade now: its remaining quantity, for a child at most what its parent
        filled and the children have not closed yet."""
        qty = order.remaining
        parent = self.parent(order)
        if parent is not None:
            open_part = parent.filled - sum(child.filled for child in self.children(parent))
            qty = min(qty, max(0.0, open_part))
        return qty

    def _waits_for_parent(self, order: WorkingOrder) -> bool:
        parent = self.parent(order)
        return parent is not None and parent.filled <= 0

    def _blockers(self, order: WorkingOrder) -> list[WorkingOrder]:
        linked = self.siblings(order)
        if order.oca_type in WITH_BLOCK:
            linked += self.oca_members(order)
        return linked

    # --- reactions -----------------------------------------------------------------------------------
    def after_fill(self, order: WorkingOrder, shares: float, remaining_before: float) -> None:
        """One execution of `order`: its children may work, its siblings and OCA group shrink."""
        for sibling in self.siblings(order):
            self._reduce(sibling, sibling.remaining - shares)
        members = self.oca_members(order)
        if order.oca_type in CANCELS_ALL:
            for member in members:
                self._reduce(member, 0.0)
        elif members and remaining_before > 0:
            kept = max(0.0, 1.0 - shares / remaining_before)
            for member in members:
                self._reduce(member, math.floor(member.remaining * kept + 1e-9))
        for child in self.children(order):
            self._start(child)

    def after_finish(self, order: WorkingOrder) -> None:
        """A fill of a still open order has run: what it blocked, and the rest of it, may trade now."""
        for other in [order, *self._blockers(order)]:
            self._host.match(other)

    def after_cancel(self, order: WorkingOrder) -> None:
        """`order` was cancelled or rejected: its children go too, or keep only what its fills opened."""
        children = self.children(order)
        open_part = order.filled - sum(child.filled for child in children)
        for child in children:
            self._reduce(child, min(child.remaining, open_part) if order.filled > 0 else 0.0)

    def _start(self, child: WorkingOrder) -> None:
        """The parent filled: a transmitted child works (for what it may trade now)."""
        if not child.is_live or not child.transmitted:
            return
        status = self.status_for(child)
        if status != child.status:
            child.status = status
            self._host.announce(child, open_order=False)
        self._host.match(child)

    def _reduce(self, order: WorkingOrder, remaining: float) -> None:
        if not order.is_live or remaining >= order.remaining:
            return
        if remaining <= 0:
            self._host.cancel_linked(order)
            return
        order.total_qty = order.filled + remaining
        self._host.announce(order, open_order=True)

    # --- lookups -------------------------------------------------------------------------------------
    def parent(self, order: WorkingOrder) -> WorkingOrder | None:
        if not order.parent_id:
            return None
        parent = self._book.get(order.client_id, order.parent_id)
        return parent if parent is not order else None

    def children(self, order: WorkingOrder) -> list[WorkingOrder]:
        return self._book.children(order)

    def siblings(self, order: WorkingOrder) -> list[WorkingOrder]:
        parent = self.parent(order)
        if parent is None:
            return []
        return [o for o in self.children(parent) if o is not order and o.is_live]

    def oca_members(self, order: WorkingOrder) -> list[WorkingOrder]:
        return [o for o in self._book.oca_group(order.oca_group) if o is not order and (o.is_live or o.filled > 0)]
