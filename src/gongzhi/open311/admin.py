from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError

from .models import Open311Key, Open311Request
from .services import open311_key_create, open311_key_revoke


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "jurisdiction", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "jurisdiction__code", "jurisdiction__name"]
    raw_id_fields = ["jurisdiction"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "jurisdiction"]
        return [
            "prefix",
            "name",
            "jurisdiction",
            "client",
            "created_by",
            "created_at",
            "last_used_at",
            "revoked_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        # A key is never edited: it is created, used, and revoked.
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            key, raw = open311_key_create(
                actor=request.user, jurisdiction=obj.jurisdiction, name=obj.name
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return
        # The admin goes on to log and link `obj`; make it the row the service created.
        for field in key._meta.concrete_fields:
            setattr(obj, field.attname, getattr(key, field.attname))
        obj._state.adding = False
        obj._state.db = key._state.db
        messages.warning(
            request, _("密钥已创建，请立即复制，它不会再次显示：%(key)s") % {"key": raw}
        )

    @admin.action(description=_("吊销所选密钥"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                open311_key_revoke(actor=request.user, key=key)
            except DomainError as exc:
                messages.error(request, f"{key.prefix}: {exc.message}")
            else:
                revoked += 1
        messages.success(request, _("已吊销 %(n)d 个密钥。") % {"n": revoked})


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    """Read-only: what each POST brought besides the case."""

    list_display = ["case", "key", "created_at", "media_url"]
    search_fields = ["case__number", "key__prefix", "token"]
    list_select_related = ["case", "key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
