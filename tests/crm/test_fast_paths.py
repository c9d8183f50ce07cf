"""Fast paths of hot pages: choice labels must read exactly as Django would give them."""

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
