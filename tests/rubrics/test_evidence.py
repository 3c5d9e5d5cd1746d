import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rubrics.evidence import (
    MAX_MATCHES_PER_ITEM,
    EvidenceItem,
    EvidenceMatch,
    compile_phrases,
    find_evidence,
    normalise,
    same_words,
)


def spans(text: str, *phrases: str) -> list[tuple[str, int, int, str]]:
    """The matches of one item with `phrases`, as (phrase, start, end, excerpt)."""
    found = find_evidence(text, [EvidenceItem("item", phrases)])
    return [(m.phrase, m.start, m.end, m.excerpt) for m in found.get("item", ())]


def excerpts(text: str, *phrases: str) -> list[str]:
    return [excerpt for _, _, _, excerpt in spans(text, *phrases)]


# --- Words: case, punctuation, hyphens and plurals.


@pytest.mark.parametrize(
    "text",
    [
        "time-based split",
        "time based split",
        "Time-Based splits",
        "TIME BASED SPLIT",
        "time  -  based   split",
        "time—based split",
        "time_based split",
        "time-based, split",
        "time\nbased\r\nsplit",
    ],
)
def test_find_evidence_hyphens_spaces_case_and_punctuation_are_equivalent(text: str) -> None:
    assert excerpts(text, "time-based split") == [text]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("split", "splits"),
        ("metric", "metrics"),
        ("box", "boxes"),
        ("query", "queries"),
        ("cache", "caches"),
        ("batch", "batches"),
        ("hash", "hashes"),
        ("bias", "biases"),
        ("class", "classes"),
        ("movie", "movies"),
        ("response", "responses"),
        ("ad", "ads"),
        ("kpi", "KPIs"),
        ("feature store", "Feature-Stores"),
        ("negative samples", "negatives sample"),
        ("naïve Bayes", "naive bayes"),
        ("nai\u0308ve", "naïve"),
        ("Straße", "STRASSE"),
        ("ﬁne-tuning", "fine tuning"),
    ],
)
def test_same_words_plural_case_and_accents(a: str, b: str) -> None:
    assert same_words(a, b)
    assert same_words(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("split", "splitting"),
        ("split", "resplit"),
        ("auc", "caucus"),
        ("as", "a"),
        ("us", "u"),
        ("loss", "los"),
        ("p99", "p999"),
        ("time-based split", "time-based"),
        ("time based", "timebased"),
        ("analysis", "analyses"),
    ],
)
def test_same_words_rejects_other_words(a: str, b: str) -> None:
    assert not same_words(a, b)
    assert not same_words(b, a)


def test_normalise_folds_case_and_accents_keeps_plurals() -> None:
    assert normalise("Point-in-Time, (naïve) Splits_2") == (
        "point",
        "in",
        "time",
        "naive",
        "splits",
        "2",
    )


# --- Whole words only.


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("we avoid splitting users", "split"),
        ("a resplit happens", "split"),
        ("the caucus voted", "auc"),
        ("AUCs and PR-AUCx", "auc roc"),
        ("p999 latency", "p99 latency"),
        ("timebased split", "time based split"),
        ("", "split"),
        ("…, — !!", "split"),
    ],
)
def test_find_evidence_no_match(text: str, phrase: str) -> None:
    assert find_evidence(text, [EvidenceItem("item", (phrase,))]) == {}


def test_find_evidence_is_a_hint_not_a_verdict() -> None:
    assert excerpts("We would use no time-based split here.", "time-based split") == [
        "time-based split"
    ]


# --- Exact offsets into the original text.


def test_find_evidence_offsets_around_punctuation() -> None:
    text = "Use a point-in-time, join (chronological) order."

    assert spans(text, "point in time", "chronological") == [
        ("point in time", 6, 19, "point-in-time"),
        ("chronological", 27, 40, "chronological"),
    ]
    assert text[6:19] == "point-in-time"
    assert text[27:40] == "chronological"


def test_find_evidence_phrase_at_start_and_end() -> None:
    text = "Splits by time, then more time-based split"

    assert spans(text, "split", "time based split") == [
        ("split", 0, 6, "Splits"),
        ("time based split", 26, 42, "time-based split"),
        ("split", 37, 42, "split"),
    ]
    assert len(text) == 42


def test_find_evidence_multi_line() -> None:
    text = "First line.\nWe use a time-\nbased split\n\nand a point-in-\ntime join."

    assert spans(text, "time-based split", "point in time join") == [
        ("time-based split", 21, 38, "time-\nbased split"),
        ("point in time join", 46, 65, "point-in-\ntime join"),
    ]


def test_find_evidence_unicode_offsets() -> None:
    text = "Über-naïve Bayes — «Naïve Bayes», then 特征 store"

    assert spans(text, "naive bayes", "特征 stores") == [
        ("naive bayes", 5, 16, "naïve Bayes"),
        ("naive bayes", 20, 31, "Naïve Bayes"),
        ("特征 stores", 39, 47, "特征 store"),
    ]


def test_find_evidence_decomposed_accent_stays_inside_word() -> None:
    text = "cafe\u0301 latency"

    assert spans(text, "café latency") == [("café latency", 0, 13, "cafe\u0301 latency")]
    assert spans(text, "cafe") == [("cafe", 0, 5, "cafe\u0301")]


def test_find_evidence_digits_and_underscores() -> None:
    text = "p99_latency under 50ms, P99 latency"

    assert spans(text, "p99 latency") == [
        ("p99 latency", 0, 11, "p99_latency"),
        ("p99 latency", 24, 35, "P99 latency"),
    ]


# --- Several phrases, repeats, overlaps and the cap.


def test_find_evidence_overlapping_phrases_of_one_item_in_text_order() -> None:
    text = "a time-based split"

    assert spans(text, "split", "time-based split", "time based") == [
        ("time based", 2, 12, "time-based"),
        ("time-based split", 2, 18, "time-based split"),
        ("split", 13, 18, "split"),
    ]


def test_find_evidence_overlapping_phrases_of_different_items() -> None:
    items = [
        EvidenceItem("leakage", ("point-in-time",)),
        EvidenceItem("joins", ("time join",)),
        EvidenceItem("unrelated", ("calibration",)),
    ]

    found = find_evidence("a point-in-time join", items)

    assert found == {
        "leakage": (EvidenceMatch("point-in-time", 2, 15, "point-in-time"),),
        "joins": (EvidenceMatch("time join", 11, 20, "time join"),),
    }


def test_find_evidence_phrase_overlapping_itself() -> None:
    assert spans("go on go on go", "go on go") == [
        ("go on go", 0, 8, "go on go"),
        ("go on go", 6, 14, "go on go"),
    ]


def test_find_evidence_repeated_phrase_each_occurrence() -> None:
    assert spans("split, Split; SPLITS", "split") == [
        ("split", 0, 5, "split"),
        ("split", 7, 12, "Split"),
        ("split", 14, 20, "SPLITS"),
    ]


def test_find_evidence_caps_matches_per_item() -> None:
    text = " ".join(["split"] * 8)

    found = spans(text, "split")

    assert MAX_MATCHES_PER_ITEM == 5
    assert [start for _, start, _, _ in found] == [0, 6, 12, 18, 24]


def test_find_evidence_cap_is_per_item() -> None:
    items = [EvidenceItem("a", ("split",)), EvidenceItem("b", ("leak",))]
    text = "split " * 6 + "leak"

    found = find_evidence(text, items)

    assert (len(found["a"]), len(found["b"])) == (5, 1)


def test_find_evidence_same_span_from_two_phrases_reported_once() -> None:
    assert spans("two splits", "split", "splits", "SPLIT") == [("split", 4, 10, "splits")]


def test_find_evidence_items_in_input_order() -> None:
    items = [EvidenceItem("z", ("late",)), EvidenceItem("a", ("early",)), EvidenceItem("m", ())]

    assert list(find_evidence("early then late", items)) == ["z", "a"]


def test_find_evidence_accepts_compiled_index() -> None:
    items = [
        EvidenceItem("split", ("time-based split", "chronological")),
        EvidenceItem("x", ("y",)),
    ]
    text = "Chronological, then a time based split."
    index = compile_phrases(items)

    assert find_evidence(text, index) == find_evidence(text, items)
    assert find_evidence(text, index) == {
        "split": (
            EvidenceMatch("chronological", 0, 13, "Chronological"),
            EvidenceMatch("time-based split", 22, 38, "time based split"),
        )
    }
    assert index.keys == ("split", "x")


# --- Invalid input.


def test_compile_phrases_rejects_duplicate_keys() -> None:
    with pytest.raises(ValueError, match="Duplicate evidence item keys: a"):
        compile_phrases([EvidenceItem("a", ("x",)), EvidenceItem("a", ("y",))])


@pytest.mark.parametrize("phrase", ["", "  ", "—", "(!)"])
def test_compile_phrases_rejects_phrase_without_words(phrase: str) -> None:
    with pytest.raises(ValueError, match="has no words"):
        compile_phrases([EvidenceItem("a", ("split", phrase))])


def test_evidence_item_rejects_bare_string() -> None:
    with pytest.raises(TypeError, match="sequence of strings"):
        EvidenceItem("a", "split")  # type: ignore[arg-type]


def test_evidence_item_accepts_list() -> None:
    assert EvidenceItem("a", ["split"]).phrases == ("split",)  # type: ignore[arg-type]


# --- Properties.

# A small alphabet with separators, accents and plural endings, so random texts and phrases meet.
WORDISH = st.text(alphabet="abs ies-,.\n_éE\u0301", max_size=40)
PHRASES = st.text(min_size=1, max_size=20).filter(lambda phrase: bool(normalise(phrase)))
SMALL_PHRASES = WORDISH.filter(lambda phrase: bool(normalise(phrase)))


@given(
    st.one_of(WORDISH, st.text(max_size=200)),
    st.lists(st.one_of(SMALL_PHRASES, PHRASES), min_size=1, max_size=4),
)
@example("split splitting splits", ["split"])
def test_property_every_match_excerpt_reads_as_its_phrase(text: str, phrases: list[str]) -> None:
    found = find_evidence(text, [EvidenceItem("item", tuple(phrases))])

    matches = found.get("item", ())
    assert len(matches) <= MAX_MATCHES_PER_ITEM
    assert [(m.start, m.end) for m in matches] == sorted({(m.start, m.end) for m in matches})
    for match in matches:
        assert match.phrase in phrases
        assert text[match.start : match.end] == match.excerpt
        assert same_words(match.excerpt, match.phrase)


@given(st.text(max_size=200), st.one_of(PHRASES, SMALL_PHRASES), st.data())
def test_property_inserted_phrase_always_matches(
    text: str, phrase: str, data: st.DataObject
) -> None:
    at = data.draw(st.integers(min_value=0, max_value=len(text)))
    padded = text[:at] + " " + phrase + " " + text[at:]

    found = find_evidence(padded, [EvidenceItem("item", (phrase,))])

    assert "item" in found
    # Inside the padded window the only words are the phrase's, so a match there with as many
    # words as the phrase is the inserted phrase itself.
    window = range(at + 1, at + 1 + len(phrase) + 1)
    inserted = [
        m
        for m in found["item"]
        if m.start in window
        and m.end in window
        and len(normalise(m.excerpt)) == len(normalise(phrase))
    ]
    assert len(found["item"]) == MAX_MATCHES_PER_ITEM or len(inserted) == 1
