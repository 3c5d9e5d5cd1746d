"""load_casebank / export_casebank: idempotent upserts, all-or-nothing errors, exact round trips."""

import filecmp
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from casebank.models import Case, CaseItem, ClarificationFact, StepProbe
from casebank.services import SHIPPED_CASES_DIR

pytestmark = pytest.mark.django_db


def _load(*args: str) -> str:
    out = StringIO()
    call_command("load_casebank", *args, stdout=out)
    return out.getvalue()


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


def _broken_folder(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / "cases"
    shutil.copytree(SHIPPED_CASES_DIR, folder)
    (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize(
    ("name", "mutate", "message"),
    [
        ("delivery-eta.md", lambda t: t.replace("---\n", "---\n: : [\n", 1), "delivery-eta.md:"),
        (
            "delivery-eta.md",
            lambda t: t.replace("domain: forecasting-eta", "domain: tarot"),
            "delivery-eta.md: 'domain' is 'tarot'",
        ),
        (
            "delivery-eta.md",
            lambda t: t.replace("# Step 4 probes", "# Step four"),
            "delivery-eta.md: line",
        ),
        ("copy.md", lambda t: t, "delivery-eta.md: duplicate slug 'delivery-eta'"),
        (
            "delivery-eta.md",
            lambda t: t.replace("  - modelling\n", "  - astrology\n", 1),
            "extra item 'eta-asymmetric-error-handling' names unknown category 'astrology'",
        ),
    ],
)
def test_broken_files_load_nothing(tmp_path, name, mutate, message):
    call_command("load_rubric", stdout=StringIO())
    original = (SHIPPED_CASES_DIR / "delivery-eta.md").read_text()
    folder = _broken_folder(tmp_path, name, mutate(original))
    with pytest.raises(CommandError) as excinfo:
        _load(str(folder))
    assert "Nothing was loaded" in str(excinfo.value)
    assert message in str(excinfo.value)
    assert not Case.objects.exists()


def test_file_name_must_match_slug(tmp_path):
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(SHIPPED_CASES_DIR / "delivery-eta.md", folder / "eta.md")
    with pytest.raises(CommandError, match=r"eta\.md: the file name must be the slug"):
        _load(str(folder))


def test_empty_or_missing_folder_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no case files"):
        _load(str(tmp_path))
    with pytest.raises(CommandError, match="not a folder"):
        _load(str(tmp_path / "missing"))
