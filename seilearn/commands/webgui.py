"""``seilearn webgui``: the FireWorks web GUI and the seilearn dashboard on the configured store."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("webgui", help="serve the FireWorks web GUI with the seilearn dashboard (/seilearn/)",
                       description="Serves FireWorks' web GUI at / and the seilearn dashboard at /seilearn/ on the "
                                   "embedded or configured store. Binding beyond localhost needs basic-auth "
                                   "credentials (SEILEARN_WEBGUI_USER and SEILEARN_WEBGUI_PASSWORD).")
    p.add_argument("--host", default=None, help="default: settings webgui_host (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="default: settings webgui_port (5000)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from seilearn.config import load_settings
    from seilearn.web.app import check_bind, create_app, serve

    s = load_settings()
    host, port = args.host or s.webgui_host, args.port or s.webgui_port
    check_bind(host, s.webgui_user, s.webgui_password)
    app = create_app(s)
    auth = " (basic auth on)" if s.webgui_user else ""
    print(f"seilearn web GUI on http://{host}:{port}/  (dashboard: http://{host}:{port}/seilearn/){auth}", flush=True)
    serve(app, host, port, open_browser=not args.no_browser)
    return 0
