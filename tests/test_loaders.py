"""``load_each``: one batch call for a list's keys, shared with the request's other lookups."""

from __future__ import annotations

import asyncio

import pytest

from vdc_graph.db.loaders import Loaders, load_each


def _counting_loader() -> tuple[object, list[list[str]]]:
    calls: list[list[str]] = []

    async def batch(keys):
        calls.append(list(keys))
        return [ValueError(f"no {key}") if key == "bad" else key.upper() for key in keys]

    return Loaders().get("letters", batch), calls


def test_each_key_in_order_with_one_batch_call_for_the_distinct_keys():
    loader, calls = _counting_loader()
    values = asyncio.run(load_each(loader, ["a", None, "b", "a"]))
    assert values == ["A", None, "B", "A"]
    assert calls == [["a", "b"]]


def test_keys_already_asked_for_are_not_asked_again_and_single_lookups_share_them():
    loader, calls = _counting_loader()

    async def lookups():
        single = await loader.load("a")  # type: ignore[attr-defined]
        listed = await load_each(loader, ["a", "b"])
        again = await loader.load("b")  # type: ignore[attr-defined]
        return single, listed, again

    assert asyncio.run(lookups()) == ("A", ["A", "B"], "B")
    assert calls == [["a"], ["b"]]


def test_a_keys_error_is_raised_as_load_many_raises_it():
    loader, _ = _counting_loader()
    with pytest.raises(ValueError, match="no bad"):
        asyncio.run(load_each(loader, ["a", "bad"]))
