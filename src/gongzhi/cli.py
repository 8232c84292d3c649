"""The `gongzhi` command: Django's management commands, plus `demo`, `serve` and `worker`.

`gongzhi <command>` is `manage.py <command>` with the settings chosen from the
environment (DJANGO_SETTINGS_MODULE, default: the development settings).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gongzhi", *(argv if argv is not None else sys.argv[1:])])


if __name__ == "__main__":
    main()
