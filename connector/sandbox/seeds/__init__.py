"""Seeds: "lab" and "lab-connector" (the recorded lab databases), "demo" (Suministros Ebro S.L.), "empty"."""

from __future__ import annotations

import datetime as dt

from ..orm import Env, Registry
from .base import BaseRefs, CompanyInfo, install_base


def seed_database(registry: Registry, seed: str, as_of: dt.date) -> None:
    """Fill a new database; runs inside the store's transaction, as the admin user."""
    env = Env(registry, 2, {"lang": "en_US", "tz": "Europe/Madrid"})
    if seed == "lab":
        from .lab import seed_lab

        seed_lab(env, as_of)
    elif seed == "lab-connector":
        from .lab import seed_lab
        from .lab_connector import CONNECTOR_EDITION

        seed_lab(env, as_of, CONNECTOR_EDITION)
    elif seed == "demo":
        from .demo import seed_demo

        seed_demo(env, as_of)
    elif seed == "empty":
        install_base(
            env,
            BaseRefs(),
            CompanyInfo(
                name="Sandbox Company",
                street="Calle Mayor 1",
                zip="50001",
                city="Zaragoza",
                email="info@sandbox.example",
                phone="+34 976 000 000",
                vat="ESB00000000",
            ),
        )
    else:
        raise ValueError(f"unknown seed {seed!r}")
