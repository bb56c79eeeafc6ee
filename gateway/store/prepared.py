"""Statements compiled once and run on the DBAPI cursor: the lane-event path's few statements."""

from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


class Prepared:
    """A Core statement compiled once per dialect and run on the unit's DBAPI cursor: for the few
    statements of the lane-event path, which never change.

    ``Connection.execute`` builds an execution context, dispatches events and wraps the cursor
    on every call: measured, 55 us a statement beside 11 us in the driver, a fifth of a lane
    event's own CPU. What a call needs is kept: the column types' bind and result processing
    (UTC datetimes, exact decimals, as :meth:`Connection.execute` does them) and SQLAlchemy's
    exceptions (a duplicate EventID is still an ``IntegrityError``). Not kept: SQL echo logging
    and cursor events, which nothing on this path uses. ``keys``: the columns an INSERT or an
    UPDATE sets (the statement is compiled for exactly those).
    """

    def __init__(self, statement: Any, keys: Any = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        # One plan per engine's dialect, not per dialect name: the processors of sealed columns
        # take the key ring of the engine they were made for (gateway.store.sealed).
        self._plans: WeakKeyDictionary[Any, _PreparedPlan] = WeakKeyDictionary()

    def _plan(self, conn: Connection) -> "_PreparedPlan":
        dialect = conn.dialect
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = _PreparedPlan(self.statement, self.keys, dialect)
        return plan

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Every row, as a dict by the statement's column keys."""
        plan = self._plan(conn)
        cursor = plan.execute(conn, params)
        try:
            names, processors = plan.result(cursor.description)
            # A NULL is None in every column type (each processor passes None through), so it is not
            # handed to them: the lane facts' outer joins read mostly NULLs (a transient's row: every
            # column of its session and its permit).
            return [{name: (value if process is None or value is None else process(value))
                     for name, process, value in zip(names, processors, row)} for row in cursor.fetchall()]
        finally:
            cursor.close()

    def run(self, conn: Connection, params: dict[str, Any]) -> int:
        """The number of rows an INSERT, UPDATE or DELETE touched."""
        cursor = self._plan(conn).execute(conn, params)
        try:
            return cursor.rowcount
        finally:
            cursor.close()


class _PreparedPlan:
    """One statement for one dialect: its SQL, its parameters in order with their processors."""

    def __init__(self, statement: Any, keys: list[str] | None, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        if compiled.insert_prefetch or compiled.update_prefetch or compiled.post_compile_params:
            raise ValueError("Prepared runs statements whose values all come from the caller")
        self.sql = compiled.string
        self.dialect = dialect
        order = compiled.positiontup if compiled.positional else list(compiled.binds)
        self.names = None if compiled.positional else order  # pyformat drivers take a dict by name
        # Each parameter processed once, however often the SQL names it: a plate bound in three
        # places of the lane facts' statement is blinded (an HMAC) once, not three times.
        unique = list(dict.fromkeys(order))
        self.binds = [(name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
                      for name in unique]
        self.positions = None if len(unique) == len(order) else [unique.index(name) for name in order]
        self.statement = statement
        self._results: tuple[list[str], list[Any]] | None = None

    def execute(self, conn: Connection, params: dict[str, Any]) -> Any:
        values: Any = [params[name] if process is None else process(params[name]) for name, process in self.binds]
        if self.positions is not None:
            values = [values[i] for i in self.positions]
        if self.names is not None:
            values = dict(zip(self.names, values))
        dbapi: Any = conn.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            cursor.execute(self.sql, values)
        except self.dialect.loaded_dbapi.Error as e:
            cursor.close()
            raise DBAPIError.instance(self.sql, values, e, self.dialect.loaded_dbapi.Error,
                                      hide_parameters=conn.engine.hide_parameters, dialect=self.dialect) from e
        return cursor

    def result(self, description: Any) -> tuple[list[str], list[Any]]:
        """(names, result processors) for the cursor's columns (worked out on the first rows)."""
        if self._results is None:
            columns = self.statement.exported_columns  # a SELECT's columns, or what an INSERT returns
            self._results = (list(columns.keys()),
                             [column.type.dialect_impl(self.dialect).result_processor(self.dialect, described[1])
                              for column, described in zip(columns, description)])
        return self._results
