"""The case admin: where authors write cases, under the same rules as the case files.

Everything an author must get right is said where it is typed (steps by name, key and tag rules,
what publishing needs), every problem of a save is listed at the top with a link to its field, and
the preview shows what the candidate and the interviewer will each see, before or after saving.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import User
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db.models import Count, QuerySet
from django.forms import BaseForm, ModelForm
from django.forms.formsets import BaseFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from casebank import rules, services
from casebank.authoring import (
    RubricContext,
    case_preview,
    rubric_context,
    saved_checklist,
    unsaved_checklist,
)
from casebank.caseformat import CaseData, ExclusionData, ExtraItemData, FactData, publish_problems
from casebank.forms import (
    PROBE_FIELDS,
    CaseAdminForm,
    CaseItemForm,
    CaseItemFormSet,
    ExclusionForm,
    ExclusionFormSet,
    FactForm,
    FactFormSet,
)
from casebank.models import Case, CaseExclusion, CaseItem, ClarificationFact, Tag
from rubrics.models import Category

if TYPE_CHECKING:
    # The type checker's name for a tag with its case count (django-stubs' own helper, which
    # the running code needs neither installed nor imported).
    from django_stubs_ext import WithAnnotations

    class _CaseCount(TypedDict):
        case_count: int

    CountedTag = WithAnnotations[Tag, _CaseCount]


def _rubric(request: HttpRequest) -> RubricContext:
    """The rubric the forms of this request write against, read once per request."""
    # In the request's own __dict__: HttpRequest declares no attribute for a cache of ours.
    cached: RubricContext | None = request.__dict__.get("_spar_rubric")
    if cached is None:
        cached = request.__dict__["_spar_rubric"] = rubric_context()
    return cached


class ClarificationFactInline(admin.TabularInline):
    model = ClarificationFact
    form = FactForm
    formset = FactFormSet
    fields = ["question", "answer", "position"]
    ordering = ["position", "id"]
    verbose_name = "clarification fact"
    verbose_name_plural = "Clarification facts (the candidate sees the questions)"

    def get_extra(self, request: HttpRequest, obj: Case | None = None, **kwargs: Any) -> int:
        # A new case starts with as many empty rows as publishing needs.
        return 1 if obj is not None else rules.MIN_FACTS_TO_PUBLISH


class CaseItemInline(admin.StackedInline):
    model = CaseItem
    form = CaseItemForm
    formset = CaseItemFormSet
    fields = [
        "title",
        "key",
        "step",
        "candidate_text",
        "probe",
        ("points", "kind", "required"),
        "categories",
        "keywords",
        "not_duplicate",
    ]
    extra = 0
    verbose_name = "case item"
    verbose_name_plural = "Case items (added to the rubric's checklist of their step)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseItem]:
        # The forms read each item's categories: one query for all rows, not one per row.
        return super().get_queryset(request).prefetch_related("categories")


class ExclusionInline(admin.TabularInline):
    model = CaseExclusion
    form = ExclusionForm
    formset = ExclusionFormSet
    fields = ["item_key", "reason"]
    extra = 0
    verbose_name = "rubric item that does not apply"
    verbose_name_plural = "Rubric items that do not apply to this case"


@dataclass(frozen=True)
class ErrorLink:
    target: str  # the id of the input (or group) the error is about
    label: str
    message: str


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    form = CaseAdminForm
    list_display = ["title", "domain", "difficulty", "status", "updated_at"]
    list_filter = ["domain", "difficulty", "status", "tags"]
    search_fields = ["title", "summary", "slug", "tags__slug"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "status", "author"]}),
        ("Listing", {"fields": ["domain", "difficulty", "tags_text"]}),
        ("What the candidate reads", {"fields": ["candidate_prompt"]}),
        (
            "Interviewer notes",
            {
                "fields": ["interviewer_brief", *PROBE_FIELDS, "model_answer"],
                "description": "Only the interviewer sees these, and people who have already "
                "done the case. For a heading inside a text use ## or more: a line starting "
                "with a single # would start a new section of the case file.",
            },
        ),
        ("Timing", {"fields": ["budgets_45", "budgets_60"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [ClarificationFactInline, CaseItemInline, ExclusionInline]
    actions = ["publish", "unpublish", "duplicate"]

    # --- forms --------------------------------------------------------------------------------

    def get_form(
        self, request: HttpRequest, obj: Case | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"rubric": _rubric(request)})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"author": request.user.pk, **super().get_changeform_initial_data(request)}

    def get_formset_kwargs(
        self,
        request: HttpRequest,
        obj: Case | None,
        inline: admin.options.InlineModelAdmin,
        prefix: str,
    ) -> dict[str, Any]:
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if inline.form in (CaseItemForm, ExclusionForm):
            kwargs["form_kwargs"] = {"rubric": _rubric(request)}
        return kwargs

    def save_model(
        self, request: HttpRequest, obj: Case, form: CaseAdminForm, change: bool
    ) -> None:
        if not change and obj.author_id is None:
            obj.author = _staff(request)
        obj.step_budgets = form.step_budgets
        super().save_model(request, obj, form, change)

    def save_related(
        self,
        request: HttpRequest,
        form: CaseAdminForm,
        formsets: Sequence[BaseFormSet],
        change: bool,
    ) -> None:
        super().save_related(request, form, formsets, change)
        services.save_case_parts(
            case=form.instance, tags=form.cleaned_data["tags_text"], probes=form.probes
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Case | None = None,
    ) -> HttpResponse:
        summary = _error_summary(context["adminform"].form, context["inline_admin_formsets"])
        # Our summary at the top replaces Django's "Please correct the errors below."
        context["errors"] = []
        context["error_summary"] = summary
        if obj is not None and obj.pk is not None and not obj.is_published and not summary:
            context["still_needed"] = [m for _, m in publish_problems(services.case_content(obj))]
        context["rubric_name"] = _rubric(request).name
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- extra pages --------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(view)

        return [
            path("add/preview/", wrap(self.preview_view), name="casebank_case_preview_add"),
            path(
                "<path:object_id>/preview/", wrap(self.preview_view), name="casebank_case_preview"
            ),
            path(
                "<path:object_id>/duplicate/",
                wrap(self.duplicate_view),
                name="casebank_case_duplicate",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_http_methods(["GET", "POST"]))
    def preview_view(self, request: HttpRequest, object_id: str | None = None) -> HttpResponse:
        """What each person will see: the saved case (GET) or the form as typed (POST)."""
        obj = self._get_case(request, object_id) if object_id is not None else None
        allowed = (
            self.has_view_or_change_permission(request, obj)
            if obj is not None
            else self.has_add_permission(request)
        )
        if not allowed:
            raise PermissionDenied
        rubric = _rubric(request)
        if request.method == "POST":
            data = self._posted_case(request, obj)
            checklist = unsaved_checklist(data, rubric)
        elif obj is not None:
            data = services.case_content(obj)
            checklist = saved_checklist(obj, rubric)
        else:
            raise Http404("Nothing to preview: the case is not saved yet.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"Preview: {data.title or 'untitled case'}",
            "preview": case_preview(data, rubric, checklist),
            "saved": request.method != "POST",
        }
        return TemplateResponse(request, "casebank/admin_preview.html", context)

    @method_decorator(require_POST)
    def duplicate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The button on the case page: a draft copy, opened for editing."""
        case = self._get_case(request, object_id)
        if not self.has_add_permission(request):
            raise PermissionDenied
        copy = services.duplicate_case(case=case, by=_staff(request))
        self.message_user(
            request,
            f"Created the draft “{copy.title}”. You are editing the copy.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:casebank_case_change", args=[copy.pk]))

    def _get_case(self, request: HttpRequest, object_id: str) -> Case:
        case: Case | None = self.get_object(request, object_id)
        if case is None:
            raise Http404("No such case.")
        return case

    def _posted_case(self, request: HttpRequest, obj: Case | None) -> CaseData:
        """The case as typed in the form, unsaved and unchecked: a preview shows even a draft."""
        fields = flatten_fieldsets(self.get_fieldsets(request, obj))
        form = self.get_form(request, obj, change=obj is not None, fields=fields)(
            request.POST, instance=obj
        )
        rows: dict[str, list[BaseForm]] = {}
        for formset_class, inline in self.get_formsets_with_inlines(request, obj):
            prefix = formset_class.get_default_prefix()
            formset = formset_class(**self.get_formset_kwargs(request, obj, inline, prefix))
            rows[prefix] = [
                row
                for row in formset.forms
                if (row.has_changed() or row.instance.pk is not None) and not _raw(row, "DELETE")
            ]
        categories = dict(Category.objects.values_list("pk", "slug"))
        budgets = []
        for length in rules.LENGTHS:
            minutes = _numbers(_raw(form, f"budgets_{length}"))
            if minutes and rules.budgets_problem(length, minutes) is None:
                budgets.append((length, tuple(minutes)))
        return CaseData(
            slug=_text(form, "slug"),
            title=_text(form, "title"),
            summary=_text(form, "summary"),
            domain=_text(form, "domain"),
            difficulty=_text(form, "difficulty"),
            status=_text(form, "status"),
            tags=tuple(sorted({t.strip() for t in _text(form, "tags_text").split(",")} - {""})),
            facts=tuple(
                FactData(_text(row, "question"), _text(row, "answer")) for row in rows["facts"]
            ),
            extra_items=tuple(
                ExtraItemData(
                    key=_text(row, "key"),
                    step=step,
                    title=_text(row, "title"),
                    candidate_text=_text(row, "candidate_text"),
                    probe=_text(row, "probe"),
                    points=(_numbers(_raw(row, "points")) or [1])[0],
                    kind=_text(row, "kind"),
                    required=bool(_raw(row, "required")),
                    categories=tuple(
                        sorted(
                            categories[int(pk)]
                            for pk in _raw(row, "categories") or []
                            if str(pk).isascii() and str(pk).isdigit() and int(pk) in categories
                        )
                    ),
                    keywords=tuple(
                        line.strip() for line in _text(row, "keywords").split("\n") if line.strip()
                    ),
                )
                for row in rows["extra_items"]
                if (step := (_numbers(_raw(row, "step")) or [0])[0]) in range(1, 8)
            ),
            candidate_prompt=_text(form, "candidate_prompt"),
            interviewer_brief=_text(form, "interviewer_brief"),
            probes=tuple(_text(form, name) for name in PROBE_FIELDS),
            model_answer=_text(form, "model_answer"),
            not_applicable=tuple(
                ExclusionData(_text(row, "item_key"), _text(row, "reason"))
                for row in rows["exclusions"]
            ),
            step_budgets=tuple(budgets),
        )

    # --- actions ------------------------------------------------------------------------------

    @admin.action(description="Publish selected cases", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        report = services.publish_cases(cases=queryset)
        count = len(report.published)
        self.message_user(request, f"Published {count} case{'s' * (count != 1)}.")
        for case, problems in report.not_ready:
            self.message_user(
                request,
                f"Not published: “{case.title}” still needs: "
                + " ".join(problem.removeprefix("To publish, ") for problem in problems),
                messages.WARNING,
            )

    @admin.action(description="Unpublish selected cases (back to draft)", permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        changed = services.unpublish_cases(cases=queryset)
        self.message_user(request, f"Unpublished {changed} case{'s' * (changed != 1)}.")

    @admin.action(description="Duplicate selected cases as drafts", permissions=["add"])
    def duplicate(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        for case in queryset:
            copy = services.duplicate_case(case=case, by=_staff(request))
            link = reverse("admin:casebank_case_change", args=[copy.pk])
            self.message_user(
                request,
                format_html('Created the draft <a href="{}">{}</a>.', link, copy.title),
                messages.SUCCESS,
            )


def _staff(request: HttpRequest) -> User:
    # The admin site lets in only signed-in staff, so its requests carry a real account.
    return cast(User, request.user)


def _raw(form: BaseForm, name: str) -> Any:
    return form[name].value() if name in form.fields else None


def _text(form: BaseForm, name: str) -> str:
    value = _raw(form, name)
    return rules.normalise_text(value) if isinstance(value, str) else ""


def _numbers(value: object) -> list[int]:
    try:
        return [int(part) for part in str(value or "").replace(";", ",").split(",") if part.strip()]
    except ValueError:
        return []


def _error_summary(form: BaseForm, inline_formsets: Sequence[Any]) -> list[ErrorLink]:
    """Every error of the page, in page order, each linking to its input."""
    links = [
        ErrorLink("case_form", "This case", str(message))
        for message in form.errors.get(NON_FIELD_ERRORS, [])
    ]
    for name in form.fields:
        for message in form.errors.get(name, []):
            links.append(ErrorLink(_input_id(form, name), str(form[name].label), str(message)))
    for inline_formset in inline_formsets:
        formset = inline_formset.formset
        what = str(inline_formset.opts.verbose_name)
        group = f"{formset.prefix}-group"
        for message in formset.non_form_errors():
            links.append(ErrorLink(group, str(inline_formset.opts.verbose_name_plural), message))
        for number, row in enumerate(formset.forms, start=1):
            for message in row.errors.get(NON_FIELD_ERRORS, []):
                links.append(ErrorLink(group, f"{what.capitalize()} {number}", message))
            for name in row.fields:
                for message in row.errors.get(name, []):
                    label = f"{what.capitalize()} {number}, {row[name].label}"
                    links.append(ErrorLink(_input_id(row, name), label, message))
    return links


def _input_id(form: BaseForm, name: str) -> str:
    field = form[name]
    # A group of checkboxes has no single input; its first box stands for it.
    return field.id_for_label or f"{field.auto_id}_0"


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["slug", "case_count"]
    search_fields = ["slug"]

    def get_queryset(self, request: HttpRequest) -> "QuerySet[CountedTag]":
        # Counted in the list query, not once per row.
        tags: QuerySet[Tag] = super().get_queryset(request)
        return tags.annotate(case_count=Count("cases"))

    @admin.display(description="Cases", ordering="case_count")
    def case_count(self, obj: "CountedTag") -> int:
        return obj.case_count
