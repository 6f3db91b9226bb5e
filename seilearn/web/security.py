"""Response hardening for the web GUI: JSON served as JSON, and headers that stop sniffing, framing and
injected script.

FireWorks' ``jsonify`` takes its mimetype from ``JSONIFY_MIMETYPE``, a setting Flask 3 no longer
defines, so its JSON views (``/fw/<id>/details``, ``/wf/<id>/json``) went out as ``text/html`` with
firework names unescaped. FireWorks' own pages need inline scripts and jQuery from its CDN; the
dashboard and the plots need none, so they get a policy without script at all.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

_COMMON = "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
CSP_FIREWORKS = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://code.jquery.com; "
                 "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                 + _COMMON)
CSP_DASHBOARD = "default-src 'self'; script-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " + _COMMON
# a plot is a file from disk: an SVG could carry script, so it is rendered sandboxed with nothing allowed
CSP_FILE = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"
_JSON_VIEWS = re.compile(r"^/(fw/\d+/details|wf/\d+/json)/?$")


def harden(app: Flask) -> None:
    """Make JSON views answer ``application/json`` and add the security headers to every response."""
    app.config["JSONIFY_MIMETYPE"] = "application/json"
    app.after_request(secure_headers)


def secure_headers(response: Response) -> Response:
    """Headers for every response (and JSON views forced to application/json whatever their view said)."""
    path = request.path
    if _JSON_VIEWS.match(path) and response.mimetype != "application/json":
        response.mimetype = "application/json"
    if path.startswith("/seilearn/plot"):
        csp = CSP_FILE
    elif path.startswith("/seilearn"):
        csp = CSP_DASHBOARD
    else:
        csp = CSP_FIREWORKS
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
