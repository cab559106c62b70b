"""The Tryton mapping (`mappings/tryton/<major>.toml`): model names, domains and field lists, validated on load."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

from connector.errors import ConfigError
from connector.resources import data_dir

SUPPORTED = (8,)
NULL = "NULL"
_MODELS = ("move_line", "invoice", "party", "address", "category", "company", "currency", "user", "dunning",
           "procedure", "level", "email", "note", "work", "work_status", "process_wizard", "payment", "payment_journal",
           "bank_number")
_SECTIONS = ("open_lines", "settled_lines", "invoice", "party", "address", "company", "currency", "disputes",
             "promises", "rights", "bank_number")


@dataclass(frozen=True, slots=True)
class TrytonMapping:
    major: int
    models: dict[str, str]
    sections: dict[str, dict[str, Any]]

    def model(self, concept: str) -> str:
        return self.models[concept]

    def fields(self, section: str) -> list[str]:
        return list(self.sections[section]["fields"])

    def group_for(self, model: str) -> str:
        """The Tryton group that grants the connector's rights on this model ("" when the mapping names none)."""
        group = self.sections["rights"].get(model)
        return group if isinstance(group, str) else ""

    def domain(self, section: str, key: str = "domain") -> list[Any]:
        """A domain of the mapping, with "NULL" (TOML has no null) turned into None."""
        return [[None if part == NULL else part for part in leaf] for leaf in self.sections[section][key]]


def load_mapping(major: int) -> TrytonMapping:
    path = data_dir("mappings") / "tryton" / f"{major}.toml"
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, [f"no mapping for Tryton {major}: supported are "
                                   f"{', '.join(map(str, SUPPORTED))}"]) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(source, [f"not valid TOML: {error}"]) from None
    errors: list[str] = []
    models = data.get("models", {})
    errors += [f"models.{m}: missing" for m in _MODELS if not isinstance(models.get(m), str)]
    sections: dict[str, dict[str, Any]] = {}
    for name in _SECTIONS:
        section = data.get(name)
        if not isinstance(section, dict):
            errors.append(f"[{name}]: missing")
            continue
        if name not in ("disputes", "promises", "rights") and not (isinstance(section.get("fields"), list)
                                       and all(isinstance(f, str) for f in section["fields"])):
            errors.append(f"{name}.fields: expected a list of field names")
        for key, value in section.items():
            if key.endswith("domain") and not (isinstance(value, list) and all(
                    isinstance(leaf, list) and len(leaf) == 3 and isinstance(leaf[0], str) for leaf in value)):
                errors.append(f"{name}.{key}: expected a list of [field, operator, value] leaves")
        sections[name] = section
    if errors:
        raise ConfigError(source, errors)
    return TrytonMapping(major=major, models=dict(models), sections=sections)
