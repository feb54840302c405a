"""Django's Redis cache, keeping one client object per connection pool.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` for every
cache call, and each one fills its table of ~170 response callbacks: five
cache calls a request (the session, the version tokens, the viewer) spent
more time building clients than talking to Redis. A `redis.Redis` holds no
connection of its own, only its pool, and is safe to share between threads,
so one per pool serves every call, as redis-py intends.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class PortalRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
