"""`gongzhi api-token create USERNAME --name NAME` / `revoke PREFIX` / `list [USERNAME]`."""

from django.core.management.base import BaseCommand, CommandError

from gongzhi.accounts.models import User
from gongzhi.api.models import ApiToken
from gongzhi.api.selectors import api_tokens_of
from gongzhi.api.services import api_token_create, api_token_revoke
from gongzhi.core.errors import DomainError


class Command(BaseCommand):
    help = "Create, revoke or list REST API tokens (创建、吊销或列出接口令牌)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a token and print it once")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what the token is for")
        revoke = actions.add_parser("revoke", help="revoke the token with this prefix")
        revoke.add_argument("prefix")
        listing = actions.add_parser("list", help="list a user's tokens (no secrets)")
        listing.add_argument("username")

    def handle(self, *args, action, **options):
        try:
            if action == "create":
                user = self._user(options["username"])
                token, raw = api_token_create(actor=None, user=user, name=options["name"])
                self.stderr.write(
                    f"Token {token.prefix} for {user.username}; it is shown only once:"
                )
                self.stdout.write(raw)
            elif action == "revoke":
                token = ApiToken.objects.filter(prefix=options["prefix"].strip()).first()
                if token is None:
                    raise CommandError(f"No token with prefix {options['prefix']!r}.")
                api_token_revoke(actor=None, token=token)
                self.stdout.write(f"Revoked {token.prefix} ({token.name}, {token.user}).")
            else:
                for token in api_tokens_of(user=self._user(options["username"])):
                    state = (
                        f"revoked {token.revoked_at:%Y-%m-%d %H:%M}"
                        if token.is_revoked
                        else ("live")
                    )
                    used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
                    self.stdout.write(f"{token.prefix}\t{token.name}\t{state}\tlast used {used}")
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc

    def _user(self, username: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        return user
