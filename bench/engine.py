"""Engine benchmark: evaluation, the end-to-end `plan` and rendering speed, peak memory, on synthetic facts.

Prints JSON lines, each measured in a fresh process so the memory figures do not mix:
- {"bench": "evaluate", "facts", "items", "seconds", "items_per_s", "cpu_s", "items_per_cpu_s", "peak_rss_mb",
  "actions"} per size and shape of the facts: evaluate() alone on facts built beforehand; peak_rss_mb is the
  process peak including the facts. "facts": "pulled" is what the sync evaluates (the narrowed Odoo pull's
  invoices, without amounts and presentation details), "file" what `plan --facts FILE` evaluates (the
  invoices without presentation details), "whole" the facts with every detail a file holds.
- {"bench": "plan", "items", "actions", "load_s", "evaluate_s", "details_s", "render_s", "plan_s", their
  "..._cpu_s", "render_per_s", "render_per_cpu_s", "peak_rss_mb", "document_s", "document_peak_rss_mb"} per
  size: what `dunning plan --facts FILE --json` does, in one process: load a (version 2) facts file without
  the invoices' presentation details, evaluate, read those details again for the customers written to and
  evaluate again (`details_s`), render every message (`plan_s`, `peak_rss_mb`), then write the JSON plan
  (`document_...`). Times are wall clock; the `_cpu_s` ones (the process's CPU time) show how much of it
  was waiting for a core.
- {"bench": "render", "message", "invoices", "render_per_s"}: twice, for one customer's 5-invoice e-mail
  ("firm") and a 50-invoice hand-over pack with interest ("handover"), each rendered for many customers;
  messages per second of CPU time.

    python bench/engine.py                 # 100k and 1M items, then rendering
    python bench/engine.py --items 100000  # one size, then rendering
    python bench/engine.py --only render   # one kind of figure (evaluate, plan, render)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from connector.cli_common import plan_facts_file, render_subjects, renderer_for
from connector.config import load_settings
from connector.engine import action_key, evaluate, history_after
from connector.facts import facts_to_lines
from connector.history import History, HistoryBuilder, is_plain
from connector.legal import interest_due
from connector.model import (
    Company,
    Currency,
    CurrencyTotal,
    Escalate,
    Facts,
    Invoice,
    IssuedAction,
    Partner,
    PlannedItem,
    ReceivableItem,
    Remind,
    SettledItem,
    User,
)
from connector.planview import plan_json_chunks
from connector.policy import Level, Money
from connector.render import Renderer
from connector.resources import data_dir
from connector.sync import frozen_heap

TODAY = date(2026, 12, 1)
ITEMS_PER_CUSTOMER = 10
# Activities the people of a steady state have marked done by the next day.
PEOPLE_CHANNELS = frozenset({"phone", "letter"})
HISTORY_DAYS = 130  # longer than the oldest item is overdue: every case has its whole history
BLOCK_CUSTOMERS = 500  # customers simulated day by day; the rest repeat their history with new ids
NO_AMOUNT = Decimal(0)  # a narrowed pull's invoice amounts, one shared zero


COMPANY = Company(id=1, name="Suministros Ebro S.L.", currency="EUR", vat="ESB50123456", street="Calle del Coso 42",
                  zip="50004", city="Zaragoza", country_code="ES", email="cobros@suministros-ebro.example",
                  phone="+34 976 123 456", iban="ES91 2100 0418 4502 0005 1332")
SALESPERSON = User(id=2, login="ana", name="Ana García")


def synthetic_facts(n_items: int, seed: int = 7, items_per_customer: int = ITEMS_PER_CUSTOMER,
                    history: bool = True, invoices: str = "whole") -> Facts:
    """`n_items` open items, 10 per customer by default, with the history daily runs would have left.

    `invoices`: "whole", with every detail a facts file holds; "read", as `plan --facts` evaluates them
    (`load_facts(details=False)`: no references, terms or portal link); "pulled", as the sync's narrowed
    Odoo pull hands them to the engine before `add_details` (no amounts either).

    The history comes from `steady_history`: a block of customers run day by day through the engine,
    then repeated with new ids, so its shape (one action per case and level, calls and letters done,
    hand-over tasks open) is the engine's own and the figures reflect a real day of a long-running job.
    """
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
    settled: list[SettledItem] = []
    langs = ("es_ES", "en_US", "fr_FR")
    amounts = [Decimal(f"{rng.randint(50, 9000)}.{rng.randint(0, 99):02d}") for _ in range(512)]
    # One block of customers is drawn; every further block repeats it with new ids (see steady_history).
    since = [rng.randint(30, 3000) for _ in range(BLOCK_CUSTOMERS)]
    paid = [[(due, due + rng.randint(-5, 40)) for due in (-rng.randint(60, 400), -rng.randint(60, 400))]
            for _ in range(BLOCK_CUSTOMERS)]
    # A customer's invoices fall due over five weeks from their oldest one, whose age is spread evenly
    # over the ladder, so that on any day some customers reach each level.
    oldest = [rng.randint(-75, 25) for _ in range(BLOCK_CUSTOMERS)]
    dues = [oldest[n // items_per_customer] + rng.randint(0, 35) for n in range(BLOCK_CUSTOMERS * items_per_customer)]
    customers = -(-n_items // items_per_customer)
    for pid in range(1, customers + 1):
        position = (pid - 1) % BLOCK_CUSTOMERS
        # With what a formal letter must carry, so the bench renders letters rather than refusing them.
        partners[pid] = Partner(id=pid, name=f"Cliente {pid} S.L.", lang=langs[pid % 3],
                                customer_since=day(-since[position]), vat=f"ESB{pid:08d}", street="Calle Mayor 1",
                                zip="50001", city="Zaragoza", country_code="ES",
                                email=f"facturas@cliente{pid}.example", salesperson=SALESPERSON)
        for s, (due_offset, paid_offset) in enumerate(paid[position]):
            settled.append(SettledItem(id=pid * 100 + s, partner_id=pid, invoice_number=f"S{pid}-{s}",
                                       due_date=day(due_offset), paid_date=day(paid_offset),
                                       amount=amounts[s], currency="EUR"))
    partner_ids = list(partners)  # the partners' own id objects, shared as the adapters share them
    for index in range(n_items):
        item_id, pid = index + 1, partner_ids[index // items_per_customer]
        position = index % len(dues)
        due_offset = dues[position]
        due = day(due_offset)
        amount = amounts[position % len(amounts)]
        if invoices == "whole":
            invoice = Invoice(id=item_id, number=f"INV/2026/{item_id:07d}", partner_id=pid,
                              invoice_date=day(due_offset - 30), due_date=due, amount_total=amount,
                              residual=amount, currency="EUR", customer_ref=f"PO-{item_id}", payment_term="30 días",
                              portal_url=f"https://erp.example/my/invoices/{item_id}")
        elif invoices == "read":
            invoice = Invoice(id=item_id, number=f"INV/2026/{item_id:07d}", partner_id=pid,
                              invoice_date=day(due_offset - 30), due_date=due, amount_total=amount,
                              residual=amount, currency="EUR")
        else:
            invoice = Invoice(id=item_id, number=f"INV/2026/{item_id:07d}", partner_id=pid,
                              invoice_date=day(due_offset - 30), due_date=due, amount_total=NO_AMOUNT,
                              residual=NO_AMOUNT, currency="EUR")
        items.append(ReceivableItem(id=item_id, partner_id=pid, invoice=invoice, due_date=due, amount=amount,
                                    residual=amount, currency="EUR", disputed=position % 97 == 96))
    facts = Facts(company=COMPANY, partners=partners,
                  items=tuple(items), settled=tuple(settled), currencies={"EUR": Currency("EUR", 2, "€")})
    return replace(facts, issued=steady_history(facts, items_per_customer)) if history else facts


def steady_history(facts: Facts, items_per_customer: int) -> History:
    """What daily runs up to yesterday issued for these facts, as the ERP reports it back today.

    One block of customers is run through `evaluate` for each day before TODAY (items exist from their
    invoice date); the people mark calls and letters done the next day, hand-over tasks stay open.
    Each following block of customers has the same items in the same order, so it repeats the first
    block's history with its own partner and item ids (and keys computed as the engine does).
    """
    policy = load_settings(data_dir("samples") / "config.example.toml", TODAY).policy
    block_items = BLOCK_CUSTOMERS * items_per_customer
    first = [i for i in facts.items if i.partner_id <= BLOCK_CUSTOMERS]
    issued: tuple[IssuedAction, ...] = ()
    for offset in range(-HISTORY_DAYS, 0):
        on = TODAY + timedelta(days=offset)
        existing = tuple(i for i in first if i.invoice.invoice_date <= on)
        plan = evaluate(policy, replace(facts, items=existing, issued=issued), on)
        issued = tuple(replace(a, open=False) if a.open and a.channel in PEOPLE_CHANNELS else a
                       for a in history_after(issued, plan))
    n_items = len(facts.items)
    # Built step by step, as the facts loader builds it (no IssuedAction for a plain closed step).
    out = HistoryBuilder()
    for action in issued:
        out.add(action)
    # Item ids are their positions + 1; the history names the items' own id objects, as load_facts does.
    item_ids = [item.id for item in facts.items]
    for block in range(1, -(-len(facts.items) // block_items)):
        shift_p, shift_i = block * BLOCK_CUSTOMERS, block * block_items
        for action in issued:
            ids = tuple(item_ids[i + shift_i - 1] for i in action.item_ids if i + shift_i <= n_items)
            if not ids:
                continue
            prefix = "escalate" if action.kind == "escalate" else "remind"
            pid = action.partner_id + shift_p
            key = action_key(prefix, pid, action.level, ids)
            whole = None if is_plain(action) else replace(action, key=key, partner_id=pid, item_ids=ids)
            out.add_step(key, action.kind, action.level, action.channel, pid, ids, action.date, action.ref, whole)
    return out.build()


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_evaluate(n_items: int, shape: str) -> dict[str, Any]:
    """evaluate() on facts of one shape: "pulled" as the sync evaluates them (without the invoices' amounts and
    presentation details, read afterwards for the customers written to), "file" as `plan --facts` evaluates a
    facts file (without the presentation details, read again for the customers written to), "whole" with
    every detail a facts file holds (as `plan --facts` evaluated it before it read the file in two passes)."""
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    facts = synthetic_facts(n_items, invoices={"pulled": "pulled", "file": "read", "whole": "whole"}[shape])
    with frozen_heap():  # as sync.pull_and_plan evaluates
        started, cpu_started = time.perf_counter(), time.process_time()
        plan = evaluate(settings.policy, facts, TODAY)
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    return {"bench": "evaluate", "facts": shape, "items": len(facts.items), "seconds": round(seconds, 3),
            "items_per_s": round(len(facts.items) / seconds), "cpu_s": round(cpu_s, 3),
            "items_per_cpu_s": round(len(facts.items) / cpu_s), "peak_rss_mb": peak_rss_mb(),
            "actions": len(plan.actions)}


def write_facts(n_items: int, path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(facts_to_lines(synthetic_facts(n_items)))


def run_plan(path: Path) -> dict[str, Any]:
    """The steps of `dunning plan --facts FILE --json`, timed one by one (the document goes nowhere).

    `plan_s` and `peak_rss_mb` cover loading, evaluating and rendering every message (the peak is read
    before the JSON document exists); `document_s` and `document_peak_rss_mb` add writing the `--json`
    document, which names every skipped item, in pieces as the command writes it.
    """
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    clock, cpu = time.perf_counter, time.process_time
    marks = [(clock(), cpu())]
    facts, plan = plan_facts_file(str(path), settings.policy, TODAY,
                                  step_done=lambda _step: marks.append((clock(), cpu())))
    subjects = render_subjects(plan, facts, renderer_for(settings))
    marks.append((clock(), cpu()))
    peak = peak_rss_mb()
    with open(os.devnull, "w", encoding="utf-8") as out:
        out.writelines(plan_json_chunks(plan, subjects))
    marks.append((clock(), cpu()))
    (wall, cpu_s) = zip(*marks, strict=True)
    render_wall, render_cpu = wall[4] - wall[3], cpu_s[4] - cpu_s[3]
    return {"bench": "plan", "items": len(facts.items), "actions": len(plan.actions),
            "load_s": round(wall[1] - wall[0], 2), "evaluate_s": round(wall[2] - wall[1], 2),
            "details_s": round(wall[3] - wall[2], 2), "render_s": round(render_wall, 2),
            "plan_s": round(wall[4] - wall[0], 2), "load_cpu_s": round(cpu_s[1] - cpu_s[0], 2),
            "evaluate_cpu_s": round(cpu_s[2] - cpu_s[1], 2), "details_cpu_s": round(cpu_s[3] - cpu_s[2], 2),
            "render_cpu_s": round(render_cpu, 2), "plan_cpu_s": round(cpu_s[4] - cpu_s[0], 2),
            "render_per_s": round(len(subjects) / render_wall), "render_per_cpu_s": round(len(subjects) / render_cpu),
            "peak_rss_mb": peak, "document_s": round(wall[5] - wall[4], 2), "document_peak_rss_mb": peak_rss_mb()}


def level_actions(facts: Facts, level: Level, kind: type[Remind | Escalate], money: Money) -> list[Remind | Escalate]:
    """One action per customer at `level` for all their items, with interest when the level charges it."""
    by_partner: dict[int, list[ReceivableItem]] = defaultdict(list)
    for item in facts.items:
        by_partner[item.partner_id].append(item)
    actions: list[Remind | Escalate] = []
    for pid, items in by_partner.items():
        planned = []
        for item in items:
            interest, periods = (interest_due("business", item.residual, item.due_date, TODAY, money,
                                              facts.currency("EUR"))
                                 if level.interest else (Decimal(0), ()))
            planned.append(PlannedItem(item=item, days_late=(TODAY - item.due_date).days, interest=interest,
                                       interest_periods=periods,
                                       compensation=Decimal(40) if level.compensation else Decimal(0)))
        total = CurrencyTotal("EUR", sum((p.item.residual for p in planned), Decimal(0)),
                              sum((p.interest for p in planned), Decimal(0)),
                              sum((p.compensation for p in planned), Decimal(0)))
        actions.append(kind(key=f"bench_{pid}_{level.name}", level=level.name, level_index=0, channel=level.channel,
                            deliver=level.deliver, template=level.template, partner=facts.partners[pid],
                            segment="standard", items=tuple(planned), totals=(total,), assignee="lucia.martin",
                            deadline=TODAY, reason="bench"))
    return actions


def messages_per_s(renderer: Renderer, facts: Facts, actions: list[Remind | Escalate], seconds: float) -> float:
    """Render the actions round robin for about `seconds` of CPU time (after one warm-up round).

    CPU time, not wall time: the figure stays comparable on a machine that other work shares."""
    for action in actions:
        renderer.render(action, facts, TODAY)
    count, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        for action in actions:
            renderer.render(action, facts, TODAY)
        count += len(actions)
    return round(count / (time.process_time() - started), 1)


def run_render() -> list[dict[str, Any]]:
    settings = load_settings(data_dir("samples") / "config.example.toml", TODAY)
    levels = {level.name: level for level in settings.policy.levels}
    renderer = renderer_for(settings)
    money = settings.policy.money
    results = []
    for level, kind, invoices, customers in (("firm", Remind, 5, 200), ("handover", Escalate, 50, 40)):
        facts = synthetic_facts(invoices * customers, items_per_customer=invoices)
        actions = level_actions(facts, levels[level], kind, money)
        results.append({"bench": "render", "message": level, "invoices": invoices,
                        "render_per_s": messages_per_s(renderer, facts, actions, 5)})
    return results


def _size_and_shape(argument: str) -> tuple[int, str]:
    size, shape = argument.split(":", 1)
    return int(size), shape


def in_fresh_process(*args: str) -> None:
    subprocess.run([sys.executable, __file__, "--in-process", *args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, action="append", help="size to run (repeatable)")
    parser.add_argument("--only", choices=("evaluate", "plan", "render"), action="append",
                        help="kind of figure (repeatable; all by default)")
    parser.add_argument("--in-process", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_process:
        step, argument = args.in_process
        if step == "write-facts":
            size, path = argument.split(":", 1)
            write_facts(int(size), Path(path))
            return
        result = {"evaluate": lambda: run_evaluate(*_size_and_shape(argument)),
                  "plan": lambda: run_plan(Path(argument)), "render": run_render}[step]()
        for line in result if isinstance(result, list) else [result]:
            print(json.dumps(line), flush=True)
        return
    kinds = args.only or ["evaluate", "plan", "render"]
    for size in args.items or [100_000, 1_000_000]:
        if "evaluate" in kinds:
            for shape in ("pulled", "file", "whole"):
                in_fresh_process("evaluate", f"{size}:{shape}")
        if "plan" in kinds:
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / f"facts-{size}.json"
                in_fresh_process("write-facts", f"{size}:{path}")
                in_fresh_process("plan", str(path))
    if "render" in kinds:
        in_fresh_process("render", "-")


if __name__ == "__main__":
    main()
