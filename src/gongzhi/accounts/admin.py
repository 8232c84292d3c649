"""The back office for people and roles (in Chinese, like the rest of the site).

Changes made here go through the same audit trail as the services; residencies change
status only through the verification queue (or the "moved out" action here), and the
access log and failed sign-ins are read-only evidence.
"""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from gongzhi.core.audit import audit_record
from gongzhi.core.errors import DomainError

from .models import LoginFailure, PersonalDataAccess, Residency, RoleAssignment, User
from .privacy import mask_phone, personal_data_read
from .services import residency_end, user_staff_sync

ROLE_FIELDS = ["role", "place", "grid", "organisation", "is_active"]


def _audit_role_change(request, assignment: RoleAssignment, *, created: bool) -> None:
    audit_record(
        actor=request.user,
        verb="role.assign" if created else "role.change",
        obj=assignment,
        after={
            "user": assignment.user_id,
            "role": assignment.role,
            "place": assignment.place_id,
            "grid": assignment.grid_id,
            "is_active": assignment.is_active,
            "via": "admin",
        },
    )


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    fields = ROLE_FIELDS
    raw_id_fields = ["place", "grid"]
    extra = 0
    # Ending a role keeps the row (history says who could act): untick "有效" instead.
    can_delete = False


class ResidencyInline(admin.TabularInline):
    model = Residency
    fk_name = "user"
    fields = ["place", "claimed_relation", "relation", "status", "source", "verified_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class GongzhiUserAdmin(UserAdmin):
    list_display = ["username", "name", "masked_phone", "is_active", "activated_at", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "name", "phone"]
    ordering = ["username"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (
            _("个人信息"),
            {
                "fields": [
                    "name",
                    "phone",
                    "phone_verified_at",
                    "activated_at",
                    "preferred_language",
                ]
            },
        ),
        (
            _("后台权限"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("时间"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "name",
                    "phone",
                    "usable_password",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    # 职员状态 opens the admin and follows the administrator role (`user_staff_sync`):
    # give or end that role instead of ticking the box.
    readonly_fields = ["is_staff", "phone_verified_at", "activated_at", "last_login", "date_joined"]
    inlines = [RoleAssignmentInline, ResidencyInline]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            # An administrator runs the admin but may not make anyone (themselves included)
            # a superuser, who passes every permission check, full phone numbers included.
            readonly += ["is_superuser", "groups", "user_permissions"]
        return readonly

    def get_inline_instances(self, request, obj=None):
        # Like Django's own user admin: create the account first, then give it roles.
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description=_("手机号"))
    def masked_phone(self, obj: User) -> str:
        return mask_phone(obj.phone)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        subject = self.get_object(request, object_id)
        if subject is not None and request.method == "GET":
            personal_data_read(
                viewer=request.user,
                subject=subject,
                fields=["name", "phone", "residencies"],
                purpose=_("管理后台查看用户"),
                obj=subject,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            verb="user.change" if change else "user.create",
            obj=obj,
            after={"fields": sorted(form.changed_data), "via": "admin"},
        )
        user_staff_sync(actor=request.user, user=obj)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for instance in instances:
            created = instance.pk is None
            if isinstance(instance, RoleAssignment) and created:
                instance.granted_by = request.user
            instance.save()
            if isinstance(instance, RoleAssignment):
                _audit_role_change(request, instance, created=created)
        formset.save_m2m()
        if formset.model is RoleAssignment:
            user_staff_sync(actor=request.user, user=form.instance)


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "place", "grid", "organisation", "is_active", "granted_by"]
    list_filter = ["role", "is_active"]
    search_fields = ["user__username", "user__name", "place__name", "place__code", "grid__name"]
    autocomplete_fields = ["user"]
    raw_id_fields = ["place", "grid"]
    fields = ["user", *ROLE_FIELDS]
    list_select_related = ["user", "place", "grid", "granted_by"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        # An assignment is one person's: moving it to someone else would rewrite history.
        return ["user"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)
        _audit_role_change(request, obj, created=not change)
        user_staff_sync(actor=request.user, user=obj.user)


@admin.register(Residency)
class ResidencyAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "place",
        "community",
        "claimed_relation",
        "relation",
        "status",
        "source",
    ]
    list_filter = ["status", "source", "relation"]
    search_fields = ["user__name", "user__username", "place__code", "place__name"]
    list_select_related = ["user", "place", "community"]
    readonly_fields = [
        "user",
        "place",
        "community",
        "claimed_relation",
        "relation",
        "status",
        "source",
        "verified_by",
        "verified_at",
        "review_note",
        "created_at",
    ]
    fields = readonly_fields
    actions = ["mark_ended"]

    def has_add_permission(self, request):
        # Ties to a place come from the roster import or a resident's own claim.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("标记为已迁出"))
    def mark_ended(self, request, queryset):
        ended = 0
        for residency in queryset:
            try:
                residency_end(actor=request.user, residency=residency)
            except DomainError as error:
                self.message_user(request, f"{residency}: {error.message}", messages.WARNING)
            else:
                ended += 1
        if ended:
            self.message_user(request, _("已标记 %(n)d 条为已迁出。") % {"n": ended})


class ReadOnlyAdmin(admin.ModelAdmin):
    """Evidence: viewable and searchable, never added, changed or deleted by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "viewer", "subject", "fields", "purpose", "object_type", "object_id"]
    list_filter = ["object_type"]
    search_fields = ["viewer__username", "viewer__name", "subject__username", "subject__name"]
    date_hierarchy = "at"
    list_select_related = ["viewer", "subject"]


@admin.register(LoginFailure)
class LoginFailureAdmin(ReadOnlyAdmin):
    list_display = ["at", "identifier", "ip_address"]
    search_fields = ["identifier", "ip_address"]
    date_hierarchy = "at"
