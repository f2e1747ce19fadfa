"""The cache never shares a Redis database with the task broker."""

from orion.settings import next_redis_db


def test_the_cache_takes_the_next_database_of_the_brokers_server() -> None:
    assert next_redis_db("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/1"
    assert next_redis_db("redis://:pw@redis:6380/4") == "redis://:pw@redis:6380/5"
    assert next_redis_db("redis://redis") == "redis://redis/1"
