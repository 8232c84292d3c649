from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError

from .models import ApiToken
from .services import api_token_create, api_token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "user__username", "user__name"]
    raw_id_fields = ["user"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name"]
        return ["prefix", "name", "user", "created_by", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        # A token is never edited: it is created, used, and revoked.
        return [] if obj is None else self.get_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        token, raw = api_token_create(actor=request.user, user=obj.user, name=obj.name)
        # The admin goes on to log and link `obj`; make it the row the service created.
        for field in token._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        obj._state.db = token._state.db
        messages.warning(
            request,
            _("令牌已创建，请立即复制，它不会再次显示：%(token)s") % {"token": raw},
        )

    @admin.action(description=_("吊销所选令牌"), permissions=["change"])
    def revoke(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            try:
                api_token_revoke(actor=request.user, token=token)
            except DomainError as exc:
                messages.error(request, f"{token.prefix}: {exc.message}")
            else:
                revoked += 1
        messages.success(request, _("已吊销 %(n)d 个令牌。") % {"n": revoked})
