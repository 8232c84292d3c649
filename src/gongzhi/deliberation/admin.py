"""The admin shows the consultation records read-only: every change goes through the
services (permissions, history, audit), which the admin's forms would bypass."""

from django.contrib import admin

from .models import (
    Ballot,
    Meeting,
    OwnerRegisterEntry,
    OwnersMeetingRules,
    OwnersVote,
    Plan,
    Survey,
    Topic,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Topic)
class TopicAdmin(ReadOnlyAdmin):
    list_display = ["title", "community", "estate", "state", "origin", "created_at"]
    list_filter = ["state", "origin"]
    search_fields = ["title"]


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "place", "eligibility", "one_per", "state"]
    list_filter = ["kind", "state"]


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "community", "starts_at", "state"]
    list_filter = ["kind", "state"]


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["title", "topic", "cost", "state", "requires_owners_vote"]
    list_filter = ["state"]


@admin.register(OwnersVote)
class OwnersVoteAdmin(ReadOnlyAdmin):
    list_display = ["title", "estate", "item", "convener_kind", "state", "passed"]
    list_filter = ["state", "item"]


@admin.register(Ballot)
class BallotAdmin(ReadOnlyAdmin):
    # Choices are secret from other owners; the admin lists how ballots came in only.
    list_display = ["vote", "entry", "channel", "cast_at"]
    exclude = ["choice"]


@admin.register(OwnerRegisterEntry)
class OwnerRegisterEntryAdmin(ReadOnlyAdmin):
    list_display = ["place", "area", "area_source", "owner_label", "developer_unsold"]
    list_filter = ["developer_unsold", "area_source"]


@admin.register(OwnersMeetingRules)
class OwnersMeetingRulesAdmin(ReadOnlyAdmin):
    list_display = ["estate", "electronic_voting", "adopted_on", "notice_days"]
