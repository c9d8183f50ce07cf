"""Deal factories (deals agent): pipelines, stages, deals, lines, stage changes."""

from decimal import Decimal

import factory
from django.utils import timezone

from deals.models import Deal, DealLine, DealStageChange, DealStatus, LossReason, Pipeline, Stage
from tests.contacts.factories import CompanyFactory
from tests.crm.factories import UserFactory
from tests.deals.factories_catalogue import ProductFactory


class PipelineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pipeline

    name = factory.Sequence(lambda n: f"Воронка {n}")
    order = factory.Sequence(lambda n: n + 1)


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Stage

    pipeline = factory.SubFactory(PipelineFactory)
    name = factory.Sequence(lambda n: f"Етап {n}")
    order = factory.Sequence(lambda n: n)
    probability = 20


def make_pipeline(name: str | None = None) -> tuple[Pipeline, dict[str, Stage]]:
    """A pipeline with stages new (10 %), offer (40 %), talks (70 %), won (100 %), lost (0 %)."""
    pipeline = PipelineFactory(**({"name": name} if name else {}))
    spec = [("new", 10, False, False), ("offer", 40, False, False), ("talks", 70, False, False),
            ("won", 100, True, False), ("lost", 0, False, True)]  # fmt: skip
    stages = {
        key: StageFactory(pipeline=pipeline, name=key.capitalize(), order=index, probability=p, is_won=w, is_lost=lost)
        for index, (key, p, w, lost) in enumerate(spec)
    }
    return pipeline, stages


class LossReasonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LossReason
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Причина {n}")


class DealFactory(factory.django.DjangoModelFactory):
    """An open deal; pass `stage=` (its pipeline follows) and `owner=` (its team follows)."""

    class Meta:
        model = Deal
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Угода {n}")
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    company = factory.SubFactory(CompanyFactory, owner=factory.SelfAttribute("..owner"))
    stage = factory.LazyFunction(lambda: make_pipeline()[1]["new"])
    pipeline = factory.LazyAttribute(lambda o: o.stage.pipeline)
    amount = Decimal("1000.00")
    probability = factory.LazyAttribute(lambda o: o.stage.probability)
    status = DealStatus.OPEN
    stage_changed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def first_stage(obj, create, extracted, **kwargs):
        """The first stage change, as deal_create writes it."""
        if create:
            DealStageChange.objects.create(
                deal=obj, from_stage=None, to_stage=obj.stage, changed_by=obj.owner, changed_at=obj.stage_changed_at
            )


class DealLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealLine

    deal = factory.SubFactory(DealFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = Decimal("1")
    price = Decimal("100.00")
