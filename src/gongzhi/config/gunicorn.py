"""Gunicorn settings for `gongzhi serve` (loaded with `-c python:gongzhi.config.gunicorn`).

Every value can be set from the environment, so one machine's service file or a container
only sets variables. Threaded workers: a slow phone on a weak connection holds a thread,
not a whole process.
"""

import os

bind = os.environ.get("GONGZHI_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * (os.cpu_count() or 1) + 1, 8))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
# RequestLogMiddleware already logs every request as one JSON line.
accesslog = None
# Trust X-Forwarded-Proto only from a proxy on this machine.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The runtime control socket lives at one path per user: two instances on a machine (the
# demo and the tests, two sites) would take each other's. Nothing here uses it.
control_socket_disable = True
# gunicorn's own messages as JSON lines too, like the application's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "gongzhi.core.logging.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


def post_worker_init(worker):
    """Each web worker loads the word lists a report needs before its first request; a
    cold worker made the first reports wait 2–15 s under load (bench/intake_http.py)."""
    from gongzhi.core.text import warm_up

    warm_up()
