"""The backlog in the terminal: a list paged by typing its Next button's label, and an item
done by typing its Done button's label."""

from __future__ import annotations

from storage.db import Database
from tests.handlers.test_console import Terminal


async def test_a_list_pages_and_an_item_is_done_by_typing_button_labels(
    sqlite_db: Database,
) -> None:
    terminal = Terminal(sqlite_db)
    for n in range(1, 13):
        await terminal.type(f"backlog add data Item {n}")
    first = await terminal.type("backlog list data")
    assert "items 1–10 (page 1)" in first and "[Next]" in first

    second = await terminal.type("[Next]")
    assert "items 11–12 (page 2)" in second and "#12 [p2 data] Item 12" in second

    filed = await terminal.type("backlog add eval p0 Rerun the baseline")
    assert "[Done]  [Assign to me]" in filed
    done = await terminal.type("[Done]")
    assert "dana moved #13 [p0 eval] Rerun the baseline — done" in done
