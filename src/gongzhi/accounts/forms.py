"""Forms of the sign-in, registration, claim and verification pages (input only; the
services decide)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Relation, phone_validator


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label=_("手机号"),
        max_length=11,
        validators=[phone_validator],
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "numeric"}
        ),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label=_("验证码"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]{6}",
            }
        ),
    )


class PasswordLoginForm(forms.Form):
    identifier = forms.CharField(
        label=_("手机号或用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class PhoneForm(forms.Form):
    """Just a phone: what asking for a code needs."""

    phone = _phone_field()


class CodeLoginForm(forms.Form):
    phone = _phone_field()
    code = _code_field()


class OptionalPasswordMixin(forms.Form):
    """A password the person may leave empty (they then sign in with codes)."""

    password1 = forms.CharField(
        label=_("设置密码（可不填）"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，不能全是数字。不设密码也可以用手机验证码登录。"),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1", "") != cleaned.get("password2", ""):
            self.add_error("password2", _("两次输入的密码不一致。"))
        return cleaned


class RegisterForm(OptionalPasswordMixin, forms.Form):
    phone = _phone_field()
    code = _code_field()
    name = forms.CharField(
        label=_("姓名"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )

    field_order = ["phone", "code", "name", "password1", "password2"]


class ActivateForm(OptionalPasswordMixin, forms.Form):
    phone = _phone_field()
    code = _code_field()

    field_order = ["phone", "code", "password1", "password2"]


class ClaimForm(forms.Form):
    # Chosen through the dependent community → building → dwelling selects.
    place = forms.IntegerField(
        label=_("房屋或商铺"), error_messages={"required": _("请选择房屋或商铺。")}
    )
    relation = forms.ChoiceField(
        label=_("您与该房屋/商铺的关系"),
        choices=Relation.choices,
        widget=forms.RadioSelect,
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("verify", _("通过")), ("reject", _("不通过"))])
    relation = forms.ChoiceField(label=_("核验关系"), choices=Relation.choices, required=False)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)
