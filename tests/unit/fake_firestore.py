"""An in-memory Firestore client for the stage tests (tests/unit/fakes.py).

It copies the parts of Firestore the store layer relies on: `create` raises
Conflict on an existing document; `update` raises NotFound on a missing one
and FailedPrecondition when a `last_update_time` option no longer matches
(shared/store/optimistic.py's read-modify-write); reads and writes are deep
copies; `get_all`; collection-group queries with ==, <, >, <=, >= and `in`,
where a document without the field (or with a value of another type) matches
nothing, ordered by the inequality field. Every committed write to a session
ledger, and to a player's book (players/, when it has a cap), is checked
against spent + reserved <= cap (`violations`).
"""

from __future__ import annotations

import copy
import itertools
import threading
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as gexc

from shared.store import ledger

# Update times are unique across every fake, so a version remembered by
# shared/store/optimistic.py in one test can never match a document of another.
_versions = itertools.count(1)


@dataclass
class _Precondition:
    version: int


@dataclass
class _Written:
    update_time: int


class _Snap:
    def __init__(self, ref: _Ref, data: dict[str, Any] | None, version: int | None) -> None:
        self.reference, self.id = ref, ref.id
        self.exists, self.update_time, self._data = data is not None, version, data

    def to_dict(self) -> dict[str, Any] | None:
        return copy.deepcopy(self._data)


class _Ref:
    def __init__(self, db: FakeFirestore, path: str) -> None:
        self.db, self.path, self.id = db, path, path.rsplit("/", 1)[-1]

    def collection(self, name: str) -> _Collection:
        return _Collection(self.db, f"{self.path}/{name}")

    def get(self, **_: Any) -> _Snap:
        with self.db.lock:
            data, version = self.db.docs.get(self.path, (None, None))
            return _Snap(self, copy.deepcopy(data), version)

    def create(self, fields: dict[str, Any], **_: Any) -> _Written:
        with self.db.lock:
            if self.path in self.db.docs:
                raise gexc.Conflict(f"{self.path} exists")
            return self.db.commit(self.path, {}, fields)

    def update(
        self, fields: dict[str, Any], option: _Precondition | None = None, **_: Any
    ) -> _Written:
        with self.db.lock:
            if self.path not in self.db.docs:
                raise gexc.NotFound(self.path)
            data, version = self.db.docs[self.path]
            if option is not None and option.version != version:
                raise gexc.FailedPrecondition(f"{self.path} changed")
            return self.db.commit(self.path, data, fields)


class _Collection:
    def __init__(self, db: FakeFirestore, path: str) -> None:
        self.db, self.path = db, path

    def document(self, doc_id: str) -> _Ref:
        return _Ref(self.db, f"{self.path}/{doc_id}")

    def where(self, *, filter: Any) -> _Query:  # noqa: A002 - the SDK's keyword
        return _Query(self.db, self.path.split("/")[-1], parent=self.path).where(filter=filter)

    def stream(self) -> list[_Snap]:
        depth = self.path.count("/") + 1
        return [
            _Ref(self.db, p).get()
            for p in sorted(self.db.docs)
            if p.startswith(self.path + "/") and p.count("/") == depth
        ]


_OPS = {
    "==": lambda a, b: a == b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
}


class _Query:
    def __init__(
        self,
        db: FakeFirestore,
        group: str,
        filters: tuple = (),
        limit_n: int | None = None,
        parent: str | None = None,  # a collection's query: only its documents
        after: str | None = None,  # start_after: the path of the last one seen
    ) -> None:
        self.db, self.group, self.filters, self.limit_n = db, group, filters, limit_n
        self.parent, self.after = parent, after

    def _with(self, **changes: Any) -> _Query:
        now = dict(filters=self.filters, limit_n=self.limit_n, parent=self.parent, after=self.after)
        return _Query(self.db, self.group, **{**now, **changes})

    def where(self, *, filter: Any) -> _Query:  # noqa: A002 - the SDK's keyword
        return self._with(filters=(*self.filters, filter))

    def limit(self, n: int) -> _Query:
        return self._with(limit_n=n)

    def order_by(self, field: str) -> _Query:
        # Results are ordered by the range filter's field, then the path,
        # as Firestore orders them: only that order is supported.
        ranges = [f.field_path for f in self.filters if f.op_string not in ("==", "in")]
        assert ranges == [field], "the fake orders by the range filter's field only"
        return self

    def start_after(self, snap: _Snap) -> _Query:
        return self._with(after=snap.reference.path)

    def _matches(self, doc: dict[str, Any]) -> bool:
        for f in self.filters:
            if f.field_path not in doc or doc[f.field_path] is None:
                return False
            try:
                if not _OPS[f.op_string](doc[f.field_path], f.value):
                    return False
            except TypeError:  # Firestore compares values of one type only
                return False
        return True

    def stream(self) -> list[_Snap]:
        with self.db.lock:
            found = [
                (p, d)
                for p, (d, _) in self.db.docs.items()
                if p.split("/")[-2] == self.group
                and (self.parent is None or p.rsplit("/", 1)[0] == self.parent)
                and self._matches(d)
            ]
        ranges = [f.field_path for f in self.filters if f.op_string not in ("==", "in")]

        def key(path: str, doc: dict[str, Any]) -> tuple:
            return ((doc[ranges[0]],) if ranges else ()) + (path,)

        found.sort(key=lambda pd: key(*pd))
        if self.after is not None:
            with self.db.lock:
                last = key(self.after, self.db.docs[self.after][0])
            found = [(p, d) for p, d in found if key(p, d) > last]
        return [_Ref(self.db, p).get() for p, _ in found[: self.limit_n]]


class FakeFirestore:
    def __init__(self) -> None:
        self.docs: dict[str, tuple[dict[str, Any], int]] = {}
        self.lock = threading.RLock()
        self.fail_writes: dict[str, Exception] = {}  # path -> what a write there raises
        self.violations: list[str] = []

    def collection(self, path: str) -> _Collection:
        if not path or path.count("/") % 2:  # the client's own check
            raise ValueError(f"{path!r} is not a collection path")
        return _Collection(self, path)

    def document(self, path: str) -> _Ref:
        if not path or path.count("/") % 2 == 0:
            raise ValueError(f"{path!r} is not a document path")
        return _Ref(self, path)

    def collection_group(self, name: str) -> _Query:
        return _Query(self, name)

    def get_all(self, refs: list[_Ref], **_: Any) -> list[_Snap]:
        return [ref.get() for ref in refs]

    def write_option(self, last_update_time: int) -> _Precondition:
        return _Precondition(last_update_time)

    def commit(self, path: str, current: dict[str, Any], fields: dict[str, Any]) -> _Written:
        if path in self.fail_writes:
            raise self.fail_writes[path]
        data = {**copy.deepcopy(current), **copy.deepcopy(fields)}
        version = next(_versions)
        self.docs[path] = (data, version)
        if path.startswith("campaigns/") and path.split("/")[2:3] == ["sessions"]:
            self._check_ledger(path, data)
        if path.startswith("players/"):
            self._check_ledger(path, data)
        return _Written(version)

    def _check_ledger(self, path: str, doc: dict[str, Any]) -> None:
        holds, charges = ledger.held_maps(doc)
        spent, reserved = sum(charges.values()), sum(holds.values())
        # A player's book may have no cap (null).
        if doc["cap_micros"] is not None and spent + reserved > int(doc["cap_micros"]):
            self.violations.append(
                f"{path}: spent {spent} + reserved {reserved} > cap {doc['cap_micros']}"
            )
        if holds.keys() & charges.keys():
            self.violations.append(f"{path}: a key both held and charged")
        if (spent, reserved) != (doc["spent_micros"], doc["reserved_micros"]):
            self.violations.append(f"{path}: totals differ from the maps")

    def write(self, path: str, data: dict[str, Any]) -> None:
        """Set a document directly (test setup)."""
        with self.lock:
            self.docs[path] = (copy.deepcopy(data), next(_versions))

    def read(self, path: str) -> dict[str, Any] | None:
        with self.lock:
            found = self.docs.get(path)
            return copy.deepcopy(found[0]) if found else None
