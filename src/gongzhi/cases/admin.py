"""The admin of the small-matter loop: categories, time-limit policies and the duty rota are
edited here (saved through the services, so every change is checked and audited); cases
are shown read-only — they change only through their lifecycle services."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError, ValidationFailed

from .models import (
    Case,
    CaseEvent,
    CaseHandler,
    CasePhoto,
    Category,
    ClockAlarm,
    DutyRota,
    FollowUp,
    HandlerRole,
    Policy,
    ReportReceipt,
)
from .policies import PRESETS
from .questions import clean_questions
from .services import (
    category_save,
    duty_rota_save,
    policy_apply_preset,
    policy_delete,
    policy_save,
)


class CategoryForm(forms.ModelForm):
    co_handler_roles = forms.MultipleChoiceField(
        label=_("协办角色"),
        choices=HandlerRole.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("大事多方办：除主办外同时分派的角色。小事类别只分派一人。"),
    )

    class Meta:
        model = Category
        fields = [
            "code",
            "name",
            "group",
            "description",
            "keywords",
            "requires_photo",
            "questions",
            "lead_role",
            "co_handler_roles",
            "is_active",
            "sort",
        ]
        help_texts = {
            "questions": _(
                '例：[{"code": "floor", "label": "楼层", "datatype": "number", "required": true}]；'
                "类型可为 string、number、datetime、text、singlevaluelist、multivaluelist，"
                '选择题需提供 values: [{"key": "...", "name": "..."}]。'
            ),
            "keywords": _('例：["路灯", "照明"]'),
        }

    def clean_questions(self):
        try:
            return clean_questions(self.cleaned_data.get("questions"))
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc.message)) from None

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("lead_role") in (cleaned.get("co_handler_roles") or []):
            self.add_error("co_handler_roles", _("主办角色不能同时作为协办角色。"))
        return cleaned


class PolicyInline(admin.TabularInline):
    model = Policy
    extra = 0
    fields = [
        "community",
        "response_amount",
        "response_unit",
        "response_clock",
        "completion_amount",
        "completion_unit",
        "completion_clock",
        "preset",
    ]
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ["name", "code", "group", "lead_role", "requires_photo", "is_active", "sort"]
    list_filter = ["group", "is_active", "lead_role"]
    search_fields = ["name", "code", "description"]
    ordering = ["sort", "code"]
    inlines = [PolicyInline]

    def save_model(self, request, obj, form, change):
        category_save(actor=request.user, category=obj)

    def has_delete_permission(self, request, obj=None):
        # Cases keep their category for ever; a category is retired by deactivating it.
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        for key, preset in PRESETS.items():
            actions[f"apply_{key}"] = (
                _make_preset_action(key),
                f"apply_{key}",
                _("办结时限切换为：%(label)s") % {"label": preset.label},
            )
        return actions


def _make_preset_action(key: str):
    def apply(modeladmin, request, queryset):
        for category in queryset:
            try:
                policy_apply_preset(actor=request.user, category=category, preset=key)
            except DomainError as exc:
                modeladmin.message_user(request, str(exc.message), messages.ERROR)
                return
        modeladmin.message_user(
            request, _("已更新 %(n)d 个类别的默认时限。") % {"n": queryset.count()}
        )

    return apply


class PolicyForm(forms.ModelForm):
    class Meta:
        model = Policy
        fields = [
            "category",
            "community",
            "response_amount",
            "response_unit",
            "response_clock",
            "completion_amount",
            "completion_unit",
            "completion_clock",
        ]

    def clean(self):
        cleaned = super().clean()
        for name in ("response_amount", "completion_amount"):
            if cleaned.get(name) is not None and cleaned[name] <= 0:
                self.add_error(name, _("时限必须大于零。"))
        return cleaned


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    form = PolicyForm
    list_display = [
        "category",
        "community",
        "response_amount",
        "response_unit",
        "response_clock",
        "completion_amount",
        "completion_unit",
        "completion_clock",
        "preset",
    ]
    list_filter = ["category__group", "response_clock", "completion_clock"]
    search_fields = ["category__name", "community__name"]
    autocomplete_fields = ["category"]
    raw_id_fields = ["community"]

    def save_model(self, request, obj, form, change):
        # A hand edit is no longer the preset it may have started from.
        obj.preset = ""
        policy_save(actor=request.user, policy=obj)

    def delete_model(self, request, obj):
        policy_delete(actor=request.user, policy=obj)

    def delete_queryset(self, request, queryset):
        for policy in queryset:
            policy_delete(actor=request.user, policy=policy)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.community_id is None:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(DutyRota)
class DutyRotaAdmin(admin.ModelAdmin):
    list_display = ["community", "weekday", "user", "sort"]
    list_filter = ["weekday"]
    raw_id_fields = ["community", "user"]

    def save_model(self, request, obj, form, change):
        duty_rota_save(actor=request.user, rota=obj)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class HandlerInline(_ReadOnlyInline):
    model = CaseHandler
    fields = ["kind", "user", "party_role", "task", "status", "started_at", "done_at", "is_active"]
    readonly_fields = fields


class EventInline(_ReadOnlyInline):
    model = CaseEvent
    fields = ["at", "kind", "actor", "from_state", "to_state", "note", "is_public"]
    readonly_fields = fields


class FollowUpInline(_ReadOnlyInline):
    model = FollowUp
    fields = ["recorded_at", "method", "outcome", "resolved", "satisfaction", "note", "recorded_by"]
    readonly_fields = fields


class PhotoInline(_ReadOnlyInline):
    model = CasePhoto
    fields = ["kind", "image", "width", "height", "uploaded_by"]
    readonly_fields = fields


class AlarmInline(_ReadOnlyInline):
    model = ClockAlarm
    fields = ["clock", "level", "round", "due_at", "fired_at", "cancelled_at", "suspended_at"]
    readonly_fields = fields


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "category",
        "community",
        "place",
        "state",
        "lead",
        "reported_at",
        "next_due_at",
        "reopen_count",
    ]
    list_filter = ["state", "channel", "category__group", "category"]
    search_fields = ["number"]
    date_hierarchy = "reported_at"
    list_select_related = ["category", "community", "place", "lead"]
    inlines = [HandlerInline, EventInline, FollowUpInline, PhotoInline, AlarmInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Case._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReportReceipt)
class ReportReceiptAdmin(admin.ModelAdmin):
    """Receipts as a record: what waits for the worker, what was refused and why."""

    list_display = ["token", "state", "category", "place", "submitted_by", "accepted_at", "case"]
    list_filter = ["state", "channel"]
    search_fields = ["token"]
    date_hierarchy = "accepted_at"
    list_select_related = ["category", "place", "submitted_by", "case"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ReportReceipt._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
