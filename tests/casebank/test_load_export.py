"""load_casebank / export_casebank: idempotent upserts, every problem at once, exact round trips."""

import dataclasses
import filecmp
import importlib
import shutil
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from casebank.caseformat import parse_case, serialize_case
from casebank.models import Case, CaseExclusion, CaseItem, ClarificationFact, StepProbe
from casebank.services import SHIPPED_CASES_DIR
from rubrics.models import Category, RubricVersion
from tests.factories import (
    CaseFactory,
    CaseItemFactory,
    ClarificationFactFactory,
    StepProbeFactory,
)

pytestmark = pytest.mark.django_db

# A shipped case as these tests' material, without its own not-applicable list and step budgets so
# that a test can add its own; its first case item stands for "some case item".
ETA = serialize_case(
    dataclasses.replace(
        parse_case((SHIPPED_CASES_DIR / "delivery-eta.md").read_text()),
        not_applicable=(),
        step_budgets=(),
    )
)
ETA_ITEM = parse_case(ETA).extra_items[0]


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_casebank", *args, stdout=out)
    return out.getvalue()


def _load_error(*args: str) -> str:
    with pytest.raises(CommandError) as excinfo:
        _load(*args)
    return str(excinfo.value)


def line_of(text: str, start: str) -> int:
    """The number of the first line of `text` that starts with `start`."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(start))


def test_load_creates_the_shipped_library_then_changes_nothing():
    first = _load()
    count = len(list(SHIPPED_CASES_DIR.glob("*.md")))
    assert f"Cases: {count} created, 0 updated, 0 unchanged." in first
    assert Case.objects.published().count() == count >= 15
    snapshot = list(Case.objects.values_list("slug", "updated_at").order_by("slug"))
    rows = (ClarificationFact.objects.count(), StepProbe.objects.count(), CaseItem.objects.count())

    second = _load()
    assert f"Cases: 0 created, 0 updated, {count} unchanged." in second
    assert list(Case.objects.values_list("slug", "updated_at").order_by("slug")) == snapshot
    assert rows == (
        ClarificationFact.objects.count(),
        StepProbe.objects.count(),
        CaseItem.objects.count(),
    )
    assert StepProbe.objects.count() == 7 * count


def test_export_then_import_round_trips_byte_identically(tmp_path):
    _load()
    out = tmp_path / "exported"
    call_command("export_casebank", str(out), stdout=StringIO())
    names = sorted(p.name for p in SHIPPED_CASES_DIR.glob("*.md"))
    assert sorted(p.name for p in out.glob("*.md")) == names
    _, mismatch, errors = filecmp.cmpfiles(SHIPPED_CASES_DIR, out, names, shallow=False)
    assert (mismatch, errors) == ([], [])
    assert "unchanged" in _load(str(out))


def test_load_directory_updates_a_changed_case(tmp_path):
    _load()
    folder = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES_DIR, folder)
    path = folder / "delivery-eta.md"
    path.write_text(path.read_text().replace("status: published", "status: draft", 1))
    output = _load(str(folder))
    assert "updated: delivery-eta" in output
    assert Case.objects.get(slug="delivery-eta").status == "draft"


def test_a_folder_on_a_fresh_database_loads_the_default_rubric_it_needs(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "delivery-eta.md").write_text(ETA)
    assert not RubricVersion.objects.exists()
    output = _load(str(folder))
    assert "created: ML system design — 7 steps v2 (the default rubric, which the cases need)" in (
        output
    )
    assert "Cases: 1 created, 0 updated, 0 unchanged." in output
    item = CaseItem.objects.get(key=ETA_ITEM.key)
    assert sorted(c.slug for c in item.categories.all()) == sorted(ETA_ITEM.categories)
    # With a rubric in place, a second folder run leaves the rubric alone.
    assert "default rubric" not in _load(str(folder))


def test_three_broken_files_report_every_problem_in_one_run_and_load_nothing(tmp_path):
    folder = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES_DIR, folder)
    # 1. Front matter and body problems in one file.
    eta = (
        ETA.replace("domain: forecasting-eta", "domain: tarot")
        .replace("- long-tail\n", "- Long_Tail\n")
        .replace(f"  - {ETA_ITEM.categories[0]}\n", "  - astrology\n", 1)
        .replace("# Step 4 probes", "# Step four")
    )
    (folder / "delivery-eta.md").write_text(eta)
    # 2. An upper-case key, a heading-like line in the model answer, an unclosed code block.
    fraud = (SHIPPED_CASES_DIR / "card-fraud-detection.md").read_text()
    fraud_key = fraud.split("- key: ", 1)[1].split("\n", 1)[0]
    fraud = (
        fraud.replace(f"- key: {fraud_key}", "- key: Fraud_Twist", 1)
        .replace("# Model answer outline\n\n", "# Model answer outline\n\n# Outline\n\n")
        .rstrip("\n")
        + "\n\n```python\nprint('the end')\n"
    )
    (folder / "card-fraud-detection.md").write_text(fraud)
    # 3. Too many minutes for the steps, and an unknown difficulty.
    copy = ETA.replace("facts:\n", "step_budgets:\n  45: [9, 9, 9, 9, 9, 9, 9]\nfacts:\n", 1)
    copy = copy.replace("difficulty: junior", "difficulty: easy")
    (folder / "eta-copy.md").write_text(copy)

    message = _load_error(str(folder))

    assert message.startswith("Nothing was loaded. Fix these 10 problems and run again:\n")
    problems = message.split("\n")[1:]
    assert [p.strip().split(": ", 1)[0] for p in problems] == [
        f"card-fraud-detection.md:{line_of(fraud, '- key: Fraud_Twist')}",
        f"card-fraud-detection.md:{line_of(fraud, '# Outline')}",
        f"card-fraud-detection.md:{line_of(fraud, '```python')}",
        f"delivery-eta.md:{line_of(eta, 'domain: tarot')}",
        f"delivery-eta.md:{line_of(eta, '- Long_Tail')}",
        f"delivery-eta.md:{line_of(eta, '  - astrology')}",
        f"delivery-eta.md:{line_of(eta, '# Step four')}",
        f"delivery-eta.md:{len(eta.splitlines())}",
        f"eta-copy.md:{line_of(copy, 'difficulty: easy')}",
        f"eta-copy.md:{line_of(copy, '  45: [9')}",
    ]
    text = "\n".join(problems)
    for expected in (
        "extra item 1: key 'Fraud_Twist': use lowercase letters, digits and single hyphens only",
        "'# Outline' is not a section",
        f"The code block opened on line {line_of(fraud, '```python')} is never closed",
        "'domain' is 'tarot'",
        "tag 'Long_Tail': use lowercase letters",
        "extra item 1: unknown category 'astrology'; the categories are: class-imbalance,",
        "'# Step four' is not a section",
        "missing section(s): '# Step 4 probes'",
        "'difficulty' is 'easy'; it must be one of: junior, senior, staff",
        "step_budgets 45: the steps add up to 63 minutes; a 45-minute interview has 45.",
    ):
        assert expected in text
    assert not Case.objects.exists()
    # The default rubric loaded for the check is rolled back with everything else.
    assert not RubricVersion.objects.exists()
    assert not Category.objects.exists()


def test_a_duplicate_slug_is_named_once_its_file_is_otherwise_fine(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "delivery-eta.md").write_text(ETA)
    (folder / "eta-copy.md").write_text(ETA)
    message = _load_error(str(folder))
    assert "eta-copy.md:2: duplicate slug 'delivery-eta', already used by delivery-eta.md" in (
        message
    )


def test_not_applicable_keys_are_checked_against_the_default_rubric(tmp_path):
    _load()
    folder = tmp_path / "cases"
    folder.mkdir()
    text = ETA.replace(
        "extra_items:\n",
        "not_applicable:\n- key: business-objective\n  reason: Given in the prompt.\n"
        "- key: no-such-item\n  reason: Not there.\n"
        "extra_items:\n",
        1,
    )
    (folder / "delivery-eta.md").write_text(text)
    message = _load_error(str(folder))
    assert message.endswith(
        f"delivery-eta.md:{line_of(text, '- key: no-such-item')}: not_applicable 2: "
        "ML system design — 7 steps v2 has no item with the key 'no-such-item'"
    )


def test_exclusions_and_budgets_load_and_export_byte_identically(tmp_path):
    call_command("load_rubric", stdout=StringIO())
    folder = tmp_path / "cases"
    folder.mkdir()
    front, body = ETA.split("\n---\n", 1)
    text = (
        front
        + "\nnot_applicable:\n- key: business-objective\n  reason: The prompt states the goal.\n"
        + "step_budgets:\n  45: [4, 6, 8, 8, 6, 7, 6]\n"
        + "---\n"
        + body
    )
    (folder / "delivery-eta.md").write_text(text)
    assert "Cases: 1 created" in _load(str(folder))
    case = Case.objects.get(slug="delivery-eta")
    assert list(CaseExclusion.objects.values_list("item_key", "reason")) == [
        ("business-objective", "The prompt states the goal.")
    ]
    assert case.step_budgets == {"45": [4, 6, 8, 8, 6, 7, 6]}
    assert [case.budget_minutes(step, 45) for step in range(1, 8)] == [4, 6, 8, 8, 6, 7, 6]
    assert case.budget_minutes(3, 60) is None

    out = tmp_path / "out"
    call_command("export_casebank", str(out), stdout=StringIO())
    assert (out / "delivery-eta.md").read_text() == text
    assert "unchanged: delivery-eta" in _load(str(out))


def test_file_name_must_match_slug(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(SHIPPED_CASES_DIR / "delivery-eta.md", folder / "eta.md")
    with pytest.raises(CommandError, match=r"eta\.md:2: the file name must be the slug"):
        _load(str(folder))


def test_empty_or_missing_folder_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no case files"):
        _load(str(tmp_path))
    with pytest.raises(CommandError, match="not a folder"):
        _load(str(tmp_path / "missing"))


def test_export_warns_about_a_case_saved_before_the_rules(tmp_path):
    # Saved without the admin's checks, as cases were before the rules were shared.
    CaseFactory(slug="legacy", status="draft", model_answer="Intro.\n# Outline\n- one")
    err = StringIO()
    call_command("export_casebank", str(tmp_path), stdout=StringIO(), stderr=err)
    text = (tmp_path / "legacy.md").read_text()
    assert err.getvalue().splitlines() == [
        f"warning: legacy.md:{line_of(text, '# Outline')}: '# Outline' is not a section; the "
        "sections are '# Candidate prompt', '# Interviewer brief', '# Step 1 probes', "
        "'# Step 2 probes', '# Step 3 probes', '# Step 4 probes', '# Step 5 probes', "
        "'# Step 6 probes', '# Step 7 probes', '# Model answer outline'. For a heading inside a "
        "section use two hashes: '## Outline'",
        "These files will not load back until the problems are fixed, in the admin or in the "
        "files.",
    ]


def test_the_migration_turns_saved_crlf_into_lf():
    migration = importlib.import_module("casebank.migrations.0003_text_line_endings")
    case = CaseFactory(candidate_prompt="One.\r\nTwo.\r\n", model_answer="Fine.\nAs is.")
    fact = ClarificationFactFactory(case=case, answer="A\rB")
    item = CaseItemFactory(case=case, keywords="a\r\nb\r\n", probe="P\u2028Q")
    probe = StepProbeFactory(case=case, text="- x\r\n- y")
    migration.to_lf(apps, None)
    case.refresh_from_db()
    assert (case.candidate_prompt, case.model_answer) == ("One.\nTwo.", "Fine.\nAs is.")
    fact.refresh_from_db()
    item.refresh_from_db()
    probe.refresh_from_db()
    assert (fact.answer, item.keywords, item.probe, probe.text) == (
        "A\nB",
        "a\nb",
        "P\nQ",
        "- x\n- y",
    )
