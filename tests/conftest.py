"""Shared fixtures: a small branch with two services and three counters, and the people who use it."""

import os
from dataclasses import dataclass

import pytest

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, Service, ServicePoint

from .factories import BranchFactory, ServiceFactory, ServicePointFactory, StaffFactory

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs in an event loop

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and fitted estimator models are cached; each test starts with none."""
    from django.core.cache import cache

    from frontdesk.queueing.estimates import clear_model_cache

    cache.clear()
    clear_model_cache()


@dataclass
class BranchSetup:
    branch: Branch
    general: Service
    business: Service
    counter_1: ServicePoint  # general and business
    counter_2: ServicePoint  # general only
    counter_3: ServicePoint  # business only


@pytest.fixture
def setup(db) -> BranchSetup:
    general = ServiceFactory(name="General enquiries", name_es="Consultas generales", ticket_letter="A")
    business = ServiceFactory(
        name="Business customers",
        name_es="Clientes de empresa",
        ticket_letter="B",
        expected_duration_minutes=15,
    )
    branch = BranchFactory(name="Gran Vía", slug="gran-via")
    branch.services.set([general, business])
    return BranchSetup(
        branch=branch,
        general=general,
        business=business,
        counter_1=ServicePointFactory(branch=branch, name="Counter 1", services=[general, business]),
        counter_2=ServicePointFactory(branch=branch, name="Counter 2", services=[general]),
        counter_3=ServicePointFactory(branch=branch, name="Counter 3", services=[business]),
    )


@pytest.fixture
def clerk(setup) -> StaffMember:
    return StaffFactory(username="clara", first_name="Clara", last_name="Ruiz", branches=[setup.branch])


@pytest.fixture
def second_clerk(setup) -> StaffMember:
    return StaffFactory(username="diego", first_name="Diego", last_name="Soto", branches=[setup.branch])


@pytest.fixture
def branch_manager(setup) -> StaffMember:
    return StaffFactory(
        username="marta", first_name="Marta", role=StaffMember.Role.BRANCH_MANAGER, branches=[setup.branch]
    )


@pytest.fixture
def other_branch(db) -> Branch:
    branch = BranchFactory(name="Sol", slug="sol")
    branch.services.set([ServiceFactory(name="General enquiries", ticket_letter="A")])
    ServicePointFactory(branch=branch, name="Counter 1", services=list(branch.services.all()))
    return branch


@pytest.fixture
def outsider(other_branch) -> StaffMember:
    """A clerk of another branch."""
    return StaffFactory(username="oscar", first_name="Oscar", branches=[other_branch])
