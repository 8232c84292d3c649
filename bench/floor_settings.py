"""Bench-only settings for `bench/intake_http.py`: production's, with the floor view added
to the URLs. Never deployed: it lives in `bench/`, which is on the server's path only when
the bench starts it."""

from gongzhi.config.settings.production import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
