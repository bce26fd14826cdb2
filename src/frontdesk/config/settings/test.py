"""Test settings: the base settings, fast password hashing, and whatever DATABASE_URL says."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
PUBLIC_CHECK_IN_RATE = "1000/m"
