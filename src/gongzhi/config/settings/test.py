"""Test settings: the same stack, with fast hashing and in-memory side channels."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403

SECRET_KEY = "test-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "gongzhi.core.sms.ConsoleSmsBackend"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="gongzhi-test-media-"))
STATIC_ROOT = Path(tempfile.mkdtemp(prefix="gongzhi-test-static-"))
# Tasks run in-process and at once, so a test sees their effect without a worker.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
if os.environ.get("GONGZHI_TEST_TASKS") == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Users' ids repeat from test to test while the memory cache keeps counting: the rate
# limit tests set their own limit.
GONGZHI["REPORT_RATE_LIMIT"] = (1_000_000, 60)  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
