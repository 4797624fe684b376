"""WSGI entry (`app = create_app()`); `python app.py` serves the embedded default."""

from __future__ import annotations

import argparse
import os

from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler

from lai_platform import create_app, services
from lai_platform.challenges.demo import ensure_demo_challenge
from lai_platform.challenges.lookups import all_challenges

app = create_app()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the LAI Challenge Platform.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()

    with app.app_context():
        upgrade()
        if os.environ.get("LAI_LOAD_DEMO", "1") == "1" and not all_challenges():
            ensure_demo_challenge()
    # No version banner in the Server header: it only helps someone match known flaws.
    WSGIRequestHandler.server_version, WSGIRequestHandler.sys_version = "lai", ""
    # Picks up submissions a stopped process left queued or running.
    services.get(app).jobs.start()
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
