"""Rubric admin: drafts are edited here; a published version and everything in it is read-only.

Versions are not added here: they come from rubric files (`manage.py load_rubric`) or from the
"Create a new draft version" action. Bulk delete is switched off everywhere in this module: Django
checks it without the objects, so it would bypass the per-object rules below.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest

from rubrics import services
from rubrics.models import Category, Item, Rubric, RubricVersion, Step, VersionStatus


def _is_published(version: RubricVersion | None) -> bool:
    return version is not None and version.is_published


def _draft_versions() -> QuerySet[RubricVersion]:
    return RubricVersion.objects.filter(status=VersionStatus.DRAFT).select_related("rubric")


def _draft_steps() -> QuerySet[Step]:
    return Step.objects.filter(version__status=VersionStatus.DRAFT).select_related(
        "version__rubric"
    )


class _DraftOnlyInline(admin.options.InlineModelAdmin):
    """An inline that is read-only when its parent belongs to a published version."""

    def _parent_version(self, obj: Any) -> RubricVersion | None:
        raise NotImplementedError

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        published = _is_published(self._parent_version(obj))
        return not published and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        published = _is_published(self._parent_version(obj))
        return not published and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        published = _is_published(self._parent_version(obj))
        return not published and super().has_delete_permission(request, obj)


# --- categories and rubrics -------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    search_fields = ["name", "slug", "description"]
    ordering = ["position", "slug"]
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Category | None = None) -> list[str]:
        # Rubric files, case files and scorecards refer to a category by its slug.
        return ["slug"] if obj else []

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        if obj is None:
            return super().has_delete_permission(request, obj)
        published = VersionStatus.PUBLISHED
        in_published = Item.objects.filter(categories=obj, step__version__status=published)
        return not in_published.exists() and super().has_delete_permission(request, obj)


# (A tuple: see _ITEM_FIELDS.)
_VERSION_COLUMNS = ("number", "status", "created_at", "published_at", "notes")


class VersionInline(admin.TabularInline):
    model = RubricVersion
    fields = _VERSION_COLUMNS
    readonly_fields = _VERSION_COLUMNS
    ordering = ["-number"]
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Rubric | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Rubric | None = None) -> bool:
        return False


@admin.register(Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    fields = ["slug", "name", "description"]
    inlines = [VersionInline]
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Rubric | None = None) -> list[str]:
        return ["slug"] if obj else []

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A rubric is born with its first version, from a file: `manage.py load_rubric FILE`.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Rubric | None = None) -> bool:
        if obj is not None and obj.versions.published().exists():
            return False
        return super().has_delete_permission(request, obj)


# --- versions ---------------------------------------------------------------------------------


class RubricVersionForm(forms.ModelForm):
    class Meta:
        model = RubricVersion
        fields = ["notes", "strong_hire_threshold", "hire_threshold", "lean_no_hire_threshold"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        services.ensure_editable(self.instance)
        strong_hire, hire, lean_no_hire = (
            cleaned.get(name)
            for name in ("strong_hire_threshold", "hire_threshold", "lean_no_hire_threshold")
        )
        if strong_hire is not None and hire is not None and lean_no_hire is not None:
            services.check_thresholds(strong_hire=strong_hire, hire=hire, lean_no_hire=lean_no_hire)
        return cleaned


class StepInline(_DraftOnlyInline, admin.TabularInline):
    model = Step
    fields = ["number", "name", "budget_45", "budget_60", "item_count"]
    readonly_fields = ["item_count"]
    ordering = ["number"]
    show_change_link = True
    extra = 0

    def _parent_version(self, obj: RubricVersion | None) -> RubricVersion | None:
        return obj

    def get_queryset(self, request: HttpRequest) -> QuerySet[Step]:
        steps: QuerySet[Step] = super().get_queryset(request)
        return steps.annotate(item_count=Count("items"))

    @admin.display(description="items")
    def item_count(self, step: Step) -> int:
        return getattr(step, "item_count", 0)


@admin.register(RubricVersion)
class RubricVersionAdmin(admin.ModelAdmin):
    form = RubricVersionForm
    list_display = ["__str__", "rubric", "number", "status", "created_at", "published_at"]
    list_filter = ["status", "rubric"]
    list_select_related = ["rubric"]
    fields = [
        "rubric",
        "number",
        "status",
        "notes",
        "strong_hire_threshold",
        "hire_threshold",
        "lean_no_hire_threshold",
        "created_at",
        "published_at",
    ]
    readonly_fields = ["rubric", "number", "status", "created_at", "published_at"]
    inlines = [StepInline]
    actions = ["create_draft", "publish"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RubricVersion]:
        return super().get_queryset(request).select_related("rubric")

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RubricVersion | None = None) -> bool:
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: RubricVersion | None = None) -> bool:
        return not _is_published(obj) and super().has_delete_permission(request, obj)

    @admin.action(description="Create a new draft version from this one", permissions=["change"])
    def create_draft(self, request: HttpRequest, queryset: QuerySet[RubricVersion]) -> None:
        for version in queryset:
            try:
                draft = services.create_draft_version(source=version)
            except ValidationError as exc:
                self.message_user(request, " ".join(exc.messages), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"Created draft {draft.rubric.name} v{draft.number} from v{version.number}.",
                    messages.SUCCESS,
                )

    @admin.action(description="Publish", permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[RubricVersion]) -> None:
        for version in queryset:
            label = f"{version.rubric.name} v{version.number}"
            try:
                services.publish_version(version=version)
            except ValidationError as exc:
                problems = " ".join(exc.messages)
                self.message_user(request, f"{label} was not published: {problems}", messages.ERROR)
            else:
                self.message_user(request, f"Published {label}.", messages.SUCCESS)


# --- steps and items --------------------------------------------------------------------------


# Tuples, as ItemInline.fields and VersionInline's options: django-stubs type those as a list
# of field groups or a tuple, and a list of plain names is not a list of field groups to them.
_ITEM_FIELDS = (
    "key",
    "title",
    "kind",
    "points",
    "required",
    "level",
    "candidate_text",
    "probe",
    "keywords",
    "categories",
    "position",
)


class StepForm(forms.ModelForm):
    class Meta:
        model = Step
        fields = ["version", "number", "name", "description", "budget_45", "budget_60"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        version = cleaned.get("version") or getattr(self.instance, "version", None)
        if version is not None:
            services.ensure_editable(version)
        return cleaned


class ItemForm(forms.ModelForm):
    class Meta:
        model = Item
        fields = ["step", *_ITEM_FIELDS]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        step = cleaned.get("step")
        if step is not None:
            services.ensure_editable(step.version)
        return cleaned


class _StepChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Step) -> str:
        # "3. Offline evaluation" alone is ambiguous across rubrics and versions.
        return f"{obj.version} · {obj}"


class ItemInline(_DraftOnlyInline, admin.StackedInline):
    model = Item
    fields = _ITEM_FIELDS
    filter_horizontal = ["categories"]
    ordering = ["position", "id"]
    show_change_link = True
    extra = 0

    def _parent_version(self, obj: Step | None) -> RubricVersion | None:
        return obj.version if obj is not None else None


@admin.register(Step)
class StepAdmin(admin.ModelAdmin):
    form = StepForm
    list_display = ["__str__", "version", "budget_45", "budget_60"]
    list_filter = ["version"]
    list_select_related = ["version__rubric"]
    ordering = ["version__rubric__name", "-version__number", "number"]
    fields = ["version", "number", "name", "description", "budget_45", "budget_60"]
    inlines = [ItemInline]
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Step]:
        return super().get_queryset(request).select_related("version__rubric")

    def get_readonly_fields(self, request: HttpRequest, obj: Step | None = None) -> list[str]:
        return ["version"] if obj else []

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "version":
            kwargs["queryset"] = _draft_versions()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Step | None = None) -> bool:
        published = obj is not None and _is_published(obj.version)
        return not published and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Step | None = None) -> bool:
        published = obj is not None and _is_published(obj.version)
        return not published and super().has_delete_permission(request, obj)


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    form = ItemForm
    list_display = ["title", "step", "version", "kind", "points", "required", "level"]
    list_filter = ["step__version", "step__number", "kind", "required", "level", "categories"]
    search_fields = ["title", "key", "keywords"]
    list_select_related = ["step__version__rubric"]
    ordering = ["step__version__rubric__name", "-step__version__number", "step__number", "position"]
    fields = ["step", *_ITEM_FIELDS]
    filter_horizontal = ["categories"]
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[Item]:
        return super().get_queryset(request).select_related("step__version__rubric")

    @admin.display(description="version", ordering="step__version")
    def version(self, item: Item) -> RubricVersion:
        return item.step.version

    def formfield_for_foreignkey(
        self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "step":
            kwargs["queryset"] = _draft_steps()
            kwargs["form_class"] = _StepChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Item | None = None) -> bool:
        published = obj is not None and _is_published(obj.step.version)
        return not published and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Item | None = None) -> bool:
        published = obj is not None and _is_published(obj.step.version)
        return not published and super().has_delete_permission(request, obj)
