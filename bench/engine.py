"""Engine benchmark: evaluation speed and peak memory on synthetic facts, rendering speed on a sample.

Prints one JSON line per size: {"items", "seconds", "items_per_s", "peak_rss_mb", "actions", "render_per_s"}.
`seconds` times evaluate() only (facts built beforehand); peak_rss_mb is the process peak including the facts.
Each size runs in a fresh process so the memory figures do not mix.

    python bench/engine.py                 # 100k and 1M items
    python bench/engine.py --items 100000  # one size
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.config import load_settings
from connector.engine import evaluate
from connector.model import (
    Company,
    Currency,
    Escalate,
    Facts,
    Invoice,
    IssuedAction,
    Partner,
    ReceivableItem,
    Remind,
    SettledItem,
)
from connector.resources import data_dir
from connector.sync import frozen_heap

TODAY = date(2026, 12, 1)
ITEMS_PER_CUSTOMER = 10
SCHEDULE = (("friendly", 1), ("firm", 10), ("call", 20), ("letter", 30), ("handover", 45))


def synthetic_facts(n_items: int, seed: int = 7) -> Facts:
    rng = random.Random(seed)
    # Dates are shared objects, as the adapters and the facts loader hand them out (parsed once each).
    days: dict[int, date] = {}

    def day(offset: int) -> date:
        found = days.get(offset)
        if found is None:
            found = days[offset] = TODAY + timedelta(days=offset)
        return found

    partners: dict[int, Partner] = {}
    items: list[ReceivableItem] = []
    issued: list[IssuedAction] = []
    settled: list[SettledItem] = []
    langs = ("es_ES", "en_US", "fr_FR")
    amounts = [Decimal(f"{rng.randint(50, 9000)}.{rng.randint(0, 99):02d}") for _ in range(512)]
    for pid in range(1, n_items // ITEMS_PER_CUSTOMER + 1):
        partners[pid] = Partner(id=pid, name=f"Cliente {pid} S.L.", lang=langs[pid % 3],
                                customer_since=day(-rng.randint(30, 3000)))
        for s in range(2):
            due_offset = -rng.randint(60, 400)
            settled.append(SettledItem(id=pid * 100 + s, partner_id=pid, invoice_number=f"S{pid}-{s}",
                                       due_date=day(due_offset), paid_date=day(due_offset + rng.randint(-5, 40)),
                                       amount=amounts[s], currency="EUR"))
    item_id = 0
    for pid in partners:
        for _ in range(ITEMS_PER_CUSTOMER):
            item_id += 1
            if item_id > n_items:
                break
            due_offset = rng.randint(-80, 30)
            due = day(due_offset)
            amount = amounts[item_id % len(amounts)]
            invoice = Invoice(id=item_id, number=f"INV/2026/{item_id:07d}", partner_id=pid,
                              invoice_date=day(due_offset - 30), due_date=due, amount_total=amount,
                              residual=amount, currency="EUR")
            items.append(ReceivableItem(id=item_id, partner_id=pid, invoice=invoice, due_date=due, amount=amount,
                                        residual=amount, currency="EUR", disputed=item_id % 97 == 0))
            # Steady state of daily runs: every level whose date has passed was issued on that date.
            item_ids = (item_id,)  # shared by the item's history entries, as the facts loaders do
            for name, offset in SCHEDULE:
                sent = day(due_offset + offset)
                if sent >= TODAY or item_id % 50 == 0:  # one item in 50 has never been reminded
                    break
                # Keys as long as the engine's: remind_<partner>_<level>_<12 hex digits>.
                issued.append(IssuedAction(key=f"remind_{pid}_{name}_{item_id:012x}", kind="remind", level=name,
                                           channel="email", partner_id=pid, item_ids=item_ids, date=sent))
    return Facts(company=Company(id=1, name="Suministros Ebro S.L.", currency="EUR"), partners=partners,
                 items=tuple(items), settled=tuple(settled), issued=tuple(issued),
                 currencies={"EUR": Currency("EUR", 2, "€")})


def run_one(n_items: int) -> dict[str, float | int]:
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    facts = synthetic_facts(n_items)
    with frozen_heap():  # as sync.pull_and_plan evaluates
        started = time.perf_counter()
        plan = evaluate(settings.policy, facts, TODAY)
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    render_per_s = 0.0
    from connector.render import Renderer

    renderer = Renderer(settings.templates_dir, settings.language)
    sample = [a for a in plan.actions if isinstance(a, (Remind, Escalate))][:300]
    started = time.perf_counter()
    for action in sample:
        renderer.render(action, facts, TODAY)
    render_per_s = len(sample) / (time.perf_counter() - started) if sample else 0.0
    return {"items": len(facts.items), "seconds": round(seconds, 3), "items_per_s": round(len(facts.items) / seconds),
            "peak_rss_mb": round(peak_mb, 1), "actions": len(plan.actions), "render_per_s": round(render_per_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, action="append", help="size to run (repeatable)")
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = args.items or [100_000, 1_000_000]
    if args.in_process:
        for size in sizes:
            print(json.dumps(run_one(size)), flush=True)
        return
    for size in sizes:
        subprocess.run([sys.executable, __file__, "--in-process", "--items", str(size)], check=True)


if __name__ == "__main__":
    main()
