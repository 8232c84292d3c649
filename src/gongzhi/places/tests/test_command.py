"""`gongzhi roster-import`: the report on the terminal and an exit status scripts can test."""

import pytest
from django.core.management import CommandError, call_command

from gongzhi.cli import main
from gongzhi.places.models import Place

from .test_roster import GOOD_ROWS

# The command line entry point closes the database connections when it ends, as a real
# process does; a transactional test database survives that, a rolled-back one does not.
through_the_command_line = pytest.mark.django_db(transaction=True)


@through_the_command_line
def test_a_good_file_imports_and_exits_zero(tree, roster_file, capsys):
    # Success returns normally from the command line entry point: exit status 0.
    main(["roster-import", tree["community"].code, str(roster_file(GOOD_ROWS))])
    out = capsys.readouterr()
    assert "导入成功：共 7 行" in out.out
    assert "房屋：新增 5，已有 1" in out.out
    assert Place.objects.filter(name="紫云小区").exists()


@through_the_command_line
def test_a_bad_file_prints_every_problem_and_exits_non_zero(tree, roster_file, capsys):
    rows = [["虹桥新城小区", "12号楼", "", "", "", "", "", "", ""], GOOD_ROWS[0]]
    before = Place.objects.count()
    with pytest.raises(SystemExit) as exit_:
        main(["roster-import", tree["community"].code, str(roster_file(rows))])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "第2行 室号：“室号”不能为空。" in err
    assert Place.objects.count() == before


def test_a_dry_run_checks_without_writing(tree, roster_file, capsys):
    before = Place.objects.count()
    call_command("roster-import", tree["community"].code, str(roster_file(GOOD_ROWS)), dry_run=True)
    assert "检查通过" in capsys.readouterr().out
    assert Place.objects.count() == before


def test_an_unknown_community_is_an_error(tree, roster_file):
    with pytest.raises(CommandError, match="找不到编码为 NOPE 的居民区"):
        call_command("roster-import", "NOPE", str(roster_file(GOOD_ROWS)))
