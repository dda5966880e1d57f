"""The bulk encoder writes exactly the bytes of the reference codec."""

from __future__ import annotations

from sameday.results.encode import EncodedLists
from sameday.results.read import connect, read_rows
from sameday.store import Item
from sameday.store.codec import decode_list, encode_list
from tests.results.conftest import MakeProject


def test_bulk_blobs_equal_the_reference_encoding(make_project: MakeProject) -> None:
    records = [
        {"user": f"u{k}", "item": f"é{k}-{j}", "score": j / 3, "price": j, "tag": None}
        for k in range(7)
        for j in range(k + 1)
    ]
    project = make_project(
        records=records,
        columns={"key": "user", "item": "item", "score": "score", "payload": ["price", "tag"]},
    )
    con = connect(project)
    rows = read_rows(project, project.result_sets["recs"], con=con)
    encoded = EncodedLists(rows, con)
    pairs = [pair for chunk in encoded.chunks(size=3) for pair in chunk]
    con.close()
    assert [key for key, _ in pairs] == [f"u{k}" for k in range(7)]
    for key, blob in pairs:
        k = int(key[1:])
        expected = [
            Item(f"é{k}-{j}", j / 3, {"price": j, "tag": None}) for j in reversed(range(k + 1))
        ]
        assert decode_list(blob) == expected
        assert blob == encode_list(expected)


def test_the_hash_is_stable(make_project: MakeProject) -> None:
    project = make_project()
    hashes = set()
    for _ in range(2):
        con = connect(project)
        rows = read_rows(project, project.result_sets["recs"], con=con)
        hashes.add(EncodedLists(rows, con).content_hash())
        con.close()
    assert len(hashes) == 1 and hashes.pop().startswith("sha256:")
