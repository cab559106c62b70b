"""What `dunning setup` makes in Tryton and every run finds by name: the dunning procedure and the project.

Tryton has no external ids a connector can own (see README), so both are found by their names in
the user's company: the dunning procedure "Dunning connector" (its level of sequence 10 is the
policy's first level, 20 the second, ...) and the project "Dunning connector" (`project.work` of type project)
whose tasks are the calls and hand-overs, with the work status of progress 1 as "done".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.erp.tryton.mapping import TrytonMapping
from connector.erp.tryton.rpc import TrytonRpc

NAME = "Dunning connector"


@dataclass(slots=True)
class Place:
    company: int
    procedure: int = 0
    # Level id by sequence; two runs adding the same level at once make two equal ones: the first counts.
    levels: dict[int, int] = field(default_factory=dict)
    project: int = 0
    done_status: int = 0
    has_project: bool = False

    @staticmethod
    def sequence(position: int) -> int:
        """The sequence of the procedure's level for the policy level at this position (0-based)."""
        return (position + 1) * 10

    @staticmethod
    def position(sequence: int) -> int:
        return sequence // 10 - 1 if sequence > 0 and sequence % 10 == 0 else -1


def read_levels(rpc: TrytonRpc, m: TrytonMapping, procedure: int) -> dict[int, int]:
    levels: dict[int, int] = {}
    for row in rpc.search_read(m.model("level"), [["procedure", "=", procedure]], ["sequence"], page_size=1000,
                               order=[["sequence", "ASC"], ["id", "ASC"]]):
        levels.setdefault(int(row.get("sequence") or 0), int(row["id"]))
    return levels


def installed_models(rpc: TrytonRpc, names: list[str]) -> set[str]:
    rows = rpc.search_read("ir.model", [["name", "in", names]], ["name"], page_size=len(names))
    return {str(r["name"]) for r in rows}


def find_place(rpc: TrytonRpc, m: TrytonMapping, company: int) -> Place:
    """The procedure, its levels and the project, as far as they exist (ids 0 when missing)."""
    place = Place(company=company)
    place.has_project = m.model("work") in installed_models(rpc, [m.model("work")])
    procedures = rpc.search_read(m.model("procedure"), [["name", "=", NAME]], ["id"], page_size=1)
    if procedures:
        place.procedure = int(procedures[0]["id"])
        place.levels = read_levels(rpc, m, place.procedure)
    if place.has_project:
        projects = rpc.search_read(m.model("work"), [["name", "=", NAME], ["type", "=", "project"],
                                                     ["company", "=", company]], ["id"], page_size=1)
        place.project = int(projects[0]["id"]) if projects else 0
        done = rpc.search_read(m.model("work_status"), [["progress", "=", 1.0]], ["id"], page_size=1,
                               order=[["sequence", "ASC"], ["id", "ASC"]])
        place.done_status = int(done[0]["id"]) if done else 0
    return place


def make_place(rpc: TrytonRpc, m: TrytonMapping, company: int) -> tuple[list[str], list[str]]:
    """Create what is missing; (created, existing), each named the way `dunning setup` prints them."""
    place = find_place(rpc, m, company)
    created: list[str] = []
    existing: list[str] = []
    procedure_name = f"{m.model('procedure')} '{NAME}'"
    if place.procedure:
        existing.append(procedure_name)
    else:
        rpc.call(m.model("procedure"), "create", [{"name": NAME}], retry=False)
        created.append(procedure_name)
    project_name = f"{m.model('work')} '{NAME}'"
    if not place.has_project:
        pass  # without the project module calls and hand-overs cannot become tasks: `check` says so
    elif place.project:
        existing.append(project_name)
    else:
        values: dict[str, Any] = {"name": NAME, "type": "project", "company": company}
        rpc.call(m.model("work"), "create", [values], retry=False)
        created.append(project_name)
    return created, existing
