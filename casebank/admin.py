from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from casebank import services
from casebank.models import Case, CaseItem, CaseStatus, ClarificationFact, StepProbe, Tag
from core.markdown import render_markdown


class ClarificationFactInline(admin.TabularInline):
    model = ClarificationFact
    fields = ["position", "question", "answer"]
    ordering = ["position", "id"]
    extra = 1


class StepProbeInline(admin.StackedInline):
    model = StepProbe
    fields = ["step", "text"]
    extra = 7
    max_num = 7


class CaseItemInline(admin.StackedInline):
    model = CaseItem
    fields = [
        ("key", "step", "position"),
        "title",
        "candidate_text",
        "probe",
        ("points", "kind", "required"),
        "categories",
        "keywords",
    ]
    filter_horizontal = ["categories"]
    extra = 0


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["title", "domain", "difficulty", "status", "updated_at"]
    list_filter = ["domain", "difficulty", "status", "tags"]
    search_fields = ["title", "summary", "slug", "tags__slug"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["tags"]
    autocomplete_fields = ["author"]
    readonly_fields = ["preview", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "status", "author"]}),
        ("Listing", {"fields": ["domain", "difficulty", "tags"]}),
        ("Texts", {"fields": ["candidate_prompt", "interviewer_brief", "model_answer"]}),
        (
            "Preview",
            {
                "fields": ["preview"],
                "description": "The saved texts as members see them. Save to refresh.",
            },
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [ClarificationFactInline, StepProbeInline, CaseItemInline]
    actions = ["publish", "unpublish", "duplicate"]

    def save_model(self, request: HttpRequest, obj: Case, form: ModelForm, change: bool) -> None:
        if not change and obj.author_id is None:
            obj.author = request.user
        super().save_model(request, obj, form, change)

    @admin.display(description="Preview")
    def preview(self, obj: Case) -> SafeString | str:
        if obj.pk is None:
            return "Save the case to see a preview."
        # Staff-written, but still rendered through the one Markdown function: the preview must
        # show exactly what members will see, and staff accounts can be compromised too.
        sections = [
            ("Candidate prompt", obj.candidate_prompt),
            ("Interviewer brief", obj.interviewer_brief),
            *((f"Step {probe.step} probes", probe.text) for probe in obj.probes.all()),
            ("Model answer outline", obj.model_answer),
        ]
        return format_html(
            '<div class="markdown-preview">{}</div>',
            format_html_join(
                "\n",
                "<h3>{}</h3>\n<div>{}</div>",
                ((title, render_markdown(text)) for title, text in sections),
            ),
        )

    @admin.action(description="Publish selected cases", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        changed = services.set_status(cases=queryset, status=CaseStatus.PUBLISHED)
        self.message_user(request, f"Published {changed} case{'s' * (changed != 1)}.")

    @admin.action(description="Unpublish selected cases (back to draft)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        changed = services.set_status(cases=queryset, status=CaseStatus.DRAFT)
        self.message_user(request, f"Unpublished {changed} case{'s' * (changed != 1)}.")

    @admin.action(description="Duplicate selected cases as drafts", permissions=["add"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        for case in queryset:
            copy = services.duplicate_case(case=case, by=request.user)
            link = reverse("admin:casebank_case_change", args=[copy.pk])
            self.message_user(
                request,
                format_html('Created the draft <a href="{}">{}</a>.', link, copy.title),
                messages.SUCCESS,
            )


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug", "case_count"]
    search_fields = ["slug"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        # Counted in the list query, not once per row.
        return super().get_queryset(request).annotate(case_count=Count("cases"))

    @admin.display(description="Cases", ordering="case_count")
    def case_count(self, obj: Tag) -> int:
        return obj.case_count
