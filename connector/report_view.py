"""Report presentation: the JSON document, terminal tables and one self-contained HTML page. No I/O.

The page is plain HTML + CSS with charts drawn as inline SVG: no scripts, no fonts or files fetched,
so it opens offline and prints on A4. Every chart has a `<title>` and `aria-label`, and its numbers
are repeated in a table next to it. Labels are Spanish or English (other languages fall back to
English); numbers and dates are formatted by Babel for that language.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from html import escape
from typing import Any

from babel import Locale
from babel.dates import format_date

from connector.report import (
    BUCKETS,
    EFFECTIVENESS_WINDOWS,
    Aging,
    Amount,
    Kpis,
    LevelEffectiveness,
    OpenRecord,
    PromiseState,
    Report,
    Statement,
    StatementSection,
    WorkItem,
)

LOCALES = {"es": "es_ES", "en": "en_US"}

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Receivables report",
        "as_of": "As of {date}",
        "period": "Period: the last {days} days ({start} \u2013 {end})",
        "currency_note": "Headline figures in {currency}, the company currency. Other currencies are shown "
                         "apart and never added to it.",
        "summary": "Summary",
        "aging": "Aging of open receivables",
        "aging_customers": "Aging by customer",
        "trend": "DSO by month (last 12 months)",
        "debtors": "Top debtors by overdue amount",
        "levels": "Dunning effectiveness by level",
        "customers": "Customers: payment score and open matters",
        "definitions": "Definitions",
        "receivables": "Open receivables",
        "current": "Not yet due",
        "overdue": "Overdue",
        "credit_sales": "Credit sales in the period",
        "opening": "Receivables at the start of the period",
        "dso": "DSO (standard method)",
        "countback": "DSO (count-back method)",
        "best": "Best possible DSO",
        "add": "Average days delinquent (ADD)",
        "wdpd": "Weighted days past due of overdue items",
        "cei": "Collection effectiveness index (CEI)",
        "days": "{n} days",
        "at_least": "at least {n} days",
        "not_due": "Not due",
        "1_30": "1\u201330 days",
        "31_60": "31\u201360 days",
        "61_90": "61\u201390 days",
        "91_120": "91\u2013120 days",
        "older": "Over 120",
        "credits": "Unapplied credits",
        "net": "Net",
        "total": "Total",
        "disputed": "Disputed",
        "currency": "Currency",
        "customer": "Customer",
        "segment": "Segment",
        "oldest": "Oldest (days past due)",
        "level": "Level",
        "reminded": "Items reminded",
        "reminded_amount": "Amount reminded",
        "items": "items",
        "scores": "Payment score (as the engine segments customers)",
        "matters": "Open matters",
        "within": "Paid within {n} days: share of the amount (items paid of counted)",
        "window_cell": "{share} ({paid} of {counted})",
        "avg_late": "Avg. days late",
        "on_time": "Paid on time",
        "since": "Customer since",
        "paid_count": "Paid instalments",
        "broken": "Broken promises",
        "disputes": "Disputes",
        "promises": "Promises to pay",
        "flags": "Not chased because",
        "flag_exempt": "exempt customer",
        "flag_disputed": "disputed",
        "flag_below_tolerance": "below tolerance",
        "promise_pending": "pending",
        "promise_kept": "kept",
        "promise_broken": "broken",
        "worklist": "Worklist: what each customer's case needs next",
        "wl_level": "Level reached",
        "wl_step": "Next step",
        "wl_when": "When",
        "wl_responsible": "Responsible",
        "wl_late": "Open past deadline",
        "wl_frozen": "With the agency",
        "wl_none": "No customer has anything open.",
        "wl_never": "not contacted yet",
        "wl_late_cell": "{level} for {who} since {deadline} ({days} d)",
        "wl_frozen_cell": "since {date}, {who}",
        "wl_nobody": "unassigned",
        "wl_note": "Read from today's plan: the same decisions “dunning plan” shows. Open past deadline: "
                   "reminder activities and hand-over tasks not marked done by their deadline.",
        "step_today": "today: {level}",
        "step_today_first": "today: {level} (first contact, by the age of the debt)",
        "step_waiting": "waiting for a person to mark '{level}' done",
        "step_frozen": "frozen: handed over",
        "step_promise": "paused by a promise to pay",
        "step_pressure": "contacted recently: next contact later",
        "step_calendar": "'{level}' on the next business day",
        "step_scheduled": "'{level}' when due",
        "step_below_amount": "'{level}' only above its amount",
        "step_done": "every level done (last: '{level}')",
        "step_no_level": "no level applies",
        "step_credits": "credits cover it: reconcile",
        "step_disputed": "disputed",
        "step_exempt": "exempt customer",
        "step_": "nothing to chase",
        "statement": "Statement of account",
        "statement_for": "{customer} · as of {date}",
        "statement_note": "Open invoices and unapplied credits; the balance runs down the table. Payments made "
                          "after this date may not be shown yet.",
        "st_document": "Document",
        "st_date": "Date",
        "st_due": "Due",
        "st_amount": "Amount",
        "st_paid": "Paid",
        "st_open": "Open",
        "st_days_late": "Days late",
        "st_balance": "Balance",
        "st_credit_note": "Credit note",
        "st_payment": "Payment on account",
        "st_disputed": "(disputed)",
        "st_total": "Balance due in {currency}: {balance}; of which overdue: {overdue}",
        "st_empty": "Nothing is open: the account is settled.",
        "open": "Open",
        "month": "Month",
        "ar": "Receivables",
        "sales": "Credit sales ({n} days)",
        "metric": "Figure",
        "na": "n/a",
        "none": "Nothing to show.",
        "no_reminders": "No reminders in the connector's history yet.",
        "no_debtors": "No customer has overdue items.",
        "untracked": "{n} reminded item(s) are no longer in the facts and are left out.",
        "chart_aging": "Open receivables in {currency} by days past due",
        "chart_trend": "DSO in days at each month end, {currency}",
        "chart_debtors": "Customers with the largest overdue amounts in {currency}",
        "chart_levels": "Share of reminded amounts paid within 7, 14 and 30 days, by level ({currency})",
        "recent_note": "Reminders younger than the window are left out of it; items still open count as unpaid.",
        "def_dso": "DSO = receivables today / credit sales of the period \u00d7 days in the period.",
        "def_countback": "Count-back DSO: walking back month by month, the days of credit sales it takes to "
                         "add up to today's receivables.",
        "def_best": "Best possible DSO = receivables not yet due / credit sales \u00d7 days; ADD = DSO \u2212 best "
                    "possible DSO.",
        "def_cei": "CEI = (receivables at start + credit sales \u2212 receivables today) / (receivables at start + "
                   "credit sales \u2212 receivables not yet due today).",
        "def_history": "Past balances are rebuilt from invoices and their payment dates; partial payments of "
                       "items still open have no date and are taken as recent, and credits applied in the past "
                       "are not known, so past balances may be slightly high.",
    },
    "es": {
        "title": "Informe de cuentas a cobrar",
        "as_of": "A fecha de {date}",
        "period": "Periodo: los últimos {days} días ({start} \u2013 {end})",
        "currency_note": "Cifras principales en {currency}, la moneda de la empresa. Las demás monedas se "
                         "muestran aparte y nunca se suman a ella.",
        "summary": "Resumen",
        "aging": "Antigüedad del saldo pendiente",
        "aging_customers": "Antigüedad por cliente",
        "trend": "DSO por mes (últimos 12 meses)",
        "debtors": "Principales deudores por importe vencido",
        "levels": "Eficacia de las reclamaciones por nivel",
        "customers": "Clientes: puntuación de pago y asuntos abiertos",
        "definitions": "Definiciones",
        "receivables": "Saldo pendiente de cobro",
        "current": "No vencido",
        "overdue": "Vencido",
        "credit_sales": "Ventas a crédito del periodo",
        "opening": "Saldo al inicio del periodo",
        "dso": "DSO (método estándar)",
        "countback": "DSO (método de agotamiento)",
        "best": "DSO mínimo posible",
        "add": "Días medios de retraso (ADD)",
        "wdpd": "Días vencidos ponderados de las partidas vencidas",
        "cei": "Índice de eficacia de cobro (CEI)",
        "days": "{n} días",
        "at_least": "al menos {n} días",
        "not_due": "No vencido",
        "1_30": "1\u201330 días",
        "31_60": "31\u201360 días",
        "61_90": "61\u201390 días",
        "91_120": "91\u2013120 días",
        "older": "Más de 120",
        "credits": "Créditos sin aplicar",
        "net": "Neto",
        "total": "Total",
        "disputed": "En disputa",
        "currency": "Moneda",
        "customer": "Cliente",
        "segment": "Segmento",
        "oldest": "Máx. días vencido",
        "level": "Nivel",
        "reminded": "Partidas reclamadas",
        "reminded_amount": "Importe reclamado",
        "items": "partidas",
        "scores": "Puntuación de pago (con la que el motor segmenta a los clientes)",
        "matters": "Asuntos abiertos",
        "within": "Pagado en {n} días: parte del importe (partidas pagadas de las contadas)",
        "window_cell": "{share} ({paid} de {counted})",
        "avg_late": "Retraso medio (días)",
        "on_time": "Pagado a tiempo",
        "since": "Cliente desde",
        "paid_count": "Cuotas pagadas",
        "broken": "Promesas incumplidas",
        "disputes": "Disputas",
        "promises": "Promesas de pago",
        "flags": "No se reclama por",
        "flag_exempt": "cliente exento",
        "flag_disputed": "en disputa",
        "flag_below_tolerance": "bajo la tolerancia",
        "promise_pending": "pendiente",
        "promise_kept": "cumplida",
        "promise_broken": "incumplida",
        "worklist": "Lista de trabajo: qué necesita cada expediente",
        "wl_level": "Nivel alcanzado",
        "wl_step": "Siguiente paso",
        "wl_when": "Cuándo",
        "wl_responsible": "Responsable",
        "wl_late": "Abiertas fuera de plazo",
        "wl_frozen": "En la agencia",
        "wl_none": "Ningún cliente tiene nada abierto.",
        "wl_never": "sin contactar aún",
        "wl_late_cell": "{level} de {who} desde {deadline} ({days} d)",
        "wl_frozen_cell": "desde {date}, {who}",
        "wl_nobody": "sin asignar",
        "wl_note": "Leído del plan de hoy: las mismas decisiones que muestra «dunning plan». Abiertas fuera de "
                   "plazo: actividades de reclamación y tareas de traspaso no marcadas como hechas en su plazo.",
        "step_today": "hoy: {level}",
        "step_today_first": "hoy: {level} (primer contacto, por la antigüedad de la deuda)",
        "step_waiting": "esperando a que alguien marque «{level}» como hecha",
        "step_frozen": "congelado: traspasado",
        "step_promise": "en pausa por una promesa de pago",
        "step_pressure": "contactado hace poco: el siguiente contacto, después",
        "step_calendar": "«{level}» el próximo día hábil",
        "step_scheduled": "«{level}» a su vencimiento",
        "step_below_amount": "«{level}» solo por encima de su importe",
        "step_done": "todos los niveles hechos (último: «{level}»)",
        "step_no_level": "no se aplica ningún nivel",
        "step_credits": "los créditos lo cubren: conciliar",
        "step_disputed": "en disputa",
        "step_exempt": "cliente exento",
        "step_": "nada que reclamar",
        "statement": "Extracto de cuenta",
        "statement_for": "{customer} · a fecha de {date}",
        "statement_note": "Facturas pendientes y abonos sin aplicar; el saldo se acumula a lo largo de la tabla. "
                          "Los pagos posteriores a esta fecha pueden no figurar todavía.",
        "st_document": "Documento",
        "st_date": "Fecha",
        "st_due": "Vencimiento",
        "st_amount": "Importe",
        "st_paid": "Pagado",
        "st_open": "Pendiente",
        "st_days_late": "Días de retraso",
        "st_balance": "Saldo",
        "st_credit_note": "Abono",
        "st_payment": "Pago a cuenta",
        "st_disputed": "(en disputa)",
        "st_total": "Saldo pendiente en {currency}: {balance}; vencido: {overdue}",
        "st_empty": "No hay nada pendiente: la cuenta está al día.",
        "open": "Pendiente",
        "month": "Mes",
        "ar": "Saldo",
        "sales": "Ventas a crédito ({n} días)",
        "metric": "Cifra",
        "na": "s. d.",
        "none": "Nada que mostrar.",
        "no_reminders": "Todavía no hay reclamaciones en el historial del conector.",
        "no_debtors": "Ningún cliente tiene partidas vencidas.",
        "untracked": "{n} partida(s) reclamada(s) ya no están en los datos y no se cuentan.",
        "chart_aging": "Saldo pendiente en {currency} por días vencidos",
        "chart_trend": "DSO en días al cierre de cada mes, {currency}",
        "chart_debtors": "Clientes con mayor importe vencido en {currency}",
        "chart_levels": "Parte del importe reclamado pagada en 7, 14 y 30 días, por nivel ({currency})",
        "recent_note": "Las reclamaciones más recientes que la ventana no cuentan en ella; las partidas aún "
                       "abiertas cuentan como no pagadas.",
        "def_dso": "DSO = saldo pendiente hoy / ventas a crédito del periodo \u00d7 días del periodo.",
        "def_countback": "DSO por agotamiento: retrocediendo mes a mes, los días de ventas a crédito necesarios "
                         "para sumar el saldo pendiente de hoy.",
        "def_best": "DSO mínimo posible = saldo no vencido / ventas a crédito \u00d7 días; ADD = DSO \u2212 DSO mínimo "
                    "posible.",
        "def_cei": "CEI = (saldo inicial + ventas a crédito \u2212 saldo de hoy) / (saldo inicial + ventas a crédito "
                   "\u2212 saldo no vencido de hoy).",
        "def_history": "Los saldos pasados se reconstruyen con las facturas y sus fechas de pago; los pagos "
                       "parciales de partidas aún abiertas no tienen fecha y se toman como recientes, y los "
                       "créditos aplicados en el pasado no se conocen, así que los saldos pasados pueden salir "
                       "algo altos.",
    },
}


# The segment names of the example configuration, in Spanish; a segment named otherwise shows its own name.
SEGMENT_LABELS_ES = {
    "late_payer": "pagador tardío",
    "promise_breaker": "incumple promesas",
    "new": "cliente nuevo",
    "reliable": "cumplidor",
    "standard": "estándar",
}


def report_language(language: str) -> str:
    """'es' for any Spanish (es, es_AR, es-MX), else 'en'."""
    return "es" if language.replace("-", "_").split("_")[0].lower() == "es" else "en"


class _Format:
    """Labels and Babel formatting for one language; `plain` turns no-break spaces into spaces."""

    def __init__(self, decimals: Mapping[str, int], language: str, plain: bool) -> None:
        self.lang = report_language(language)
        self.labels = LABELS[self.lang]
        self.locale = Locale.parse(LOCALES[self.lang])
        self.decimals = decimals
        self.plain = plain

    def __call__(self, key: str, **values: object) -> str:
        text = self.labels[key]
        return text.format(**values) if values else text

    def _tidy(self, text: str) -> str:
        return text.replace("\u00a0", " ").replace("\u202f", " ") if self.plain else text

    def money(self, amount: Decimal, currency: str, decimals: int | None = None) -> str:
        if decimals is None:
            decimals = self.decimals.get(currency, 2)
        pattern = copy.copy(self.locale.currency_formats["standard"])
        pattern.frac_prec = (decimals, decimals)
        return self._tidy(pattern.apply(amount, self.locale, currency=currency, currency_digits=False))

    def number(self, value: Decimal | int, decimals: int = 1) -> str:
        pattern = copy.copy(self.locale.decimal_formats[None])
        pattern.frac_prec = (decimals, decimals)
        return self._tidy(pattern.apply(value, self.locale))

    def days(self, value: Decimal | None, complete: bool = True) -> str:
        if value is None:
            return self("na")
        return self("days" if complete else "at_least", n=self.number(value))

    def share(self, value: Decimal | None, decimals: int = 1) -> str:
        if value is None:
            return self("na")
        pattern = copy.copy(self.locale.percent_formats[None])
        pattern.frac_prec = (decimals, decimals)
        return self._tidy(pattern.apply(value, self.locale))

    def day(self, value: date | None, form: str = "medium") -> str:
        return self("na") if value is None else self._tidy(format_date(value, format=form, locale=self.locale))

    def month(self, value: date) -> str:
        return self._tidy(format_date(value, format="MMM yy", locale=self.locale))

    def segment(self, name: str) -> str:
        return SEGMENT_LABELS_ES.get(name, name) if self.lang == "es" else name.replace("_", " ")

    def flags(self, flags: Sequence[str]) -> str:
        return ", ".join(self(f"flag_{flag}") for flag in flags) or "\u2013"

    def amounts(self, values: Sequence[Amount]) -> str:
        return " + ".join(self.money(a.value, a.currency) for a in values) if values else "\u2013"


# ------------------------------------------------------------------------------------------ JSON


def _s(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _aging_json(aging: Aging) -> dict[str, Any]:
    return {
        "currency": aging.currency,
        "buckets": {key: str(amount) for (key, _, _), amount in zip(BUCKETS, aging.buckets, strict=True)},
        "total": str(aging.total), "overdue": str(aging.overdue), "credits": str(aging.credits),
        "net": str(aging.net), "disputed": str(aging.disputed), "items": aging.items,
    }


def _kpis_json(k: Kpis) -> dict[str, Any]:
    return {
        "currency": k.currency, "period_days": k.period_days, "receivables": str(k.receivables),
        "current": str(k.current), "overdue": str(k.overdue), "credit_sales": str(k.credit_sales),
        "opening_receivables": str(k.opening_receivables), "dso": _s(k.dso), "countback_dso": _s(k.countback_dso),
        "countback_complete": k.countback_complete, "best_possible_dso": _s(k.best_possible_dso),
        "add": _s(k.add), "weighted_days_past_due": _s(k.weighted_days_past_due), "cei": _s(k.cei),
        "trend": [{"month": p.month, "end": p.end.isoformat(), "receivables": str(p.receivables),
                   "credit_sales": str(p.credit_sales), "dso": _s(p.dso)} for p in k.trend],
    }


def _amounts_json(values: Sequence[Amount]) -> dict[str, str]:
    return {a.currency: str(a.value) for a in values}


def report_to_json(report: Report) -> dict[str, Any]:
    """Every figure of the report; amounts, days and shares as strings (Decimal), dates ISO, unknown = null."""
    return {
        "today": report.today.isoformat(),
        "period_days": report.period_days,
        "company": {"name": report.company_name, "currency": report.company_currency},
        "currencies": [{"code": c, "decimals": report.decimals[c]} for c in report.currencies],
        "headline": _kpis_json(report.headline),
        "kpis": [_kpis_json(k) for k in report.kpis],
        "aging": {
            "buckets": [key for key, _, _ in BUCKETS],
            "totals": [_aging_json(a) for a in report.aging],
            "customers": [{"partner": {"id": row.partner_id, "name": row.name}, **_aging_json(row.aging)}
                          for row in report.customer_aging],
        },
        "top_debtors": [{
            "partner": {"id": d.partner_id, "name": d.name}, "currency": d.currency, "overdue": str(d.overdue),
            "total": str(d.total), "oldest_days_past_due": d.oldest_days_past_due, "segment": d.segment,
            "flags": list(d.flags),
        } for d in report.top_debtors],
        "customers": [{
            "partner": {"id": c.partner_id, "name": c.name}, "segment": c.segment,
            "avg_days_late": _s(c.avg_days_late), "on_time_share": _s(c.on_time_share),
            "customer_since": _iso(c.customer_since), "paid_count": c.paid_count,
            "broken_promises": c.broken_promises, "open": _amounts_json(c.open),
            "overdue": _amounts_json(c.overdue), "disputed_items": c.disputed_items,
            "disputed": _amounts_json(c.disputed),
            "promises": [{"id": p.id, "state": state, "promised_date": p.promised_date.isoformat(),
                               "created": p.created.isoformat(), "amount": _s(p.amount), "note": p.note}
                         for state, p in c.promises],
        } for c in report.customers],
        "level_effectiveness": [{
            "level": e.level, "currency": e.currency, "in_policy": e.in_policy, "reminded": e.reminded,
            "reminded_amount": str(e.reminded_amount),
            "windows": [{"days": w.days, "counted": w.counted, "paid": w.paid,
                         "counted_amount": str(w.counted_amount), "paid_amount": str(w.paid_amount),
                         "share": _s(w.share), "too_recent": w.too_recent} for w in e.windows],
        } for e in report.levels],
        "untracked_reminders": report.untracked_reminders,
        "worklist": [_work_item_json(w) for w in report.worklist],
    }


def _record_json(r: OpenRecord) -> dict[str, Any]:
    return {"level": r.level, "kind": r.kind, "issued": r.issued.isoformat(), "assignee": r.assignee,
            "deadline": _iso(r.deadline), "days_past_deadline": r.days_past_deadline}


def _work_item_json(w: WorkItem) -> dict[str, Any]:
    return {
        "partner": {"id": w.partner_id, "name": w.name}, "level": w.level or None, "level_date": _iso(w.level_date),
        "step": w.step or None, "next_level": w.next_level or None, "next_date": _iso(w.next_date),
        "responsible": w.responsible or None, "open": _amounts_json(w.open), "overdue": _amounts_json(w.overdue),
        "overdue_records": [_record_json(r) for r in w.overdue_records],
        "promises": [{"id": p.id, "state": state, "promised_date": p.promised_date.isoformat(),
                      "amount": _s(p.amount)} for state, p in w.promises],
        "frozen": _record_json(w.frozen) if w.frozen is not None else None,
        "first_contact": w.first_contact,
    }


# --------------------------------------------------------------------------------------- shared


def _kpi_rows(f: _Format, k: Kpis) -> list[tuple[str, str]]:
    return [
        (f("receivables"), f.money(k.receivables, k.currency)),
        (f("current"), f.money(k.current, k.currency)),
        (f("overdue"), f.money(k.overdue, k.currency)),
        (f("credit_sales"), f.money(k.credit_sales, k.currency)),
        (f("opening"), f.money(k.opening_receivables, k.currency)),
        (f("dso"), f.days(k.dso)),
        (f("countback"), f.days(k.countback_dso, k.countback_complete)),
        (f("best"), f.days(k.best_possible_dso)),
        (f("add"), f.days(k.add)),
        (f("wdpd"), f.days(k.weighted_days_past_due)),
        (f("cei"), f.share(k.cei)),
    ]


def _aging_headers(f: _Format) -> list[str]:
    return [f(key) for key, _, _ in BUCKETS] + [f("total"), f("credits"), f("net")]


def _aging_cells(f: _Format, a: Aging) -> list[str]:
    return [f.money(b, a.currency) for b in a.buckets] + [f.money(a.total, a.currency),
                                                         f.money(a.credits, a.currency), f.money(a.net, a.currency)]


def _window_cell(f: _Format, e: LevelEffectiveness, index: int) -> str:
    w = e.windows[index]
    return f("window_cell", share=f.share(w.share), paid=w.paid, counted=w.counted)


def _score_table(f: _Format, report: Report) -> tuple[list[str], list[list[str]], set[int]]:
    headers = [f("customer"), f("segment"), f("avg_late"), f("on_time"), f("since"), f("paid_count"), f("broken")]
    rows = [[c.name, f.segment(c.segment), f.number(c.avg_days_late) if c.avg_days_late is not None else f("na"),
             f.share(c.on_time_share), f.day(c.customer_since), str(c.paid_count), str(c.broken_promises)]
            for c in report.customers]
    return headers, rows, {2, 3, 5, 6}


def _matters_table(f: _Format, report: Report) -> tuple[list[str], list[list[str]], set[int]]:
    headers = [f("customer"), f("open"), f("overdue"), f("disputes"), f("promises")]
    rows = []
    for c in report.customers:
        # A promise carries no currency: it is in the customer's (first) open currency.
        currency = c.open[0].currency if c.open else report.company_currency
        promises = _promises_cell(f, c.promises, currency)
        disputes = "\u2013" if not c.disputed_items else f"{c.disputed_items}: {f.amounts(c.disputed)}"
        rows.append([c.name, f.amounts(c.open), f.amounts(c.overdue), disputes, promises])
    return headers, rows, {1, 2}


def _promises_cell(f: _Format, promises: Sequence[PromiseState], currency: str) -> str:
    return ", ".join(
        f"{f.day(p.promised_date)} {f('promise_' + state)}"
        + (f" ({f.money(p.amount, currency)})" if p.amount is not None else "")
        for state, p in promises) or "\u2013"


def _worklist_table(f: _Format, report: Report) -> tuple[list[str], list[list[str]], set[int]]:
    headers = [f("customer"), f("wl_level"), f("wl_step"), f("wl_when"), f("wl_responsible"), f("overdue"),
               f("wl_late"), f("promises"), f("wl_frozen")]
    rows = []
    for w in report.worklist:
        currency = w.open[0].currency if w.open else report.company_currency
        level = f"{w.level} ({f.day(w.level_date)})" if w.level else f("wl_never")
        late = "; ".join(f("wl_late_cell", level=r.level, who=r.assignee or f("wl_nobody"),
                           deadline=f.day(r.deadline), days=r.days_past_deadline)
                         for r in w.overdue_records) or "\u2013"
        frozen = "\u2013" if w.frozen is None else \
            f("wl_frozen_cell", date=f.day(w.frozen.issued), who=w.frozen.assignee or f("wl_nobody"))
        step = "step_today_first" if w.step == "today" and w.first_contact else "step_" + w.step
        rows.append([w.name, level, f(step, level=w.next_level), f.day(w.next_date) if w.next_date
                     else "\u2013", w.responsible or "\u2013", f.amounts(w.overdue), late,
                     _promises_cell(f, w.promises, currency), frozen])
    return headers, rows, {5}


def _level_rows(f: _Format, report: Report) -> list[list[str]]:
    return [[e.level, e.currency, str(e.reminded), f.money(e.reminded_amount, e.currency),
             *(_window_cell(f, e, i) for i in range(len(EFFECTIVENESS_WINDOWS)))] for e in report.levels]


def _level_headers(f: _Format) -> list[str]:
    return [f("level"), f("currency"), f("reminded"), f("reminded_amount"),
            *(f("within", n=n) for n in EFFECTIVENESS_WINDOWS)]


# ------------------------------------------------------------------------------------- terminal


def _text_table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> list[str]:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in numeric else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def report_to_text(report: Report, language: str) -> str:
    """The report as terminal tables, labelled in Spanish or English."""
    f = _Format(report.decimals, language, plain=True)
    start = report.today - timedelta(days=report.period_days - 1)
    out = [f"{f('title')} — {report.company_name}",
           f"{f('as_of', date=f.day(report.today, 'long'))}. "
           f"{f('period', days=report.period_days, start=f.day(start), end=f.day(report.today))}",
           f("currency_note", currency=report.company_currency), ""]

    out += [f("summary"), ""]
    rows = [[label] for label, _ in _kpi_rows(f, report.kpis[0])]
    for k in report.kpis:
        for row, (_, value) in zip(rows, _kpi_rows(f, k), strict=True):
            row.append(value)
    out += _text_table([f("metric"), *report.currencies], rows, set(range(1, len(report.currencies) + 1)))

    out += ["", f("aging"), ""]
    money_cols = set(range(1, len(BUCKETS) + 4))
    out += _text_table([f("currency"), *_aging_headers(f)], [[a.currency, *_aging_cells(f, a)] for a in report.aging],
                       money_cols)
    for currency in report.currencies:
        rows = [[_clip(row.name, 30), *_aging_cells(f, row.aging)] for row in report.customer_aging
                if row.aging.currency == currency]
        if rows:
            out += ["", f"{f('aging_customers')} ({currency})", ""]
            out += _text_table([f("customer"), *_aging_headers(f)], rows, money_cols)

    out += ["", f"{f('trend')} \u2013 {report.company_currency}", ""]
    head = report.headline
    out += _text_table([f("month"), f("ar"), f("sales", n=report.period_days), "DSO"],
                       [[p.month, f.money(p.receivables, head.currency), f.money(p.credit_sales, head.currency),
                         f.days(p.dso)] for p in head.trend], {1, 2, 3})

    out += ["", f("debtors"), ""]
    if report.top_debtors:
        out += _text_table(
            ["#", f("customer"), f("segment"), f("overdue"), f("total"), f("oldest"), f("flags")],
            [[str(n), _clip(d.name, 30), f.segment(d.segment), f.money(d.overdue, d.currency),
              f.money(d.total, d.currency), str(d.oldest_days_past_due), f.flags(d.flags)]
             for currency in report.currencies for n, d in enumerate(report.debtors_of(currency), 1)],
            {0, 3, 4, 5})
    else:
        out.append(f("no_debtors"))

    out += ["", f("levels"), ""]
    if report.levels:
        out += _text_table(_level_headers(f), _level_rows(f, report), {2, 3, 4, 5, 6})
        out.append(f("recent_note"))
    else:
        out.append(f("no_reminders"))
    if report.untracked_reminders:
        out.append(f("untracked", n=report.untracked_reminders))

    out += ["", f("worklist"), ""]
    if report.worklist:
        headers, rows, numeric = _worklist_table(f, report)
        out += _text_table(headers, [[_clip(r[0], 30), *r[1:]] for r in rows], numeric)
        out.append(f("wl_note"))
    else:
        out.append(f("wl_none"))

    out += ["", f("customers"), ""]
    for table in (_score_table, _matters_table):
        headers, rows, numeric = table(f, report)
        title = f("scores") if table is _score_table else f("matters")
        out += ["", title, *_text_table(headers, [[_clip(r[0], 30), *r[1:]] for r in rows], numeric)]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------ HTML

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
html { background: #eef1f4; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1f2933; background: #fff; margin: 0 auto; max-width: 186mm; padding: 10mm 8mm;
       font-size: 10pt; line-height: 1.35; }
header h1 { font-size: 17pt; margin: 0 0 2mm; }
header p { margin: 0 0 1mm; color: #52606d; }
h2 { font-size: 13pt; margin: 6mm 0 3mm; border-bottom: 2px solid #1f4e79; padding-bottom: 1mm; color: #1f4e79; }
h3 { font-size: 11pt; margin: 4mm 0 2mm; }
section { margin-bottom: 8mm; }
.cards { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 3mm; margin-bottom: 4mm; }
.card { border: 1px solid #cbd2d9; border-radius: 2mm; padding: 2.5mm 3mm; break-inside: avoid; }
.card .label { font-size: 8.5pt; color: #52606d; }
.card .value { font-size: 14pt; font-weight: 600; }
figure { margin: 0 0 4mm; break-inside: avoid; }
figcaption { font-size: 9pt; color: #52606d; margin-top: 1mm; }
svg { display: block; width: 100%; height: auto; max-width: 100%; }
svg text { font-family: inherit; fill: #1f2933; }
svg .axis { stroke: #9aa5b1; stroke-width: 1; }
svg .grid { stroke: #e4e7eb; stroke-width: 1; }
svg .line { fill: none; stroke: #1f4e79; stroke-width: 2.5; }
svg .point { fill: #1f4e79; }
.table-wrap { max-width: 100%; }
table { width: 100%; border-collapse: collapse; font-size: 8.5pt; margin-bottom: 4mm; }
caption { text-align: left; font-weight: 600; padding: 1mm 0; }
th, td { padding: 1mm 1.5mm; border-bottom: 1px solid #e4e7eb; vertical-align: top; overflow-wrap: break-word;
         hyphens: auto; }
tbody th { min-width: 26mm; }
th { text-align: left; background: #f5f7fa; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
table.wide { font-size: 7.2pt; }  /* ten columns of amounts within A4 */
table.wide td, table.wide th { padding: 0.8mm 1mm; }
.note { font-size: 8.5pt; color: #52606d; }
footer { font-size: 8pt; color: #52606d; }
footer li { margin-bottom: 1mm; }
@media print {
  html { background: #fff; }
  body { max-width: none; padding: 0; }
  section { break-before: page; }
  section.first { break-before: auto; }
  thead { display: table-header-group; }
  tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
}
"""

AGING_COLOURS = ("#2e7d32", "#f9a825", "#ef6c00", "#d84315", "#b0281a", "#6d1010")
WINDOW_COLOURS = ("#9ecae1", "#4292c6", "#08519c")
W = 680.0


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n at or above `value` (axis top)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** len(str(int(value))) / 10.0 if value >= 1 else 1.0
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * power >= value:
            return step * power
    return 10.0 * power


def _svg(ident: str, height: float, title: str, desc: str, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" id="{ident}" class="chart" viewBox="0 0 {W:.0f} {height:.0f}" '
            f'role="img" aria-label="{_e(title)}" aria-labelledby="{ident}-title {ident}-desc" '
            f'preserveAspectRatio="xMidYMid meet">'
            f'<title id="{ident}-title">{_e(title)}</title><desc id="{ident}-desc">{_e(desc)}</desc>'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, content: str, anchor: str = "start", size: float = 11, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}"{extra}>'
            f"{_e(content)}</text>")


def _y_axis(left: float, top: float, bottom: float, right: float, top_value: float,
            label: Callable[[float], str]) -> list[str]:
    parts = []
    for step in range(5):
        value = top_value * step / 4
        y = bottom - (bottom - top) * step / 4
        parts.append(f'<line class="grid" x1="{left:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}"/>')
        parts.append(_text(left - 6, y + 4, label(value), "end", 10))
    parts.append(f'<line class="axis" x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}"/>')
    return parts


def _aging_chart(f: _Format, aging: Aging) -> str:
    height, left, right, top, bottom = 280.0, 90.0, W - 16, 24.0, 240.0
    top_value = _nice_max(float(max(aging.buckets)))
    parts = _y_axis(left, top, bottom, right, top_value,
                    lambda v: f.money(Decimal(round(v)), aging.currency, 0))
    slot = (right - left) / len(BUCKETS)
    bar = slot * 0.62
    for n, ((key, _, _), amount) in enumerate(zip(BUCKETS, aging.buckets, strict=True)):
        h = (bottom - top) * float(amount) / top_value
        x = left + slot * n + (slot - bar) / 2
        label = f"{f(key)}: {f.money(amount, aging.currency)}"
        parts.append(f'<rect class="bar" data-bucket="{key}" x="{x:.1f}" y="{bottom - h:.1f}" width="{bar:.1f}" '
                     f'height="{h:.1f}" fill="{AGING_COLOURS[n]}"><title>{_e(label)}</title></rect>')
        parts.append(_text(x + bar / 2, bottom - h - 5, f.money(amount, aging.currency), "middle", 10))
        parts.append(_text(x + bar / 2, bottom + 18, f(key), "middle", 11))
    title = f("chart_aging", currency=aging.currency)
    desc = "; ".join(f"{f(key)}: {f.money(a, aging.currency)}" for (key, _, _), a in zip(BUCKETS, aging.buckets,
                                                                                             strict=True))
    return _svg(f"chart-aging-{aging.currency.lower()}", height, title, desc, parts)


def _trend_chart(f: _Format, k: Kpis) -> str:
    height, left, right, top, bottom = 270.0, 56.0, W - 20, 20.0, 230.0
    values = [float(p.dso) for p in k.trend if p.dso is not None]
    top_value = _nice_max(max(values, default=1.0))
    parts = _y_axis(left, top, bottom, right, top_value, lambda v: f.number(Decimal(round(v)), 0))
    n = len(k.trend)
    step = (right - left) / max(n - 1, 1)
    run: list[str] = []
    runs: list[list[str]] = []
    for i, point in enumerate(k.trend):
        x = left + step * i
        parts.append(_text(x, bottom + 18, f.month(point.end), "middle", 10))
        if point.dso is None:
            if run:
                runs.append(run)
            run = []
            continue
        y = bottom - (bottom - top) * float(point.dso) / top_value
        run.append(f"{x:.1f},{y:.1f}")
    if run:
        runs.append(run)
    for points in runs:
        parts.append(f'<polyline class="line" points="{" ".join(points)}"/>')
    for i, point in enumerate(k.trend):
        if point.dso is None:
            continue
        x = left + step * i
        y = bottom - (bottom - top) * float(point.dso) / top_value
        label = f"{f.month(point.end)}: {f.days(point.dso)}"
        parts.append(f'<circle class="point" data-month="{point.month}" cx="{x:.1f}" cy="{y:.1f}" r="4">'
                     f"<title>{_e(label)}</title></circle>")
    title = f("chart_trend", currency=k.currency)
    desc = "; ".join(f"{f.month(p.end)}: {f.days(p.dso)}" for p in k.trend)
    return _svg("chart-trend", height, title, desc, parts)


def _debtors_chart(f: _Format, report: Report, currency: str) -> str:
    debtors = report.debtors_of(currency)
    row, left, right, top = 26.0, 210.0, W - 110, 8.0
    height = top * 2 + row * len(debtors)
    top_value = float(max(d.overdue for d in debtors))
    parts = [f'<line class="axis" x1="{left:.1f}" y1="{top:.1f}" x2="{left:.1f}" y2="{height - top:.1f}"/>']
    for n, d in enumerate(debtors):
        y = top + row * n
        width = (right - left) * float(d.overdue) / top_value if top_value else 0.0
        label = f"{d.name}: {f.money(d.overdue, currency)}"
        parts.append(_text(left - 8, y + row / 2 + 4, _clip(d.name, 30), "end", 11))
        parts.append(f'<rect class="bar" data-partner="{d.partner_id}" x="{left:.1f}" y="{y + 4:.1f}" '
                     f'width="{width:.1f}" height="{row - 8:.1f}" fill="#c0392b"><title>{_e(label)}</title></rect>')
        parts.append(_text(left + width + 6, y + row / 2 + 4, f.money(d.overdue, currency), "start", 10))
    title = f("chart_debtors", currency=currency)
    desc = "; ".join(f"{d.name}: {f.money(d.overdue, currency)}" for d in debtors)
    return _svg(f"chart-debtors-{currency.lower()}", height, title, desc, parts)


def _levels_chart(f: _Format, rows: Sequence[LevelEffectiveness], currency: str) -> str:
    height, left, right, top, bottom = 280.0, 50.0, W - 16, 34.0, 240.0
    parts = _y_axis(left, top, bottom, right, 1.0, lambda v: f.share(Decimal(str(v)), 0))
    for i, days in enumerate(EFFECTIVENESS_WINDOWS):
        x = right - 270 + i * 90
        parts.append(f'<rect class="legend" x="{x:.1f}" y="6" width="12" height="12" fill="{WINDOW_COLOURS[i]}"/>')
        parts.append(_text(x + 16, 16, f("days", n=days), "start", 10))
    slot = (right - left) / max(len(rows), 1)
    bar = min(30.0, slot / (len(EFFECTIVENESS_WINDOWS) + 1.5))
    for n, e in enumerate(rows):
        group_left = left + slot * n + (slot - bar * len(EFFECTIVENESS_WINDOWS)) / 2
        for i, w in enumerate(e.windows):
            x = group_left + bar * i
            if w.share is None:
                parts.append(_text(x + bar / 2, bottom - 4, "\u2013", "middle", 10))
                continue
            h = (bottom - top) * float(w.share)
            label = (f"{e.level}, {f('within', n=w.days)}: {f.share(w.share)} "
                     f"({w.paid}/{w.counted} {f('items')})")
            parts.append(f'<rect class="bar" data-level="{_e(e.level)}" data-days="{w.days}" x="{x:.1f}" '
                         f'y="{bottom - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" fill="{WINDOW_COLOURS[i]}">'
                         f"<title>{_e(label)}</title></rect>")
            parts.append(_text(x + (bar - 2) / 2, bottom - h - 4, f.share(w.share, 0), "middle", 9))
        parts.append(_text(left + slot * n + slot / 2, bottom + 18, _clip(e.level, 18), "middle", 11))
    title = f("chart_levels", currency=currency)
    desc = "; ".join(f"{e.level}: " + ", ".join(f"{w.days}: {f.share(w.share)}" for w in e.windows) for e in rows)
    return _svg("chart-levels", height, title, desc, parts)


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: set[int], caption: str = "",
                css: str = "") -> str:
    num = ' class="num"'

    def cell(i: int, content: str, tag: str) -> str:
        if tag == "td" and i == 0:
            return f'<th scope="row">{_e(content)}</th>'
        scope = ' scope="col"' if tag == "th" else ""
        return f"<{tag}{scope}{num if i in numeric else ''}>{_e(content)}</{tag}>"

    head = "".join(cell(i, h, "th") for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell(i, c, "td") for i, c in enumerate(r)) + "</tr>" for r in rows)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    cls = f' class="{css}"' if css else ""
    return f'<div class="table-wrap"><table{cls}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def report_to_html(report: Report, language: str) -> str:
    """One self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched), printable on A4."""
    f = _Format(report.decimals, language, plain=False)
    head = report.headline
    cur = report.company_currency
    start = report.today - timedelta(days=report.period_days - 1)
    parts = [
        f'<!DOCTYPE html>\n<html lang="{f.lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(f('title'))} — {_e(report.company_name)} — {_e(f.day(report.today))}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n",
        f"<header><h1>{_e(f('title'))}</h1><p><strong>{_e(report.company_name)}</strong> · "
        f"{_e(f('as_of', date=f.day(report.today, 'long')))}</p>"
        f"<p>{_e(f('period', days=report.period_days, start=f.day(start), end=f.day(report.today)))}</p>"
        f'<p class="note">{_e(f("currency_note", currency=cur))}</p></header>\n',
    ]

    # Summary: headline cards, then every currency's figures in one table.
    cards = [(f("receivables"), f.money(head.receivables, cur)), (f("overdue"), f.money(head.overdue, cur)),
             (f("dso"), f.days(head.dso)), (f("countback"), f.days(head.countback_dso, head.countback_complete)),
             (f("wdpd"), f.days(head.weighted_days_past_due)), (f("cei"), f.share(head.cei))]
    parts.append(f'<section id="summary" class="first"><h2>{_e(f("summary"))}</h2><div class="cards">'
                 + "".join(f'<div class="card"><div class="label">{_e(label)}</div>'
                           f'<div class="value">{_e(value)}</div></div>' for label, value in cards) + "</div>")
    rows = [[label] for label, _ in _kpi_rows(f, report.kpis[0])]
    for k in report.kpis:
        for row, (_, value) in zip(rows, _kpi_rows(f, k), strict=True):
            row.append(value)
    parts.append(_html_table([f("metric"), *report.currencies], rows, set(range(1, len(report.currencies) + 1)))
                 + "</section>\n")

    # Aging: one chart per currency (amounts of two currencies never share an axis).
    parts.append(f'<section id="aging"><h2>{_e(f("aging"))}</h2>')
    for aging in report.aging:
        if aging.items or aging.credits:
            parts.append(f"<figure>{_aging_chart(f, aging)}<figcaption>{_e(f('chart_aging', currency=aging.currency))}"
                         f"</figcaption></figure>")
    parts.append(_html_table([f("currency"), *_aging_headers(f)],
                             [[a.currency, *_aging_cells(f, a)] for a in report.aging], set(range(1, len(BUCKETS) + 4)),
                             css="wide"))
    for currency in report.currencies:
        rows = [[row.name, *_aging_cells(f, row.aging)] for row in report.customer_aging
                if row.aging.currency == currency]
        if rows:
            parts.append(f"<h3>{_e(f('aging_customers'))} ({_e(currency)})</h3>")
            parts.append(_html_table([f("customer"), *_aging_headers(f)], rows, set(range(1, len(BUCKETS) + 4)),
                                     css="wide"))
    parts.append("</section>\n")

    # DSO trend, company currency.
    parts.append(f'<section id="trend"><h2>{_e(f("trend"))}</h2><figure>{_trend_chart(f, head)}'
                 f"<figcaption>{_e(f('chart_trend', currency=cur))}</figcaption></figure>")
    parts.append(_html_table([f("month"), f("ar"), f("sales", n=report.period_days), "DSO"],
                             [[f.month(p.end), f.money(p.receivables, cur), f.money(p.credit_sales, cur),
                               f.days(p.dso)] for p in head.trend], {1, 2, 3}))
    parts.append("</section>\n")

    # Top debtors: a chart per currency that has any.
    parts.append(f'<section id="debtors"><h2>{_e(f("debtors"))}</h2>')
    if not report.top_debtors:
        parts.append(f'<p class="note">{_e(f("no_debtors"))}</p>')
    for currency in report.currencies:
        debtors = report.debtors_of(currency)
        if not debtors:
            continue
        parts.append(f"<figure>{_debtors_chart(f, report, currency)}<figcaption>"
                     f"{_e(f('chart_debtors', currency=currency))}</figcaption></figure>")
        parts.append(_html_table(
            [f("customer"), f("segment"), f("overdue"), f("total"), f("oldest"), f("flags")],
            [[d.name, f.segment(d.segment), f.money(d.overdue, currency), f.money(d.total, currency),
              str(d.oldest_days_past_due), f.flags(d.flags)] for d in debtors], {2, 3, 4}))
    parts.append("</section>\n")

    # Level effectiveness: chart for the company currency, table for all.
    parts.append(f'<section id="levels"><h2>{_e(f("levels"))}</h2>')
    if report.levels:
        mine = [e for e in report.levels if e.currency == cur]
        if mine:
            parts.append(f"<figure>{_levels_chart(f, mine, cur)}<figcaption>"
                         f"{_e(f('chart_levels', currency=cur))}</figcaption></figure>")
        parts.append(_html_table(_level_headers(f), _level_rows(f, report), {2, 3, 4, 5, 6}))
        parts.append(f'<p class="note">{_e(f("recent_note"))}</p>')
    else:
        parts.append(f'<p class="note">{_e(f("no_reminders"))}</p>')
    if report.untracked_reminders:
        parts.append(f'<p class="note">{_e(f("untracked", n=report.untracked_reminders))}</p>')
    parts.append("</section>\n")

    parts.append(f'<section id="worklist"><h2>{_e(f("worklist"))}</h2>')
    if report.worklist:
        headers, rows, numeric = _worklist_table(f, report)
        parts.append(_html_table(headers, rows, numeric, css="wide"))
        parts.append(f'<p class="note">{_e(f("wl_note"))}</p>')
    else:
        parts.append(f'<p class="note">{_e(f("wl_none"))}</p>')
    parts.append("</section>\n")

    parts.append(f'<section id="customers"><h2>{_e(f("customers"))}</h2>')
    for table in (_score_table, _matters_table):
        headers, rows, numeric = table(f, report)
        title = f("scores") if table is _score_table else f("matters")
        parts.append(f"<h3>{_e(title)}</h3>" + _html_table(headers, rows, numeric))
    parts.append(f"<footer><h3>{_e(f('definitions'))}</h3><ul>"
                 + "".join(f"<li>{_e(f(key))}</li>" for key in ("def_dso", "def_countback", "def_best", "def_cei",
                                                                 "def_history"))
                 + "</ul></footer></section>\n</body>\n</html>\n")
    return "".join(parts)


# ----------------------------------------------------------------------------- statement of account


def _statement_rows(f: _Format, section: StatementSection) -> list[list[str]]:
    c = section.currency
    rows = []
    for line in section.lines:
        document = line.number if line.kind == "invoice" else f"{f('st_' + line.kind)} {line.number}"
        if line.disputed:
            document += " " + f("st_disputed")
        rows.append([document, f.day(line.day), f.day(line.due_date) if line.due_date else "\u2013",
                     f.money(line.amount, c), f.money(line.paid, c), f.money(line.open, c),
                     str(line.days_late) if line.days_late else "\u2013", f.money(line.balance, c)])
    return rows


def _statement_headers(f: _Format) -> list[str]:
    return [f(k) for k in ("st_document", "st_date", "st_due", "st_amount", "st_paid", "st_open", "st_days_late",
                           "st_balance")]


def _statement_total(f: _Format, section: StatementSection) -> str:
    c = section.currency
    return f("st_total", currency=c, balance=f.money(section.balance, c), overdue=f.money(section.overdue, c))


def statement_language(statement: Statement, default: str) -> str:
    """The customer's language when it has one, else the configured default."""
    return statement.partner.lang or default


def statement_to_text(statement: Statement, language: str) -> str:
    f = _Format(statement.decimals, statement_language(statement, language), plain=True)
    out = [f"{f('statement')} — {statement.company}",
           f("statement_for", customer=statement.partner.name, date=f.day(statement.today, "long")), ""]
    for section in statement.sections:
        out += _text_table(_statement_headers(f), _statement_rows(f, section), {3, 4, 5, 6, 7})
        out += [_statement_total(f, section), ""]
    if not statement.sections:
        out += [f("st_empty"), ""]
    return "\n".join(out)


def statement_to_html(statement: Statement, language: str) -> str:
    """The customer's statement as one self-contained page (no scripts, nothing fetched), printable on A4."""
    f = _Format(statement.decimals, statement_language(statement, language), plain=False)
    p = statement.partner
    address = ", ".join(part for part in (p.street, f"{p.zip} {p.city}".strip(), p.country_code, p.vat) if part)
    parts = [
        f'<!DOCTYPE html>\n<html lang="{f.lang}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_e(f('statement'))} — {_e(p.name)} — {_e(f.day(statement.today))}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n",
        f"<header><h1>{_e(f('statement'))}</h1><p><strong>{_e(statement.company)}</strong></p>"
        f"<p>{_e(f('statement_for', customer=p.name, date=f.day(statement.today, 'long')))}</p>"
        + (f"<p>{_e(address)}</p>" if address else "")
        + f'<p class="note">{_e(f("statement_note"))}</p></header>\n<section id="statement" class="first">',
    ]
    for section in statement.sections:
        parts.append(_html_table(_statement_headers(f), _statement_rows(f, section), {3, 4, 5, 6, 7}, css="wide"))
        parts.append(f"<p><strong>{_e(_statement_total(f, section))}</strong></p>")
    if not statement.sections:
        parts.append(f'<p class="note">{_e(f("st_empty"))}</p>')
    parts.append("</section>\n</body>\n</html>\n")
    return "".join(parts)


def statement_file_name(statement: Statement, language: str) -> str:
    """The statement's attachment name in the customer's language, e.g. "Extracto de cuenta 2026-12-01.html"."""
    f = _Format(statement.decimals, statement_language(statement, language), plain=True)
    return f"{f('statement')} {statement.today.isoformat()}.html"
