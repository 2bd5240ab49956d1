"""The Order Execution Module's usage example as a script, through ``IBKRBroker`` (no window).

It runs against the embedded paper gateway, or against your TWS / IB Gateway when IBTICKET_TWS_PORT (and
optionally IBTICKET_TWS_HOST, IBTICKET_CLIENT_ID) is set. The desktop app is ``python main.py``.
"""

from __future__ import annotations

import argparse
import sys
import time

from ibticket import IBKRBroker, OrderRecord, OrderStatus

DONE = (OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.ERROR)


def on_fill(order_record: OrderRecord) -> None:
    print(f"  fill: order {order_record.order_id} filled {order_record.filled_quantity} shares"
          f" @ avg {order_record.avg_fill_price:.2f} ({order_record.status.value})")


def on_error(order_record: OrderRecord, error_message: str) -> None:
    print(f"  error: order {order_record.order_id}: {error_message}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-dir", help="order log folder (default: your user log folder)")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to wait for fills")
    args = parser.parse_args(argv)

    broker = IBKRBroker(paper_trading=True, enable_order_execution=True, enable_order_logging=True,
                        log_dir=args.log_dir)
    print(f"Connecting to {broker.settings.describe()} ...")
    if not broker.connect():
        print(f"Failed to connect: {broker.last_error}", file=sys.stderr)
        broker.close()
        return 1
    try:
        print(f"Connected (port {broker.port}); order log: {broker.logger.log_dir if broker.logger else '-'}")
        broker.register_order_fill_callback(on_fill)
        broker.register_order_error_callback(on_error)

        order = broker.execute_market_order(symbol="AAPL", quantity=100, side="buy")
        print(f"Order submitted: {order.order_id}  Status: {order.status.value}")
        deadline = time.monotonic() + args.seconds
        while order.status not in DONE and time.monotonic() < deadline:
            time.sleep(0.5)
            order = broker.get_order_status(order.order_id)
        print(f"Final status: {order.status.value}  Filled: {order.filled_quantity}/{order.total_quantity}"
              f"  Avg fill price: ${order.avg_fill_price:.2f}")

        again = broker.execute_market_order("AAPL", 100, "buy")
        print(f"Same order again at once: {'refused' if again is None else 'sent'} ({broker.last_error})")

        limit = broker.execute_limit_order(symbol="MSFT", quantity=50, limit_price=1.00, side="buy")
        print(f"Resting limit order {limit.order_id}: {limit.status.value}; cancelling it")
        broker.cancel_order(limit.order_id)
        deadline = time.monotonic() + args.seconds
        while broker.get_order_status(limit.order_id).status not in DONE and time.monotonic() < deadline:
            time.sleep(0.2)
        print(f"Limit order {limit.order_id}: {broker.get_order_status(limit.order_id).status.value}")

        summary = broker.get_todays_order_summary()
        print(f"Orders today: {summary.get('total_orders')}  Filled: {summary.get('filled_orders')}  "
              f"Cancelled: {summary.get('cancelled_orders')}  Errors: {summary.get('error_orders')}")
        print(f"History of order {order.order_id}:")
        for line in broker.get_order_history(order.order_id):
            print("  ", line)
    finally:
        broker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
