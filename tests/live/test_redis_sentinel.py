"""With REDIS_SENTINELS, every Redis client of the app asks Sentinel for the master (no network:
the clients are built, not connected)."""

import redis
import redis.asyncio.sentinel as async_sentinel
import redis.sentinel as sync_sentinel
from django.test import override_settings

from core import redis_clients

SENTINELS = [("10.0.0.1", 26379), ("sentinel-2", 26380)]
WITH_SENTINEL = override_settings(
    REDIS_URL="redis://:secret@ignored/3",
    REDIS_SENTINELS=SENTINELS,
    REDIS_SENTINEL_MASTER="mymaster",
)


def test_parse_sentinels():
    assert redis_clients.parse_sentinels("") == []
    assert redis_clients.parse_sentinels("10.0.0.1:26379, sentinel-2:26380") == SENTINELS
    assert redis_clients.parse_sentinels("sentinel") == [("sentinel", 26379)]


@override_settings(REDIS_URL="redis://cache.example:6380/2", REDIS_SENTINELS=[])
def test_without_sentinel_the_url_is_used():
    client = redis_clients.sync_client(socket_timeout=1)
    assert isinstance(client.connection_pool, redis.ConnectionPool)
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.example", 6380, 2)


def check_pool(pool, sentinel_class):
    assert pool.service_name == "mymaster"
    assert isinstance(pool.sentinel_manager, sentinel_class)
    addresses = [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in pool.sentinel_manager.sentinels
    ]
    assert addresses == SENTINELS
    assert pool.connection_kwargs["db"] == 3
    assert pool.connection_kwargs["password"] == "secret"


@WITH_SENTINEL
def test_sync_and_async_clients_follow_the_sentinel_master():
    check_pool(redis_clients.sync_client(socket_timeout=1).connection_pool, sync_sentinel.Sentinel)
    check_pool(
        redis_clients.async_client(socket_timeout=1).connection_pool, async_sentinel.Sentinel
    )


@WITH_SENTINEL
def test_the_cache_pool_follows_the_sentinel_master():
    pool = redis_clients.SentinelCachePool.from_url("redis://:secret@ignored/3")
    check_pool(pool, sync_sentinel.Sentinel)


def test_settings_build_the_channel_layer_on_sentinel(monkeypatch):
    import importlib
    import os

    import multitude.settings as module

    monkeypatch.setitem(os.environ, "REDIS_URL", "redis://ignored/1")
    monkeypatch.setitem(os.environ, "REDIS_SENTINELS", "10.0.0.1:26379,sentinel-2:26380")
    try:
        fresh = importlib.reload(module)
        host = fresh.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
        assert host["sentinels"] == SENTINELS
        assert host["master_name"] == "multitude"
        assert host["db"] == 1
        assert fresh.CACHES["default"]["OPTIONS"]["pool_class"].endswith("SentinelCachePool")
    finally:
        monkeypatch.undo()
        importlib.reload(module)
