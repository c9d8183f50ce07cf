import pytest
from django.template import Context, Template
from django.urls import reverse


@pytest.mark.parametrize("name", ["contacts:company-detail", "contacts:activity-complete", "deals:deal-detail"])
def test_pk_url_is_the_reversed_url(name):
    rendered = Template("{% load crm_urls %}{% pk_url name pk %}").render(Context({"name": name, "pk": 42}))
    assert rendered == reverse(name, args=[42])
