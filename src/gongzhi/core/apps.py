from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "gongzhi.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        post_migrate.connect(_seal_audit_chain, sender=self)


def _seal_audit_chain(sender, *, using, apps=None, **kwargs) -> None:
    """Other apps' data migrations write audit events with historical models, outside the
    hash chain; once `migrate` has run them all, chain those events at its end."""
    from .audit import audit_chain_seal

    try:
        event_model = apps.get_model("core", "AuditEvent")
        head_model = apps.get_model("core", "AuditChainHead")
    except (AttributeError, LookupError):
        return  # migrated to a state before the chain existed
    audit_chain_seal(using=using, event_model=event_model, head_model=head_model)
