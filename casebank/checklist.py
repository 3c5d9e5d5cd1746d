"""A case's checklist under a rubric version: the rubric's items plus the case's own items.

This is the one place that joins the two. The room, the scorecard, the self-assessment,
re-scoring and the admin's preview all read the checklist through it, so an item is found, keyed
and ordered the same way everywhere. Case items get keys prefixed with "case:", so they never
collide with the rubric's keys.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from django.utils.safestring import SafeString

from casebank.models import CaseExclusion, CaseItem, StepProbe
from core.markdown import render_markdown
from core.queries import single
from rubrics import scoring
from rubrics.models import Item, RubricVersion, VersionStatus

CASE_ITEM_PREFIX = "case:"


@dataclass(frozen=True)
class ChecklistItem:
    key: str  # the scoring key: the rubric item's key, or "case:<key>" for a case item
    step: int
    title: str
    candidate_text: str
    probe: str
    kind: scoring.Kind
    points: int
    required: bool
    categories: tuple[str, ...]  # slugs
    category_names: tuple[str, ...]
    keywords: tuple[str, ...]
    from_case: bool
    # Case items have no level of their own: what a case adds is expected of every level.
    level: scoring.Level = scoring.Level.CORE
    # Why the case's author judged this rubric item not applicable to the case; "" if it is.
    excluded_reason: str = ""

    @property
    def is_red_flag(self) -> bool:
        return self.kind is scoring.Kind.RED_FLAG

    @cached_property
    def scoring_item(self) -> scoring.Item:
        return scoring.Item(
            key=self.key,
            step=self.step,
            title=self.title,
            points=self.points,
            kind=self.kind,
            required=self.required,
            categories=self.categories,
            level=self.level,
        )


def _item(
    row: Item | CaseItem, *, key: str, step: int, from_case: bool, excluded_reason: str = ""
) -> ChecklistItem:
    categories = list(row.categories.all())
    return ChecklistItem(
        key=key,
        step=step,
        title=row.title,
        candidate_text=row.candidate_text,
        probe=row.probe,
        kind=scoring.Kind(row.kind),
        points=row.points,
        required=row.required,
        categories=tuple(c.slug for c in categories),
        category_names=tuple(c.name for c in categories),
        keywords=tuple(row.keyword_list),
        from_case=from_case,
        level=scoring.Level.CORE if isinstance(row, CaseItem) else scoring.Level(row.level),
        excluded_reason=excluded_reason,
    )


# What a process keeps, in plain dicts rather than Django's cache: the local-memory cache
# pickles each value and unpickles it on every read, which for a rubric's items cost about a
# third of a millisecond on every mark and every render. Both stay as small as the content: one
# entry per published rubric version, and per case its parts as of its last edit seen (see
# case_parts). No caller changes what it is given, so threads can share them.
_RUBRIC_ITEMS: dict[int, tuple[ChecklistItem, ...]] = {}
_THRESHOLDS: dict[int, scoring.Thresholds] = {}


def rubric_items(version_id: int) -> tuple[ChecklistItem, ...]:
    """A rubric version's items in order, before any case's exclusions.

    A published version never changes (the admin shows it read-only and load_rubric refuses to
    alter it), so its items are kept in the process once read: the room reads them for every
    mark and every render. A draft is read afresh each time, since its author edits it.
    """
    items = _RUBRIC_ITEMS.get(version_id)
    if items is not None:
        return items
    rows = list(
        Item.objects.filter(step__version_id=version_id)
        .select_related("step__version")
        .prefetch_related("categories")
        .order_by("step__number", "position", "id")
    )
    items = tuple(_item(row, key=row.key, step=row.step.number, from_case=False) for row in rows)
    if rows and rows[0].step.version.status == VersionStatus.PUBLISHED:
        _RUBRIC_ITEMS[version_id] = items
        _THRESHOLDS[version_id] = rows[0].step.version.thresholds
    return items


def rubric_thresholds(version_id: int) -> scoring.Thresholds:
    """A rubric version's score bands. Kept with its items once they are read (a published
    version never changes), so a room that scores its checklist need not read the version."""
    thresholds = _THRESHOLDS.get(version_id)
    if thresholds is not None:
        return thresholds
    version = RubricVersion.objects.get(pk=version_id)
    if version.is_published:
        _THRESHOLDS[version_id] = version.thresholds
    return version.thresholds


@dataclass(frozen=True)
class CaseParts:
    """What a case adds to every checklist: its own items in order, and the rubric items it
    judges not applicable, with the author's reasons."""

    items: tuple[ChecklistItem, ...]
    excluded: dict[str, str]


_CASE_PARTS: dict[int, tuple[datetime, CaseParts]] = {}
_PROBES: dict[tuple[int, int], tuple[datetime, SafeString]] = {}


def forget_kept() -> None:
    """Drop what this process keeps (for tests, where one database id names different rows
    from one test to the next)."""
    _RUBRIC_ITEMS.clear()
    _THRESHOLDS.clear()
    _CASE_PARTS.clear()
    _PROBES.clear()


def case_parts(case_id: int, *, edited_at: datetime | None = None) -> CaseParts:
    """The case's own items (with their categories) and exclusions: three queries.

    `edited_at` is the case's updated_at as the caller read it. With it the parts are kept in
    the process as of that moment, since the room reads them for every mark and every update
    it renders. Both ways of editing them save the case in the same transaction (the admin's
    inlines after save_model; casebank.services' import after case.save()), so an edit moves
    updated_at: a reader who sees the edit asks for parts as of a new moment and reads afresh.
    """
    kept = _CASE_PARTS.get(case_id)
    if edited_at is not None and kept is not None and kept[0] == edited_at:
        return kept[1]
    rows = CaseItem.objects.filter(case_id=case_id).prefetch_related("categories")
    parts = CaseParts(
        items=tuple(
            _item(row, key=f"{CASE_ITEM_PREFIX}{row.key}", step=row.step, from_case=True)
            for row in rows.order_by("position", "id")
        ),
        excluded=dict(
            CaseExclusion.objects.filter(case_id=case_id).values_list("item_key", "reason")
        ),
    )
    if edited_at is not None:
        _CASE_PARTS[case_id] = (edited_at, parts)
    return parts


def probe_html(case_id: int, step: int, *, edited_at: datetime | None = None) -> SafeString:
    """The case's probes for one step as safe HTML ("" when it has none), shown beside that
    step's checklist. With `edited_at` kept in the process like case_parts (an edit of the
    probes saves the case too): the room shows them in every update it renders for the
    interviewer, and rendering their Markdown cost more than the rest of the checklist panel."""
    kept = _PROBES.get((case_id, step))
    if edited_at is not None and kept is not None and kept[0] == edited_at:
        return kept[1]
    probes = StepProbe.objects.filter(case_id=case_id, step=step).values_list("text", flat=True)
    html = render_markdown(single(probes) or "")
    if edited_at is not None:
        _PROBES[(case_id, step)] = (edited_at, html)
    return html


def case_checklist(
    version_id: int,
    case_id: int,
    *,
    step: int | None = None,
    edited_at: datetime | None = None,
) -> list[ChecklistItem]:
    """The checklist in order (by step; within a step the rubric's items, then the case's), of
    one step or all, with the case's own list of rubric items that do not apply to it. The
    case's parts are three queries unless case_parts has them (see `edited_at` there); the
    rubric's items two more unless rubric_items has them."""
    parts = case_parts(case_id, edited_at=edited_at)
    excluded = parts.excluded
    items = [
        replace(item, excluded_reason=excluded[item.key]) if item.key in excluded else item
        for item in rubric_items(version_id)
        if step is None or item.step == step
    ]
    items += [item for item in parts.items if step is None or item.step == step]
    # A stable sort: within a step, the rubric's items stay before the case's.
    return sorted(items, key=lambda item: item.step)


@dataclass(frozen=True)
class ItemRef:
    """Just enough of an item to check a mark against it: one query to find."""

    key: str
    step: int
    kind: scoring.Kind


def _ref(key: str, items: Iterable[ChecklistItem]) -> ItemRef | None:
    found = next((item for item in items if item.key == key), None)
    return None if found is None else ItemRef(key=key, step=found.step, kind=found.kind)


def find_item(
    version_id: int, case_id: int, key: str, *, edited_at: datetime | None = None
) -> ItemRef | None:
    """The rubric or case item behind a scoring key, if it is in this checklist. `edited_at`:
    see case_parts."""
    if key.startswith(CASE_ITEM_PREFIX):
        if edited_at is not None:
            return _ref(key, case_parts(case_id, edited_at=edited_at).items)
        row = (
            CaseItem.objects.filter(case_id=case_id, key=key.removeprefix(CASE_ITEM_PREFIX))
            .values("step", "kind")
            .first()
        )
        return row and ItemRef(key=key, step=row["step"], kind=scoring.Kind(row["kind"]))
    kept = _RUBRIC_ITEMS.get(version_id)
    if kept is not None:
        return _ref(key, kept)
    rubric_row = (
        Item.objects.filter(step__version_id=version_id, key=key)
        .values("step__number", "kind")
        .first()
    )
    return rubric_row and ItemRef(
        key=key, step=rubric_row["step__number"], kind=scoring.Kind(rubric_row["kind"])
    )


def expected_count(version_id: int, case_id: int) -> int:
    """How many expected (not red-flag) items the checklist has; two counting queries."""
    expected = scoring.Kind.EXPECTED
    return (
        Item.objects.filter(step__version_id=version_id, kind=expected).count()
        + CaseItem.objects.filter(case_id=case_id, kind=expected).count()
    )
