"""Administration of what core keeps: the working-day overrides an administrator enters."""

from django.contrib import admin
from django.db import transaction
from django.forms.models import model_to_dict

from .audit import audit_record
from .models import WorkdayOverride


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    """Next year's holidays and 调休 go here until the holiday package knows the year.

    Every change moves deadlines, so each save and delete leaves an audit event.
    """

    list_display = ["date", "is_workday", "note", "updated_at"]
    list_filter = ["is_workday"]
    search_fields = ["note"]
    date_hierarchy = "date"
    ordering = ["-date"]

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            before = {}
            if change:
                previous = WorkdayOverride.objects.get(pk=obj.pk)
                before = _snapshot(previous)
            super().save_model(request, obj, form, change)
            audit_record(
                actor=request.user,
                verb="workday_override.changed" if change else "workday_override.created",
                obj=obj,
                before=before,
                after=_snapshot(obj),
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            _audit_delete(request.user, obj)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for obj in queryset:
                _audit_delete(request.user, obj)
            super().delete_queryset(request, queryset)


def _snapshot(obj: WorkdayOverride) -> dict:
    return model_to_dict(obj, fields=["date", "is_workday", "note"])


def _audit_delete(actor, obj: WorkdayOverride) -> None:
    audit_record(actor=actor, verb="workday_override.deleted", obj=obj, before=_snapshot(obj))
