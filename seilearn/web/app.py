"""The web application: FireWorks' web GUI on our LaunchPad with the seilearn dashboard mounted."""

from __future__ import annotations

import hmac
import secrets

from flask import Response, request

from seilearn.config import Settings, load_settings
from seilearn.errors import ConfigError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def create_app(settings: Settings | None = None, *, user: str | None = None, password: str | None = None):
    """FireWorks' Flask app configured for the seilearn store, with the dashboard blueprint."""
    from fireworks.flask_site.app import app

    from seilearn.store import Store, get_launchpad
    from seilearn.web.dashboard import bp
    from seilearn.web.security import harden

    settings = settings or load_settings()
    user = user or settings.webgui_user
    password = password or settings.webgui_password
    app.lp = get_launchpad(settings)
    app.config["SEILEARN_STORE"] = Store.open(settings)
    app.config["WEBGUI_USERNAME"] = user
    app.config["WEBGUI_PASSWORD"] = password
    app.secret_key = app.secret_key or secrets.token_hex(16)
    if "seilearn" not in app.blueprints:
        app.register_blueprint(bp)
        harden(app)

        @app.before_request
        def _basic_auth():
            want_user = app.config.get("WEBGUI_USERNAME")
            if not want_user:
                return None
            auth = request.authorization
            if auth and hmac.compare_digest(auth.username or "", want_user) and hmac.compare_digest(
                    auth.password or "", app.config.get("WEBGUI_PASSWORD") or ""):
                return None
            return Response("login required", 401, {"WWW-Authenticate": 'Basic realm="seilearn"'})
    return app


def check_bind(host: str, user: str | None, password: str | None) -> None:
    """Refuse to serve beyond localhost without credentials (docs/operations.md)."""
    if host not in LOCAL_HOSTS and not (user and password):
        raise ConfigError(f"refusing to serve the web GUI on {host} without basic auth; set SEILEARN_WEBGUI_USER and "
                          "SEILEARN_WEBGUI_PASSWORD, or bind to 127.0.0.1 and use an SSH tunnel")


def serve(app, host: str, port: int, *, open_browser: bool = False, threads: int = 8) -> None:
    """Serve ``app`` with waitress (a production WSGI server); optionally open a browser."""
    import waitress

    if open_browser:
        import threading
        import webbrowser

        shown = "localhost" if host in ("0.0.0.0", "::") else host
        threading.Timer(1.0, webbrowser.open, args=(f"http://{shown}:{port}/seilearn/",)).start()
    waitress.serve(app, host=host, port=port, threads=threads, ident="waitress")
