"""``seilearn webgui``: the FireWorks web GUI and the seilearn dashboard on the configured store."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("webgui", help="serve the FireWorks web GUI with the seilearn dashboard (/seilearn/)")
    p.add_argument("--host", default=None, help="default: settings webgui_host (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: settings webgui_port (5000)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from seilearn.config import load_settings
    from seilearn.web.app import check_bind, create_app

    s = load_settings()
    host, port = args.host or s.webgui_host, args.port or s.webgui_port
    check_bind(host, s.webgui_user, s.webgui_password)
    app = create_app(s)
    print(f"seilearn web GUI on http://{host}:{port}/  (dashboard: http://{host}:{port}/seilearn/)", flush=True)
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True)
    return 0
