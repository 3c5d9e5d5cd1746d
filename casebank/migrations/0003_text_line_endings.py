"""Texts saved by the admin before line endings were normalised keep the browser's CRLF: make
them LF, as every save now does, so exporting them gives the same bytes as loading them back."""

import re

from django.db import migrations

# The same line breaks casebank.rules.normalise_text turns into LF (kept here: a migration must
# not change when the app's code does).
LINE_BREAKS = re.compile("\r\n|[\r\x85\u2028\u2029]")
TEXTS = {
    "Case": ["candidate_prompt", "interviewer_brief", "model_answer"],
    "StepProbe": ["text"],
    "ClarificationFact": ["answer"],
    "CaseItem": ["candidate_text", "probe", "keywords"],
}


def to_lf(apps, schema_editor):
    for model_name, fields in TEXTS.items():
        model = apps.get_model("casebank", model_name)
        for row in model.objects.only("pk", *fields).iterator():
            changed = []
            for field in fields:
                value = getattr(row, field)
                fixed = LINE_BREAKS.sub("\n", value).strip()
                if fixed != value:
                    setattr(row, field, fixed)
                    changed.append(field)
            if changed:
                row.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("casebank", "0002_authoring_rules")]

    operations = [migrations.RunPython(to_lf, migrations.RunPython.noop)]
