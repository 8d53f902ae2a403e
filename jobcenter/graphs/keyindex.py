"""The vertex key index of one import: vertex key -> vid, in memory up to a capacity, looked up
in the store beyond it (one statement per batch of keys for the columnar path)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs.stores.base import GraphStore

# Graphs with up to this many vertices get an in-memory key index (about 100 MB at the limit).
INDEX_CAPACITY = 1_000_000


class ScopeKeys:
    """Vertex keys of one scope -> vids, in memory. ``get`` is the dict's own method, so the
    row builders' lookups cost one dict probe; a builder records a stored line's new key in
    ``new`` (here the same dict) once the line's values converted, never before."""

    def __init__(self, index: VertexIndex) -> None:
        self.index = index
        self.keys: dict[str, int] = {}
        self.get = self.keys.get
        self.new = self.keys


class StoredScopeKeys:
    """Vertex keys of one scope looked up in the store (graphs too big for memory). Keys of
    lines accepted since the last vertex batch was written are held in ``new`` until then."""

    def __init__(self, index: VertexIndex, scope: str) -> None:
        self.index = index
        self.scope = scope
        self.new: dict[str, int] = {}

    def get(self, key: str) -> int | None:
        vid = self.new.get(key)
        return vid if vid is not None else self.index.store.find_vid(self.scope, key)


class VertexIndex:
    """Vertex key -> vid during one import: new vertices get their vid here (the store takes
    it as given), edges find their endpoints here. A vertex line takes ``next_vid`` and puts
    its key in its scope's ``new`` only once its values converted, so a line that fails leaves
    no key behind (no edge can point at a vertex that was not stored). In memory while the
    graph has at most ``capacity`` vertices (about 100 bytes each); beyond that, looked up in
    the store, slower but with memory that does not grow with the graph."""

    def __init__(self, store: GraphStore, *, capacity: int, expected_new: int) -> None:
        self.store = store
        self.next_vid = store.max_vid() + 1
        self.in_memory = store.vertex_count() + expected_new <= capacity
        self.scopes: dict[str, ScopeKeys | StoredScopeKeys] = {}
        # While a columnar run registers keys, ``new`` keeps them after they are written
        # (the run's duplicate check reads ``new`` and one batched look-up of the store).
        self.hold = False
        # scope -> (keys in the index when built, keys, vids): the columnar look-ups' arrays
        self._key_arrays: dict[str, tuple[int, pa.Array, pa.Array]] = {}
        if self.in_memory:
            for scope, key, vid in store.vertex_keys():
                self.scope(scope).keys[key] = vid  # type: ignore[union-attr]

    def scope(self, scope: str) -> ScopeKeys | StoredScopeKeys:
        keys = self.scopes.get(scope)
        if keys is None:
            keys = ScopeKeys(self) if self.in_memory else StoredScopeKeys(self, scope)
            self.scopes[scope] = keys
        return keys

    def vids(self, scope: str, keys: pa.Array) -> pa.Array:
        """Vids of ``keys`` in ``scope`` (null: no such vertex), for a whole run at once."""
        known = self.scope(scope)
        if isinstance(known, ScopeKeys) and len(known.keys) > 2 * len(keys):
            # Many more keys than lines: hashing all the keys for each run costs more than
            # looking the run's distinct keys up in the dict.
            names = pc.unique(keys)
            vids = pa.array(list(map(known.keys.get, names.to_pylist())), pa.int64())
        elif isinstance(known, ScopeKeys):
            cached = self._key_arrays.get(scope)
            if cached is None or cached[0] != len(known.keys):  # keys are only ever added
                cached = (
                    len(known.keys),
                    pa.array(list(known.keys), pa.string()),
                    pa.array(list(known.keys.values()), pa.int64()),
                )
                self._key_arrays[scope] = cached
            _, names, vids = cached
        else:
            wanted = pc.unique(keys).to_pylist()
            found = dict(self.store.find_vids(scope, wanted))
            found.update((k, known.new[k]) for k in wanted if k in known.new)
            names = pa.array(list(found), pa.string())
            vids = pa.array(list(found.values()), pa.int64())
        return pc.take(vids, pc.index_in(keys, value_set=names))

    def written(self) -> None:
        """The accepted vertices are in the store now."""
        if not self.in_memory and not self.hold:
            for keys in self.scopes.values():
                keys.new.clear()
