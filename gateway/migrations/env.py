"""Alembic environment: the metadata of every package, the URL from the caller's config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

import admin.models  # noqa: F401  (registers the administrators' roles)
import consent.models  # noqa: F401  (registers the consent table)
import idp.authenticators.models  # (registers the authenticators' tables)
import idp.models  # (registers the core tables; the name is bound again below)
import idp.passkeys.models
import idp.sign_out.models  # noqa: F401  (registers the sign-out tables)
import transparency.models  # noqa: F401  (registers the access log tables)
from idp.storage.database import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        url = config.get_main_option("sqlalchemy.url") or ""
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
