"""The one place that wires adapters into services."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import SecretStr
from sqlalchemy.exc import DBAPIError

from twostep.adapters.alerts import WebhookAlerts
from twostep.adapters.clock import SystemClock
from twostep.adapters.directory.connector import LdapConnector
from twostep.adapters.gateways.push_registry import PushRegistry, notifiers_from_config
from twostep.adapters.gateways.registry import GatewayRegistry
from twostep.adapters.logs import ContextRequestIds
from twostep.adapters.storage.engine import make_engine, prepare_sqlite_file
from twostep.adapters.storage.secretbox import (
    AesGcmSecretBox,
    EnvKeyManager,
    FileKeyManager,
    KeyFile,
    keyring_from_env,
)
from twostep.adapters.storage.storage import SqlStorage
from twostep.adapters.waits import PolledWaits
from twostep.config import Config
from twostep.domain.challenges import ChallengeState
from twostep.domain.errors import SecretKeyError
from twostep.domain.ports.challenges import DEVICE_KEY, device_key
from twostep.domain.ports.clock import Clock
from twostep.domain.ports.metrics import NO_METRICS
from twostep.domain.ports.secrets import KeyManager
from twostep.services.accounts import AccountService
from twostep.services.activations import ActivationService
from twostep.services.admin import AdminService
from twostep.services.admin_events import AdminTrail
from twostep.services.admin_grants import AdminGrants
from twostep.services.app_passwords import AppPasswordCheck, AppPasswordService
from twostep.services.audit import AuditService
from twostep.services.billing import BillingService
from twostep.services.bypasses import BypassService
from twostep.services.challenges import ChallengeService
from twostep.services.context import Deps, Node
from twostep.services.delivered import DeliveredChallenges
from twostep.services.delivery import Delivery, OutboxDefaults
from twostep.services.devices import DeviceService
from twostep.services.directories import DirectoryAdmin
from twostep.services.directory_sync import DirectorySync
from twostep.services.enroll import EnrollService
from twostep.services.enrollment_links import EnrollmentLinks
from twostep.services.fraud_mail import FraudMail
from twostep.services.gateways import GatewayAdmin
from twostep.services.hosted_signin import HostedSignIn
from twostep.services.legacy import LegacySignIn
from twostep.services.licenses import LicenseService
from twostep.services.page_sessions import PageSessions
from twostep.services.passwords import LocalPasswords, PasswordService
from twostep.services.primary import TenantPasswords
from twostep.services.providers import ProviderService
from twostep.services.push import PushService
from twostep.services.radius_clients import RadiusClientService
from twostep.services.remembered_devices import RememberedDevices
from twostep.services.reports import ReportService
from twostep.services.rollups import RollupJob
from twostep.services.self_phone import PhoneChange
from twostep.services.self_service import SelfService
from twostep.services.signin import SignIn
from twostep.services.signin_reports import SignInReports
from twostep.services.states import States
from twostep.services.token_import_jobs import TokenImportJobs
from twostep.services.tokens import TokenPool
from twostep.services.usage import UsageService
from twostep.services.voice_prompts import VoicePrompts

if TYPE_CHECKING:  # imported by the serving worker only, after the fork (its docstring says why)
    from twostep.adapters.metrics import PrometheusMetrics


@dataclass(frozen=True, slots=True)
class App:
    config: Config
    deps: Deps
    storage: SqlStorage
    keys: KeyManager
    admin: AdminService
    enroll: EnrollService
    signin: SignIn
    audit: AuditService
    admin_events: AdminTrail
    tokens: TokenPool
    token_imports: TokenImportJobs
    challenges: ChallengeService
    delivered: DeliveredChallenges
    gateways: GatewayAdmin
    devices: DeviceService
    push: PushService
    radius_clients: RadiusClientService
    hosted_signin: HostedSignIn
    passwords: PasswordService
    app_passwords: AppPasswordService
    accounts: AccountService
    directories: DirectoryAdmin
    directory_sync: DirectorySync
    directory_connector: LdapConnector  # reading connections, and pooled password binds
    waits: PolledWaits
    admin_grants: AdminGrants  # who may sign in to the management portal, as what
    page_sessions: PageSessions
    self_service: SelfService  # the self-service portal: a user's own security info
    phones: PhoneChange  # a number a user adds there, proved by the challenge sent to it
    signin_reports: SignInReports  # a user's recent sign-ins, and "not me"
    providers: ProviderService  # billing accounts (issue 15)
    activations: ActivationService  # integrations' activation credentials
    licenses: LicenseService
    billing: BillingService  # statements
    enrollment_links: EnrollmentLinks  # one-time links to register a first method
    usage: UsageService  # the dashboard's figures, the usage reports' counts
    rollups: RollupJob  # keeps the usage rollups (services/rollups.py)
    reports: ReportService  # the usage report (issue 15)
    bypasses: BypassService  # one-time bypasses, granted and cancelled
    remembered: RememberedDevices  # browsers the pages remember after a second factor
    voice_prompts: VoicePrompts  # tenants' recorded prompts, played in calls
    metrics: PrometheusMetrics | None = None  # None: this process serves no /metrics

    def close(self) -> None:
        self.waits.close()  # first: its poller must not query a database being closed
        self.storage.close()
        self.directory_connector.close()


def node_ip(config: Config) -> str | None:
    if config.server.node_ip:
        return config.server.node_ip
    if config.server.host not in ("0.0.0.0", "::", ""):  # noqa: S104 - compared, not bound
        return config.server.host
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return None


def _holds_secrets(storage: SqlStorage) -> bool:
    try:
        with storage.transaction() as tx:
            return tx.sealed.any()
    except DBAPIError:  # no schema yet
        return False


def _revealed(secret: SecretStr | None) -> str | None:
    return None if secret is None else secret.get_secret_value()


def build(
    config: Config,
    *,
    clock: Clock | None = None,
    upgrade: bool = False,
    metrics: PrometheusMetrics | None = None,
) -> App:
    config.storage.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    prepare_sqlite_file(config.storage.database_url)
    engine = make_engine(
        config.storage.database_url, sqlite_synchronous=config.storage.sqlite_synchronous
    )
    if upgrade:
        # Imported here: serving workers never migrate, and Alembic costs memory.
        from twostep.adapters.storage import migrate

        migrate.upgrade(engine)
    counted = metrics if metrics is not None else NO_METRICS
    storage = SqlStorage(engine, inline=config.storage.db_inline, metrics=counted)
    if metrics is not None:  # in use: checked out, less what threads keep idle (SQLite)
        metrics.watch_pool(engine, kept=storage.kept_idle)
    keys: KeyManager
    if config.storage.secret_key:
        keyring = keyring_from_env(config.storage.secret_key.get_secret_value())
        box = AesGcmSecretBox(keyring)
        keys = EnvKeyManager(keyring)
    else:
        key_file = KeyFile(config.storage.key_file)
        if not key_file.path.exists() and _holds_secrets(storage):
            # A new key would make every stored seed unreadable: stop, loudly.
            engine.dispose()
            raise SecretKeyError(
                f"{key_file.path} is missing but the database holds encrypted seeds: restore "
                "the key file from your backup (or set TWOSTEP_SECRET_KEY)"
            )
        box = AesGcmSecretBox(key_file.load_or_create(), reload=key_file)
        keys = FileKeyManager(key_file)
    deps = Deps(
        storage=storage,
        secrets=box,
        clock=clock or SystemClock(),
        node=Node(config.server.node_name, node_ip(config)),
        request_ids=ContextRequestIds(),
    )
    if metrics is not None:
        metrics.count_pending(engine, deps.clock.now)
        metrics.count_usage(engine)
    factory = GatewayRegistry()
    public_url = config.server.public_url or f"http://{config.server.host}:{config.server.port}"
    outbox = OutboxDefaults(
        path=str(config.storage.home / "outbox.jsonl"),
        # Derived from the secret key, so every node verifies the outbox's webhooks alike.
        webhook_secret=box.digest(b"outbox webhook", "gateway:outbox").hex(),
    )
    waits = PolledWaits(lambda keys: _ready(storage, deps.clock, keys))
    delivery = Delivery(deps, factory, outbox, counted)
    challenges = ChallengeService(deps, WebhookAlerts(), waits, FraudMail(delivery))
    prompts = VoicePrompts(deps, public_url)
    delivered = DeliveredChallenges(deps, challenges, delivery, public_url, prompts.audio_url)
    states = States(deps, challenges)
    channels = PushRegistry(
        notifiers_from_config(
            config.storage.home / "vapid.pem",
            config.push.vapid_subject,
            ntfy_server=config.push.ntfy_server,
            ntfy_token=_revealed(config.push.ntfy_token),
            fcm_service_account_path=config.push.fcm_credentials,
            fcm_endpoint=config.push.fcm_endpoint,
        )
    )
    push = PushService(deps, challenges, channels, waits)
    connector = LdapConnector()
    directories = DirectoryAdmin(deps, connector)
    primary = TenantPasswords(LocalPasswords(deps), directories, connector)
    signin = SignIn(
        deps,
        primary,
        challenges,
        states,
        delivered,
        push,
        waits,
        LegacySignIn(deps.storage, primary, AppPasswordCheck(deps)),
    )
    admin, enroll = AdminService(deps), EnrollService(deps)
    app_passwords, devices = AppPasswordService(deps), DeviceService(deps, channels, public_url)
    portal = SelfService(deps, admin, enroll, app_passwords, devices)
    return App(
        config=config,
        deps=deps,
        storage=storage,
        keys=keys,
        admin=admin,
        enroll=enroll,
        signin=signin,
        audit=AuditService(deps),
        admin_events=AdminTrail(deps),
        tokens=TokenPool(deps),
        token_imports=TokenImportJobs(deps),
        challenges=challenges,
        delivered=delivered,
        gateways=GatewayAdmin(deps, factory, public_url, config.storage.home),
        devices=devices,
        push=push,
        radius_clients=RadiusClientService(deps),
        hosted_signin=HostedSignIn(deps, signin),
        passwords=PasswordService(deps),
        app_passwords=app_passwords,
        accounts=AccountService(deps, challenges),
        directories=directories,
        directory_sync=DirectorySync(deps, connector),
        directory_connector=connector,
        waits=waits,
        admin_grants=AdminGrants(deps),
        page_sessions=PageSessions(deps),
        self_service=portal,
        phones=PhoneChange(deps, portal, enroll, challenges, delivered),
        signin_reports=SignInReports(deps, WebhookAlerts()),
        providers=ProviderService(deps),
        activations=ActivationService(deps),
        licenses=LicenseService(deps),
        billing=BillingService(deps),
        enrollment_links=EnrollmentLinks(deps, signin, public_url),
        usage=UsageService(deps),
        rollups=RollupJob(deps),
        reports=ReportService(deps),
        bypasses=BypassService(deps),
        remembered=RememberedDevices(deps),
        voice_prompts=prompts,
        metrics=metrics,
    )


def _ready(storage: SqlStorage, clock: Clock, keys: Sequence[str]) -> set[str]:
    """Which waited-for keys are ready: transactions no longer pending (decided, expired
    or gone), devices with a pending request."""
    now = clock.now()
    devices = {k for k in keys if k.startswith(DEVICE_KEY)}
    transactions = [k for k in keys if k not in devices]
    with storage.transaction() as tx:
        found = tx.challenges.states(transactions)
        with_requests = tx.challenges.devices_with_pending(
            [k.removeprefix(DEVICE_KEY) for k in devices], now
        )
    pending = {
        key
        for key, (state, expires_at) in found.items()
        if state is ChallengeState.PENDING and now < expires_at
    }
    return (set(transactions) - pending) | {device_key(d) for d in with_requests}
