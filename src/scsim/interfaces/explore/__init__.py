"""`scsim explore`: a local web page to change a scenario's levers, run it and read the audit.

For people who will not write TOML: pick a built-in or a file, move its declared levers (each
with its source or [U]), run, and see the report's opening summary, its main plots, wrongful
harms by mechanism, fairness by group and a paired comparison; download the what-if as a
scenario file and its run as a zip. Runs go to worker processes; each page sees its own.

    >>> server = start("rongcheng", Path("runs/explore"), port=0)   # a thread; server.url
    >>> server.stop()
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from scsim.interfaces.explore.app import explorer_app
from scsim.interfaces.explore.sessions import Runs
from scsim.scenario import builtin_names, load_scenario

HOST = "127.0.0.1"  # nobody else's browser reaches it unless --host says so


@dataclass
class Explorer:
    """A running explorer: its web server, its runs, and the address to open."""

    server: BaseWSGIServer
    runs: Runs
    url: str
    thread: threading.Thread | None = None  # serving in the background (tests, notebooks)

    def serve_forever(self) -> None:
        try:
            self.server.serve_forever()
        finally:
            self.stop()

    def stop(self) -> None:
        if self.thread is not None:  # serve_forever runs there: ask it to return
            self.server.shutdown()
            self.thread.join()
        self.server.server_close()
        self.runs.close()


def start(
    source: str | None,
    folder: Path,
    *,
    host: str = HOST,
    port: int = 8050,
    workers: int = 2,
    thread: bool = False,
) -> Explorer:
    """Build the explorer over `folder` (runs go to folder/<session>/run-<n>), bound to host and
    port (0: any free port). A file `source` is checked before anything starts; with `thread`
    it serves from a background thread (tests, notebooks)."""
    scenarios = builtin_names()
    first = source or "rongcheng"
    if source is not None:
        load_scenario(source)  # a bad file is refused in one line before the server starts
        if source not in scenarios:
            first = str(Path(source).resolve())
            scenarios = [first, *scenarios]
    runs = Runs(folder, workers=workers, offered=tuple(scenarios))
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per poll of each page
    server = make_server(host, port, explorer_app(runs, scenarios, first).server, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    explorer = Explorer(server, runs, f"http://{shown}:{server.server_port}/")
    if thread:
        explorer.thread = threading.Thread(target=server.serve_forever, daemon=True)
        explorer.thread.start()
    return explorer


__all__ = ["HOST", "Explorer", "start"]
