"""The app's own Redis clients: on REDIS_URL, or on the master that Redis Sentinel names.

With REDIS_SENTINELS set ("host:port,host:port"), REDIS_URL's host is not used: every client
asks the Sentinels for the current master of REDIS_SENTINEL_MASTER and asks again after a
connection error, so a failover (a replica promoted) is followed without a restart.
REDIS_URL still gives the database number and the password, and still switches Redis on.
The channel layer (channels-redis) gets the same Sentinels from settings.CHANNEL_LAYERS.
"""

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as async_sentinel
import redis.sentinel as sync_sentinel
from django.conf import settings
from redis.connection import parse_url

# How long a Sentinel may take to answer "who is the master?"
SENTINEL_KWARGS = {"socket_timeout": 1, "socket_connect_timeout": 1}


def parse_sentinels(text: str) -> list[tuple[str, int]]:
    """'10.0.0.1:26379, sentinel-2:26379' -> [('10.0.0.1', 26379), ('sentinel-2', 26379)]."""
    sentinels = []
    for item in text.split(","):
        host, _, port = item.strip().rpartition(":")
        if item.strip():
            sentinels.append((host or item.strip(), int(port) if host else 26379))
    return sentinels


def url_options(url: str) -> dict:
    """What REDIS_URL still says when Sentinel names the master: database and credentials."""
    options = parse_url(url)
    return {key: options[key] for key in ("db", "username", "password") if key in options}


def sync_client(**kwargs) -> redis.Redis:
    if settings.REDIS_SENTINELS:
        sentinel = sync_sentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=SENTINEL_KWARGS)
        return sentinel.master_for(
            settings.REDIS_SENTINEL_MASTER, **url_options(settings.REDIS_URL), **kwargs
        )
    return redis.Redis.from_url(settings.REDIS_URL, **kwargs)


def async_client(**kwargs) -> aioredis.Redis:
    if settings.REDIS_SENTINELS:
        sentinel = async_sentinel.Sentinel(
            settings.REDIS_SENTINELS, sentinel_kwargs=SENTINEL_KWARGS
        )
        return sentinel.master_for(
            settings.REDIS_SENTINEL_MASTER, **url_options(settings.REDIS_URL), **kwargs
        )
    return aioredis.Redis.from_url(settings.REDIS_URL, **kwargs)


class SentinelCachePool(sync_sentinel.SentinelConnectionPool):
    """Django's RedisCache (OPTIONS "pool_class") with the master that Sentinel names."""

    @classmethod
    def from_url(cls, url: str, **kwargs):
        return cls(
            settings.REDIS_SENTINEL_MASTER,
            sync_sentinel.Sentinel(settings.REDIS_SENTINELS, sentinel_kwargs=SENTINEL_KWARGS),
            **url_options(url),
            **kwargs,
        )
