"""Overlap warnings between case items and rubric items (pure Python, no database)."""

from casebank.overlap import ItemText, Overlap, find_overlaps

POINT_IN_TIME = ItemText(
    key="point-in-time-features",
    step=3,
    title="Builds features as of the prediction timestamp",
    candidate_text=(
        "You were expected to make sure every training feature is reconstructed with the value it "
        "had when the prediction was made, for example with point-in-time joins or logged feature "
        "snapshots, so no future information leaks in."
    ),
    keywords=("point-in-time", "as-of join", "event timestamp", "feature snapshot"),
    points=2,
)
BUSINESS_OBJECTIVE = ItemText(
    key="business-objective",
    step=1,
    title="Names the business objective",
    candidate_text="You were expected to pin down the one business outcome the system should move.",
    keywords=("business objective", "north star"),
    points=2,
)
BATCH_FEATURES = ItemText(
    key="batch-streaming-features",
    step=3,
    title="Separates precomputed features from real-time ones",
    candidate_text="You were expected to split features into batch and streaming ones.",
    keywords=("feature store", "streaming features"),
)
RUBRIC = [BUSINESS_OBJECTIVE, POINT_IN_TIME, BATCH_FEATURES]


def _case_item(**fields: object) -> ItemText:
    defaults: dict[str, object] = {
        "key": "grocery-twist",
        "step": 3,
        "title": "Uses inventory and preferences as of order time",
        "candidate_text": "Inventory is joined as it was when the order was placed.",
        "keywords": (),
    }
    return ItemText(**(defaults | fields))  # type: ignore[arg-type]


def test_a_shared_run_of_words_in_the_candidate_text_is_an_overlap():
    item = _case_item(
        candidate_text="Stock levels are features as of the prediction timestamp, never later."
    )
    assert find_overlaps(item, RUBRIC) == [
        Overlap(POINT_IN_TIME, ("features as of the prediction timestamp",))
    ]
    assert find_overlaps(item, RUBRIC)[0].describe() == (
        "Similar to rubric item ‹Builds features as of the prediction timestamp› (step 3, 2 pt)"
    )


def test_a_rubric_keyword_in_the_case_item_is_an_overlap_plurals_and_hyphens_ignored():
    item = _case_item(candidate_text="Rebuild rows from Feature Snapshots taken point in time.")
    (overlap,) = find_overlaps(item, RUBRIC)
    assert overlap.rubric_item == POINT_IN_TIME
    assert overlap.shared == ("feature snapshot", "point-in-time")


def test_a_case_keyword_found_in_the_rubric_item_is_an_overlap():
    item = _case_item(keywords=("future information",))
    assert find_overlaps(item, RUBRIC) == [Overlap(POINT_IN_TIME, ("future information",))]


def test_titles_sharing_two_words_in_a_row_overlap():
    item = _case_item(step=1, title="States the business objective for grocers")
    assert find_overlaps(item, RUBRIC) == [Overlap(BUSINESS_OBJECTIVE, ("business objective",))]


def test_only_items_of_the_same_step_are_compared():
    item = _case_item(
        step=4, candidate_text="As of the prediction timestamp, with feature snapshots."
    )
    assert find_overlaps(item, RUBRIC) == []


def test_one_shared_word_is_not_enough_but_two_are():
    one = _case_item(keywords=("streaming",), candidate_text="Fresh stock counts.")
    assert find_overlaps(one, RUBRIC) == []
    two = _case_item(keywords=("streaming", "batch"), candidate_text="Fresh stock counts.")
    assert find_overlaps(two, RUBRIC) == [Overlap(BATCH_FEATURES, ("batch", "streaming"))]


def test_the_issue_example_with_its_own_words_does_not_overlap():
    # Same topic, different words: nothing the matcher could show the author as shared.
    assert find_overlaps(_case_item(), RUBRIC) == []


def test_small_words_and_checklist_phrasing_never_make_an_overlap():
    item = _case_item(
        title="Makes sure of the value",
        candidate_text="You were expected to make sure it is the one when it was so.",
    )
    assert find_overlaps(item, RUBRIC) == []


def test_warnings_are_deterministic_and_in_the_rubric_order():
    item = _case_item(
        candidate_text="Feature snapshots feed the feature store; streaming features stay fresh."
    )
    first = find_overlaps(item, RUBRIC)
    assert [o.rubric_item.key for o in first] == [
        "point-in-time-features",
        "batch-streaming-features",
    ]
    assert find_overlaps(item, list(RUBRIC)) == first
