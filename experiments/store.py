"""The durable results store: one embedded DuckDB database per output folder.

Each replication is committed in its own transaction the moment it finishes, keyed by
``(experiment_id, param_hash, seed)``. A run that is killed outright loses at most the
replications still being computed: DuckDB replays its write-ahead log when the file is opened
again, and ``--resume`` recomputes only the keys missing from ``runs``.

Tables
------
experiments  experiment_id, kind (compare/sweep/sensitivity), created_at, spec (JSON),
             code_version
scenarios    experiment_id, name, role (baseline/reform/point), param_hash, scenario_text (the
             file as written), scenario_json (the validated, merged scenario)
runs         experiment_id, param_hash, seed, finished_at, seconds, code_version
outcomes     experiment_id, param_hash, seed, scope, grp, year, outcome, value
             (see experiments.outcomes: year 0 is the whole run)
municipality experiment_id, param_hash, seed, kommunenummer, outcome, value (the outcomes of
             experiments.outcomes.MUNICIPALITY_OUTCOMES, per year over the run)
waits        experiment_id, param_hash, seed, kommunenummer, wait_days, families (how many
             admitted families of the municipality waited that many days)
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from sfbsim.experiments.errors import StoreError

DB_NAME = "results.duckdb"

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    spec VARCHAR NOT NULL,
    code_version VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS scenarios (
    experiment_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    param_hash VARCHAR NOT NULL,
    scenario_text VARCHAR NOT NULL,
    scenario_json VARCHAR NOT NULL,
    PRIMARY KEY (experiment_id, name)
);
CREATE TABLE IF NOT EXISTS runs (
    experiment_id VARCHAR NOT NULL,
    param_hash VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    seconds DOUBLE NOT NULL,
    code_version VARCHAR NOT NULL,
    PRIMARY KEY (experiment_id, param_hash, seed)
);
CREATE TABLE IF NOT EXISTS outcomes (
    experiment_id VARCHAR NOT NULL,
    param_hash VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    scope VARCHAR NOT NULL,
    grp VARCHAR NOT NULL,
    year INTEGER NOT NULL,
    outcome VARCHAR NOT NULL,
    value DOUBLE
);
CREATE TABLE IF NOT EXISTS municipality (
    experiment_id VARCHAR NOT NULL,
    param_hash VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    kommunenummer VARCHAR NOT NULL,
    outcome VARCHAR NOT NULL,
    value DOUBLE
);
CREATE TABLE IF NOT EXISTS waits (
    experiment_id VARCHAR NOT NULL,
    param_hash VARCHAR NOT NULL,
    seed BIGINT NOT NULL,
    kommunenummer VARCHAR NOT NULL,
    wait_days INTEGER NOT NULL,
    families BIGINT NOT NULL
);
"""


def _decisions_schema() -> str:
    """The decisions table: the key of a replication, then the trail's columns
    (model/trail.py)."""
    from sfbsim.model.trail import COLUMNS

    texts = {"municipality", "actor", "decision", "stage", "option", "outcome", "reason", "centre"}
    integers = {"decision_id", "family_id", "day", "step", "year", "start_day", "latest_day"}
    types = {
        **{c: "VARCHAR" for c in texts},
        **{c: "BIGINT" for c in integers},
        "available": "BOOLEAN",
        "chosen": "BOOLEAN",
    }
    columns = ",\n    ".join(f"{c} {types.get(c, 'DOUBLE')}" for c in COLUMNS)
    return (
        "CREATE TABLE IF NOT EXISTS decisions (\n    experiment_id VARCHAR NOT NULL,\n"
        f"    param_hash VARCHAR NOT NULL,\n    seed BIGINT NOT NULL,\n    {columns}\n);"
    )


SCHEMA += _decisions_schema()
TABLES = ("experiments", "scenarios", "runs", "outcomes", "municipality", "waits", "decisions")
DUCKDB_MAGIC = b"DUCK"
"""DuckDB database files carry these bytes at offset 8."""


def check_database_file(path: Path) -> None:
    """Refuse a file that is not a DuckDB database (a SQLite file, text, an empty file)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
    except OSError as error:
        raise StoreError(f"cannot read {path}: {error.strerror or error}") from None
    if head[8:12] != DUCKDB_MAGIC:
        kind = "empty" if not head else "not a DuckDB database"
        if head.startswith(b"SQLite format 3"):
            kind = "a SQLite database"
        raise StoreError(
            f"{path} is {kind}, not an sfbsim results database; sfbsim never writes into it: "
            "choose another --out (or move the file away)"
        )


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open the database without letting DuckDB fetch or load extensions."""
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as error:
        text = str(error)
        if "lock" in text.lower():
            raise StoreError(
                f"cannot open {path}: another process is using it ({text}); wait for it to "
                "finish or choose another --out"
            ) from None
        raise StoreError(f"cannot open {path}: {text}") from None
    except duckdb.Error as error:
        raise StoreError(
            f"{path} cannot be opened as an sfbsim results database ({error}); choose another --out"
        ) from None


class Store:
    """A results database (``DIR/results.duckdb``); one writer at a time."""

    def __init__(self, path: Path | str, read_only: bool = False) -> None:
        path = Path(path)
        if path.is_dir() or path.suffix != ".duckdb":
            path = path / DB_NAME
        self.path = path
        if read_only and not path.exists():
            raise StoreError(
                f"no results database at {path}: this is not the folder of an sfbsim compare, "
                "sweep or sensitivity experiment (a folder of `sfbsim run` holds tables, not a "
                "database)"
            )
        if path.exists():
            check_database_file(path)
        elif not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(path, read_only)
        try:
            foreign = set(self.table_names()) - set(TABLES)
            if foreign:
                raise StoreError(
                    f"{path} is a DuckDB database but not sfbsim's (it has tables "
                    f"{', '.join(sorted(foreign)[:5])}); sfbsim never writes into it: choose "
                    "another --out"
                )
            if not read_only:
                self.con.execute(SCHEMA)
        except BaseException:
            self.con.close()
            raise

    def table_names(self) -> list[str]:
        """The tables in the database."""
        return [row[0] for row in self.con.execute("SHOW TABLES").fetchall()]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # --- experiments ------------------------------------------------------------------------
    def experiments(self) -> pd.DataFrame:
        """Every experiment with its scenarios and how many replications are stored."""
        return self.con.execute(
            """
            SELECT e.experiment_id, e.kind, e.created_at,
                   (SELECT string_agg(s.name, ', ' ORDER BY s.role, s.name) FROM scenarios s
                     WHERE s.experiment_id = e.experiment_id) AS scenarios,
                   (SELECT count(*) FROM runs r WHERE r.experiment_id = e.experiment_id)
                     AS runs,
                   e.code_version
            FROM experiments e ORDER BY e.created_at
            """
        ).df()

    def experiment(self, experiment_id: str) -> dict | None:
        row = self.con.execute(
            "SELECT kind, created_at, spec, code_version FROM experiments WHERE experiment_id = ?",
            [experiment_id],
        ).fetchone()
        if row is None:
            return None
        return {
            "experiment_id": experiment_id,
            "kind": row[0],
            "created_at": row[1],
            "spec": json.loads(row[2]),
            "code_version": row[3],
        }

    def experiment_of_kind(self, kind: str) -> dict | None:
        """The (single) experiment of this kind in the database, if any."""
        row = self.con.execute(
            "SELECT experiment_id FROM experiments WHERE kind = ? ORDER BY created_at DESC",
            [kind],
        ).fetchone()
        return self.experiment(row[0]) if row else None

    def create_experiment(
        self,
        experiment_id: str,
        kind: str,
        spec: dict,
        code_version: str,
        scenarios: list[dict],
    ) -> None:
        """Record an experiment and its scenarios (name, role, param_hash, text, json)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "INSERT INTO experiments VALUES (?, ?, ?, ?, ?)",
                [
                    experiment_id,
                    kind,
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    json.dumps(spec, sort_keys=True),
                    code_version,
                ],
            )
            self._add_scenarios(experiment_id, scenarios)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    def add_scenarios(self, experiment_id: str, scenarios: list[dict]) -> None:
        """Add scenarios not yet recorded (e.g. new sweep points)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            self._add_scenarios(experiment_id, scenarios)
            self.con.execute("COMMIT")
        except Exception:
            self.con.execute("ROLLBACK")
            raise

    def _add_scenarios(self, experiment_id: str, scenarios: list[dict]) -> None:
        for s in scenarios:
            self.con.execute(
                "INSERT INTO scenarios VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [
                    experiment_id,
                    s["name"],
                    s["role"],
                    s["param_hash"],
                    s.get("scenario_text", ""),
                    s.get("scenario_json", ""),
                ],
            )

    def scenarios(self, experiment_id: str) -> pd.DataFrame:
        return self.con.execute(
            "SELECT name, role, param_hash, scenario_text, scenario_json FROM scenarios "
            "WHERE experiment_id = ? ORDER BY role, name",
            [experiment_id],
        ).df()

    def scenario_order(self, experiment_id: str) -> list[str]:
        """The names of an experiment's scenarios in the order they were recorded (the
        baseline, then the reforms or points as given; the spec's JSON keeps no order)."""
        rows = self.con.execute(
            "SELECT name FROM scenarios WHERE experiment_id = ? ORDER BY rowid", [experiment_id]
        ).fetchall()
        return [row[0] for row in rows]

    # --- replications -----------------------------------------------------------------------
    def done(self, experiment_id: str) -> set[tuple[str, int]]:
        """``(param_hash, seed)`` of every stored replication."""
        rows = self.con.execute(
            "SELECT param_hash, seed FROM runs WHERE experiment_id = ?", [experiment_id]
        ).fetchall()
        return {(h, int(s)) for h, s in rows}

    def write_replication(
        self,
        experiment_id: str,
        param_hash: str,
        seed: int,
        rows: pd.DataFrame,
        municipality: pd.DataFrame,
        seconds: float,
        code_version: str,
        decisions: pd.DataFrame | None = None,
        waits: pd.DataFrame | None = None,
    ) -> None:
        """Commit one replication's outcomes (and its waits and decision trail, if given)
        atomically (all of it or nothing)."""
        key = [experiment_id, param_hash, int(seed)]
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for table in ("outcomes", "municipality", "waits", "decisions", "runs"):
                con.execute(
                    f"DELETE FROM {table} WHERE experiment_id = ? AND param_hash = ? AND seed = ?",
                    key,
                )
            con.register("_rows", rows)
            con.execute(
                "INSERT INTO outcomes SELECT ?, ?, ?, scope, grp, year, outcome, value FROM _rows",
                key,
            )
            con.unregister("_rows")
            if len(municipality):
                con.register("_mun", municipality)
                con.execute(
                    "INSERT INTO municipality SELECT ?, ?, ?, kommunenummer, outcome, value "
                    "FROM _mun",
                    key,
                )
                con.unregister("_mun")
            if waits is not None and len(waits):
                con.register("_waits", waits)
                con.execute(
                    "INSERT INTO waits SELECT ?, ?, ?, kommunenummer, wait_days, families "
                    "FROM _waits",
                    key,
                )
                con.unregister("_waits")
            if decisions is not None and len(decisions):
                con.register("_decisions", decisions)
                con.execute("INSERT INTO decisions SELECT ?, ?, ?, * FROM _decisions", key)
                con.unregister("_decisions")
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                [*key, dt.datetime.now(dt.UTC).replace(tzinfo=None), seconds, code_version],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def outcomes(
        self,
        experiment_id: str,
        years: str = "period",
        scopes: tuple[str, ...] = ("national",),
        seeds: list[int] | None = None,
        outcomes: list[str] | None = None,
    ) -> pd.DataFrame:
        """Stored outcome rows of finished replications.

        ``years``: ``period`` (year 0, the whole run), ``yearly`` (each calendar year) or
        ``all``.
        """
        where = ["o.experiment_id = ?"]
        params: list[Any] = [experiment_id]
        if years == "period":
            where.append("o.year = 0")
        elif years == "yearly":
            where.append("o.year <> 0")
        where.append(f"o.scope IN ({', '.join('?' for _ in scopes)})")
        params.extend(scopes)
        if seeds is not None:
            where.append("o.seed IN (SELECT unnest(?))")
            params.append([int(s) for s in seeds])
        if outcomes is not None:
            where.append("o.outcome IN (SELECT unnest(?))")
            params.append(list(outcomes))
        return self.con.execute(
            "SELECT o.param_hash, o.seed, o.scope, o.grp, o.year, o.outcome, o.value "
            "FROM outcomes o JOIN runs r USING (experiment_id, param_hash, seed) "
            f"WHERE {' AND '.join(where)}",
            params,
        ).df()

    def municipality(
        self,
        experiment_id: str,
        seeds: list[int] | None = None,
        outcomes: list[str] | None = None,
    ) -> pd.DataFrame:
        """Stored rows per municipality (param_hash, seed, kommunenummer, outcome, value)."""
        params: list[Any] = [experiment_id]
        extra = ""
        if seeds is not None:
            extra += " AND seed IN (SELECT unnest(?))"
            params.append([int(s) for s in seeds])
        if outcomes is not None:
            extra += " AND outcome IN (SELECT unnest(?))"
            params.append(list(outcomes))
        return self.con.execute(
            "SELECT param_hash, seed, kommunenummer, outcome, value FROM municipality "
            f"WHERE experiment_id = ?{extra}",
            params,
        ).df()

    def waits(self, experiment_id: str, seeds: list[int] | None = None) -> pd.DataFrame | None:
        """Stored waits per municipality (param_hash, seed, kommunenummer, wait_days,
        families), or None for a database written before sfbsim stored them."""
        if "waits" not in self.table_names():
            return None
        params: list[Any] = [experiment_id]
        extra = ""
        if seeds is not None:
            extra = " AND seed IN (SELECT unnest(?))"
            params.append([int(s) for s in seeds])
        return self.con.execute(
            "SELECT param_hash, seed, kommunenummer, wait_days, families FROM waits "
            f"WHERE experiment_id = ?{extra}",
            params,
        ).df()

    # --- export -----------------------------------------------------------------------------
    def export(self, experiment_id: str, folder: Path, fmt: str = "parquet") -> list[Path]:
        """Write the experiment's tables to ``folder`` as Parquet or CSV; return the files."""
        if fmt not in ("parquet", "csv"):
            raise StoreError(f"unknown format {fmt!r}; use parquet or csv")
        if self.experiment(experiment_id) is None:
            raise StoreError(f"no experiment {experiment_id!r} in {self.path}")
        from sfbsim.experiments.files import atomic_write_frame, check_place

        folder = check_place(Path(folder))
        folder.mkdir(parents=True, exist_ok=True)
        queries = {
            "outcomes": "SELECT s.name AS scenario, s.role, o.* EXCLUDE (experiment_id) "
            "FROM outcomes o JOIN scenarios s USING (experiment_id, param_hash) "
            "WHERE o.experiment_id = $id ORDER BY s.name, o.seed, o.scope, o.grp, o.year, "
            "o.outcome",
            "municipality": "SELECT s.name AS scenario, m.* EXCLUDE (experiment_id) "
            "FROM municipality m JOIN scenarios s USING (experiment_id, param_hash) "
            "WHERE m.experiment_id = $id ORDER BY s.name, m.seed, m.kommunenummer",
            "runs": "SELECT * EXCLUDE (experiment_id) FROM runs WHERE experiment_id = $id "
            "ORDER BY param_hash, seed",
            "scenarios": "SELECT * EXCLUDE (experiment_id) FROM scenarios "
            "WHERE experiment_id = $id ORDER BY role, name",
        }
        if "waits" in self.table_names():
            queries["waits"] = (
                "SELECT s.name AS scenario, w.* EXCLUDE (experiment_id) FROM waits w "
                "JOIN scenarios s USING (experiment_id, param_hash) WHERE w.experiment_id = $id "
                "ORDER BY s.name, w.seed, w.kommunenummer, w.wait_days"
            )
        if (
            "decisions" in self.table_names()
            and self.con.execute(
                "SELECT count(*) FROM decisions WHERE experiment_id = ?", [experiment_id]
            ).fetchone()[0]
        ):
            queries["decisions"] = (
                "SELECT s.name AS scenario, d.* EXCLUDE (experiment_id) FROM decisions d "
                "JOIN scenarios s USING (experiment_id, param_hash) WHERE d.experiment_id = $id "
                "ORDER BY s.name, d.seed, d.decision_id"
            )
        written = []
        for name, query in queries.items():
            frame = self.con.execute(query, {"id": experiment_id}).df()
            target = folder / f"{experiment_id}-{name}.{fmt}"
            written.append(atomic_write_frame(frame, target))
        return written


def find_databases(path: Path) -> list[Path]:
    """``path`` itself if it is a database, else every results database beneath it."""
    path = Path(path)
    if path.is_file():
        return [path]
    if (path / DB_NAME).is_file():
        return [path / DB_NAME]
    return sorted(path.rglob(DB_NAME))
