"""The vertex key index: hash-sorted key tables, exact when keys share a hash, growing across
batches, and its batched look-ups for the lines judged one by one."""

from __future__ import annotations

import random
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from jobcenter.graphs.keyindex import (
    _K0,
    INDEX_CAPACITY,
    SHORT,
    KeyTable,
    ScopeKeys,
    VertexIndex,
    key_hash,
    key_hashes,
    short_keys,
)


def _by_length(keys: pa.Array) -> pa.Array:
    """A hash under which every two keys of one length collide (all in the first bucket)."""
    return pc.cast(pc.utf8_length(keys), pa.uint64())


def _by_length_high(keys: pa.Array) -> pa.Array:
    """The same collisions, spread over the top bits (so over the buckets)."""
    return pc.shift_left(_by_length(keys), pa.scalar(59, pa.uint64()))


def _by_last_char(keys: pa.Array) -> pa.Array:
    """Eleven hashes in eleven buckets: by the key's last character (a digit or not)."""
    last = pc.index_in(pc.utf8_slice_codeunits(keys, -1), value_set=pa.array(list("0123456789")))
    return pc.shift_left(pc.cast(pc.fill_null(last, 10), pa.uint64()), pa.scalar(58, pa.uint64()))


def _found(find, keys: list[str], size: int = 50) -> list[int | None]:
    """``find`` over ``keys`` in slices: fewer keys than one and a half times the table's are
    looked up by their hashes (more, by hashing the table's keys: both ways are checked)."""
    return [
        v for i in range(0, len(keys), size) for v in find(pa.array(keys[i : i + size])).to_pylist()
    ]


@pytest.mark.parametrize("hasher", [_by_length, _by_length_high, _by_last_char])
def test_keys_with_the_same_hash_never_answer_for_each_other(hasher):
    table = KeyTable(hasher)
    stored = [str(i) for i in range(0, 900, 3)]  # 300 keys, in a few hashes
    table.add(pa.array(stored), pa.array([10 * int(k) for k in stored], pa.int64()))
    asked = [str(i) for i in range(-50, 950)] + ["", "x", "300"]
    want = [10 * int(k) if k in set(stored) else None for k in asked]
    assert table.find(pa.array(asked)).to_pylist() == want
    assert _found(table.find, asked) == want
    assert [table.get(k) for k in asked] == want
    with_nulls = pa.array(["3", None, "4", "6"])
    assert _found(table.find, ["3", None, "4", "6"]) == [30, None, None, 60]
    assert table.find(with_nulls).to_pylist() == [30, None, None, 60]


def test_a_table_grows_across_batches_and_finds_every_key():
    table = KeyTable()
    added: dict[str, int] = {}
    for batch in range(6):
        keys = [f"k{batch}-{i}" for i in range(batch * 700)]
        table.add(pa.array(keys, pa.string()), pa.array(range(len(added), len(added) + len(keys))))
        added.update(zip(keys, range(len(added), len(added) + len(keys)), strict=True))
        asked = [*added, "k9-1", "nope"]
        assert len(table) == len(added)
        assert table.find(pa.array(asked)).to_pylist() == [added.get(k) for k in asked]
        assert _found(table.find, asked) == [added.get(k) for k in asked]
    assert table.get("k5-3499") == added["k5-3499"] and table.get("k5-3500") is None


@pytest.mark.parametrize("hasher", [None, _by_length_high])
def test_the_index_merges_new_keys_in_batches_and_stays_exact(workspace, small_graph, hasher):
    """Keys from the store and keys added batch by batch (merged into the table as ``new``
    grows) are all found, in their own scope only; a key looked up while absent is found
    once added, whether still in ``new`` or merged."""
    vertices = "".join(f"s{i},user,N{i},{i}\n" for i in range(200))
    workspace.run(small_graph(vertices=vertices))
    expected = {key: vid for _, key, vid in workspace.store.vertex_keys()}
    assert len(expected) == 200
    options = {} if hasher is None else {"hasher": hasher}
    index = VertexIndex(
        workspace.store, capacity=10_000, expected_new=3000, merge_keys=24, **options
    )
    assert index.in_memory and index.next_vid == max(expected.values()) + 1
    scope = index.scope("")
    assert isinstance(scope, ScopeKeys) and len(scope.table) == 200
    index.prefetch("", ["n7", "s7"])  # n7 is not there yet
    sizes = []
    for batch in range(10):
        for i in range(batch * 12):
            key = f"n{batch}-{i}" if i else f"n{batch}"
            scope.new[key] = expected[key] = index.next_vid
            index.next_vid += 1
        index.settle()  # between batches: ``new`` merged once it has grown
        sizes.append(len(scope.table))
        asked = [*expected, "n99", "s500"]
        want = [expected.get(k) for k in asked]
        assert index.vids("", pa.array(asked)).to_pylist() == want
        assert _found(lambda keys: index.vids("", keys), asked) == want
        assert [scope.get(k) for k in asked] == want
    assert sizes[0] == 200 and len(set(sizes)) > 3  # merged in steps
    assert len(scope.table) == len(expected) and not scope.new  # edges: all merged
    assert scope.get("n7") == expected["n7"]
    assert index.present("", ["s3", "n3", "n42", "s1"]) == {"s3", "n3", "s1"}
    assert index.vids("user", pa.array(["s1", "s2"])).to_pylist() == [None, None]  # scopes


def test_the_default_capacity_keeps_millions_of_vertices_in_memory(workspace):
    index = VertexIndex(workspace.store, capacity=INDEX_CAPACITY, expected_new=5_000_000)
    assert index.in_memory


@pytest.mark.parametrize("capacity", [None, 0])
def test_lines_judged_one_by_one_have_their_keys_looked_up_in_batches(
    workspace, small_graph, monkeypatch, capacity
):
    """Quoted lines (read by csv.reader) and lines the columnar path hands back are judged
    one by one, but their endpoints were looked up with their chunk's: no key is hashed and
    looked up alone (in memory) or fetched alone from the store (beyond the capacity)."""
    from jobcenter.graphs.stores.sqlite import SqliteStore

    calls: Counter = Counter()
    table_get, store_get = KeyTable.get, SqliteStore.find_vid

    def counting_table(self, key):
        calls[key] += 1
        return table_get(self, key)

    def counting_store(self, scope, key):
        calls[key] += 1
        return store_get(self, scope, key)

    monkeypatch.setattr(KeyTable, "get", counting_table)
    monkeypatch.setattr(SqliteStore, "find_vid", counting_store)
    vertices = "".join(f"u{i},user,N{i},{i}\n" for i in range(3000))
    quoted = "".join(f'"u{i}","u{(i * 7) % 3000}",rate,"{i % 10}.5"\n' for i in range(3000))
    plain = "".join(
        f"u{i},u{(i * 3) % 3000},rate,{'x' if i % 10 == 0 else '2.5'}\n" for i in range(3000)
    )
    options = {} if capacity is None else {"index_capacity": capacity}
    run = workspace.run(small_graph(vertices=vertices, edges=quoted + plain), **options)
    assert run.summary.vertices_added == 3000
    assert run.summary.edges_added == 3000 + 2700
    assert Counter(reason for _, _, reason in run.failed()) == {"bad_type": 300}
    assert sum(calls.values()) == 0, calls


@pytest.mark.parametrize("store_backend", ["sqlite", "postgresql"])
def test_past_the_capacity_endpoints_are_one_array_look_up_in_the_store(
    workspace, small_graph, monkeypatch, store_backend
):
    """Past ``index_capacity`` an edge run's endpoints are looked up in the store once, as one
    Arrow array of its distinct keys, sorted (``key_vids``); a dry run's vertices are never
    found by the imports after it, those of an earlier import are."""
    kind = type(workspace.store)
    asked: list[list[str]] = []
    key_vids = kind.key_vids

    def spying(self, scope, keys):
        asked.append(keys.to_pylist())
        return key_vids(self, scope, keys)

    monkeypatch.setattr(kind, "key_vids", spying)
    dry = "".join(f"d{i},user,D{i},{i}\n" for i in range(50))
    workspace.run(small_graph(vertices=dry, edges="d1,d2,rate,1.5\n"), dry_run=True)
    vertices = "".join(f"u{i},user,N{i},{i}\n" for i in range(2000))
    edges = "".join(f"u{i % 2000},u{(i * 7) % 2000},rate,{i % 10}.5\n" for i in range(6000))
    edges += "u1,d5,rate,1\nd6,u2,rate,1\n"
    run = workspace.run(small_graph(vertices=vertices, edges=edges), index_capacity=100)
    assert run.failed() == [(2, 6001, "missing_vertex"), (2, 6002, "missing_vertex")]
    assert run.summary.edges_added == 6000
    more = "".join(f"w{i},user,W{i},{i}\n" for i in range(300))
    later = "".join(f"w{i},u{1999 - i},rate,0.5\n" for i in range(300)) + "d7,w1,rate,1\n"
    run = workspace.run(small_graph(vertices=more, edges=later), index_capacity=100)
    assert run.failed() == [(2, 301, "missing_vertex")]
    assert workspace.store.edges()[-1][:4] == ("w299", "u1700", "rate", 0.5)
    assert workspace.store.edges()[5999][:4] == ("u1999", "u1993", "rate", 9.5)
    assert asked and all(keys == sorted(set(keys)) for keys in asked)
    assert {"u0", "u1999", "d5", "d6"} <= set().union(*asked)
    assert sum(len(keys) for keys in asked) < 2 * (2000 + 2 + 600 + 1)  # each key once a run


def test_past_the_capacity_keys_not_yet_written_are_answered_from_new(workspace, small_graph):
    """Beyond the capacity a run's look-up asks the store, and keys accepted but not yet
    written (``new``) are answered from there, as they grow and once they are written."""
    vertices = "".join(f"s{i},user,N{i},{i}\n" for i in range(50))
    workspace.run(small_graph(vertices=vertices))
    stored = {key: vid for _, key, vid in workspace.store.vertex_keys()}
    index = VertexIndex(workspace.store, capacity=0, expected_new=100)
    scope = index.scope("")
    assert not index.in_memory and not isinstance(scope, ScopeKeys)
    asked = pa.array(["n1", "s3", None, "n2", "s3", "zz", "n1", "s49"])
    s3, s49 = stored["s3"], stored["s49"]
    assert index.vids("", asked).to_pylist() == [None, s3, None, None, s3, None, None, s49]
    assert index.next_vid == 51
    scope.new["n1"] = 51
    assert index.vids("", asked).to_pylist() == [51, s3, None, None, s3, None, 51, s49]
    scope.new["n2"] = 52  # ``new`` grew: its Arrow form is made again
    assert index.vids("", asked).to_pylist() == [51, s3, None, 52, s3, None, 51, s49]
    assert index.present("", ["s1", "n1", "s1", "zz"]) == {"s1"}  # ``new`` aside
    index.written()  # (nothing was written: n1 and n2 are no vertices after all)
    assert index.vids("", asked).to_pylist() == [None, s3, None, None, s3, None, None, s49]
    assert index.vids("", pa.array(list(stored))).to_pylist() == list(stored.values())


def test_past_the_capacity_new_keys_stay_within_a_run_of_the_columnar_path(
    workspace, small_graph, monkeypatch
):
    """Beyond the capacity ``new`` holds the keys accepted but not yet known to be written:
    the batches a columnar run writes are dropped from it when the run ends (not during it:
    the run's duplicate check reads them), so it never grows with the vertex count."""
    from jobcenter.graphs import chunks, loader

    monkeypatch.setattr(loader, "BATCH_ROWS", 100)  # several writes in each run
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 4096)  # about 200 lines a run
    held: list[int] = []
    present = VertexIndex.present

    def spying(self, scope, keys):
        held.append(len(self.scope(scope).new))
        return present(self, scope, keys)

    monkeypatch.setattr(VertexIndex, "present", spying)
    lines = [f"u{i:05},user,N{i},{i}\n" for i in range(6000)]
    lines[150] = "u00010,user,Again,1\n"  # a duplicate of a key written earlier in its run
    lines[5999] = "u00020,user,Again,2\n"  # and of one written many runs before
    edges = "u00001,u05998,rate,1.5\nu00150,u00002,rate,1.5\n"
    run = workspace.run(small_graph(vertices="".join(lines), edges=edges), index_capacity=0)
    assert run.failed() == [
        (1, 151, "duplicate_id"),
        (1, 6000, "duplicate_id"),
        (2, 2, "missing_vertex"),
    ]
    assert run.summary.vertices_added == 5998 and run.summary.edges_added == 1
    assert len(held) > 20 and max(held) < 600, held


def test_keys_of_one_to_seven_bytes_have_hashes_no_other_such_key_has():
    # The argument of short_keys: the lengths' multiples of _K0 differ in their top byte.
    mask = (1 << 64) - 1
    for a in range(1, SHORT + 1):
        for b in range(a + 1, SHORT + 1):
            assert ((a * _K0) & mask) ^ ((b * _K0) & mask) >= 1 << 56
    # And by brute force: every key of one or two bytes of some alphabet, and of each length
    # up to 7, with the keys' bytes differing where hash words end and lengths change.
    alphabet = [chr(c) for c in range(1, 128)] + ["é", "ß"]
    keys = alphabet + [a + b for a in alphabet for b in alphabet]
    keys += [prefix + "\0" * n for prefix in ("a", "ab", "é") for n in range(0, 6)]
    keys += [
        "".join(str((i * 7 + j) % 10) for j in range(length))
        for i in range(3000)
        for length in range(1, 8)
    ]
    keys = sorted({k for k in keys if 1 <= len(k.encode()) <= SHORT})
    array = pa.array(keys, pa.large_string())
    assert pc.all(short_keys(array)).as_py()
    assert len(set(key_hashes(array).to_pylist())) == len(keys)
    assert short_keys(pa.array(["", "12345678", "1234567", None])).to_pylist() == [
        False,
        False,
        True,
        False,
    ]


def test_short_keys_are_found_without_comparing_and_never_answer_for_long_ones():
    stored = [f"v{i}" for i in range(3000)] + [f"long-key-{i:08d}" for i in range(3000)]
    asked = stored[::7] + [f"v{i}" for i in range(3000, 3400)] + ["long-key-99999999", "vv", ""]
    want = {k: i for i, k in enumerate(stored)}

    def table_with(hasher, short: bool) -> KeyTable:
        table = KeyTable()
        table.hasher = hasher  # (a table made with key_hashes takes short keys as exact)
        table.exact_short = short
        table.add(pa.array(stored), pa.array(range(len(stored)), pa.int64()))
        return table

    for short in (True, False):
        table = table_with(key_hashes, short)
        assert _found(table.find, asked, 100) == [want.get(k) for k in asked]
        assert [table.get(k) for k in asked] == [want.get(k) for k in asked]
    # Under a hash where every two keys of one length collide, a short key and a long one
    # are still compared: the shortcut needs both to be short...
    by_length = table_with(_by_length_high, True)
    mixed = [k for k in asked if len(k) > SHORT] + ["long-key-00000003"]
    assert _found(by_length.find, mixed, 100) == [want.get(k) for k in mixed]
    # ...and it is taken (two short keys of one hash here answer for each other): so the
    # exactness of short keys rests on key_hashes, pinned by the test above.
    found = by_length.find(pa.array(["v1", "v2", "v3"] + ["x"] * 17)).to_pylist()
    assert found[0] == found[1] == found[2] is not None


def _coarse(keys: pa.Array) -> pa.Array:
    """key_hashes with only their top 11 bits: keys share hashes two or three at a time."""
    eleven = pa.scalar(53, pa.uint64())
    return pc.shift_left(pc.shift_right(key_hashes(keys), eleven), eleven)


@pytest.mark.parametrize("hasher", [key_hashes, _coarse])
@pytest.mark.parametrize("seed", range(6))
def test_batched_look_ups_answer_as_a_dict_for_any_mix_of_keys(seed, hasher):
    # Tables of short keys only (found by hash alone), of long ones, and of both; asked in
    # batches small and large against the table (the buckets' reads, and a hash table of the
    # table's keys), with keys absent, null and longer than the hashed head.
    rng = random.Random(seed)
    short_share = [1.0, 0.0, 0.5, 0.9, 0.1, 0.7][seed]

    def key() -> str:
        if rng.random() < short_share:
            return "".join(rng.choice("abc01é") for _ in range(rng.randint(1, 6)))
        return "k" + "".join(rng.choice("xyz9日") for _ in range(rng.randint(7, 40)))

    stored = list(dict.fromkeys(key() for _ in range(3000)))
    want = {k: 7 * i for i, k in enumerate(stored)}
    table = KeyTable(hasher)
    table.add(pa.array(stored), pa.array(list(want.values()), pa.int64()))
    asked = [rng.choice(stored) if rng.random() < 0.7 else key() for _ in range(4000)]
    asked = [None if rng.random() < 0.02 else k for k in asked]
    for size in (7, 90, 1900, 4000):
        assert _found(table.find, asked, size) == [want.get(k) for k in asked], size
    assert [table.get(k) for k in asked if k is not None] == [
        want.get(k) for k in asked if k is not None
    ]


@pytest.mark.parametrize("longest", [1, 7, 8, 9, 16, 33, 40])
def test_key_hashes_are_key_hash_of_each_key(longest):
    # The batched hash (Arrow kernels; keys of at most 8 bytes take a shorter way) and the
    # one-key hash in Python (``get``) agree for every length and byte.
    rng = random.Random(longest)
    alphabet = ["a", "Z", "0", "\0", "é", "日", " ", ","]
    keys = [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, longest))) for _ in range(300)
    ]
    keys = [k for k in keys if len(k.encode()) <= longest] + ["x" * longest]
    assert key_hashes(pa.array(keys)).to_pylist() == [key_hash(k) for k in keys]
    # a slice (its values start inside the buffer), with nulls (hash 0, as "")
    sliced = pa.array(["lead" * 3, *keys, None]).slice(1)
    assert key_hashes(sliced).to_pylist() == [key_hash(k) for k in keys] + [0]


@pytest.mark.parametrize("long_every", [2, 9, 50, 1000])
def test_a_few_long_keys_among_short_ones_hash_as_alone(long_every):
    # Keys of more than 8 bytes, fewer than one in eight, are hashed apart from the others
    # (which then read one word); more of them, all together: the same hashes either way.
    rng = random.Random(long_every)
    keys = [
        "nobody" + "x" * rng.randint(3, 40) if i % long_every == 0 else f"v{rng.randint(0, 10**6)}"
        for i in range(2000)
    ]
    keys[7] = None
    want = [0 if k is None else key_hash(k) for k in keys]
    assert key_hashes(pa.array(keys)).to_pylist() == want
    assert key_hashes(pa.array(keys).slice(5)).to_pylist() == want[5:]


def test_keys_longer_than_any_in_the_table_are_not_found_and_the_rest_are():
    # They are left out of the look-up (never hashed): every other key keeps its answer,
    # in its place, nulls too.
    stored = [f"v{i}" for i in range(3000)]
    table = KeyTable()
    table.add(pa.array(stored), pa.array(range(0, 6000, 2), pa.int64()))
    want = dict(zip(stored, range(0, 6000, 2), strict=True))
    rng = random.Random(5)
    asked = [rng.choice(stored) for _ in range(4000)]
    for i in range(0, 4000, 37):
        asked[i] = "v" + "1" * rng.randint(5, 40)  # longer than any stored key
    asked[3] = None
    for size in (90, 1900, 4000):
        assert _found(table.find, asked, size) == [want.get(k) for k in asked], size
