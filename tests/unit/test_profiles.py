"""The profile catalog: parsing, derived values, which profile is active, safe switches."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import grpc
import pytest

from palyra_tui.client.errors import ClientError
from palyra_tui.client.grpc import GatewayClient
from palyra_tui.client.identity import ClientIdentity
from palyra_tui.config import RuntimeConfig
from palyra_tui.config.profiles import (
    CATALOG_ENV,
    LOCAL,
    Catalog,
    ProfileMode,
    RiskLevel,
    SwitchRefused,
    check_switch,
    load_catalog,
    parse_catalog,
)
from palyra_tui.errors import ConfigError
from palyra_tui.models import SupervisorSnapshot
from palyra_tui.sim.grpc_service import GatewayServices
from palyra_tui.sim.logs import JsonLog
from palyra_tui.sim.store import Settings, Store
from palyra_tui.state.gateway_link import GatewayLink, remote_gateway
from palyra_tui.state.profile_book import ProfileBook
from palyra_tui.state.profile_switch import _in_the_clear

CATALOG = """
default_profile = "staging"

[profiles.staging]
daemon_url = "https://gw.example.net:7443"
strict_mode = true

[profiles.lab]
daemon_url = "http://127.0.0.1:7142"

[profiles.shared]
daemon_url = "https://shared.example.net"
label = "Shared box"
color = "violet"
risk_level = "medium"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "state" / "cli" / "profiles.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return tmp_path / "state"


def test_values_left_out_are_derived_as_the_palyra_cli_derives_them(tmp_path: Path) -> None:
    catalog = load_catalog(write(tmp_path, CATALOG), {})
    assert [p.name for p in catalog.profiles] == [LOCAL, "staging", "lab", "shared"]
    staging, lab, shared = (catalog.get(n) for n in ("staging", "lab", "shared"))
    assert staging is not None and lab is not None and shared is not None
    assert staging.mode is ProfileMode.REMOTE and staging.risk_level is RiskLevel.HIGH
    assert (staging.environment, staging.color, staging.label) == ("production", "red", "staging")
    assert lab.mode is ProfileMode.LOCAL and lab.risk_level is RiskLevel.LOW
    assert (lab.environment, lab.color) == ("local", "emerald")
    assert shared.risk_level is RiskLevel.MEDIUM and shared.color == "violet"
    assert shared.label == "Shared box" and shared.environment == "production"


def test_the_active_profile_is_the_remembered_one_else_the_default_else_local(
    tmp_path: Path,
) -> None:
    catalog = load_catalog(write(tmp_path, CATALOG), {})
    assert catalog.active("lab").name == "lab"
    assert catalog.active("gone").name == "staging"
    assert Catalog().active("anything").name == LOCAL


def test_no_catalog_is_the_built_in_profile_alone(tmp_path: Path) -> None:
    assert load_catalog(tmp_path, {}) == Catalog()
    assert load_catalog(write(tmp_path, CATALOG), {CATALOG_ENV: " "}) == Catalog()


def test_the_environment_names_the_catalog_and_a_missing_one_is_an_error(
    tmp_path: Path,
) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('[profiles.x]\ndaemon_url = "http://localhost:7142"\n')
    assert [p.name for p in load_catalog(tmp_path, {CATALOG_ENV: str(other)}).profiles] == [
        LOCAL,
        "x",
    ]
    with pytest.raises(ConfigError, match="the profile catalog does not exist"):
        load_catalog(tmp_path, {CATALOG_ENV: str(tmp_path / "nope.toml")})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version = 2\n", "version must be 1, not 2"),
        ("[profiles.x]\nstrict = true\n", "unknown key profiles.x.strict"),
        ("colour = 'red'\n", "unknown key colour"),
        ("[profiles.x]\nstrict_mode = 'yes'\n", "profiles.x.strict_mode must be true or false"),
        ("[profiles.x]\nrisk_level = 'extreme'\n", "risk_level must be one of low, medium"),
        ("[profiles.local]\n", "the name 'local' is the built-in profile"),
        ("[profiles.x]\ndaemon_url = 7\n", "profiles.x.daemon_url must be text, not 7"),
        ("[profiles]\nx = 1\n", "profiles.x must be a table"),
    ],
)
def test_a_bad_catalog_is_one_sentence_naming_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_catalog(write(tmp_path, text), {})


@pytest.mark.parametrize(
    "name", ["..", "../../tmp/x", "/tmp/x", "a/b", "Staging", "x y", "a\u007f"]
)
def test_a_profile_name_that_is_not_a_palyra_cli_name_is_refused(name: str) -> None:
    """A name is also a directory under the state root: it must not lead out of it."""
    with pytest.raises(ConfigError, match="lowercase ASCII letters, digits"):
        parse_catalog({"profiles": {name: {}}}, "profiles.toml")


def test_a_palyra_cli_profile_name_is_accepted() -> None:
    catalog = parse_catalog({"profiles": {"eu-west_2.staging": {}}}, "profiles.toml")
    assert [p.name for p in catalog.profiles] == [LOCAL, "eu-west_2.staging"]


def test_a_switch_names_an_available_other_profile_and_a_strict_one_its_name(
    tmp_path: Path,
) -> None:
    catalog = load_catalog(write(tmp_path, CATALOG), {})
    assert check_switch(catalog, LOCAL, "lab").name == "lab"
    for target, current, typed, message in (
        ("", LOCAL, "", "name the profile to switch to"),
        ("prod", LOCAL, "", "the profile 'prod' is not available"),
        ("lab", "lab", "", "already using the profile 'lab'"),
        ("staging", LOCAL, "", "is strict: type its name to confirm"),
        ("staging", LOCAL, "stagin", "is strict: type its name to confirm"),
    ):
        with pytest.raises(SwitchRefused, match=message):
            check_switch(catalog, current, target, typed)
    assert check_switch(catalog, LOCAL, "staging", "staging").strict_mode


@pytest.mark.parametrize(
    ("url", "mode"),
    [
        ("http://127.0.0.1:7142", ProfileMode.LOCAL),
        ("http://localhost:7142", ProfileMode.LOCAL),
        ("http://[::1]:7142", ProfileMode.LOCAL),
        ("127.0.0.2:7142", ProfileMode.LOCAL),
        ("https://127.0.0.1.example.net:7443", ProfileMode.REMOTE),
        ("https://localhost.example.net", ProfileMode.REMOTE),
        ("https://gw.example.net/127.0.0.1", ProfileMode.REMOTE),
    ],
)
def test_the_mode_comes_from_the_url_host_not_its_text(url: str, mode: ProfileMode) -> None:
    catalog = parse_catalog({"profiles": {"x": {"daemon_url": url}}}, "p.toml")
    profile = catalog.get("x")
    assert profile is not None and profile.mode is mode


def test_the_palyra_cli_keys_are_accepted_and_its_token_is_not_kept() -> None:
    table = {
        "daemon_url": "https://gw.example.net:7142",
        "grpc_url": "https://gw.example.net:7443",
        "admin_token": "never-read-from-here",
        "admin_token_env": "STAGING_TOKEN",
        "principal": "admin:ops",
        "device_id": "ops-laptop",
        "channel": "cli",
        "created_at_unix_ms": 1,
        "updated_at_unix_ms": 2,
    }
    profile = parse_catalog({"profiles": {"x": table}}, "p.toml").get("x")
    assert profile is not None
    assert (profile.grpc_url, profile.principal, profile.device_id) == (
        "https://gw.example.net:7443",
        "admin:ops",
        "ops-laptop",
    )
    assert "never-read-from-here" not in repr(profile)


@pytest.mark.parametrize(
    ("table", "target", "tls", "base"),
    [
        (
            {"daemon_url": "https://gw.example.net"},
            "gw.example.net:443",
            True,
            "https://gw.example.net",
        ),
        (
            {"daemon_url": "https://ops:pw@gw.example.net:7142/", "grpc_url": "http://gw:7443"},
            "gw:7443",
            False,
            "https://gw.example.net:7142",
        ),
        (
            {"daemon_url": "https://[2001:db8::1]:7142"},
            "[2001:db8::1]:7142",
            True,
            "https://[2001:db8::1]:7142",
        ),
    ],
)
def test_a_remote_gateway_is_where_the_catalog_says(
    table: dict[str, str], target: str, tls: bool, base: str
) -> None:
    profile = parse_catalog({"profiles": {"far": table}}, "p.toml").get("far")
    assert profile is not None
    gateway = remote_gateway(profile, ClientIdentity(admin_token="t"))
    assert (gateway.grpc_target, gateway.tls, gateway.http_base) == (target, tls, base)


async def test_a_gateway_taken_up_again_is_reached_with_its_new_token() -> None:
    """A token kept since (``profile token``) is used at once, even for the same address:
    the clients made with the old one are dropped with it."""
    profile = parse_catalog({"profiles": {"far": {"daemon_url": "https://gw"}}}, "p").get("far")
    assert profile is not None
    link = GatewayLink(ClientIdentity(admin_token="local"), RuntimeConfig())
    await link.use(remote_gateway(profile, ClientIdentity(admin_token="old")))
    target, _ = link.targets(SupervisorSnapshot(services=(), taken_at=0.0))
    first = await link.grpc(target)
    assert first.identity.admin_token == "old"
    await link.use(remote_gateway(profile, ClientIdentity(admin_token="new")))
    again = await link.grpc(target)
    assert again is not first and again.identity.admin_token == "new"
    await link.use(None)
    assert (await link.grpc("127.0.0.1:7443")).identity.admin_token == "local"
    await link.close()


@pytest.mark.parametrize(
    ("table", "warned"),
    [
        ({"daemon_url": "https://gw.example.net"}, ""),
        ({"daemon_url": "http://gw.example.net:7142"}, "to http://gw.example.net:7142:"),
        ({"daemon_url": "https://gw", "grpc_url": "http://gw:7443"}, "http://gw:7443:"),
        ({"mode": "remote", "daemon_url": "http://127.0.0.1:7142"}, ""),
    ],
)
def test_a_token_that_would_cross_the_network_unencrypted_is_warned_of(
    table: dict[str, str], warned: str
) -> None:
    profile = parse_catalog({"profiles": {"far": table}}, "p.toml").get("far")
    assert profile is not None
    said = _in_the_clear(remote_gateway(profile, ClientIdentity(admin_token="t")))
    assert (warned in said and "unencrypted" in said) if warned else said == ""


async def test_an_https_gateway_is_reached_over_tls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reference gateway behind TLS with a certificate for localhost, trusted through
    gRPC's roots file: the client with ``tls`` reaches it, one in the clear does not."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("GRPC_DEFAULT_SSL_ROOTS_FILE_PATH", str(cert))
    store = Store(Settings(admin_token="t" * 32))
    server = grpc.aio.server()
    server.add_generic_rpc_handlers(
        GatewayServices(store, JsonLog("test", io.StringIO())).handlers()
    )
    credentials = grpc.ssl_server_credentials([(key.read_bytes(), cert.read_bytes())])
    port = server.add_secure_port("localhost:0", credentials)
    await server.start()
    identity = ClientIdentity(admin_token="t" * 32)
    secure = GatewayClient(f"localhost:{port}", identity, tls=True, deadline=10)
    plain = GatewayClient(f"localhost:{port}", identity, deadline=2)
    try:
        assert (await secure.get_health()).version
        with pytest.raises(ClientError):
            await plain.get_health()
    finally:
        await secure.close()
        await plain.close()
        await server.stop(None)


async def test_using_the_active_profile_again_takes_up_its_edited_entry(tmp_path: Path) -> None:
    """``profile use`` on the profile in use reads the catalog again: an address edited
    since is the one reached from then on."""
    state_root = write(tmp_path, '[profiles.far]\ndaemon_url = "https://old.example.net"\n')
    book = ProfileBook(state_root, {})
    assert (await book.open("far")).daemon_url == "https://old.example.net"
    (state_root / "cli" / "profiles.toml").write_text(
        '[profiles.far]\ndaemon_url = "https://new.example.net"\n'
    )
    assert await book.check("far", "") is None
    assert book.active.daemon_url == "https://new.example.net"
