"""The places admin (Chinese by default). Every save goes through the services, so admin
changes are checked by the same rules and leave the same audit events as any other.

A place's kind, parent and code are fixed once created (see services.PLACE_UPDATABLE_FIELDS);
nothing here deletes: a place is retired with 有效 unticked, grids and clusters are redrawn.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError

from .models import Cluster, CommunitySettings, Grid, Place, PlaceKind
from .services import (
    PLACE_UPDATABLE_FIELDS,
    cluster_create,
    cluster_update,
    community_settings_update,
    grid_create,
    grid_update,
    place_create,
    place_position_check,
    place_update,
)


def _adopt(target: Any, saved: Any) -> None:
    # The admin goes on using the object it passed to save_model (for its log entry and
    # redirect); the service returned another instance, so the admin's one takes its state.
    target.__dict__.update(saved.__dict__)


class _NoDelete:
    def has_delete_permission(self, request, obj=None):
        return False


class PlaceAddForm(forms.ModelForm):
    segment = forms.CharField(
        label=_("编码段"),
        max_length=20,
        help_text=_("本级编码，字母和数字，如 E1、B12、U1、1201；完整编码为上级编码加本段。"),
    )

    class Meta:
        model = Place
        fields = [
            "kind",
            "name",
            "parent",
            "segment",
            "community_type",
            "address",
            "latitude",
            "longitude",
            "exclusive_area",
            "sort_key",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sort_key"].required = False

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") and cleaned.get("segment"):
            try:
                code = place_position_check(
                    kind=cleaned["kind"], segment=cleaned["segment"], parent=cleaned.get("parent")
                )
            except DomainError as error:
                raise ValidationError(str(error.message)) from error
            if Place.objects.filter(code=code).exists():
                self.add_error("segment", _("编码 %(code)s 已存在。") % {"code": code})
        return cleaned


@admin.register(Place)
class PlaceAdmin(_NoDelete, admin.ModelAdmin):
    list_display = ["name", "kind", "code", "community_type", "exclusive_area", "is_active"]
    list_filter = ["kind", "community_type", "is_active"]
    search_fields = ["name", "search_name", "code"]
    raw_id_fields = ["parent"]
    list_per_page = 50
    show_full_result_count = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PlaceAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return PlaceAddForm.Meta.fields
        return [
            "kind",
            "code",
            "parent",
            "community",
            "depth",
            "name",
            "community_type",
            "address",
            "latitude",
            "longitude",
            "exclusive_area",
            "sort_key",
            "is_active",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["kind", "code", "parent", "community", "depth"]

    def save_model(self, request, obj, form, change):
        if change:
            current = Place.objects.get(pk=obj.pk)
            changes = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in PLACE_UPDATABLE_FIELDS
            }
            _adopt(obj, place_update(actor=request.user, place=current, **changes))
            return
        extra = {
            name: form.cleaned_data[name]
            for name in ("community_type", "address", "latitude", "longitude", "exclusive_area")
            if form.cleaned_data.get(name) not in (None, "")
        }
        place = place_create(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            name=form.cleaned_data["name"],
            segment=form.cleaned_data["segment"],
            parent=form.cleaned_data.get("parent"),
            sort_key=form.cleaned_data.get("sort_key") or 0,
            **extra,
        )
        _adopt(obj, place)


@admin.register(CommunitySettings)
class CommunitySettingsAdmin(_NoDelete, admin.ModelAdmin):
    list_display = ["community", "report_slug", "service_start", "service_end"]
    search_fields = ["community__name", "community__code", "report_slug"]
    fields = ["community", "report_slug", "service_start", "service_end"]
    readonly_fields = ["community"]
    list_select_related = ["community"]

    def has_add_permission(self, request):
        # Every community gets its settings when it is created (services.place_create).
        return False

    def save_model(self, request, obj, form, change):
        current = CommunitySettings.objects.get(pk=obj.pk)
        saved = community_settings_update(
            actor=request.user,
            community_settings=current,
            service_start=form.cleaned_data["service_start"],
            service_end=form.cleaned_data["service_end"],
            report_slug=form.cleaned_data["report_slug"],
        )
        _adopt(obj, saved)


class GridAddForm(forms.ModelForm):
    segment = forms.CharField(
        label=_("编码段"), max_length=20, help_text=_("如 G1；完整编码为居民区编码加本段。")
    )

    class Meta:
        model = Grid
        fields = ["community", "segment", "name", "buildings"]


@admin.register(Grid)
class GridAdmin(_NoDelete, admin.ModelAdmin):
    list_display = ["name", "code", "community"]
    search_fields = ["name", "code", "community__name"]
    raw_id_fields = ["community"]
    filter_horizontal = ["buildings"]
    list_select_related = ["community"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = GridAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            # Only this community's buildings and shops may join: a short, relevant list.
            form.base_fields["buildings"].queryset = Place.objects.filter(
                community=obj.community, kind__in=[PlaceKind.BUILDING, PlaceKind.STREET_SHOP]
            )
        return form

    def get_fields(self, request, obj=None):
        return (
            GridAddForm.Meta.fields if obj is None else ["community", "code", "name", "buildings"]
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["community", "code"]

    def save_model(self, request, obj, form, change):
        buildings = list(form.cleaned_data["buildings"])
        if change:
            current = Grid.objects.get(pk=obj.pk)
            saved = grid_update(
                actor=request.user,
                grid=current,
                name=form.cleaned_data["name"],
                buildings=buildings,
            )
        else:
            saved = grid_create(
                actor=request.user,
                community=form.cleaned_data["community"],
                segment=form.cleaned_data["segment"],
                name=form.cleaned_data["name"],
                buildings=buildings,
            )
        _adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # The service has set the buildings; saving the form's m2m again would bypass it.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Cluster)
class ClusterAdmin(_NoDelete, admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    filter_horizontal = ["communities"]
    fields = ["code", "name", "communities"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["code"]

    def save_model(self, request, obj, form, change):
        communities = list(form.cleaned_data["communities"])
        if change:
            current = Cluster.objects.get(pk=obj.pk)
            saved = cluster_update(
                actor=request.user,
                cluster=current,
                name=form.cleaned_data["name"],
                communities=communities,
            )
        else:
            saved = cluster_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                communities=communities,
            )
        _adopt(obj, saved)

    def save_related(self, request, form, formsets, change):
        # The service has set the communities; saving the form's m2m again would bypass it.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
