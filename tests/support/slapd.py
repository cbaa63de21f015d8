"""A throw-away OpenLDAP slapd on 127.0.0.1, started by the test suite itself.

``SlapdServer`` is one slapd process for the session (its own cn=config, ports, CA; never the
system's slapd on 389). Each test gets a ``SlapdTree``: an OU of its own under the suffix, with
helpers that change it as an admin (or Active Directory itself) would. See the ``slapd``
fixture in tests/conftest.py for the API in one place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import itertools
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ldap3 import MODIFY_ADD, MODIFY_DELETE, MODIFY_REPLACE, NONE, Connection, Server
from ldap3.utils.dn import escape_rdn
from pydantic import SecretStr

from tests.support import slapd_files
from tests.support.postgres import free_port
from tests.support.processes import state
from twostep.domain.directory import DirectoryKind, DirectorySettings, Security

NORMAL_ACCOUNT = 0x200  # AD userAccountControl: a user account
ACCOUNTDISABLE = 0x2
_TREES = itertools.count(1)


def find_binary(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise FileNotFoundError(f"{name} not found (Debian: apt-get install slapd ldap-utils)")
    return found


@dataclass(frozen=True)
class LdapUser:
    """A user entry as the test made it: what the adapter should read back."""

    name: str  # cn and sAMAccountName
    dn: str
    password: str
    guid: uuid.UUID  # objectGUID, stored as AD does (guid.bytes_le)
    upn: str  # userPrincipalName: the default user_id
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None

    @property
    def object_guid(self) -> str:
        """objectGUID as the adapter reports it (the GUID string AD's tools show)."""
        return str(self.guid)


@dataclass(frozen=True)
class LdapGroup:
    name: str
    dn: str


class SlapdServer:
    """One slapd process: plain LDAP (StartTLS offered) on ``port``, LDAPS on ``ldaps_port``."""

    admin_password = "admin-secret"  # a throw-away server on loopback
    reader_password = "reader-secret"

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.ldaps_port = free_port()
        self.ca_file = home / "ca.pem"
        self.other_ca_file = home / "other-ca.pem"  # signed nothing here: must be refused
        self.suffix = slapd_files.SUFFIX
        self.admin_dn = slapd_files.ADMIN_DN
        self.reader_dn = slapd_files.READER_DN
        self._slapd = find_binary("slapd")
        self._slapadd = find_binary("slapadd")
        self._process: subprocess.Popen[bytes] | None = None
        self._admin: Connection | None = None
        self._usn = itertools.count(1000)
        self.paused = False

    @classmethod
    def create(cls) -> SlapdServer:
        """Configure and start a new server (raises FileNotFoundError without slapd)."""
        find_binary("slapd")
        home = Path(tempfile.mkdtemp(prefix="twostep-slapd-"))
        try:
            server = cls(home)
            server._configure()
            server.start()
        except BaseException:
            shutil.rmtree(home, ignore_errors=True)
            raise
        return server

    def _configure(self) -> None:
        (self.home / "slapd.d").mkdir()
        (self.home / "data").mkdir()
        slapd_files.write_certificates(self.home)
        (self.home / "ad.ldif").write_text(slapd_files.AD_SCHEMA)
        config = slapd_files.config_ldif(self.home, self.admin_password)
        self._run_slapadd(["-n0"], config)
        self._run_slapadd(["-q", "-n1"], slapd_files.base_ldif(self.reader_password))

    def _run_slapadd(self, args: list[str], ldif: str) -> None:
        done = subprocess.run(
            [self._slapadd, *args, "-F", str(self.home / "slapd.d")],
            input=ldif.encode(),
            capture_output=True,
            check=False,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"slapadd failed: {done.stderr.decode(errors='replace')}")

    # -- the process --------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start slapd and wait (at most 10 s) until both ports accept connections."""
        if self.running:
            return
        # 127.0.0.2 too: the certificate does not name it (a client must refuse it).
        urls = " ".join(
            f"ldap://{ip}:{self.port}/ ldaps://{ip}:{self.ldaps_port}/"
            for ip in ("127.0.0.1", "127.0.0.2")
        )
        log = (self.home / "slapd.log").open("ab")
        with log:
            # -d keeps slapd in the foreground, so this Popen is slapd itself.
            self._process = subprocess.Popen(
                [self._slapd, "-h", urls, "-F", str(self.home / "slapd.d"), "-d", "0"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        for port in (self.port, self.ldaps_port):
            while not _accepts(port):
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = (self.home / "slapd.log").read_text(errors="replace")[-2000:]
                    raise RuntimeError(f"slapd did not start:\n{tail}")
                time.sleep(0.01)

    def stop(self) -> None:
        """Stop slapd (its data stays): clients now find nothing listening."""
        self._drop_admin()
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        if self.paused:
            process.send_signal(signal.SIGCONT)
            self.paused = False
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def pause(self) -> None:
        """Freeze slapd (SIGSTOP): connections open, nothing answers (a hung server).
        Returns once the kernel reports it stopped (at most 5 s): the signal is delivered
        asynchronously, and a request sent meanwhile could still be answered."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)
            self.paused = True
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if state(self._process.pid) in ("T", "t"):
                    return
                time.sleep(0.005)
            raise RuntimeError("slapd did not stop within 5 s of SIGSTOP")

    def resume(self) -> None:
        if self._process is not None and self.paused:
            self._process.send_signal(signal.SIGCONT)
            self.paused = False

    def ensure_running(self) -> None:
        self.resume()
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def client_connections(self) -> int:
        """Established connections to slapd's ports now, from the kernel's table (the
        helpers' own admin connection is closed first, so it is not counted)."""
        self._drop_admin()
        ports = {self.port, self.ldaps_port}
        count = 0
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            with contextlib.suppress(FileNotFoundError), open(table) as lines:
                for line in list(lines)[1:]:
                    local, _, state = line.split()[1:4]
                    count += state == "01" and int(local.rsplit(":", 1)[1], 16) in ports
        return count

    def load_offline(self, ldif: str) -> None:
        """Add entries with slapadd while slapd is stopped (~50x faster than online adds)."""
        self.stop()
        try:
            self._run_slapadd(["-q", "-n1"], ldif)
        finally:
            self.start()

    # -- writing as the admin -----------------------------------------------------------

    def admin(self) -> Connection:
        if self._admin is None or self._admin.closed:
            server = Server("127.0.0.1", port=self.port, get_info=NONE, connect_timeout=5)
            self._admin = Connection(
                server,
                user=self.admin_dn,
                password=self.admin_password,
                auto_bind=True,
                raise_exceptions=True,
                receive_timeout=30,
            )
        return self._admin

    def _drop_admin(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                admin.unbind()

    def next_usn(self) -> int:
        """The next update sequence number: one counter for the server, as on a DC."""
        return next(self._usn)

    def new_tree(self) -> SlapdTree:
        root = f"ou=t{next(_TREES)}-{uuid.uuid4().hex[:8]},{self.suffix}"
        admin = self.admin()
        for dn in (root, f"ou=people,{root}", f"ou=groups,{root}"):
            admin.add(dn, ["organizationalUnit"], {"ou": dn.split(",")[0][3:]})
        return SlapdTree(self, root)


class SlapdTree:
    """One test's subtree (``root_dn``): users under ``people_dn``, groups under ``groups_dn``.

    Every change bumps the entry's ``uSNChanged`` from the server's counter, as Active
    Directory would; slapd maintains ``modifyTimestamp``, ``entryUUID`` and (memberof overlay)
    ``memberOf`` itself. As on AD, a membership change bumps the group's uSNChanged, not the
    member's (and slapd's memberof does not touch the member's modifyTimestamp either).
    """

    def __init__(self, server: SlapdServer, root_dn: str) -> None:
        self.server = server
        self.root_dn = root_dn
        self.people_dn = f"ou=people,{root_dn}"
        self.groups_dn = f"ou=groups,{root_dn}"

    # -- settings -----------------------------------------------------------------------

    @property
    def ca_file(self) -> str:
        return str(self.server.ca_file)

    def url(self, security: Security | str = Security.STARTTLS) -> str:
        if Security(security) is Security.LDAPS:
            return f"ldaps://127.0.0.1:{self.server.ldaps_port}"
        return f"ldap://127.0.0.1:{self.server.port}"

    def ldap_settings(
        self,
        kind: DirectoryKind | str = DirectoryKind.LDAP,
        security: Security | str = Security.STARTTLS,
        **overrides: Any,
    ) -> DirectorySettings:
        """Settings that read this tree as the reader account (its password included), over
        ``security``, with this server's CA; ``overrides`` are DirectorySettings fields."""
        fields: dict[str, Any] = {
            "kind": DirectoryKind(kind),
            "urls": (self.url(security),),
            "security": Security(security),
            "ca_file": self.ca_file,
            "bind_dn": self.server.reader_dn,
            "bind_password": SecretStr(self.server.reader_password),
            "base_dn": self.root_dn,
            "connect_timeout": 2.0,
            "operation_timeout": 5.0,
        }
        fields.update(overrides)
        return DirectorySettings(**fields)

    # -- users --------------------------------------------------------------------------

    def user_entry(
        self,
        name: str,
        *,
        first_name: str | None = None,
        last_name: str | None = "Tester",
        email: str | None = None,
        phone: str | None = None,
        mobile: str | None = None,
        password: str | None = None,
        upn: str | None = None,
        disabled: bool = False,
        usn: int | None = None,
        **extra: slapd_files.Value,
    ) -> tuple[LdapUser, dict[str, slapd_files.Value]]:
        """A user and its attributes, not yet added (add_user and bulk_users add them)."""
        user = LdapUser(
            name=name,
            dn=f"cn={escape_rdn(name)},{self.people_dn}",
            password=password or slapd_files.new_password(),
            guid=uuid.uuid4(),
            upn=upn if upn is not None else f"{name}@example.test",
            first_name=first_name if first_name is not None else name.capitalize(),
            last_name=last_name,
            email=email if email is not None else f"{name}@example.test",
            phone=phone,
            mobile=mobile,
        )
        attributes: dict[str, slapd_files.Value] = {
            "objectClass": ["inetOrgPerson", "user"],
            "cn": name,
            "sn": last_name or name,
            "givenName": user.first_name,
            "mail": user.email or None,
            "telephoneNumber": phone,
            "mobile": mobile,
            "userPassword": slapd_files.ssha(user.password),
            "sAMAccountName": name,
            "userPrincipalName": user.upn or None,
            "userAccountControl": str(NORMAL_ACCOUNT | (ACCOUNTDISABLE if disabled else 0)),
            "uSNChanged": str(usn if usn is not None else self.server.next_usn()),
            "objectGUID": user.guid.bytes_le,
            "objectCategory": "person",
            **extra,
        }
        return user, attributes

    def add_user(self, name: str, *, groups: Iterable[LdapGroup] = (), **options: Any) -> LdapUser:
        """Add a user (options: first_name, last_name, email, phone, mobile, password, upn
        (""/None: none), disabled, and any LDAP attribute by name); then add it to groups."""
        user, attributes = self.user_entry(name, **options)
        present = {k: v for k, v in attributes.items() if v is not None}
        self.server.admin().add(user.dn, attributes=present)
        for group in groups:
            self.add_to_group(user, group)
        return user

    def modify_user(self, user: LdapUser, **attributes: str | Sequence[str] | None) -> None:
        """Replace attributes by LDAP name (None removes one), e.g. ``mobile="+1..."``."""
        changes: dict[str, Any] = {
            name: [(MODIFY_REPLACE, [] if value is None else _values(value))]
            for name, value in attributes.items()
        }
        self._modify(user.dn, changes)

    def set_disabled(self, user: LdapUser, disabled: bool = True) -> None:
        """AD's way: userAccountControl's ACCOUNTDISABLE bit."""
        flags = NORMAL_ACCOUNT | (ACCOUNTDISABLE if disabled else 0)
        self.modify_user(user, userAccountControl=str(flags))

    def set_password(self, user: LdapUser, password: str) -> LdapUser:
        self.modify_user(user, userPassword=slapd_files.ssha(password))
        return dataclasses.replace(user, password=password)

    def rename_user(
        self, user: LdapUser, new_name: str | None = None, *, parent_dn: str | None = None
    ) -> LdapUser:
        """Rename (new cn) and/or move (to parent_dn, e.g. from add_ou) the entry: its DN
        changes, its objectGUID and entryUUID do not."""
        name = new_name or user.name
        rdn = f"cn={escape_rdn(name)}"
        parent = parent_dn or user.dn.split(",", 1)[1]
        self.server.admin().modify_dn(user.dn, rdn, new_superior=parent_dn)
        moved = dataclasses.replace(user, name=name, dn=f"{rdn},{parent}")
        self._modify(moved.dn, {})
        return moved

    def delete_user(self, user: LdapUser) -> None:
        """Delete the entry (memberof removes it from its groups)."""
        self.server.admin().delete(user.dn)

    def entry_uuid(self, user: LdapUser) -> str:
        """The entryUUID slapd gave the entry: the LDAP kind's external id."""
        admin = self.server.admin()
        admin.search(user.dn, "(objectClass=*)", "BASE", attributes=["entryUUID"])
        return str(admin.entries[0].entryUUID.value).lower()

    def add_ou(self, name: str) -> str:
        """A sibling OU of people and groups (to move users out of a narrower base)."""
        dn = f"ou={escape_rdn(name)},{self.root_dn}"
        self.server.admin().add(dn, ["organizationalUnit"], {"ou": name})
        return dn

    def bulk_users(
        self,
        count: int,
        *,
        prefix: str = "user",
        groups: Iterable[LdapGroup] = (),
        modified_at: datetime.datetime | None = None,
    ) -> list[LdapUser]:
        """Add ``count`` users offline (slapadd: slapd restarts, ~1 s for 10,000), named
        prefix00001...; each with a mobile and a telephone number; then into ``groups``.
        ``modified_at``: their create/modifyTimestamp (default: now, as slapd sets them)."""
        stamp = modified_at.strftime("%Y%m%d%H%M%SZ") if modified_at else None
        users: list[LdapUser] = []
        entries: list[tuple[str, Mapping[str, slapd_files.Value]]] = []
        for i in range(1, count + 1):
            user, attributes = self.user_entry(
                f"{prefix}{i:05d}",
                mobile=f"+1555{i:07d}",
                phone=f"+1666{i:07d}",
                password=f"password-{prefix}-{i}",
                createTimestamp=stamp,
                modifyTimestamp=stamp,
            )
            users.append(user)
            entries.append((user.dn, attributes))
        self.server.load_offline(slapd_files.ldif(entries))
        for group in groups:
            for chunk in _chunks([u.dn for u in users], 500):
                self._modify(group.dn, {"member": [(MODIFY_ADD, chunk)]})
        return users

    # -- groups -------------------------------------------------------------------------

    def add_group(self, name: str, members: Iterable[LdapUser] = ()) -> LdapGroup:
        group = LdapGroup(name, f"cn={escape_rdn(name)},{self.groups_dn}")
        attributes: dict[str, Any] = {
            "cn": name,
            "sAMAccountName": name,
            "uSNChanged": str(self.server.next_usn()),
            "objectGUID": uuid.uuid4().bytes_le,
        }
        dns = [m.dn for m in members]
        if dns:
            attributes["member"] = dns
        self.server.admin().add(group.dn, ["group"], attributes)
        return group

    def add_to_group(self, user: LdapUser, group: LdapGroup) -> None:
        self._modify(group.dn, {"member": [(MODIFY_ADD, [user.dn])]})

    def remove_from_group(self, user: LdapUser, group: LdapGroup) -> None:
        self._modify(group.dn, {"member": [(MODIFY_DELETE, [user.dn])]})

    # -- the server ---------------------------------------------------------------------

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def pause(self) -> None:
        self.server.pause()

    def resume(self) -> None:
        self.server.resume()

    def _modify(self, dn: str, changes: dict[str, Any]) -> None:
        changes = {**changes, "uSNChanged": [(MODIFY_REPLACE, [str(self.server.next_usn())])]}
        self.server.admin().modify(dn, changes)


def _values(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
