"""A Redis cache that fails open: when Redis is down, reads miss and writes are dropped.

The cache only holds rate-limit counters and other things that may be lost. Django's Redis
cache raises on a lost connection, and neither django-ratelimit nor django-ninja's throttle
catches that, so without this the public check-in would answer 500 while Redis restarts.
"""

import logging
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class FailOpenRedisCache(RedisCache):
    def _unavailable(self, operation: str) -> None:
        logger.warning("cache unavailable during %s; carrying on without it", operation, exc_info=True)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except RedisError:
            self._unavailable("add")
            return False

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError:
            self._unavailable("get")
            return default

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError:
            self._unavailable("set")

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except RedisError as error:
            # ValueError is what callers (django-ratelimit) treat as "no count": they fail open.
            self._unavailable("incr")
            raise ValueError("cache unavailable") from error

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except RedisError:
            self._unavailable("delete")
            return False
