"""The permission matrix: every URL route of Rapport, what each persona may do there.

`rules.py` states who sees and who may change what, in the words of DESIGN.md
and the default roles, written out independently of `rapport.core.access`.
`world.py` builds the data one case needs and takes snapshots of the database.
`routes.py` is the registry: one entry per route. tests/test_permission_matrix.py
walks Django's URL resolver and fails, naming the route, when one has no entry.

Adding a feature's routes: add a `Route` per page URL name and per API
operation ("METHOD /api/v1/path") to `ROUTES` in routes.py, pick the table
from rules.py that says who may do it (or write one), and, for a route about a
record, a subject builder in world.py. See the module docstring of routes.py.
"""
