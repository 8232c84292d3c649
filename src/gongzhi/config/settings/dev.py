"""Local development and the demo: one machine, SQLite, a fixed key kept in the data dir.

`gongzhi` uses these settings unless DJANGO_SETTINGS_MODULE says otherwise. DEBUG stays
off unless the environment sets DEBUG=1, so the demo behaves as production does.
"""

import secrets

from .base import *  # noqa: F403
from .base import DATA_DIR, DEBUG, STATIC_ROOT

DATA_DIR.mkdir(parents=True, exist_ok=True)
# WhiteNoise warns at every start when the folder `collectstatic` fills does not exist yet.
STATIC_ROOT.mkdir(exist_ok=True)
if not SECRET_KEY:  # noqa: F405
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
    SECRET_KEY = key_file.read_text().strip()

# WhiteNoise serves static files from the source folders too, so pages are styled even
# before `collectstatic`; with DEBUG=1 it picks up edited files without a restart.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
GONGZHI_SERVE_MEDIA = True
