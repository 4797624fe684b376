"""The production web server: `gunicorn -c gunicorn.conf.py app:app`.

Threads, not processes, wait on slow clients: a multi-GB upload or a reader on a bad
connection holds one thread of a `gthread` worker, and the worker's main loop keeps
heart-beating, so a long upload is never cut off by the worker timeout (the default sync
worker answers a 5 GiB upload with HTTP 500 after 30 s). Uploads hold no database
connection while they stream (see lai_platform.submissions.admission), and leaderboard
pages are cached bytes, so threads are cheap.
"""

import multiprocessing
import os

import gunicorn.http.wsgi

# No version banner in the Server header: it only helps someone match known flaws.
gunicorn.http.wsgi.SERVER = "lai"

bind = os.environ.get("LAI_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("LAI_WEB_WORKERS", multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("LAI_WEB_THREADS", "32"))
# How long a worker may fail to heart-beat before it is restarted; not a request limit.
timeout = int(os.environ.get("LAI_WEB_TIMEOUT", "120"))
graceful_timeout = 60
keepalive = 5
# Heart-beat files in memory: a slow disk must not make a healthy worker look dead.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-"
# Behind a TLS-terminating proxy set LAI_TRUSTED_PROXIES and LAI_SECURE_COOKIES=1 (see the
# README): the app then trusts that many X-Forwarded-* hops and sends Secure cookies.
forwarded_allow_ips = os.environ.get("LAI_FORWARDED_ALLOW_IPS", "127.0.0.1")
