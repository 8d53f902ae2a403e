"""The vertex key index of one import: vertex key -> vid, in memory up to a capacity, looked up
in the store beyond it (one statement per batch of keys for the columnar path).

In memory, a scope's keys are a :class:`KeyTable`: Arrow arrays sorted by the keys' 64-bit
hashes, with a bucket directory, so a chunk's keys are looked up natively at a cost per key
that grows only as the table outgrows the CPU's caches, in about 45 bytes per key (a Python
dict took about 100). Keys accepted since the last merge wait in a dict (``new``) that is
merged into the table when it grows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import compress, islice

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs.stores.base import GraphStore

# Graphs with up to this many vertices get an in-memory key index (about 45 bytes per key of
# up to 8 bytes: about 450 MB at the limit).
INDEX_CAPACITY = 10_000_000
# New keys wait in a dict (about 100 bytes each) until this many, or a quarter of the table,
# then are merged into the table (a merge sorts the table again: geometric growth keeps the
# total cost of the merges within a few sorts of the final table).
MERGE_KEYS = 1 << 18
# Fewer keys than this are not looked up at once in memory: a look-up of a few keys costs
# what about 300 of them cost one by one (KeyTable.get), and many of the lines judged one by
# one fail before their keys are asked (a CR or bytes that do not decode).
PREFETCH_LEAST = 256

Hasher = Callable[[pa.Array], pa.Array]  # string keys -> uint64 hashes


_MASK = (1 << 64) - 1
_K0, _K1 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9
# Arrow scalars, not Python ints: pyarrow tries to import numpy for each Python int argument.
_U64 = {k: pa.scalar(k, pa.uint64()) for k in (_K0, _K1, 32, 0, 1)}
# Keys of 1 to SHORT bytes have hashes no other such key has (see :func:`short_keys`): two
# of them with one hash are the same key, so they are not compared.
SHORT = 7
_I64 = {k: pa.scalar(k, pa.int64()) for k in (0, 1, SHORT, 8)}
_HEAD = 32  # a key's first 32 bytes are hashed word by word, and a longer key's last 8
# Keys of more than 8 bytes are hashed apart when fewer than one in this many.
_FEW_LONG = 8
_NO_TEXT = pa.scalar(None, pa.large_string())
_EMPTY = pa.scalar("", pa.large_string())  # (no vertex has an empty key)


def _mixed(h: pa.Array, word: pa.Array) -> pa.Array:
    h = pc.multiply(pc.bit_wise_xor(h, word), _U64[_K1])
    return pc.bit_wise_xor(h, pc.shift_right(h, _U64[32]))


def _words(data: pa.Array, at: int) -> pa.Array:
    """Bytes ``at`` to ``at + 8`` of each key (8 bytes there), as little-endian uint64s."""
    return (
        pc.binary_slice(data, at, at + 8 if at >= 0 else None).cast(pa.binary(8)).view(pa.uint64())
    )


def key_hashes(keys: pa.Array) -> pa.Array:
    """64-bit hashes of string keys (uint64; null keys hash to 0): the key's length, then its
    first 32 bytes as little-endian 64-bit words (NUL-padded) and a longer key's last 8 bytes,
    each mixed in by a multiply and a shift, as :func:`key_hash` does for one key. Keys equal
    in all that collide: the index tells them apart by the keys themselves."""
    text = keys.cast(pa.large_string())
    if text.null_count:
        text = pc.fill_null(text, "")  # (as long as "": no word mixed in)
    lengths = pc.binary_length(text)
    longest = pc.max(lengths).as_py() or 0
    if longest > 8:
        over = pc.greater(lengths, _I64[8])
        few = pc.sum(over).as_py()
        if few * _FEW_LONG < len(text):
            # A few keys of more than one word (a chunk's keys that match no vertex, say)
            # would make every key's hash read two words (3.6 against 1.9 ms a look-up of
            # 92,000 keys): the others are hashed without them, and they alone.
            blanked = pc.fill_null(pc.if_else(over, _NO_TEXT, text), "")
            h = _hashed(blanked, pc.binary_length(blanked), 8)
            return pc.replace_with_mask(h, over, key_hashes(pc.filter(text, over)))
    return _hashed(text, lengths, longest)


def _hashed(text: pa.Array, lengths: pa.Array, longest: int) -> pa.Array:
    """:func:`key_hashes` of ``text`` (no nulls), its keys' ``lengths`` and the longest."""
    h = pc.multiply(pc.cast(lengths, pa.uint64()), _U64[_K0])
    width = -(-min(longest, _HEAD) // 8) * 8
    if width:
        padded = pc.ascii_rpad(text, width=width, padding="\0")
        # Every key padded to ``width`` bytes: their words lie in a row in the values' buffer
        # (a cast of the values to 8-byte binaries took a third of a look-up's time).
        row = (
            longest <= width
            and padded.offset == 0
            and memoryview(padded.buffers()[1])[:8].cast("q")[0] == 0
        )
        if row:
            step = width // 8
            words = pa.Array.from_buffers(
                pa.uint64(), len(text) * step, [None, padded.buffers()[2]]
            )
            first = None
            if step > 1:  # key i's words are step * i, step * i + 1, ...
                every = pc.indices_nonzero(pc.is_valid(text)).cast(pa.int64())
                first = pc.multiply(every, pa.scalar(step, pa.int64()))
        else:
            padded = padded.cast(pa.large_binary())
        for at in range(0, width, 8):
            if not row:
                word = _words(padded, at)
            elif first is None:
                word = words
            else:
                word = pc.take(words, pc.add(first, pa.scalar(at // 8, pa.int64())))
            mixed = _mixed(h, word)
            live = pc.greater(lengths, pa.scalar(at, pa.int64()))
            h = mixed if pc.all(live).as_py() else pc.if_else(live, mixed, h)
    long = pc.greater(lengths, pa.scalar(_HEAD, pa.int64()))
    if pc.any(long).as_py():
        tails = _words(pc.filter(text.cast(pa.large_binary()), long), -8)
        h = pc.replace_with_mask(h, long, _mixed(pc.filter(h, long), tails))
    return h  # (the buckets read the top bits: a multiply mixed them last)


def short_keys(keys: pa.Array) -> pa.Array:
    """Which keys are 1 to :data:`SHORT` bytes long. Their :func:`key_hashes` are all
    different: such a key mixes one word, its bytes padded with NULs, into its length times
    ``_K0``, and a multiply by an odd number and ``h ^ (h >> 32)`` lose nothing; so two with one
    hash have ``L1 * _K0 ^ w1 == L2 * _K0 ^ w2``; with one length, one word (the same key); with
    two lengths of at most 7 the words' top bytes are 0, while those of ``L1 * _K0`` and
    ``L2 * _K0`` differ for every two lengths from 1 to 7 (tests/graphs/test_keyindex.py)."""
    lengths = pc.binary_length(keys)
    return pc.fill_null(
        pc.and_(pc.greater(lengths, _I64[0]), pc.less_equal(lengths, _I64[SHORT])), False
    )


def key_hash(key: str) -> int:
    """:func:`key_hashes` of one key, in Python."""
    data = key.encode()
    h = (len(data) * _K0) & _MASK
    words = [data[at : at + 8] for at in range(0, min(len(data), _HEAD), 8)]
    if len(data) > _HEAD:
        words.append(data[-8:])
    for word in words:
        h = ((h ^ int.from_bytes(word, "little")) * _K1) & _MASK
        h ^= h >> 32
    return h


def _view(array: pa.Array, fmt: str) -> memoryview:
    """The values of a fixed-width Arrow array without nulls, indexable from Python."""
    width = array.type.bit_width // 8
    buffer = array.buffers()[1]
    start = array.offset * width
    return memoryview(buffer).cast("B")[start : start + len(array) * width].cast(fmt)


_UNKNOWN = object()


def _encodable(key: str) -> bool:
    try:
        key.encode()
    except UnicodeEncodeError:
        return False
    return True


def _arrow_keys(keys: list[str]) -> tuple[pa.Array, list[str]]:
    """``keys`` as an Arrow array, and the list of those in it: text with lone surrogates
    (bytes that did not decode, read with ``surrogateescape``) cannot be an Arrow string, nor
    is it the key of any stored line, so it is left out."""
    try:
        return pa.array(keys, pa.large_string()), keys
    except UnicodeEncodeError:
        kept = [k for k in keys if _encodable(k)]
        return pa.array(kept, pa.large_string()), kept


def _fill(vids: pa.Array, keys: pa.Array, names: pa.Array, fresh: pa.Array) -> pa.Array:
    """``vids`` (of ``keys``) with the null ones taken from ``names`` -> ``fresh`` where
    ``names`` has the key. (A key in both has one vid: the store's rows came from ``fresh``.)
    The hash table is made of the few keys not found, not of all of ``names``."""
    missing = pc.is_null(vids)
    absent = pc.filter(keys, missing)
    at = pc.index_in(names, value_set=absent)  # per name: its place among the absent keys
    hit = pc.is_valid(at)
    if not pc.any(hit).as_py():
        return vids
    places, values = pc.filter(at, hit), pc.filter(fresh, hit)
    every = pc.indices_nonzero(pc.is_null(pa.nulls(len(absent))))  # 0, 1, ... len - 1
    filled = pc.replace_with_mask(
        pa.nulls(len(absent), pa.int64()),
        pc.is_in(every, value_set=places),
        pc.take(values, pc.sort_indices(places)),
    )
    return pc.replace_with_mask(vids, missing, filled)


class KeyTable:
    """Keys -> vids: ``keys`` and ``vids``, and once indexed (when a look-up needs it),
    ``hashes``, the keys' hashes: the three sorted by hash, and ``start``, the position of the
    first entry of each bucket of hashes (the top bits of a hash) and the end. A look-up reads
    its bucket from the first entry with its hash on and compares the real key: two keys with
    the same hash never answer for each other."""

    def __init__(self, hasher: Hasher = key_hashes) -> None:
        self.hasher = hasher
        self.hash_one: Callable[[str], int] = (
            key_hash
            if hasher is key_hashes
            else lambda key: hasher(pa.array([key], pa.large_string())).cast(pa.uint64())[0].as_py()
        )
        self.vids = pa.array([], pa.int64())
        self.keys = pa.array([], pa.large_string())
        self.hashes: pa.Array | None = pa.array([], pa.uint64())
        # Per entry (once indexed): a short key, never compared with a short key of its hash
        # (None: every key is compared, the hasher is not :func:`key_hashes`).
        self.exact_short = hasher is key_hashes
        self.short: pa.Array | None = None
        self.short_all = False  # every entry is a short key (``short`` is then not read)
        self.longest = 0  # bytes of the longest key (once indexed)
        self._shift = 63
        self._start = pa.array([0, 0, 0], pa.int32())
        self._views()

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, keys: pa.Array, vids: pa.Array) -> None:
        """Add keys that are not in the table (the caller knows they are new)."""
        if not len(keys):
            return
        self.keys = pa.concat_arrays([self.keys, keys.cast(pa.large_string())])
        self.vids = pa.concat_arrays([self.vids, vids.cast(pa.int64())])
        self.hashes = None  # indexed again when needed

    def _index(self) -> None:
        """Sort by hash and build the bucket directory (after keys were added)."""
        if self.hashes is not None:
            return
        n = len(self.keys)
        step = 1 << 16  # hashed a slice at a time: the hasher's copies stay small
        hashes = pa.concat_arrays(
            [self.hasher(self.keys.slice(i, step)).cast(pa.uint64()) for i in range(0, n, step)]
        )
        order = pc.sort_indices(hashes)
        self.hashes = pc.take(hashes, order)
        del hashes
        self.vids = pc.take(self.vids, order)
        self.keys = pc.take(self.keys, order)
        del order
        self.longest = pc.max(pc.binary_length(self.keys)).as_py() or 0
        self.short = short_keys(self.keys) if self.exact_short else None
        self.short_all = self.short is not None and pc.all(self.short).as_py()
        # Buckets: 2n to 4n. With n to 2n, up to a third of the keys were not the first entry
        # of their bucket and went on reading (a pass of kernels a step): 500,000 keys,
        # 20 against 12 ms a look-up of 92,000 keys; the directory takes 8 to 16 bytes a key.
        bits = max(1, (n - 1).bit_length()) + 1
        self._shift = 64 - bits
        buckets = pc.shift_right(self.hashes, pa.scalar(self._shift, pa.uint64()))
        # A bucket starts where the bucket number changes; an empty one where the next starts
        # (and past the last, the end: ``n``): the starts scattered to their buckets, the gaps
        # filled from the next.
        kind = pa.int32() if n < 2**31 else pa.int64()
        size = 1 << bits
        change = pc.indices_nonzero(pc.not_equal(buckets.slice(1), buckets.slice(0, n - 1)))
        one = pa.scalar(1, kind)
        at = pa.concat_arrays(
            [pa.array([0], kind), pc.add(change.cast(kind), one), pa.array([n], kind)]
        )
        del change
        present = pc.take(buckets, at.slice(0, len(at) - 1)).cast(pa.int64())  # ascending
        del buckets
        present = pa.concat_arrays([present, pa.array([size], pa.int64())])
        starts = pc.scatter(at, present, max_index=size)
        del at, present
        # (A start of n, past the last entry, is the last entry's: its hash is smaller, so a
        # look-up reads on past the end and stops there; a look-up needs no bound on it.)
        self._start = pc.min_element_wise(pc.fill_null_backward(starts), pa.scalar(n - 1, kind))
        del starts
        pa.default_memory_pool().release_unused()  # the sort's copies, back to the system
        self._views()

    def _views(self) -> None:
        self._start_of = _view(self._start, "i" if self._start.type == pa.int32() else "q")
        self._hash_of = _view(self.hashes, "Q")
        self._vid_of = _view(self.vids, "q")

    def find(self, keys: pa.Array) -> pa.Array:
        """The vids of ``keys`` (int64, null: not in the table), at once: a key reads the
        entries from its bucket's first on, past smaller hashes, to the first with its hash
        (one step for most keys: there are two to four buckets a key), then the real keys are
        compared (see :meth:`_same`), and a key whose hash another key has too reads on along
        the entries with it. An empty bucket's start is the next bucket's: its hashes are all
        greater, so no end of the bucket is needed to stop."""
        m, n = len(keys), len(self.keys)
        if not n or not m:
            return pa.nulls(m, pa.int64())
        keys = keys.cast(pa.large_string())
        # A small table: a hash table of it made for this look-up costs less than the buckets'
        # reads (92,000 keys asked: 3.9 against 4.5 ms in a table of 50,000 keys, 6.0 against
        # 4.5 ms in one of 92,000).
        if 3 * n <= 2 * m:
            return pc.take(self.vids, pc.index_in(keys, value_set=self.keys))
        self._index()
        lengths = pc.binary_length(keys)
        longest = pc.max(lengths).as_py() or 0
        if longest > 8:
            over = pc.fill_null(pc.greater(lengths, _I64[8]), False)
            if pc.sum(over).as_py() * _FEW_LONG < m:
                # A few keys of more than one word (a chunk's endpoints with no vertex, say)
                # are looked up apart, and blanked for the others, which are then hashed a
                # word each with no copy of them made to hash them apart (key_hashes): a
                # messy chunk's 100,000 keys, 0.4% of them longer, 8.2 against 8.9 ms.
                found = self.find(pc.if_else(over, _EMPTY, keys))
                return pc.replace_with_mask(found, over, self.find(pc.filter(keys, over)))
        # Keys longer than any in the table are in no entry: left out (not hashed, nor
        # compared; a chunk's endpoints with no vertex, say: with them, every key's hash read
        # two words, 6.3 against 4.6 ms a look-up of 92,000 keys).
        if longest > self.longest:
            fits = pc.fill_null(pc.less_equal(lengths, pa.scalar(self.longest, pa.int64())), False)
            found = self.find(pc.filter(keys, fits))
            return pc.replace_with_mask(pa.nulls(m, pa.int64()), fits, found)
        hashes = self.hasher(keys).cast(pa.uint64())
        short = short_keys(keys) if self.short is not None else None
        at = pc.take(self._start, pc.shift_right(hashes, pa.scalar(self._shift, pa.uint64())))
        there = pc.take(self.hashes, at)
        same = pc.equal(there, hashes)
        on = pc.less_equal(there, hashes)
        if keys.null_count:
            valid = pc.is_valid(keys)
            same, on = pc.and_(same, valid), pc.and_(on, valid)
        # Most keys are the first entry of their bucket: all of them at once.
        same = self._same(same, None, at, keys, short)
        result = pc.if_else(same, pc.take(self.vids, at), pa.scalar(None, pa.int64()))
        # The others read on: past smaller hashes, and past other keys with their hash (the
        # entries with one hash are next to each other), while inside the table.
        on = pc.and_not(on, same)
        q = pc.indices_nonzero(on).cast(pa.int64())
        if not len(q):
            return result
        kind = self._start.type
        end, one = pa.scalar(n, kind), pa.scalar(1, kind)
        step, wanted = pc.add(pc.filter(at, on), one), pc.filter(hashes, on)
        hit_query: list[pa.Array] = []
        hit_at: list[pa.Array] = []
        while len(q):
            inside = pc.less(step, end)
            if not pc.all(inside).as_py():
                q, step, wanted = (pc.filter(a, inside) for a in (q, step, wanted))
                if not len(q):
                    break
            there = pc.take(self.hashes, step)
            equal = pc.equal(there, wanted)
            go = pc.less(there, wanted)
            if pc.any(equal).as_py():
                hit = self._same(equal, q, step, keys, short)
                hit_query.append(pc.filter(q, hit))
                hit_at.append(pc.filter(step, hit))
                go = pc.or_(go, pc.and_not(equal, hit))
            q, wanted = pc.filter(q, go), pc.filter(wanted, go)
            step = pc.add(pc.filter(step, go), one)
        if hit_query:
            vids = pc.take(self.vids, pa.concat_arrays(hit_at))
            found = pc.scatter(vids, pa.concat_arrays(hit_query), max_index=m - 1)
            result = pc.coalesce(result, found)
        return result

    def _same(
        self,
        equal: pa.Array,
        query: pa.Array | None,
        at: pa.Array,
        keys: pa.Array,
        short: pa.Array | None,
    ) -> pa.Array:
        """Of pairs of an asked key (``keys[query[i]]``, or ``keys[i]`` when ``query`` is
        None) and an entry (``at[i]``), ``equal`` those with one hash: which hold the same key.
        Two short keys with one hash are the same (:func:`short_keys`); the others' real keys
        are compared: all of them at once when most are asked, else only those."""
        compare = equal
        if short is not None:
            asked = short if query is None else pc.take(short, query)
            both = asked if self.short_all else pc.and_(asked, pc.take(self.short, at))
            compare = pc.and_not(equal, both)
        count = pc.sum(compare).as_py() or 0
        if not count:
            return equal
        if count * 2 > len(equal):
            theirs = keys if query is None else pc.take(keys, query)
            differ = pc.and_(compare, pc.not_equal(pc.take(self.keys, at), theirs))
        else:
            where = pc.indices_nonzero(compare).cast(pa.int64())
            mine = pc.take(self.keys, pc.take(at, where))
            theirs = pc.take(keys, where if query is None else pc.take(query, where))
            differ = pc.fill_null(
                pc.scatter(pc.not_equal(mine, theirs), where, max_index=len(equal) - 1), False
            )
        return pc.and_not(equal, differ)

    def get(self, key: str) -> int | None:
        """The vid of one key (None: not in the table)."""
        if not len(self.keys) or not _encodable(key):
            return None
        self._index()
        h = self.hash_one(key)
        hash_of, n = self._hash_of, len(self.keys)
        i = self._start_of[h >> self._shift]
        while i < n:
            there = hash_of[i]
            if there == h and self.keys[i].as_py() == key:
                return self._vid_of[i]
            if there > h:
                break
            i += 1
        return None


class _Keys:
    """``get`` answers one key (the per-line builders): from ``new`` (keys of lines accepted
    but not yet merged or written), else ``memo`` (what the last batched look-ups,
    :meth:`VertexIndex.prefetch`, found, so lines judged one by one next to a run do not each
    look their key up alone), else :meth:`_find`."""

    def __init__(self, index: VertexIndex) -> None:
        self.index = index
        self.new: dict[str, int] = {}
        self.memo: dict[str, int | None] = {}

    def get(self, key: str) -> int | None:
        vid = self.new.get(key)
        if vid is not None:
            return vid
        known = self.memo.get(key, _UNKNOWN)
        if known is _UNKNOWN:
            return self._find(key)
        return known  # type: ignore[return-value]

    def _find(self, key: str) -> int | None:
        raise NotImplementedError


class ScopeKeys(_Keys):
    """Vertex keys of one scope -> vids, in memory: the merged :class:`KeyTable` and ``new``,
    where a builder records a stored line's new key once the line's values converted, never
    before."""

    def __init__(self, index: VertexIndex) -> None:
        super().__init__(index)
        self.table = KeyTable(index.hasher)

    def _find(self, key: str) -> int | None:
        return self.table.get(key)

    def settle(self, *, force: bool = False) -> None:
        """Merge ``new`` into the table when it has grown (``force``: whatever it holds)."""
        n = len(self.new)
        if n and (force or n >= max(self.index.merge_keys, len(self.table) // 4)):
            keys, kept = _arrow_keys(list(self.new))
            vids = pa.array([self.new[k] for k in kept], pa.int64())
            left = {k: self.new[k] for k in self.new if not _encodable(k)} if n > len(kept) else {}
            self.new.clear()  # before the table grows: the dict's memory first
            self.new.update(left)  # (none in practice: a line with such a key fails)
            self.table.add(keys, vids)
            self.memo.clear()


class StoredScopeKeys(_Keys):
    """Vertex keys of one scope looked up in the store (graphs too big for memory). Keys of
    lines accepted since the last vertex batch was written are held in ``new`` until then."""

    def __init__(self, index: VertexIndex, scope: str) -> None:
        super().__init__(index)
        self.scope = scope
        self._arrow_new: tuple[tuple[int, int], pa.Array, pa.Array] | None = None

    def _find(self, key: str) -> int | None:
        return self.index.store.find_vid(self.scope, key)

    def arrow_new(self) -> tuple[pa.Array, pa.Array]:
        """``new`` as Arrow arrays (keys, vids), made again only when it changed (each run
        of an edge file asks while keys wait in ``new``). ``new`` only grows between two
        clears, which count in ``index.writes``."""
        stamp = (self.index.writes, len(self.new))
        if self._arrow_new is None or self._arrow_new[0] != stamp:
            names, kept = _arrow_keys(list(self.new))
            self._arrow_new = stamp, names, pa.array([self.new[k] for k in kept], pa.int64())
        return self._arrow_new[1], self._arrow_new[2]


class VertexIndex:
    """Vertex key -> vid during one import: new vertices get their vid here (the store takes
    it as given), edges find their endpoints here. A vertex line takes ``next_vid`` and puts
    its key in its scope's ``new`` only once its values converted, so a line that fails leaves
    no key behind (no edge can point at a vertex that was not stored). In memory while the
    graph has at most ``capacity`` vertices (:class:`KeyTable`); beyond that, looked up in the
    store, in batches, with memory that does not grow with the graph."""

    def __init__(
        self,
        store: GraphStore,
        *,
        capacity: int,
        expected_new: int,
        hasher: Hasher = key_hashes,
        merge_keys: int = MERGE_KEYS,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.merge_keys = merge_keys
        self.next_vid = store.max_vid() + 1
        self.in_memory = store.vertex_count() + expected_new <= capacity
        self.scopes: dict[str, ScopeKeys | StoredScopeKeys] = {}
        # While a columnar run registers keys, ``new`` keeps them (no merge, nothing cleared):
        # the run's duplicate check reads ``new`` and one batched look-up made at its start.
        self._hold = False
        # Per scope, how many of ``new``'s first keys were written during the run (the store
        # has them): dropped when it ends, so ``new`` never holds more than about a run.
        self._written: dict[str, int] = {}
        self.writes = 0  # times the keys in ``new`` were cleared as written (store look-ups)
        if self.in_memory:
            self._load(store.vertex_keys())

    def _load(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """The stored keys into the tables, merged in geometrically growing batches."""
        pending: dict[str, tuple[list[str], list[int]]] = {}

        def merge(scope: str) -> None:
            keys, vids = pending.pop(scope)
            table = self.scope(scope).table  # type: ignore[union-attr]
            table.add(pa.array(keys, pa.large_string()), pa.array(vids, pa.int64()))

        for scope, key, vid in rows:
            batch = pending.get(scope)
            if batch is None:
                batch = pending[scope] = ([], [])
            keys, vids = batch
            keys.append(key)
            vids.append(vid)
            table = self.scope(scope).table  # type: ignore[union-attr]
            if len(keys) >= max(self.merge_keys, len(table) // 4):
                merge(scope)
        for scope in list(pending):
            merge(scope)

    def scope(self, scope: str) -> ScopeKeys | StoredScopeKeys:
        keys = self.scopes.get(scope)
        if keys is None:
            keys = ScopeKeys(self) if self.in_memory else StoredScopeKeys(self, scope)
            self.scopes[scope] = keys
        return keys

    def vids(self, scope: str, keys: pa.Array) -> pa.Array:
        """Vids of ``keys`` in ``scope`` (null: no such vertex), for a whole run at once."""
        known = self.scope(scope)
        if isinstance(known, ScopeKeys):
            known.settle(force=True)  # edge files add no keys: one merge per file at most
            return known.table.find(keys)
        # Each distinct key once, sorted (neighbours share the store index's pages), in one
        # statement that answers with an array: no Python object per key.
        coded = pc.dictionary_encode(keys.cast(pa.large_string()))  # nulls: null indices
        distinct = coded.dictionary
        order = pc.sort_indices(distinct)
        vids = self.store.key_vids(scope, pc.take(distinct, order))
        if known.new and vids.null_count:  # accepted, not yet written: answered here
            vids = _fill(vids, pc.take(distinct, order), *known.arrow_new())
        # Back from sorted to the dictionary's order, then to the keys'.
        return pc.take(pc.take(vids, pc.sort_indices(order)), coded.indices)

    def present(self, scope: str, keys: list[str]) -> set[str]:
        """Which of ``keys`` are vertices of ``scope`` already (``new`` aside), in one look-up;
        what it found is kept in the scope's ``memo`` for the per-line builders."""
        known = self.scope(scope)
        if isinstance(known, ScopeKeys):
            known.settle()
            array, kept = _arrow_keys(keys)
            vids = known.table.find(array)
            if vids.null_count == len(vids):
                return set()
            pairs = zip(kept, vids.to_pylist(), strict=True)
            found = list(compress(pairs, pc.is_valid(vids).to_pylist()))
        else:  # as an edge run's endpoints (:meth:`vids`): sorted, one array each way
            distinct = pc.unique(_arrow_keys(keys)[0])
            distinct = pc.take(distinct, pc.sort_indices(distinct))
            vids = self.store.key_vids(scope, distinct)
            found = []
            if vids.null_count < len(vids):
                hit = pc.is_valid(vids)
                names, values = pc.filter(distinct, hit), pc.filter(vids, hit)
                found = list(zip(names.to_pylist(), values.to_pylist(), strict=True))
        self._remember(known, found)
        return {k for k, _ in found}

    def prefetch(self, scope: str, keys: list[str]) -> None:
        """Look ``keys`` up at once for lines about to be judged one by one: their answers
        (found or not) go to the scope's ``memo``."""
        if not keys:
            return
        known = self.scope(scope)
        if isinstance(known, ScopeKeys):
            if len(keys) < PREFETCH_LEAST:
                return  # asked one by one if asked at all (a line may fail before)
            array, kept = _arrow_keys(keys)
            self._remember(known, zip(kept, known.table.find(array).to_pylist(), strict=True))
        else:
            kept = _arrow_keys(keys)[1]
            found = dict(self.store.find_vids(scope, kept))
            self._remember(known, ((k, found.get(k)) for k in kept))

    def remember(self, scope: str, keys: list[str], vids: list[int | None]) -> None:
        """What a look-up of ``keys`` at once found (vids, None: no vertex), kept for the
        per-line builders as :meth:`prefetch` keeps it. The answers must still hold: an edge
        file's, whose lines add no keys."""
        self._remember(self.scope(scope), zip(keys, vids, strict=True))

    @staticmethod
    def _remember(
        known: ScopeKeys | StoredScopeKeys, found: Iterable[tuple[str, int | None]]
    ) -> None:
        if len(known.memo) > MERGE_KEYS:
            known.memo.clear()
        known.memo.update(found)

    @property
    def hold(self) -> bool:
        return self._hold

    @hold.setter
    def hold(self, value: bool) -> None:
        self._hold = value
        if not value and self._written:
            self.writes += 1
            for scope, n in self._written.items():
                keys = self.scopes[scope]
                rest = list(islice(keys.new.items(), n, None))  # accepted since, not written
                keys.new.clear()
                keys.new.update(rest)
                keys.memo.clear()
            self._written.clear()

    def written(self) -> None:
        """The accepted vertices are in the store now (for keys looked up in the store; an
        in-memory index merges its new keys in :meth:`settle`, on the reading thread, as a
        writer thread may call this). During a run (``hold``) the keys written are dropped
        from ``new`` when the run ends (``new`` only grows meanwhile: they are its first)."""
        if self.in_memory:
            return
        if self.hold:
            self._written = {scope: len(keys.new) for scope, keys in self.scopes.items()}
            return
        self.writes += 1
        self._written.clear()
        for keys in self.scopes.values():
            keys.new.clear()
            keys.memo.clear()

    def settle(self) -> None:
        """Between batches (not during a run, ``hold``): merge the new keys that have grown
        into the tables. Called by the reading thread only."""
        if self.hold:
            return
        for keys in self.scopes.values():
            if isinstance(keys, ScopeKeys):
                keys.settle()
