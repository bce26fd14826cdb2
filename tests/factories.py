"""Factories for the tests: one per model people set up."""

import datetime as dt

import factory

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, OpeningHours, Service, ServicePoint


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("ticket_letter",)

    name = factory.Sequence(lambda n: f"Service {n}")
    ticket_letter = factory.Sequence(lambda n: "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 26] + ("" if n < 26 else "Z"))
    expected_duration_minutes = 10


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Branch {n}")
    slug = factory.Sequence(lambda n: f"branch-{n}")
    time_zone = "Europe/Madrid"

    @factory.post_generation
    def opening_hours(self, create, extracted, **kwargs):
        if create:
            for weekday in range(6):
                OpeningHours.objects.create(
                    branch=self, weekday=weekday, opens_at=dt.time(9), closes_at=dt.time(18)
                )


class ServicePointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServicePoint
        skip_postgeneration_save = True

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"Counter {n + 1}")

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    first_name = factory.Sequence(lambda n: f"Sam{n}")
    last_name = "Clerk"
    role = StaffMember.Role.CLERK
    password = factory.PostGenerationMethodCall("set_password", "pass-1234-word")

    @factory.post_generation
    def branches(self, create, extracted, **kwargs):
        if create and extracted:
            self.branches.set(extracted)
        if create:
            self.save()
