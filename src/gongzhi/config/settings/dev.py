"""Local development and the demo: one machine, SQLite, a fixed key kept in the data dir."""

import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR

DATA_DIR.mkdir(parents=True, exist_ok=True)
if not SECRET_KEY:  # noqa: F405
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()
