"""The sfbsim app: ``solara run viz.app`` (or ``sfbsim app`` / ``make app``).

Two pages: Explore (Mesa's run controls around the session's own live run) and Compare (paired
replications of a baseline and a reform). Each browser session gets its own model.
"""

from __future__ import annotations

import solara
import solara.lab

from sfbsim.viz.compare import ComparePage
from sfbsim.viz.explore import ExplorePage


@solara.component
def Layout(children=None):
    """Solara's app layout with one tab per page, named by the route's label."""
    _, all_routes = solara.use_route()
    tabs = solara.lab.Tabs(
        align="center",
        children=[
            solara.lab.Tab(r.label, path_or_route=r, classes=[f"sfb-tab-{r.label.lower()}"])
            for r in all_routes
        ],
    )
    return solara.AppLayout(
        children=[solara.AppBar(children=[tabs]), *(children or [])],
        title="sfbsim",
        navigation=True,
    )


routes = [
    solara.Route(path="/", component=ExplorePage, label="Explore", layout=Layout),
    solara.Route(path="compare", component=ComparePage, label="Compare"),
]
