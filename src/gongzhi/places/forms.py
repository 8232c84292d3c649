from django import forms
from django.utils.translation import gettext_lazy as _

# A roster of 20,000 rows is about 1.5 MB; anything far larger is not a roster.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("花名册文件（.xlsx）"),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    dry_run = forms.BooleanField(label=_("只检查，不导入"), required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(
                _("请上传 .xlsx 格式的 Excel 文件（旧版 .xls 请先另存为 .xlsx）。")
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件超过10MB，请分批导入。"))
        return upload
