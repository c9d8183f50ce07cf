"""Fast paths of hot pages: choice labels and form widgets must render exactly as Django would."""

from django.utils import translation


def test_choice_display_reads_labels_in_the_active_language():
    from contacts.models import Company, CompanyStatus

    company = Company(status=CompanyStatus.DORMANT)
    with translation.override("en"):
        assert company.get_status_display() == "Dormant"
    with translation.override("uk"):
        assert company.get_status_display() == str(CompanyStatus.DORMANT.label)
        assert company.get_status_display() != "Dormant"
    assert Company(status="unknown").get_status_display() == "unknown"


def test_fast_renderer_writes_inputs_like_the_django_templates():
    from django import forms
    from django.forms.renderers import TemplatesSetting

    class Sample(forms.Form):
        name = forms.CharField(max_length=5, initial='a "b" <c>')
        day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
        agree = forms.BooleanField(initial=True, required=False)
        hidden = forms.CharField(widget=forms.HiddenInput, required=False)

    fast, django = Sample(), Sample(renderer=TemplatesSetting())
    for name in ("name", "day", "agree", "hidden"):
        assert str(fast[name]) == str(django[name]).strip()
    assert 'value="a &quot;b&quot; &lt;c&gt;"' in str(fast["name"])
