"""Units of work. ``Storage`` hands out one kind of transaction; each use case declares
the narrowest one it needs (see services/), ``Transaction`` is every repository at once
(the admin use cases')."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from twostep.domain.ports.admin_events import AdminEventRepo
from twostep.domain.ports.app_passwords import AppPasswordRepo
from twostep.domain.ports.audit import AuditRepo
from twostep.domain.ports.billing import BillingRepo, ProviderRepo
from twostep.domain.ports.challenges import ChallengeRepo, DeliveryRepo
from twostep.domain.ports.credentials import AdminKeyRepo, IntegrationRepo
from twostep.domain.ports.devices import ActivationRepo, DeviceRepo
from twostep.domain.ports.directory import DirectoryRepo, DirectoryUserRepo, LeaseRepo
from twostep.domain.ports.gateways import GatewayRepo
from twostep.domain.ports.hosted_signin import SigninRepo
from twostep.domain.ports.methods import MethodRepo, TokenPoolRepo
from twostep.domain.ports.migrations import MigrationRepo
from twostep.domain.ports.pages import AdminGrantRepo, PageSessionRepo
from twostep.domain.ports.radius import RadiusClientRepo
from twostep.domain.ports.remembered import RememberedDeviceRepo, VoicePromptRepo
from twostep.domain.ports.secrets import SealedRepo
from twostep.domain.ports.self_service import EnrollmentLinkRepo, SignInReportRepo
from twostep.domain.ports.subjects import SubjectRepo
from twostep.domain.ports.tenants import TenantRepo
from twostep.domain.ports.token_imports import ImportJobRepo
from twostep.domain.ports.usage import DeliveryCountRepo, UsageRepo
from twostep.domain.ports.users import PasswordRepo, UserRepo


class Transaction(Protocol):
    @property
    def tenants(self) -> TenantRepo: ...

    @property
    def users(self) -> UserRepo: ...

    @property
    def methods(self) -> MethodRepo: ...

    @property
    def tokens(self) -> TokenPoolRepo: ...

    @property
    def token_imports(self) -> ImportJobRepo: ...

    @property
    def migrations(self) -> MigrationRepo: ...

    @property
    def integrations(self) -> IntegrationRepo: ...

    @property
    def admin_keys(self) -> AdminKeyRepo: ...

    @property
    def audit(self) -> AuditRepo: ...

    @property
    def subjects(self) -> SubjectRepo: ...

    @property
    def challenges(self) -> ChallengeRepo: ...

    @property
    def deliveries(self) -> DeliveryRepo: ...

    @property
    def delivery_counts(self) -> DeliveryCountRepo: ...

    @property
    def gateways(self) -> GatewayRepo: ...

    @property
    def devices(self) -> DeviceRepo: ...

    @property
    def activations(self) -> ActivationRepo: ...

    @property
    def radius_clients(self) -> RadiusClientRepo: ...

    @property
    def passwords(self) -> PasswordRepo: ...

    @property
    def sealed(self) -> SealedRepo: ...

    @property
    def admin_events(self) -> AdminEventRepo: ...

    @property
    def app_passwords(self) -> AppPasswordRepo: ...

    @property
    def directories(self) -> DirectoryRepo: ...

    @property
    def directory_users(self) -> DirectoryUserRepo: ...

    @property
    def leases(self) -> LeaseRepo: ...

    @property
    def admin_grants(self) -> AdminGrantRepo: ...

    @property
    def page_sessions(self) -> PageSessionRepo: ...

    @property
    def signin(self) -> SigninRepo: ...

    @property
    def enrollment_links(self) -> EnrollmentLinkRepo: ...

    @property
    def signin_reports(self) -> SignInReportRepo: ...

    @property
    def usage(self) -> UsageRepo: ...

    @property
    def providers(self) -> ProviderRepo: ...

    @property
    def billing(self) -> BillingRepo: ...

    @property
    def remembered_devices(self) -> RememberedDeviceRepo: ...

    @property
    def voice_prompts(self) -> VoicePromptRepo: ...


Work_co = TypeVar("Work_co", covariant=True)


class Storage(Protocol[Work_co]):
    """Units of work of one shape: ``Storage[Transaction]`` gives every repository, a use
    case's own ``Storage[ItsWork]`` only what it declared (mypy holds it to that)."""

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Work_co]:
        """A unit of work: committed when the block ends, rolled back on an exception.
        ``write=True`` takes the write lock up front (SQLite ``BEGIN IMMEDIATE``), so a
        writer waits its turn instead of failing on an upgrade from read to write."""
        ...
