"""Carrying a session's marks over to another version of its rubric.

Pure Python, no Django import, like rubrics.scoring. An item's identity is its key: a mark
carries over to the item with the same key in the other version, wherever that item now sits and
whatever it is now worth. Case items keep their "case:" keys, so they map to themselves.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rubrics import scoring

NOT_IN_VERSION = "not in this version"
NOW_A_RED_FLAG = "now a red flag, so its mark does not fit"
NO_LONGER_A_RED_FLAG = "no longer a red flag, so its mark does not fit"


@dataclass(frozen=True, slots=True)
class Unmapped:
    item: scoring.Item  # as the session's own version has it
    reason: str


@dataclass(frozen=True, slots=True)
class MappedMarks:
    marks: dict[str, scoring.ItemMark]  # by the other version's keys, ready for scoring.score
    unmapped: tuple[Unmapped, ...]
    new: tuple[scoring.Item, ...]  # items of the other version that the session never had


def map_marks(
    old_items: Sequence[scoring.Item],
    new_items: Sequence[scoring.Item],
    marks: Mapping[str, scoring.ItemMark],
) -> MappedMarks:
    """Map `marks` (on `old_items`) onto `new_items` by key.

    Items of the old version whose key is gone are unmapped, as are marked items whose kind
    changed (a "covered" cannot apply to a red flag): their marks are dropped. Items that only
    the new version has get no mark, so they count as missed (red flags: as not observed).
    """
    new_by_key = {item.key: item for item in new_items}
    old_keys = {item.key for item in old_items}
    mapped: dict[str, scoring.ItemMark] = {}
    unmapped: list[Unmapped] = []
    for item in old_items:
        target = new_by_key.get(item.key)
        if target is None:
            unmapped.append(Unmapped(item, NOT_IN_VERSION))
            continue
        mark = marks.get(item.key, scoring.UNMARKED)
        if mark.mark is None:
            continue
        if target.kind is not item.kind:
            red_flag = target.kind is scoring.Kind.RED_FLAG
            unmapped.append(Unmapped(item, NOW_A_RED_FLAG if red_flag else NO_LONGER_A_RED_FLAG))
            continue
        mapped[item.key] = mark
    new = tuple(item for item in new_items if item.key not in old_keys)
    return MappedMarks(marks=mapped, unmapped=tuple(unmapped), new=new)
