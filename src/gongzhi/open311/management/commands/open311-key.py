"""`gongzhi open311-key create --jurisdiction CODE [--name NAME]` / `revoke PREFIX` / `list`."""

from django.core.management.base import BaseCommand, CommandError

from gongzhi.core.errors import DomainError
from gongzhi.open311.models import Open311Key
from gongzhi.open311.selectors import jurisdiction_get, open311_keys
from gongzhi.open311.services import open311_key_create, open311_key_revoke


class Command(BaseCommand):
    help = "Create, revoke or list Open311 API keys (创建、吊销或列出 Open311 密钥)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a key and print it once")
        create.add_argument("--jurisdiction", required=True, help="community or subdistrict code")
        create.add_argument("--name", default="", help="who uses it (default: the jurisdiction)")
        revoke = actions.add_parser("revoke", help="revoke the key with this prefix")
        revoke.add_argument("prefix")
        actions.add_parser("list", help="list every key (no secrets)")

    def handle(self, *args, action, **options):
        try:
            if action == "create":
                jurisdiction = jurisdiction_get(code=options["jurisdiction"].strip())
                name = options["name"].strip() or f"Open311 {jurisdiction.name}"
                key, raw = open311_key_create(actor=None, jurisdiction=jurisdiction, name=name)
                self.stderr.write(
                    f"Key {key.prefix} for {jurisdiction.code} {jurisdiction.name};"
                    " it is shown only once:"
                )
                self.stdout.write(raw)
            elif action == "revoke":
                key = Open311Key.objects.filter(prefix=options["prefix"].strip()).first()
                if key is None:
                    raise CommandError(f"No Open311 key with prefix {options['prefix']!r}.")
                open311_key_revoke(actor=None, key=key)
                self.stdout.write(f"Revoked {key.prefix} ({key.name}).")
            else:
                for key in open311_keys():
                    state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.is_revoked else "live"
                    used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                    fields = [key.prefix, key.jurisdiction.code, key.name, state]
                    self.stdout.write("\t".join([*fields, f"last used {used}"]))
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
