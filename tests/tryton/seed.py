"""Seeds the Tryton tests' database: their small company (demo_seed.seed) and a user without rights.

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
    print(json.dumps(ids))
