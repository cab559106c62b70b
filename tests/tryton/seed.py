"""Seeds the Tryton tests' database: their small company (demo_seed.seed) and users short of rights.

Run by the fixture in a child process (trytond's configuration is process-global):
`python seed.py CONFIG DATABASE`. Prints the ids the tests need as one JSON object.
"""

from __future__ import annotations

import json
import sys

from proteus import Model

from connector.erp.tryton.demo_seed import REFERENCE_DAY, seed

if __name__ == "__main__":
    ids = seed(sys.argv[1], sys.argv[2], REFERENCE_DAY, "dunning-bot", "dunning-bot-secret-1")
    # A user who may log in but not read the books: what check and plan tell about missing rights.
    Model.get("res.user")(name="No rights", login="dunning-norights", password="dunning-norights-secret-1").save()
    # One group short of the connector's: the accounting one without the project one.
    short = Model.get("res.user")(name="No projects", login="dunning-noproject", password="dunning-noproject-secret-1")
    short.groups.extend(Model.get("res.group").find([("name", "=", "Accounting Administration")]))
    short.save()
    print(json.dumps(ids))
