"""The explorer's page: pick a scenario, move its levers, run, read what happened.

Dash serves the page and every script it needs from the installed package (`serve_locally`),
so the page works offline and asks no other host for anything. Each page load gets its own
session id; every callback reaches only that session's runs (`Runs`).

    >>> app = explorer_app(Runs(Path("runs/explore")), ["rongcheng"], "rongcheng")
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from dash import ALL, Dash, Input, Output, State, dcc, html, no_update
from flask import Flask, Response, abort, send_file

from scsim.errors import UserError
from scsim.interfaces.explore.levers import lever_controls
from scsim.interfaces.explore.sessions import Runs
from scsim.interfaces.explore.view import control_view, progress_view, results_view

POLL_MS = 500
TOML, ZIP = "scenario.toml", "run.zip"
DOWNLOADS = (TOML, ZIP)
AGAINST = [
    {"label": "no comparison", "value": "none"},
    {"label": "the unchanged scenario", "value": "unchanged"},
    {"label": "no system", "value": "no-system"},
]
CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 72rem; color: #222; }
.lever { display: grid; grid-template-columns: 18rem 10rem 1fr; gap: .5rem; margin: .3rem 0; }
.lever small, .bounds { color: #666; }
.error { color: #a00; font-weight: 600; white-space: pre-wrap; }
table { border-collapse: collapse; margin: .5rem 0; } td, th { padding: 2px 8px; }
tr:nth-child(even) { background: #f4f4f4; }
"""


def explorer_app(runs: Runs, scenarios: list[str], first: str) -> Dash:
    """The Dash app over `runs`, offering `scenarios` (built-in names or files), `first` chosen."""
    app = Dash(__name__, serve_locally=True, title="scsim explorer")
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + CSS + "</style>")
    app.layout = lambda: _layout(scenarios, first)  # a function: a new session id each load
    _callbacks(app, runs)
    return app


def _layout(scenarios: list[str], first: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="session", data=uuid.uuid4().hex),
            dcc.Store(id="job"),
            dcc.Interval(id="tick", interval=POLL_MS, disabled=True),
            html.H1("scsim explorer"),
            html.P(
                "Change a scenario's levers, run it, and read what the system did: who was "
                "sanctioned, how many wrongly, and by which mechanism. Each lever shows where "
                "its value comes from, or [U] where no source gives it."
            ),
            html.Label(
                [
                    "scenario ",
                    dcc.Dropdown(_named(scenarios), first, id="scenario", clearable=False),
                ]
            ),
            dcc.Upload(html.Button("Open a scenario file (TOML)"), id="upload"),
            html.Div(id="levers"),
            html.Label(
                ["compare with ", dcc.RadioItems(AGAINST, "none", id="against", inline=True)]
            ),
            html.Button("Run", id="run"),
            html.Div(id="error", className="error", role="alert"),
            html.Label(["your runs ", dcc.Dropdown([], None, id="history", clearable=False)]),
            html.Div(id="progress"),
            html.Div(
                [
                    html.A(html.Button("Download the scenario (TOML)"), id="get-toml"),
                    html.A(html.Button("Download the run (zip)"), id="get-zip"),
                ],
                id="downloads",
                hidden=True,
            ),
            html.Div(id="results"),
        ]
    )


def _named(scenarios: list[str]) -> list[dict[str, str]]:
    """The choices as the page names them: a built-in by its name, a file by its file name."""
    return [{"label": Path(s).name if s.endswith(".toml") else s, "value": s} for s in scenarios]


def _callbacks(app: Dash, runs: Runs) -> None:
    @app.callback(
        Output("levers", "children"),
        Output("error", "children", allow_duplicate=True),
        Input("scenario", "value"),
        State("session", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def levers(source: str, session: str) -> tuple[list[Any], str]:
        try:
            return [control_view(c) for c in lever_controls(runs.source(session, source))], ""
        except UserError as exc:
            return [], str(exc)

    @app.callback(
        Output("scenario", "options"),
        Output("scenario", "value"),
        Output("error", "children", allow_duplicate=True),
        Input("upload", "contents"),
        State("upload", "filename"),
        State("session", "data"),
        State("scenario", "options"),
        prevent_initial_call=True,
    )
    def opened(contents: str, filename: str, session: str, options: list[Any]) -> tuple[Any, ...]:
        try:
            path = runs.upload(session, filename, contents)
        except UserError as exc:
            return no_update, no_update, str(exc)
        return [*options, {"label": filename, "value": path}], path, ""

    @app.callback(
        Output("job", "data"),
        Output("history", "options"),
        Output("history", "value"),
        Output("error", "children"),
        Output("tick", "disabled"),
        Output("results", "children", allow_duplicate=True),
        Output("downloads", "hidden", allow_duplicate=True),
        Input("run", "n_clicks"),
        State("session", "data"),
        State("scenario", "value"),
        State({"kind": ALL, "field": ALL}, "value"),
        State({"kind": ALL, "field": ALL}, "id"),
        State("against", "value"),
        prevent_initial_call=True,
    )
    def run(
        _: int,
        session: str,
        source: str,
        values: list[Any],
        ids: list[dict[str, str]],
        against: str,
    ) -> tuple[Any, ...]:
        settings = {i["field"]: _value(i["kind"], v) for i, v in zip(ids, values, strict=True)}
        try:
            job = runs.submit(session, runs.source(session, source), settings, against)
        except UserError as exc:
            return no_update, no_update, no_update, str(exc), True, no_update, no_update
        return job, runs.jobs_of(session), job, "", False, [], True

    @app.callback(
        Output("job", "data", allow_duplicate=True),
        Output("tick", "disabled", allow_duplicate=True),
        Input("history", "value"),
        State("job", "data"),
        prevent_initial_call=True,
    )
    def earlier(chosen: str | None, shown: str | None) -> tuple[Any, ...]:
        """Show one of this page's earlier runs (the list holds this page's runs only)."""
        if chosen is None or chosen == shown:
            return no_update, no_update
        return chosen, False

    @app.callback(
        Output("progress", "children"),
        Output("results", "children"),
        Output("tick", "disabled", allow_duplicate=True),
        Output("downloads", "hidden"),
        Output("get-toml", "href"),
        Output("get-zip", "href"),
        Input("tick", "n_intervals"),
        State("session", "data"),
        State("job", "data"),
        prevent_initial_call=True,
    )
    def poll(_: int, session: str, job: str) -> tuple[Any, ...]:
        try:
            progress = runs.progress(session, job)
        except KeyError:
            return "", no_update, True, True, None, None
        shown = progress_view(job, progress)
        if progress["state"] == "done":
            results = results_view(runs.results(session, job))
            return shown, results, True, False, *download_links(session, job)
        return shown, no_update, progress["state"] == "failed", True, None, None

    server: Flask = app.server

    @server.route("/download/<session>/<job>/<what>")
    def download(session: str, job: str, what: str) -> Response:
        """A finished run's scenario file or its zip, streamed from disk (a run of a million
        people is tens of megabytes: not a page update)."""
        try:
            if runs.progress(session, job)["state"] != "done" or what not in DOWNLOADS:
                abort(404)
            path = runs.scenario_path(session, job) if what == TOML else runs.archive(session, job)
        except KeyError:
            abort(404)
        return send_file(path, as_attachment=True, download_name=f"{job}-{what}")


def download_links(session: str, job: str) -> tuple[str, str]:
    """Where a finished run's scenario file and zip are served (`download` above)."""
    return f"/download/{session}/{job}/{TOML}", f"/download/{session}/{job}/{ZIP}"


def _value(kind: str, value: Any) -> Any:
    """A control's value as the scenario takes it: a checklist's ticks as a yes or no."""
    if kind in ("bool", "switch"):
        return bool(value)
    return value
