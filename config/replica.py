"""Reports and exports read from a read replica when DATABASE_REPLICA_URL names one; everything
else reads and writes the primary.

`replica_read(compute)` runs a computation whose reads may come from the replica: a report
(registry.build_report, after the user's access was decided on the primary) and an export's file.
If the replica cannot be reached, or cancels a query that conflicts with its replay, the same
computation runs again on the primary and a warning is logged: a report is never refused because
the replica is down. Inside it (`replica_reads()`) the router sends the ORM's reads to the
"replica" alias and every write to the primary; raw SQL asks `reading_connection()`.

Access decisions, the access log, sessions and the tablet's writes never read the replica, so a
lagging or stopped replica can neither grant access nor slow a submission. A closed period is
frozen from the primary (its figures must hold the last registration). Without
DATABASE_REPLICA_URL there is no replica alias and every read goes to the primary. A streaming
replica lags by its replay delay: a report may miss what was saved in the last second;
docs/deployment.md says how to watch the lag."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"
T = TypeVar("T")

logger = logging.getLogger(__name__)

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads in this block come from the replica, if there is one."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def replica_read(compute: Callable[[], T]) -> T:
    """compute() with its reads on the replica; on the primary if the replica fails it."""
    if REPLICA not in settings.DATABASES:
        return compute()
    try:
        with replica_reads():
            return compute()
    except OperationalError:
        logger.warning("The read replica did not answer: reading from the primary instead", exc_info=True)
        connections[REPLICA].close()
        return compute()


def reading_alias() -> str:
    """The database alias reads go to here and now."""
    if _replica_reads.get() and REPLICA in settings.DATABASES:
        return REPLICA
    return DEFAULT_DB_ALIAS


def reading_connection() -> BaseDatabaseWrapper:
    """The connection for a report's raw SQL."""
    return connections[reading_alias()]


class ReplicaRouter:
    """DATABASE_ROUTERS: reads inside replica_reads() to the replica, writes and migrations to the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str:
        return reading_alias()

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, first: Any, second: Any, **hints: Any) -> bool:
        return True  # the same rows on both

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
