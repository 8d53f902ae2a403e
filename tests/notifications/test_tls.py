"""HTTPS deliveries: the connection goes to the checked address, and the certificate is still
verified against the URL's host name (SNI)."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.notifications.models import Delivery
from jobcenter.notifications.sender import send_due
from jobcenter.notifications.services import webhook_create
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import Receiver, project_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for localhost and 127.0.0.1, and a server context with it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return cert_file, context


@pytest.fixture
def tls_receiver(certificate, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.JOBCENTER_WEBHOOK_TIMEOUT = 2.0
    receiver = Receiver(tls=certificate[1]).start()
    yield receiver
    receiver.stop()


def _delivery(project, receiver) -> Delivery:
    url = receiver.url.replace("http://", "https://")
    webhook_create(project=project, user=project_admin(project), url=url)
    job = ges_movie_import(ges_graph(project))
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
    return Delivery.objects.get()


def test_an_untrusted_certificate_is_refused(project, tls_receiver):
    delivery = _delivery(project, tls_receiver)
    send_due()
    delivery.refresh_from_db()
    assert tls_receiver.received == []
    assert delivery.status == "pending" and delivery.status_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.error


def test_a_trusted_certificate_is_delivered_to(project, tls_receiver, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    delivery = _delivery(project, tls_receiver)
    send_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.status_code) == ("delivered", 200)
    assert [r.headers["Jobcenter-Delivery"] for r in tls_receiver.received] == [delivery.pk]
