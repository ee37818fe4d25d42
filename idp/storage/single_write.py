"""Units of work that read, then write once: on PostgreSQL their statements stand alone.

Userinfo and introspection read a token and write one access log entry (or several, held for the
commit and sent as one statement: idp/storage/pending_inserts.py). In a transaction that is four
round trips: BEGIN, the read, the write, COMMIT. Run in autocommit it is two, and nothing is lost:
a read needs no transaction to be consistent with itself, and a single statement is atomic on its
own. What would be lost is the atomicity of two writes, so a unit of work of this kind refuses a
second write before it is sent (`SecondWriteRefused`), whichever path sends it: SQLAlchemy's
statements (`count_writes`, a cursor event) and the rows written at commit (`spend_the_write`).
"""

from __future__ import annotations

from typing import Any

# Set on a connection while a single-write unit of work holds it: how many writes it may still send.
WRITES_LEFT = "single write: writes left"


class SecondWriteRefused(RuntimeError):
    """A unit of work that runs without a transaction tried to write twice."""


def spend_the_write(info: dict[Any, Any]) -> None:
    """Count one write on the connection whose `info` this is; refuse it if it is the second."""
    left = info.get(WRITES_LEFT)
    if left is None:
        return
    if left < 1:
        raise SecondWriteRefused(
            "a unit of work without a transaction writes once: open a transaction for more"
        )
    info[WRITES_LEFT] = left - 1


def count_writes(
    conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
) -> None:
    """`before_cursor_execute` listener: every statement but a SELECT is a write."""
    if WRITES_LEFT in conn.info and not statement.lstrip()[:6].upper().startswith("SELECT"):
        spend_the_write(conn.info)
