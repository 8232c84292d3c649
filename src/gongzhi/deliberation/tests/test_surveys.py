"""Surveys and polls: eligibility by place and role, once per person or per dwelling,
answers checked against their questions, turnout against everyone eligible, polls
against the quorum and majority their organisers set."""

from fractions import Fraction

import pytest

from gongzhi.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationFailed
from gongzhi.deliberation import selectors, services
from gongzhi.deliberation.models import Eligibility, OnePer, QuestionKind, SurveyKind
from gongzhi.deliberation.services import QuestionSpec

CHOICE = QuestionSpec(kind=QuestionKind.SINGLE, text="您支持增设车位吗？", options=("支持", "反对"))


def survey(people, green, *, eligibility=Eligibility.RESIDENTS, one_per=OnePer.PERSON, **kwargs):
    fields = {
        "actor": people["worker"],
        "place": green["estate"],
        "kind": SurveyKind.SURVEY,
        "title": "停车意见征询",
        "questions": [CHOICE],
        "eligibility": eligibility,
        "one_per": one_per,
    } | kwargs
    created = services.survey_create(**fields)
    return services.survey_open(actor=people["worker"], survey=created)


def answer(user, s, value=0, **kwargs):
    question = s.questions.get(position=1)
    return services.survey_answer(actor=user, survey=s, answers={question.pk: value}, **kwargs)


@pytest.mark.parametrize(
    ("eligibility", "one_per", "expected"),
    [
        # Verified residents of 绿园: 王, 李, 张, 周, 赵 and the tenant 钱, in 6 homes.
        (Eligibility.RESIDENTS, OnePer.PERSON, 6),
        (Eligibility.RESIDENTS, OnePer.DWELLING, 6),
        # Owners: the tenant is not one; 张 and 周 co-own one home, 王 holds two.
        (Eligibility.OWNERS, OnePer.PERSON, 5),
        (Eligibility.OWNERS, OnePer.DWELLING, 5),
        (Eligibility.SHOPS, OnePer.PERSON, 0),
    ],
)
def test_who_is_eligible_is_counted_by_role_and_place(
    people, green, eligibility, one_per, expected
):
    s = survey(people, green, eligibility=eligibility, one_per=one_per)
    assert selectors.survey_eligible_count(survey=s) == expected


def test_a_survey_of_one_building_counts_only_its_people(people, green):
    s = survey(people, green, place=green["b1"])
    assert selectors.survey_eligible_count(survey=s) == 2  # 王 and 李


def test_one_answer_per_person(people, green):
    s = survey(people, green)
    answer(green["zhang"], s)
    answer(green["zhou"], s)
    with pytest.raises(Conflict) as error:
        answer(green["zhang"], s, 1)
    assert str(error.value.message) == "您已填写过本问卷。"


def test_one_answer_per_dwelling_and_a_multi_home_owner_chooses_which(people, green):
    s = survey(people, green, one_per=OnePer.DWELLING)
    answer(green["zhang"], s)
    with pytest.raises(Conflict) as error:
        answer(green["zhou"], s)
    assert "家庭成员填写过" in str(error.value.message)
    # 王 has two homes: he must say which one he answers for, and may answer for each.
    with pytest.raises(ValidationFailed) as error:
        answer(green["wang"], s)
    assert error.value.code == "choose_dwelling"
    answer(green["wang"], s, place=green["b1_101"])
    answer(green["wang"], s, place=green["b1_102"])
    with pytest.raises(ValidationFailed):
        answer(green["wang"], s, place=green["b2_102"])
    assert selectors.survey_results_for(user=people["worker"], survey=s).responses == 3


def test_people_outside_the_survey_cannot_answer(people, green):
    s = survey(people, green, eligibility=Eligibility.OWNERS)
    with pytest.raises(PermissionDenied):
        answer(green["tenant"], s)
    with pytest.raises(PermissionDenied):
        answer(people["other_worker"], s)


def test_answers_are_checked_against_their_questions(people, green):
    s = survey(
        people,
        green,
        questions=[
            CHOICE,
            QuestionSpec(
                kind=QuestionKind.MULTIPLE,
                text="希望在哪里划车位？",
                options=("主干道", "绿地边", "地库"),
            ),
            QuestionSpec(kind=QuestionKind.SCALE, text="停车难的程度", scale_min=1, scale_max=5),
            QuestionSpec(kind=QuestionKind.TEXT, text="其他建议", required=False),
        ],
    )
    q1, q2, q3, q4 = s.questions.order_by("position")
    with pytest.raises(ValidationFailed) as error:
        services.survey_answer(actor=green["li"], survey=s, answers={q1.pk: 0, q2.pk: [0]})
    assert str(error.value.message) == "第 3 题为必答题。"
    with pytest.raises(ValidationFailed):
        services.survey_answer(
            actor=green["li"], survey=s, answers={q1.pk: 0, q2.pk: [0, 7], q3.pk: 4}
        )
    with pytest.raises(ValidationFailed):
        services.survey_answer(
            actor=green["li"], survey=s, answers={q1.pk: 0, q2.pk: [0], q3.pk: 6}
        )
    services.survey_answer(
        actor=green["li"],
        survey=s,
        answers={q1.pk: 0, q2.pk: [0, 2], q3.pk: 5, q4.pk: "晚上十点后车位全满"},
    )
    services.survey_answer(actor=green["zhao"], survey=s, answers={q1.pk: 1, q2.pk: [2], q3.pk: 2})
    results = selectors.survey_results_for(user=people["worker"], survey=s)
    assert results.questions[0].options == [("支持", 1), ("反对", 1)]
    assert results.questions[1].options == [("主干道", 1), ("绿地边", 0), ("地库", 2)]
    assert results.questions[2].average == Fraction(7, 2)
    assert results.questions[3].texts == ["晚上十点后车位全满"]
    # Written answers are for the organisers; residents see the counts.
    resident_view = selectors.survey_results_for(user=green["li"], survey=s)
    assert resident_view.questions[3].texts == []
    assert resident_view.questions[3].answered == 1


def test_turnout_is_against_the_eligible_and_frozen_at_close(people, green):
    s = survey(people, green, eligibility=Eligibility.OWNERS)
    answer(green["li"], s)
    answer(green["zhao"], s)
    results = selectors.survey_results_for(user=people["worker"], survey=s)
    assert (results.responses, results.eligible) == (2, 5)
    assert results.turnout == Fraction(2, 5)
    closed = services.survey_close(actor=people["worker"], survey=s)
    assert closed.eligible_at_close == 5
    with pytest.raises(InvalidTransition):
        answer(green["wang"], closed)


def test_a_poll_passes_only_with_its_quorum_and_majority(people, green):
    poll = survey(
        people,
        green,
        kind=SurveyKind.POLL,
        title="是否同意签订非机动车公约",
        quorum=Fraction(1, 2),
        majority=Fraction(1, 2),
    )
    answer(green["li"], poll, 0)
    answer(green["zhao"], poll, 0)
    result = selectors.survey_results_for(user=people["worker"], survey=poll).poll
    assert result.turnout == Fraction(2, 6)
    assert not result.quorum_met
    answer(green["zhang"], poll, 1)
    answer(green["tenant"], poll, 0)
    result = selectors.survey_results_for(user=people["worker"], survey=poll).poll
    assert result.quorum_met
    assert result.leading == "支持"
    assert result.leading_share == Fraction(3, 4)
    assert result.passed


def test_a_poll_is_one_single_choice_question(people, green):
    with pytest.raises(ValidationFailed) as error:
        services.survey_create(
            actor=people["worker"],
            place=green["estate"],
            kind=SurveyKind.POLL,
            title="投票",
            questions=[QuestionSpec(kind=QuestionKind.TEXT, text="意见")],
        )
    assert error.value.code == "poll_shape"


def test_questions_need_distinct_options(people, green):
    with pytest.raises(ValidationFailed) as error:
        services.survey_create(
            actor=people["worker"],
            place=green["estate"],
            kind=SurveyKind.SURVEY,
            title="问卷",
            questions=[QuestionSpec(kind=QuestionKind.SINGLE, text="选", options=("是", "是"))],
        )
    assert error.value.code == "bad_options"


def test_a_draft_is_seen_only_by_its_organisers(people, green):
    draft = services.survey_create(
        actor=people["worker"],
        place=green["estate"],
        kind=SurveyKind.SURVEY,
        title="草稿",
        questions=[CHOICE],
    )
    with pytest.raises(InvalidTransition):
        answer(green["li"], draft)
    from gongzhi.core.errors import NotFound

    with pytest.raises(NotFound):
        selectors.survey_get(user=green["li"], pk=draft.pk)
    assert selectors.survey_get(user=people["secretary"], pk=draft.pk) == draft


def test_only_organisers_write_surveys(people, green):
    with pytest.raises(PermissionDenied):
        services.survey_create(
            actor=green["li"],
            place=green["estate"],
            kind=SurveyKind.SURVEY,
            title="问卷",
            questions=[CHOICE],
        )
